"""Commands over access tokens for the web API: add, list, revoke."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from . import render
from ._cli_numbers import Actor, _actor
from ._shell import Db, Fmt, Format, Group, emit_json, opened, out

token_app = typer.Typer(
    cls=Group,
    help="Access tokens for the web API: add (the secret is shown once), list, revoke.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(metavar="NAME", help="The token's name, e.g. ci or hr-team.")]


class Scope(StrEnum):
    read = "read"
    write = "write"


@token_app.command("add")
def token_add(
    name: Name,
    scope: Annotated[Scope, typer.Option("--scope", help="read, or write (reads too).")],
    under: Annotated[
        list[str] | None,
        typer.Option(
            "--under",
            metavar="UNIT",
            help="Write only in this unit's subtree (repeat for several).",
        ),
    ] = None,
    by: Actor = None,
    db: Db = None,
    fmt: Format = Fmt.text,
) -> None:
    """Add a token and print its secret, once: the ledger keeps only its SHA-256."""
    with opened(db) as ledger:
        token, secret = ledger.add_token(name, scope.value, under or (), _actor(by))
    if fmt is Fmt.json:
        emit_json({**token.to_json(), "secret": secret})
        return
    limits = f", under {', '.join(token.under)}" if token.under else ""
    typer.echo(f"added token '{token.name}' ({token.scope}{limits})")
    typer.echo("its secret, shown this once (send it as 'Authorization: Bearer <secret>'):")
    typer.echo(secret)


@token_app.command("list")
def token_list(db: Db = None, fmt: Format = Fmt.text) -> None:
    """The active tokens: name, scope, limits, who added them and when (never the secrets)."""
    with opened(db) as ledger:
        found = sorted(ledger.tokens().values(), key=lambda t: t.name)
    if fmt is Fmt.json:
        emit_json([t.to_json() for t in found])
    else:
        out().print(render.tokens_view(found))


@token_app.command("revoke")
def token_revoke(name: Name, by: Actor = None, db: Db = None) -> None:
    """Revoke a token: every server refuses it from its next request on."""
    with opened(db) as ledger:
        token = ledger.revoke_token(name, _actor(by))
    typer.echo(f"revoked token '{token.name}' ({token.scope})")
