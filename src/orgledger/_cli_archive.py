"""`orgledger export FILE` and `orgledger import FILE`: a whole ledger as one JSON file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer

from . import __version__
from ._shell import Db, LedgerByDefault, opened
from .archive import Archive, read_archive
from .errors import ArchiveError, LedgerMissingError
from .ledger import Ledger

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
