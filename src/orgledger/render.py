"""Turning results into text: Rich renderables for the terminal, and Mermaid."""

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
from .model import Json, Snapshot, Unit

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
    for column in ("effective", "id", "title", "ops", "magnitude"):
        table.add_column(column, justify="right" if column == "ops" else "left")
    for entry in entries:
        bar = "█" * round(entry.magnitude * 20)
        magnitude = Text(f"{entry.magnitude:.2f} ")
        magnitude.append(bar, style="cyan")
        table.add_row(
            entry.record.effective.isoformat(),
            entry.record.id,
            Text(entry.record.title),
            str(entry.record.ops),
            magnitude,
        )
    return table


def find_view(matches: Sequence[Match]) -> RenderableType:
    table = Table(title=f"{len(matches)} unit(s) found", title_justify="left")
    for column in ("id", "abbr", "names", "active", "matched"):
        table.add_column(column)
    for match in matches:
        span = match.span
        active = f"{span.start.isoformat()} to {span.end.isoformat() if span.end else 'now'}"
        table.add_row(
            match.unit.id,
            match.unit.abbr or "",
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
    return "\n".join(lines) + "\n"


def _mermaid_text(unit: Unit, lang: str | None) -> str:
    name = unit.name(lang)
    text = f"{name} ({unit.abbr})" if unit.abbr else name
    return "".join(_MERMAID_ESCAPES.get(ch, ch) for ch in text)


_MERMAID_ESCAPES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "#": "#35;"}
