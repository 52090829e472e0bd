"""`orgledger export FILE` and `orgledger import FILE` (a whole ledger as one JSON file), and
`orgledger import snapshot` (a structure from a spreadsheet, turned into a change set)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
import yaml

from . import __version__
from ._shell import Db, LedgerByDefault, opened, parse_date
from .archive import Archive, read_archive
from .errors import ArchiveError, LedgerMissingError, UsageError
from .inference import describe
from .ledger import Ledger
from .tables import read_table

import_app = typer.Typer(
    cls=LedgerByDefault,
    help="Read a file into the ledger (`orgledger import FILE`: a whole exported ledger).",
    no_args_is_help=True,
)

File = Annotated[str, typer.Argument(metavar="FILE", help="The JSON file; - for stdin/stdout.")]


def _summary(archive: Archive) -> str:
    seq, head = archive.head
    values = sum(len(load.values) for load in archive.loads)
    return (
        f"{seq} change set(s), {len(archive.loads)} metric load(s) with {values} value(s), "
        f"{len(archive.scenario_events)} scenario event(s), "
        f"{len(archive.token_events)} token event(s); head {head[:12] or '-'}"
    )


def export_ledger(file: File, db: Db = None) -> None:
    """Write everything the ledger recorded to one JSON file, to import elsewhere."""
    with opened(db) as ledger:
        archive = ledger.export()
    data = orjson.dumps(archive.to_json(__version__), option=orjson.OPT_INDENT_2) + b"\n"
    if file == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        target = Path(file)
        partial = target.with_name(target.name + ".partial")
        try:
            partial.write_bytes(data)
            partial.replace(target)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise ArchiveError(f"cannot write {file}: {exc.strerror}") from None
    typer.echo(f"exported {_summary(archive)}", err=True)


@import_app.command("ledger")
def import_ledger(file: File, db: Db = None) -> None:
    """Record an exported ledger in an empty ledger (created if missing): same head hash."""
    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        raise ArchiveError(f"cannot read {file}: {exc.strerror}") from None
    archive = read_archive(data, "<stdin>" if file == "-" else file)
    try:
        ledger = Ledger.open(db)
    except LedgerMissingError:
        ledger = Ledger.init(db)
    with ledger:
        ledger.import_(archive)
        display = ledger.store.display
    typer.echo(f"imported {_summary(archive)} into {display}")


Effective = Annotated[
    str, typer.Option("--effective", metavar="DATE", help="The date the file's structure holds on.")
]
EmitPlan = Annotated[
    str | None,
    typer.Option(
        "--emit-plan",
        metavar="OUT.yaml",
        help="Write the inferred plan there for review instead of applying it.",
    ),
]
ChangeSetId = Annotated[
    str | None,
    typer.Option("--id", help="The change set's id [default: import-DATE]."),
]
Encoding = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="The CSV or JSON file's encoding [default: detected: UTF-8 with or without "
        "BOM, else GB18030].",
    ),
]
Columns = Annotated[
    list[str] | None,
    typer.Option(
        "--column",
        metavar="OURS=THEIRS",
        help="Read our column from the file's header THEIRS, e.g. --column name_en=Department "
        "(repeatable).",
    ),
]


def write_plan(plan: dict[str, object], out: str, summary: str) -> None:
    """Write an inferred plan for review, and say where and how to check it."""
    text = yaml.safe_dump(plan, allow_unicode=True, sort_keys=False, width=100)
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ArchiveError(f"cannot write {out}: {exc.strerror}") from None
    typer.echo(f"{summary}; wrote the plan to {out} (check it: orgledger plan {out})")


def columns_of(pairs: list[str] | None) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs or ():
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise UsageError(f"--column needs OURS=THEIRS, e.g. name_en=Department (got '{pair}')")
        mapping[ours.strip()] = theirs.strip()
    return mapping


@import_app.command("snapshot")
def import_snapshot(
    file: Annotated[str, typer.Argument(metavar="FILE", help="A CSV, XLSX or JSON file.")],
    effective: Effective,
    emit_plan: EmitPlan = None,
    changeset_id: ChangeSetId = None,
    encoding: Encoding = None,
    column: Columns = None,
    under: Annotated[
        str | None,
        typer.Option("--under", metavar="UNIT", help="The file holds only this unit's subtree."),
    ] = None,
    db: Db = None,
) -> None:
    """Infer the change set that turns the structure on a date into the file's, and apply it.

    Creates, ends, moves, renames, kinds, attributes and links; units that are gone
    become merges or splits where their units went to one or several units, with
    the evidence in the notes. With --emit-plan, write the plan for review instead.
    """
    day = parse_date(effective)
    table = read_table(file, encoding=encoding, rename=columns_of(column))
    with opened(db) as ledger:
        plan, inferred = ledger.infer_snapshot(table, day, changeset_id, under)
        dropped = f" ({table.duplicates} duplicate row(s) ignored)" if table.duplicates else ""
        summary = f"{len(table.rows)} row(s){dropped}: {describe(inferred.counts)}"
        if emit_plan is not None:
            write_plan(plan, emit_plan, summary)
            return
        if not inferred.ops:
            typer.echo(f"{summary}; nothing to record")
            return
        records = ledger.apply(plan)
    for record in records:
        typer.echo(f"{summary}; recorded {record.id} (effective {record.effective.isoformat()})")
