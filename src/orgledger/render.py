"""Turning results into text: Rich renderables for the terminal, and Mermaid.

Stored text (names, notes, sources, kinds, attributes) always goes in as `Text`,
never as a plain string, which Rich would read as markup: `[bold]x[/]` stays
those characters.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from .diff import Diff
from .history import History
from .ledger import LogEntry, Report
from .lineage import Lineage
from .lookup import Match
from .magnitude import Explanation
from .metrics import MetricTable
from .model import Json, Snapshot, Unit
from .scenarios import Outcome as ScenarioOutcome
from .scenarios import Scenario
from .stats import Stats
from .tokens import SHOWN, Token

MARKS = {
    "added": ("+", "green"),
    "removed": ("-", "red"),
    "moved": (">", "yellow"),
    "renamed": ("~", "cyan"),
    "changed": ("*", "magenta"),
}


def label(unit: Unit | None, lang: str | None, unit_id: str = "") -> Text:
    """`Name (ABBR) id · kind`, as plain text whatever the name contains."""
    if unit is None:
        return Text(unit_id, style="dim")
    text = Text(unit.name(lang), style="bold")
    if unit.abbr:
        text.append(f" ({unit.abbr})")
    text.append(f"  {unit.id} · {unit.kind}", style="dim")
    for link in unit.links:
        text.append(f"  ┄> {link.to} ({link.type})", style="italic dim")
    return text


def tree(
    snapshot: Snapshot,
    root: str | None,
    depth: int | None,
    lang: str | None,
    title: str | None = None,
) -> RenderableType:
    """The snapshot as a Rich tree (several roots hang under a title line)."""
    heading = Text(title or f"as of {snapshot.at.isoformat()}", style="bold underline")
    top = Tree(heading, guide_style="dim")
    branches: dict[str, Tree] = {}
    for unit, level in snapshot.walk(root, depth):
        parent = branches.get(unit.parent or "") if level else None
        branches[unit.id] = (parent or top).add(label(unit, lang))
    if not branches:
        top.add(Text("no units", style="dim"))
    return top


def _name(diff: Diff, unit_id: str | None, lang: str | None) -> str:
    if unit_id is None:
        return "(root)"
    before, after = diff.units.get(unit_id, (None, None))
    unit = after or before
    return f"{unit.name(lang)} [{unit_id}]" if unit else unit_id


def _value(value: Json) -> str:
    """A value as JSON writes it (null, "text", 3)."""
    return json.dumps(value, ensure_ascii=False)


def _links(links: Json) -> str:
    """Links as `target (type), ...`, or `none`."""
    return ", ".join(f"{k['to']} ({k['type']})" for k in links) or "none"


def diff_view(diff: Diff, lang: str | None, title: str | None = None) -> RenderableType:
    """The diff, marked in colour and in words."""
    lines: list[Text] = []
    heading = title or f"Changes from {diff.start.isoformat()} to {diff.end.isoformat()}"
    head = Text(heading, style="bold underline")
    lines.append(head)
    if diff.changesets and title is None:
        lines.append(Text(f"change sets: {', '.join(diff.changesets)}", style="dim"))

    def line(kind: str, *parts: str) -> None:
        mark, colour = MARKS[kind]
        text = Text(f"{mark} {kind:<8} ", style=colour)
        text.append(" ".join(parts))
        lines.append(text)

    for unit in diff.added:
        line("added", _name(diff, unit.id, lang), f"under {unit.parent or '(root)'}")
    for unit in diff.removed:
        line("removed", _name(diff, unit.id, lang), f"from {unit.parent or '(root)'}")
    for unit_id, old, new in diff.moved:
        line("moved", _name(diff, unit_id, lang), f"from {old or '(root)'} to {new or '(root)'}")
    for unit_id, old_names, new_names in diff.renamed:
        old_text = ", ".join(f"{k}: {v}" for k, v in old_names.items())
        new_text = ", ".join(f"{k}: {v}" for k, v in new_names.items())
        line("renamed", unit_id, f"from {old_text} to {new_text}")
    for unit_id, field, old_value, new_value in diff.changed:
        if field == "links":
            line("changed", unit_id, f"links from {_links(old_value)} to {_links(new_value)}")
        else:
            line("changed", unit_id, f"{field} from {_value(old_value)} to {_value(new_value)}")
    if not diff:
        lines.append(Text("no changes", style="dim"))
    return Group(*lines)


def lineage_view(lineage: Lineage) -> RenderableType:
    top = Tree(Text(f"lineage of {lineage.unit}", style="bold underline"))
    for title, edges in (("came from", lineage.predecessors), ("went to", lineage.successors)):
        branch = top.add(Text(title, style="bold"))
        for edge in edges:
            text = Text(f"{edge.src} -> {edge.dst}  ")
            text.append(f"{edge.share:.0%}", style="bold")
            text.append(f"  {edge.kind}, {edge.date.isoformat()}, {edge.changeset}", style="dim")
            branch.add(text)
        if not edges:
            branch.add(Text("nothing", style="dim"))
    return top


def _detail(values: dict[str, Json]) -> str:
    skip = {"date", "changeset", "op", "op_kind", "action"}
    return "; ".join(f"{k}: {_plain(v)}" for k, v in values.items() if k not in skip)


def _plain(value: Json) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return "-" if value is None else str(value)


def history_view(found: History) -> RenderableType:
    table = Table(title=f"history of {found.unit}", title_justify="left")
    for column in ("date", "change set", "op", "what", "detail"):
        table.add_column(column)
    for event in found.events:
        table.add_row(
            event.date.isoformat(),
            event.changeset,
            f"{event.op} {event.op_kind}",
            event.action,
            Text(_detail(event.to_json())),
        )
    return table


def log_view(entries: Sequence[LogEntry]) -> RenderableType:
    table = Table(title="change sets in effective order", title_justify="left")
    widest = max((len(e.record.id) for e in entries), default=2)
    for column in ("effective", "id", "title", "ops", "magnitude", "largest since"):
        # Ids, dates and bars are worth nothing cut short; titles wrap.
        table.add_column(
            column,
            justify="right" if column == "ops" else "left",
            min_width={"id": widest, "effective": 10, "magnitude": 15}.get(column),
            no_wrap=column in ("effective", "id", "magnitude"),
            overflow="fold" if column == "largest since" else "ellipsis",
        )
    for entry in entries:
        bar = "█" * round(entry.magnitude * 10)
        magnitude = Text(f"{entry.magnitude:.2f} ")
        magnitude.append(bar, style="cyan")
        table.add_row(
            entry.record.effective.isoformat(),
            entry.record.id,
            Text(entry.record.title),
            str(entry.record.ops),
            magnitude,
            entry.largest_since or Text("largest so far", style="dim"),
        )
    return table


def magnitude_view(found: Explanation) -> RenderableType:
    """The units a magnitude counted, with the sum that makes it."""
    r = found.record
    since = found.largest_since or "none before it: the largest so far"
    head = Text(
        f"magnitude of {r.id} (effective {r.effective.isoformat()})", style="bold underline"
    )
    summary = Text(
        f"{found.magnitude:.4f} = {found.counted_weight:g} counted / {found.universe:g} "
        f"(units active before: {found.units_before}, after: {found.units_after}; "
        "weight: headcount where known, else 1)\n"
        f"largest since: {since}"
    )
    table = Table(title_justify="left")
    for column in ("unit", "why", "weight", "detail", "path before", "path after"):
        table.add_column(column, justify="right" if column == "weight" else "left")
    for item in found.counted:
        table.add_row(
            item.unit,
            item.why,
            f"{item.weight:g}",
            Text(item.detail),
            " / ".join(item.before) or "-",
            " / ".join(item.after) or "-",
        )
    return Group(head, summary, table)


def find_view(matches: Sequence[Match]) -> RenderableType:
    table = Table(title=f"{len(matches)} unit(s) found", title_justify="left")
    for column in ("id", "abbr", "names", "active", "matched"):
        table.add_column(column)
    for match in matches:
        span = match.span
        active = f"{span.start.isoformat()} to {span.end.isoformat() if span.end else 'now'}"
        table.add_row(
            match.unit.id,
            Text(match.unit.abbr or ""),
            Text(" / ".join(match.unit.names.values())),
            active,
            Text(", ".join(match.matched)),
        )
    return table


def verify_view(report: Report) -> Text:
    return Text(
        f"intact: {report.changesets} change set(s), head {report.head[:16] or '-'}", style="green"
    )


def mermaid(snapshot: Snapshot, root: str | None, depth: int | None, lang: str | None) -> str:
    """A Mermaid flowchart of the snapshot; labels are escaped, node ids are generated."""
    ids: dict[str, str] = {}
    lines = ["flowchart TD"]
    for unit, _ in snapshot.walk(root, depth):
        ids[unit.id] = f"u{len(ids)}"
        lines.append(f'  {ids[unit.id]}["{_mermaid_text(unit, lang)}"]')
        if unit.parent in ids:
            lines.append(f"  {ids[unit.parent]} --> {ids[unit.id]}")
    for unit, _ in snapshot.walk(root, depth):
        for link in unit.links:
            if link.to in ids:
                kind = "".join(_MERMAID_ESCAPES.get(ch, ch) for ch in link.type)
                lines.append(f'  {ids[unit.id]} -.->|"{kind}"| {ids[link.to]}')
    return "\n".join(lines) + "\n"


def _mermaid_text(unit: Unit, lang: str | None) -> str:
    name = unit.name(lang)
    text = f"{name} ({unit.abbr})" if unit.abbr else name
    return "".join(_MERMAID_ESCAPES.get(ch, ch) for ch in text)


_MERMAID_ESCAPES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "#": "#35;"}


def _percent(value: float | None) -> Text:
    if value is None:
        return Text("-", style="dim")
    return Text(f"{value:+.0%}", style="green" if value >= 0 else "red")


def metrics_view(table: MetricTable) -> RenderableType:
    """One row per unit: value, growth, basis."""
    how = []
    if table.rollup:
        how.append("rolled up")
    if table.restated_to:
        how.append(f"restated to {table.restated_to.isoformat()}")
    title = f"{table.metric}, {table.period.label}, structure of {table.at.isoformat()}"
    if how:
        title += f" ({', '.join(how)})"
    grid = Table(title=title, title_justify="left")
    currencies = any(row.figure.currency for row in table.rows)
    columns = ["unit", "name", "value", *(["currency"] if currencies else []), *table.growth]
    for column in [*columns, "basis", "sources"]:
        grid.add_column(column, justify="right" if column in ("value", "yoy", "qoq") else "left")
    for row in table.rows:
        f = row.figure
        growth = {"yoy": row.yoy, "qoq": row.qoq}
        grid.add_row(
            row.unit,
            Text(table.names.get(row.unit, "")),
            _num(f.value),
            *([Text(f.currency or "-")] if currencies else []),
            *(_percent(growth[g]) for g in table.growth),
            Text(f.basis),
            str(len(f.sources)),
        )
    parts: list[RenderableType] = [grid]
    if not table.rows:
        parts.append(Text("no values for this period", style="dim"))
    for item in table.unallocated:
        parts.append(
            Text(f"not placed: {item.unit} {item.value:,.6g} ({item.reason})", style="yellow")
        )
    return Group(*parts)


def stats_view(series: Sequence[Stats]) -> RenderableType:
    """Org health figures, one row per date (one change set after another in a range)."""
    grid = Table(title="org health", title_justify="left")
    columns = ["date", "change set", "units", "layers", "span mean", "median", "p90", "max"]
    columns.append("headcount")
    for column in columns:
        grid.add_column(column, justify="left" if column in ("date", "change set") else "right")
    for s in series:
        grid.add_row(
            s.at.isoformat(),
            s.changeset or "-",
            str(s.units),
            str(s.layers),
            _num(s.span_mean),
            _num(s.span_median),
            _num(s.span_p90),
            _num(s.span_max),
            _num(s.headcount),
        )
    parts: list[RenderableType] = [grid]
    last = series[-1] if series else None
    if last is not None:
        kinds = ", ".join(f"{k} {n}" for k, n in last.kinds.items())
        parts.append(Text(f"kinds on {last.at.isoformat()}: {kinds or '-'}"))
    if last is not None and last.by is not None:
        values = sorted({share.value for s in series for share in s.shares})
        shares = Table(title=Text(f"by {last.by} (units, share of units, share of headcount)"))
        shares.add_column("date")
        for value in values:
            shares.add_column(Text(value), justify="right")
        for s in series:
            found = {share.value: share for share in s.shares}
            cells = []
            for value in values:
                share = found.get(value)
                if share is None:
                    cells.append("-")
                    continue
                heads = (
                    f" / {share.headcount_share:.0%}" if share.headcount_share is not None else ""
                )
                cells.append(f"{share.units} / {share.unit_share:.0%}{heads}")
            shares.add_row(s.at.isoformat(), *cells)
        parts.append(shares)
    return Group(*parts)


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def scenarios_view(found: Sequence[Scenario]) -> RenderableType:
    grid = Table(title=f"{len(found)} scenario(s)", title_justify="left")
    for column in ("name", "status", "change set", "effective", "added", "approved"):
        grid.add_column(column)
    for s in found:
        cs = s.changeset
        approved = "-"
        if s.approved_at is not None:
            approved = f"{s.approved_by or '?'} {s.approved_at.strftime('%Y-%m-%d %H:%M')}"
        grid.add_row(
            s.name,
            s.status,
            cs.id,
            cs.effective.isoformat(),
            Text(f"{s.added_by or '?'} {s.added_at.strftime('%Y-%m-%d %H:%M')}"),
            Text(approved),
        )
    return grid


def compare_view(outcomes: Sequence[ScenarioOutcome]) -> RenderableType:
    """Scenarios side by side: one column each."""
    grid = Table(title="scenarios compared", title_justify="left")
    grid.add_column("")
    for o in outcomes:
        grid.add_column(o.scenario.name, justify="right")
    rows = [
        ("status", [o.scenario.status for o in outcomes]),
        ("effective", [o.scenario.changeset.effective.isoformat() for o in outcomes]),
        ("magnitude", [f"{o.magnitude:.2f}" for o in outcomes]),
        ("units affected", [str(o.affected) for o in outcomes]),
        ("added / removed", [f"{len(o.diff.added)} / {len(o.diff.removed)}" for o in outcomes]),
        ("moved", [str(len(o.diff.moved)) for o in outcomes]),
        ("units after", [str(o.stats.units) for o in outcomes]),
        ("layers after", [str(o.stats.layers) for o in outcomes]),
        ("span mean after", [_num(o.stats.span_mean) for o in outcomes]),
        ("span max after", [_num(o.stats.span_max) for o in outcomes]),
        ("headcount moved", [_num(o.headcount_moved) for o in outcomes]),
    ]
    for name, cells in rows:
        grid.add_row(name, *cells)
    return grid


def tokens_view(found: Sequence[Token]) -> RenderableType:
    """Active tokens; of a secret only the first digits of its digest, to tell them apart."""
    grid = Table(title=f"{len(found)} active token(s)", title_justify="left")
    for column in ("name", "scope", "under", "added", "by", "sha256"):
        grid.add_column(column)
    for t in found:
        grid.add_row(
            t.name,
            t.scope,
            ", ".join(t.under) or ("everything" if t.can_write else "-"),
            t.added_at.strftime("%Y-%m-%d %H:%M") if t.added_at else "-",
            Text(t.added_by or "-"),
            t.digest[:SHOWN],
        )
    return grid
