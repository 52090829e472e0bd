"""What every command shares: error translation, common options, output helpers."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from typer.core import TyperGroup

from .errors import OrgLedgerError
from .ledger import Ledger, parse_timestamp
from .model import Json


class Group(TyperGroup):
    """Turns every orgledger error into its lines on stderr and its exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except OrgLedgerError as exc:
            for line in exc.lines():
                typer.echo(line, err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("interrupted; nothing was written", err=True)
            raise typer.Exit(1) from None
        except Exception as exc:
            # The command line's own exits and usage errors pass through untouched.
            if type(exc).__module__.startswith("typer") or os.environ.get("ORGLEDGER_DEBUG"):
                raise
            typer.echo(
                f"internal error: {type(exc).__name__}: {exc} (this is a bug; "
                "ORGLEDGER_DEBUG=1 shows where it happened) [internal]",
                err=True,
            )
            raise typer.Exit(1) from None


class Fmt(StrEnum):
    text = "text"
    json = "json"


class ShowFmt(StrEnum):
    text = "text"
    json = "json"
    mermaid = "mermaid"


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(value: str) -> date:
    try:
        if not _DATE.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a date (YYYY-MM-DD)") from None


def parse_moment(value: str) -> datetime:
    try:
        return parse_timestamp(value)
    except ValueError:
        raise typer.BadParameter(
            f"'{value}' is not an ISO timestamp (e.g. 2026-11-26T15:04:05Z)"
        ) from None


Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="ORGLEDGER_DB",
        show_envvar=True,
        metavar="PATH_OR_URL",
        help="Ledger: a SQLite path or a database URL [default: ./orgledger.db].",
    ),
]
Format = Annotated[Fmt, typer.Option("--format", "-f", help="Output format.")]
At = Annotated[
    date | None,
    typer.Option(
        "--at", parser=parse_date, metavar="DATE", help="Date (YYYY-MM-DD) [default: today]."
    ),
]
KnownAt = Annotated[
    datetime | None,
    typer.Option(
        "--known-at",
        parser=parse_moment,
        metavar="TIME",
        help="Answer as the ledger stood at this time (ISO timestamp, UTC if no zone).",
    ),
]
Lang = Annotated[
    str | None, typer.Option("--lang", metavar="LANG", help="Language of names, e.g. en, zh.")
]
Unit = Annotated[str, typer.Argument(metavar="UNIT", help="Unit id, abbreviation or name.")]
Plans = Annotated[
    list[str], typer.Argument(metavar="PLAN...", help="Plan files (YAML or JSON; - for stdin).")
]


def out() -> Console:
    return Console(highlight=False, soft_wrap=False)


def emit_json(value: Json) -> None:
    # orjson: the standard library's encoder is pure Python once it indents.
    # The bytes go out as they are: decoding and re-encoding megabytes costs time.
    data = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    typer.echo(data, nl=False)


@contextmanager
def opened(db: str | None) -> Iterator[Ledger]:
    ledger = Ledger.open(db)
    try:
        yield ledger
    finally:
        ledger.close()


class LedgerByDefault(Group):
    """A group whose arguments, when they name no subcommand, go to its `ledger` command.

    So `orgledger export FILE` is `orgledger export ledger FILE`, beside
    `orgledger export snapshot ...`.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["ledger", *args]
        return list(super().parse_args(ctx, args))
