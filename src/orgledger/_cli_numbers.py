"""Commands over numbers and drafts: metrics, stats, scenarios."""

from __future__ import annotations

import getpass
from datetime import date
from typing import Annotated

import typer

from . import render
from ._shell import Db, Fmt, Format, Group, KnownAt, Lang, emit_json, opened, out, parse_date
from .errors import UsageError
from .metrics import MetricQuery, summary
from .periods import FORMS_HELP, Period, PeriodError, parse_period

metrics_app = typer.Typer(
    cls=Group, help="Load metric values and ask for them in any structure.", no_args_is_help=True
)
scenario_app = typer.Typer(
    cls=Group,
    help="Draft plans kept in the ledger: compare, approve, apply.",
    no_args_is_help=True,
)


def _period(value: str) -> Period:
    try:
        return parse_period(value)
    except PeriodError as exc:
        raise typer.BadParameter(str(exc)) from None


Actor = Annotated[
    str | None,
    typer.Option("--by", metavar="NAME", help="Who does it [default: the system user name]."),
]


def _actor(name: str | None) -> str:
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@metrics_app.command("load")
def metrics_load(
    file: Annotated[str, typer.Argument(metavar="FILE", help="A CSV or JSON metrics file.")],
    db: Db = None,
) -> None:
    """Check a metrics file (unit, metric, period, value, ...) and store it whole."""
    with opened(db) as ledger:
        count = ledger.load_metrics(file)
    typer.echo(f"loaded {count} value(s) from {file}")


@metrics_app.command("show")
def metrics_show(
    metric: Annotated[str, typer.Argument(metavar="METRIC", help="e.g. revenue, headcount.")],
    period: Annotated[
        Period,
        typer.Option(parser=_period, metavar="PERIOD", help=f"One of {FORMS_HELP}."),
    ],
    unit: Annotated[
        str | None, typer.Option(metavar="UNIT", help="Only this unit (id, abbreviation, name).")
    ] = None,
    growth: Annotated[
        str | None, typer.Option(metavar="yoy,qoq", help="Growth against earlier periods.")
    ] = None,
    at: Annotated[
        date | None,
        typer.Option(
            parser=parse_date,
            metavar="DATE",
            help="Structure to roll up in [default: the period's last day].",
        ),
    ] = None,
    rollup: Annotated[
        bool, typer.Option("--rollup", help="Sum children into units without a value.")
    ] = False,
    restate_to: Annotated[
        date | None,
        typer.Option(
            parser=parse_date,
            metavar="DATE",
            help="Carry values of units ended by DATE to their successors, by lineage shares.",
        ),
    ] = None,
    known_at: KnownAt = None,
    lang: Lang = None,
    db: Db = None,
    fmt: Format = Fmt.text,
) -> None:
    """A metric's values for one period, in the structure of one date."""
    kinds = tuple(g.strip() for g in growth.split(",") if g.strip()) if growth else ()
    query = MetricQuery(metric, period, unit, at, rollup, restate_to, kinds)
    with opened(db) as ledger:
        table = ledger.metrics(query, known_at=known_at, lang=lang)
    if fmt is Fmt.json:
        emit_json(table.to_json())
    else:
        out().print(render.metrics_view(table))


@metrics_app.command("list")
def metrics_list(known_at: KnownAt = None, db: Db = None, fmt: Format = Fmt.text) -> None:
    """The metrics loaded: how many values, units and periods each has."""
    with opened(db) as ledger:
        rows = summary(ledger.metric_values(known_at=known_at))
    if fmt is Fmt.json:
        emit_json(rows)
        return
    if not rows:
        typer.echo("no metrics loaded (load some with `orgledger metrics load FILE`)")
    for row in rows:
        periods = row["periods"]
        span = f"{periods[0]} .. {periods[-1]}" if periods else "-"
        typer.echo(
            f"{row['metric']}: {row['values']} value(s), {row['units']} unit(s), "
            f"{len(periods)} period(s) ({span})"
        )


