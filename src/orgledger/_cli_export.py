"""`orgledger export`: the structure on a date, or the changes between two, as files."""

from __future__ import annotations

import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from . import exports
from ._shell import Db, KnownAt, Lang, LedgerByDefault, opened, parse_date
from .errors import UsageError

export_app = typer.Typer(
    cls=LedgerByDefault,
    help="Write the structure on a date, or the changes between two dates, to a file.",
    no_args_is_help=True,
)


class SnapshotFmt(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    json = "json"
    mermaid = "mermaid"
    dot = "dot"
    svg = "svg"
    png = "png"
    pdf = "pdf"


class DiffFmt(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    json = "json"


class Direction(StrEnum):
    TB = "TB"
    LR = "LR"


Output = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write to FILE (its suffix gives the format when --format is not given); "
        "- for stdout [default: stdout, text formats only].",
    ),
]
Excel = Annotated[
    bool,
    typer.Option("--excel", help="CSV only: start with a UTF-8 byte order mark for Excel."),
]


def _format(given: str | None, output: str | None, allowed: tuple[str, ...]) -> str:
    """The format asked for, else the one the output file's suffix implies, else csv."""
    if given is not None:
        return given
    if output is None or output == "-":
        return "csv"
    implied = exports.format_of(output)
    if implied is None or implied not in allowed:
        raise UsageError(
            f"cannot tell the format from '{output}': give --format ({', '.join(allowed)})"
        )
    return implied


def _write(data: bytes, fmt: str, output: str | None, what: str) -> None:
    """To the output file, else to stdout (binary formats only with `-o -`)."""
    if output is None and fmt in exports.BINARY_FORMATS:
        raise UsageError(f"{fmt} is binary: give a file with -o (or -o - to write it to stdout)")
    if output is None or output == "-":
        stream = sys.stdout.buffer if hasattr(sys.stdout, "buffer") else None
        if stream is None:  # a test runner's stream of text
            typer.echo(data.decode("utf-8", "replace"), nl=False)
        else:
            sys.stdout.flush()
            stream.write(data)
            stream.flush()
        return
    try:
        Path(output).write_bytes(data)
    except OSError as exc:
        raise exports.ExportError(f"cannot write {output}: {exc.strerror}") from None
    typer.echo(f"wrote {output}: {what}")


@export_app.command("snapshot")
def export_snapshot(
    at: Annotated[
        date | None,
        typer.Option(
            "--at", parser=parse_date, metavar="DATE", help="Date (YYYY-MM-DD) [default: today]."
        ),
    ] = None,
    known_at: KnownAt = None,
    under: Annotated[
        str | None,
        typer.Option("--under", metavar="UNIT", help="Only this unit's subtree [default: all]."),
    ] = None,
    depth: Annotated[
        int | None,
        typer.Option("--depth", min=0, metavar="N", help="Levels below the start [default: all]."),
    ] = None,
    fmt: Annotated[
        SnapshotFmt | None,
        typer.Option("--format", "-f", help="Output format [default: from -o, else csv]."),
    ] = None,
    output: Output = None,
    lang: Lang = None,
    compare: Annotated[
        date | None,
        typer.Option(
            "--compare",
            parser=parse_date,
            metavar="DATE",
            help="Charts only: colour what changed since DATE (added, moved, renamed, ended).",
        ),
    ] = None,
    direction: Annotated[
        Direction,
        typer.Option("--direction", help="Charts only: top to bottom, or left to right."),
    ] = Direction.TB,
    excel: Excel = False,
    db: Db = None,
) -> None:
    """The structure on a date as a table (csv, xlsx, json) or a whole chart (mermaid, dot,
    svg, png, pdf), every unit in it."""
    chosen = _format(fmt.value if fmt else None, output, exports.SNAPSHOT_FORMATS)
    if compare is not None and chosen not in exports.CHART_FORMATS:
        raise UsageError(f"--compare colours charts only ({', '.join(exports.CHART_FORMATS)})")
    if excel and chosen != "csv":
        raise UsageError("--excel applies to csv only")
    with opened(db) as ledger:
        snapshot = ledger.at(at, known_at=known_at)
        root = ledger.subtree_check(snapshot, under) if under else None
        change = None
        if compare is not None:
            if compare >= snapshot.at:
                raise UsageError(
                    f"--compare takes a date before {snapshot.at.isoformat()}, "
                    f"not {compare.isoformat()}"
                )
            change = ledger.diff(compare, snapshot.at, known_at=known_at)
    data = exports.export_snapshot(
        snapshot,
        chosen,
        root=root,
        depth=depth,
        lang=lang,
        diff=change,
        direction=direction.value,
        bom=excel,
    )
    count = sum(1 for _ in snapshot.walk(root, depth))
    _write(data, chosen, output, f"{count} unit(s) as of {snapshot.at.isoformat()}")


@export_app.command("diff")
def export_diff(
    date1: Annotated[
        date,
        typer.Argument(parser=parse_date, metavar="DATE1", help="From this date (YYYY-MM-DD)."),
    ],
    date2: Annotated[
        date, typer.Argument(parser=parse_date, metavar="DATE2", help="To this date (YYYY-MM-DD).")
    ],
    fmt: Annotated[
        DiffFmt | None,
        typer.Option("--format", "-f", help="Output format [default: from -o, else csv]."),
    ] = None,
    output: Output = None,
    known_at: KnownAt = None,
    excel: Excel = False,
    db: Db = None,
) -> None:
    """The changes between two dates, one row each, with the change sets that made them."""
    chosen = _format(fmt.value if fmt else None, output, exports.DIFF_FORMATS)
    if excel and chosen != "csv":
        raise UsageError("--excel applies to csv only")
    with opened(db) as ledger:
        result = ledger.diff(date1, date2, known_at=known_at)
        effects = None
        if len(result.changesets) > 1:
            effects = {cs: ledger.changeset(cs, known_at=known_at).diff for cs in result.changesets}
    found = exports.changes(result, effects)
    data = exports.export_diff(result, chosen, effects=effects, bom=excel)
    _write(data, chosen, output, f"{len(found)} change(s) from {date1} to {date2}")
