"""The command line: each command opens the ledger, calls one method, formats the result."""

from __future__ import annotations

import gc
import os
from datetime import UTC, date
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from . import __version__, demo, render
from ._cli_archive import export_ledger, import_app
from ._cli_export import export_app
from ._cli_extract import extract_command
from ._cli_numbers import metrics_app, scenario_app, stats
from ._cli_people import import_people
from ._cli_tokens import token_app
from ._shell import (
    At,
    Db,
    Fmt,
    Format,
    Group,
    KnownAt,
    Lang,
    Plans,
    ShowFmt,
    Unit,
    emit_json,
    opened,
    out,
    parse_date,
)
from .ledger import Ledger, Preview

app = typer.Typer(
    cls=Group,
    help="orgledger: the system of record for organizational structure over time.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


app.add_typer(metrics_app, name="metrics")
app.add_typer(scenario_app, name="scenario")
export_app.command("ledger")(export_ledger)
app.add_typer(export_app, name="export")
import_app.command("people")(import_people)
app.add_typer(import_app, name="import")
app.add_typer(token_app, name="token")
app.command(name="extract")(extract_command)
app.command()(stats)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"orgledger {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """orgledger: the system of record for organizational structure over time."""


@app.command()
def init(db: Db = None) -> None:
    """Create an empty ledger."""
    with Ledger.init(db) as ledger:
        typer.echo(f"created an empty ledger at {ledger.store.display}")


def _previews(previews: list[Preview], fmt: Fmt, lang: str | None) -> None:
    if fmt is Fmt.json:
        emit_json(
            [
                {
                    "id": p.changeset.id,
                    "magnitude": round(p.magnitude, 6),
                    "diff": p.diff.to_json(),
                }
                for p in previews
            ]
        )
        return
    console = out()
    for preview in previews:
        cs = preview.changeset
        title = f"Change set {cs.id} (effective {cs.effective.isoformat()})"
        console.print(render.diff_view(preview.diff, lang, title=title))
        console.print(f"magnitude {preview.magnitude:.2f}\n")


@app.command()
def apply(plans: Plans, db: Db = None) -> None:
    """Validate plans and record them, all or none."""
    with opened(db) as ledger:
        errors = Console(stderr=True)
        columns = (TextColumn("applying"), BarColumn(), MofNCompleteColumn())
        with Progress(
            *columns, console=errors, transient=True, disable=not errors.is_terminal
        ) as bar:
            task = bar.add_task("apply", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            records = ledger.apply(*plans, progress=progress)
    if not records:
        typer.echo("nothing new to record: every change set given is recorded already")
    for record in records:
        typer.echo(
            f"recorded {record.id} (effective {record.effective.isoformat()}): "
            f"{record.ops} operation(s)"
        )


@app.command()
def plan(plans: Plans, db: Db = None, fmt: Format = Fmt.text, lang: Lang = None) -> None:
    """Validate plans against the ledger and show what they would change; write nothing."""
    with opened(db) as ledger:
        previews = ledger.preview(*plans)
    if not previews and fmt is Fmt.text:
        typer.echo("nothing new: every change set given is recorded already")
    _previews(previews, fmt, lang)


@app.command()
def show(
    unit: Annotated[
        str | None, typer.Argument(metavar="UNIT", help="Unit id, abbreviation or name.")
    ] = None,
    at: At = None,
    depth: Annotated[
        int | None, typer.Option("--depth", min=0, metavar="N", help="Levels below the start.")
    ] = None,
    lang: Lang = None,
    known_at: KnownAt = None,
    db: Db = None,
    fmt: Annotated[ShowFmt, typer.Option("--format", "-f", help="Output format.")] = ShowFmt.text,
) -> None:
    """The structure as of a date (the whole forest, or one unit's subtree)."""
    with opened(db) as ledger:
        snapshot = ledger.at(at, known_at=known_at)
        root = ledger.subtree_check(snapshot, unit) if unit else None
    if fmt is ShowFmt.json:
        emit_json(snapshot.to_json(root, depth))
    elif fmt is ShowFmt.mermaid:
        typer.echo(render.mermaid(snapshot, root, depth, lang), nl=False)
    else:
        title = f"as of {snapshot.at.isoformat()}"
        if known_at is not None:
            title += f", as known at {known_at.astimezone(UTC).isoformat().replace('+00:00', 'Z')}"
        out().print(render.tree(snapshot, root, depth, lang, title=title))


@app.command()
def diff(
    date1: Annotated[
        date,
        typer.Argument(parser=parse_date, metavar="DATE1", help="From this date (YYYY-MM-DD)."),
    ],
    date2: Annotated[
        date, typer.Argument(parser=parse_date, metavar="DATE2", help="To this date (YYYY-MM-DD).")
    ],
    known_at: KnownAt = None,
    lang: Lang = None,
    db: Db = None,
    fmt: Format = Fmt.text,
) -> None:
    """What changed between two dates."""
    with opened(db) as ledger:
        result = ledger.diff(date1, date2, known_at=known_at)
    if fmt is Fmt.json:
        emit_json(result.to_json())
    else:
        out().print(render.diff_view(result, lang))


@app.command()
def lineage(unit: Unit, known_at: KnownAt = None, db: Db = None, fmt: Format = Fmt.text) -> None:
    """Where a unit came from and went, through merges, splits and dissolutions."""
    with opened(db) as ledger:
        result = ledger.lineage(unit, known_at=known_at)
    if fmt is Fmt.json:
        emit_json(result.to_json())
    else:
        out().print(render.lineage_view(result))


@app.command()
def history(unit: Unit, known_at: KnownAt = None, db: Db = None, fmt: Format = Fmt.text) -> None:
    """Every change that touched a unit."""
    with opened(db) as ledger:
        result = ledger.history(unit, known_at=known_at)
    if fmt is Fmt.json:
        emit_json(result.to_json())
    else:
        out().print(render.history_view(result))


@app.command()
def log(known_at: KnownAt = None, db: Db = None, fmt: Format = Fmt.text) -> None:
    """Change sets in effective order, with their magnitudes."""
    with opened(db) as ledger:
        entries = ledger.log(known_at=known_at)
    if fmt is Fmt.json:
        emit_json([e.to_json() for e in entries])
    else:
        out().print(render.log_view(entries))


@app.command()
def magnitude(
    changeset: Annotated[str, typer.Argument(metavar="ID", help="A change set id.")],
    known_at: KnownAt = None,
    db: Db = None,
    fmt: Format = Fmt.text,
) -> None:
    """Explain a change set's magnitude: which units counted, and why."""
    with opened(db) as ledger:
        found = ledger.magnitude(changeset, known_at=known_at)
    if fmt is Fmt.json:
        emit_json(found.to_json())
    else:
        out().print(render.magnitude_view(found))


@app.command()
def find(
    text: Annotated[
        str, typer.Argument(metavar="TEXT", help="Part of an id, abbreviation or name.")
    ],
    known_at: KnownAt = None,
    db: Db = None,
    fmt: Format = Fmt.text,
) -> None:
    """Units whose id, abbreviation or name in any language contains TEXT."""
    with opened(db) as ledger:
        matches = ledger.find(text, known_at=known_at)
    if fmt is Fmt.json:
        emit_json({"query": text, "matches": [m.to_json() for m in matches]})
    else:
        out().print(render.find_view(matches))


@app.command()
def verify(db: Db = None, fmt: Format = Fmt.text) -> None:
    """Recompute the hash chain and the derived tables; exit 1 if anything differs."""
    with opened(db) as ledger:
        report = ledger.verify()
    if fmt is Fmt.json:
        emit_json(report.to_json())
    elif report.ok:
        out().print(render.verify_view(report))
    for finding in report.findings if fmt is Fmt.text else ():
        typer.echo(f"{finding} [integrity]", err=True)
    if not report.ok:
        raise typer.Exit(1)


class PlanFmt(StrEnum):
    yaml = "yaml"
    json = "json"


@app.command()
def synth(
    units: Annotated[int, typer.Option("--units", min=1, help="Units in the founding structure.")],
    changesets: Annotated[
        int, typer.Option("--changesets", min=0, help="Reorganizations after the founding.")
    ] = 1000,
    years: Annotated[int, typer.Option("--years", min=1, help="Years they are spread over.")] = 20,
    ops: Annotated[
        int, typer.Option("--ops-per-changeset", min=1, help="Typical operations per one.")
    ] = 100,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same ledger.")] = 0,
    out: Annotated[
        str | None, typer.Option("--out", metavar="DIR", help="Write plan files here.")
    ] = None,
    plan_format: Annotated[
        PlanFmt, typer.Option("--plan-format", help="Format of the plan files.")
    ] = PlanFmt.yaml,
    db: Db = None,
) -> None:
    """Generate a realistic synthetic history: plan files (--out) or a new ledger (--db)."""
    from . import synth as synthetic

    generated = synthetic.history(units, years, changesets, seed, ops_per_changeset=ops)
    if out is not None:
        written = synthetic.write_plans(generated, out, plan_format.value)
        typer.echo(f"wrote {written} plan file(s) to {out}")
        return
    with Ledger.init(db) as ledger:
        records = ledger.apply(*generated)
        display = ledger.store.display
    total = sum(r.ops for r in records)
    typer.echo(f"recorded {len(records)} change set(s), {total} operation(s) in {display}")


Host = Annotated[
    str, typer.Option("--host", help="Interface to listen on (0.0.0.0: every interface).")
]
Port = Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on.")]


Workers = Annotated[
    int,
    typer.Option(
        "--workers", min=1, metavar="N", help="Worker processes behind the one port [default: 1]."
    ),
]
Private = Annotated[
    bool, typer.Option("--private", help="Every API request needs a token, reads too.")
]
Rate = Annotated[
    float,
    typer.Option(
        "--rate",
        min=0,
        metavar="N",
        help="Requests a second each client (token or address) may make; 0: no limit.",
    ),
]
Burst = Annotated[
    int,
    typer.Option(
        "--burst", min=0, metavar="N", help="Requests a client may make at once [default: 2 x N]."
    ),
]
MaxBody = Annotated[
    int | None,
    typer.Option(
        "--max-body", min=1, metavar="BYTES", help="Largest body a request may post [default: 1MB]"
    ),
]


def _serve(
    db: str | None,
    host: str,
    port: int,
    *,
    workers: int = 1,
    private: bool = False,
    rate: float = 0.0,
    burst: int = 0,
    max_body: int | None = None,
) -> None:
    import uvicorn

    from .web import app as web
    from .web.security import MAX_BODY, Policy

    token = os.environ.get("ORGLEDGER_TOKEN") or None
    policy = Policy(token, private, rate, burst, max_body or MAX_BODY)
    with Ledger.open(db) as ledger:  # refuse a missing ledger here, not in every worker
        display = ledger.store.display
    modes = ["private" if policy.private else "reads are public"]
    modes.append("writes need a write token")
    if policy.rate:
        modes.append(f"{policy.rate:g} requests a second per client")
    if workers > 1:
        modes.append(f"{workers} workers")
    typer.echo(f"serving {display} on http://{host}:{port}/ ({'; '.join(modes)})", err=True)
    if workers == 1:
        uvicorn.run(web.create_app(db, policy=policy), host=host, port=port, log_level="warning")
        return
    # Each worker is a new process that builds its own app from these variables.
    os.environ.update(web.environment(db, policy))
    uvicorn.run(
        "orgledger.web.app:from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
    )


@app.command()
def serve(
    db: Db = None,
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Workers = 1,
    private: Private = False,
    rate: Rate = 0.0,
    burst: Burst = 0,
    max_body: MaxBody = None,
) -> None:
    """Serve the web app and the REST API (writes need a write token; see `token add`).

    ORGLEDGER_TOKEN, when set, is one more write token, unrestricted, known only to
    this server.
    """
    _serve(
        db,
        host,
        port,
        workers=workers,
        private=private,
        rate=rate,
        burst=burst,
        max_body=max_body,
    )


@app.command(name="demo")
def demo_command(
    db: Annotated[
        str | None,
        typer.Option("--db", help=f"Where to build the example [default: ./{demo.DEMO_DB}]."),
    ] = None,
    lang: Lang = None,
    serve: Annotated[bool, typer.Option("--serve", help="Then serve it in the web app.")] = False,
    host: Host = "127.0.0.1",
    port: Port = 8000,
) -> None:
    """Build the Tencent example and tell its story (and serve it with --serve)."""
    built = demo.build(db)
    ledger = built.ledger
    console = out()
    try:
        verb = "reused" if built.reused else "built"
        console.print(
            f"[bold]orgledger demo[/]: Tencent's structure from 2005 on, {verb} in "
            f"{escape(str(built.path))}\n"
        )
        for day in (demo.BEFORE, demo.AFTER):
            snapshot = ledger.at(day)
            console.print(
                render.tree(snapshot, None, 2, lang, title=f"Tencent on {day.isoformat()}")
            )
            console.print()
        console.print(render.diff_view(ledger.diff(demo.BEFORE, demo.AFTER), lang))
        console.print()
        for unit in demo.DISSOLVED:
            console.print(render.lineage_view(ledger.lineage(unit)))
        console.print()
        entries = ledger.log()
        console.print(render.log_view(entries))
        upgrade = next(e for e in entries if e.record.id == demo.UPGRADE)
        console.print(
            f"{upgrade.record.id} (magnitude {upgrade.magnitude:.2f}) is the largest "
            f"reorganization since {upgrade.largest_since or 'ever'}.\n"
        )
        console.print(render.metrics_view(ledger.metrics(demo.CLAIM, lang=lang)))
        # Plain echo: a console would wrap the commands, and a wrapped command breaks on paste.
        typer.echo(
            f"\nExplore it: orgledger show pcg --at 2018-09-30 --lang zh --db {built.path}\n"
            f"            orgledger magnitude {demo.UPGRADE} --db {built.path}\n"
            f"            orgledger stats tencent --from 2018-01-01 --to 2018-12-31 --by focus "
            f"--db {built.path}\n"
            f"            orgledger serve --db {built.path}"
        )
    finally:
        ledger.close()
    if serve:
        _serve(built.path, host, port)


def main() -> None:
    """Entry point of the `orgledger` command."""
    # A command builds large structures that hold no reference cycles, then exits:
    # collecting every 700 allocations would spend a third of a cold query scanning.
    gc.set_threshold(100_000, 50, 100)
    app(prog_name="orgledger")


if __name__ == "__main__":  # pragma: no cover
    main()