def stats(
    unit: Annotated[
        str | None,
        typer.Argument(metavar="[UNIT]", help="Only this unit's subtree [default: every root]."),
    ] = None,
    at: Annotated[
        date | None,
        typer.Option(parser=parse_date, metavar="DATE", help="Date (YYYY-MM-DD) [default: today]."),
    ] = None,
    start: Annotated[
        date | None,
        typer.Option("--from", parser=parse_date, metavar="DATE", help="Start of a range."),
    ] = None,
    end: Annotated[
        date | None,
        typer.Option("--to", parser=parse_date, metavar="DATE", help="End of a range."),
    ] = None,
    by: Annotated[
        str | None, typer.Option(metavar="ATTR", help="Count units by an attribute's value.")
    ] = None,
    plot: Annotated[
        str | None, typer.Option(metavar="FILE", help="Also draw a PNG line chart (a range).")
    ] = None,
    known_at: KnownAt = None,
    db: Db = None,
    fmt: Format = Fmt.text,
) -> None:
    """Org health: units by kind, layers, span of control, headcount, shares by attribute."""
    if (start is None) != (end is None):
        raise UsageError("give both --from and --to for a range")
    if at is not None and start is not None:
        raise UsageError("give either --at or --from/--to, not both")
    with opened(db) as ledger:
        if start is not None and end is not None:
            series = ledger.stats_series(start, end, root=unit, by=by, known_at=known_at)
        else:
            series = [ledger.stats(at, root=unit, by=by, known_at=known_at)]
    if plot is not None:
        from .stats import plot as draw

        draw(series, plot, end)
    if fmt is Fmt.json:
        emit_json([s.to_json() for s in series] if start is not None else series[0].to_json())
    else:
        out().print(render.stats_view(series))
        if plot is not None:
            typer.echo(f"wrote {plot}")


Name = Annotated[str, typer.Argument(metavar="NAME", help="The scenario's name.")]


@scenario_app.command("add")
def scenario_add(
    name: Name,
    plan: Annotated[str, typer.Argument(metavar="PLAN", help="A plan file (YAML or JSON).")],
    by: Actor = None,
    db: Db = None,
) -> None:
    """Store a draft plan under NAME (checked against the ledger; replaces an older draft)."""
    with opened(db) as ledger:
        found = ledger.add_scenario(name, plan, _actor(by))
    cs = found.changeset
    typer.echo(f"scenario {name}: {cs.id} (effective {cs.effective.isoformat()}), draft")


@scenario_app.command("list")
def scenario_list(db: Db = None, fmt: Format = Fmt.text) -> None:
    """Every scenario with its status."""
    with opened(db) as ledger:
        found = sorted(ledger.scenarios().values(), key=lambda s: s.name)
    if fmt is Fmt.json:
        emit_json([s.to_json() for s in found])
    else:
        out().print(render.scenarios_view(found))


@scenario_app.command("show")
def scenario_show(
    name: Name,
    depth: Annotated[
        int | None, typer.Option("--depth", min=0, metavar="N", help="Levels to show.")
    ] = None,
    lang: Lang = None,
    db: Db = None,
    fmt: Format = Fmt.text,
) -> None:
    """The structure as if the scenario were applied, and what it would change."""
    with opened(db) as ledger:
        outcome = ledger.simulate_scenario(name)
    if fmt is Fmt.json:
        emit_json({**outcome.to_json(), "structure": outcome.after.to_json(None, depth)})
        return
    console = out()
    cs = outcome.scenario.changeset
    title = f"scenario {name} ({outcome.scenario.status}): as if applied on {cs.effective}"
    console.print(render.tree(outcome.after, None, depth, lang, title=title))
    console.print(render.diff_view(outcome.diff, lang, title=f"what {cs.id} would change"))
    console.print(f"magnitude {outcome.magnitude:.2f}")


@scenario_app.command("compare")
def scenario_compare(
    names: Annotated[list[str], typer.Argument(metavar="NAME...", help="Scenarios to compare.")],
    db: Db = None,
    fmt: Format = Fmt.text,
) -> None:
    """Scenarios side by side: magnitude, units affected, layers, spans, headcount moved."""
    with opened(db) as ledger:
        outcomes = [ledger.simulate_scenario(n) for n in names]
    if fmt is Fmt.json:
        emit_json([{k: v for k, v in o.to_json().items() if k != "diff"} for o in outcomes])
    else:
        out().print(render.compare_view(outcomes))


@scenario_app.command("approve")
def scenario_approve(name: Name, by: Actor = None, db: Db = None) -> None:
    """Record who approves the scenario, and when."""
    with opened(db) as ledger:
        found = ledger.approve(name, _actor(by))
    typer.echo(f"scenario {name} approved by {found.approved_by}")


@scenario_app.command("apply")
def scenario_apply(name: Name, db: Db = None) -> None:
    """Record an approved scenario's change set (checked again against the ledger now)."""
    with opened(db) as ledger:
        records = ledger.apply_scenario(name)
    for record in records:
        typer.echo(f"recorded {record.id} (effective {record.effective.isoformat()})")
    if not records:
        typer.echo(f"nothing new: the change set of {name} is recorded already")
