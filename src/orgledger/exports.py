"""Snapshots and diffs as files: tables (CSV, XLSX, JSON, pandas), charts (Mermaid, Graphviz
DOT, and SVG, PNG and PDF drawn by Graphviz's `dot`), and the HTML notebooks show.

The table layout of a snapshot is the one a snapshot importer reads back (see
docs/columns.md): `id, parent, kind, name_<lang>..., abbr, links`, then one
column per attribute. Charts never leave a unit out: only `depth` cuts them,
and a cut unit says how many units lie below it.
"""

from __future__ import annotations

import csv
import html
import importlib
import io
import re
import shutil
import subprocess
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from .diff import Diff
from .errors import OrgLedgerError, UsageError
from .model import Json, Link, Scalar, Snapshot, Unit

Cell = Scalar | None

SNAPSHOT_FORMATS = ("csv", "xlsx", "json", "mermaid", "dot", "svg", "png", "pdf")
DIFF_FORMATS = ("csv", "xlsx", "json")
CHART_FORMATS = ("mermaid", "dot", "svg", "png", "pdf")
BINARY_FORMATS = ("xlsx", "png", "pdf")
DIRECTIONS = ("TB", "LR")
SUFFIXES = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".dot": "dot",
    ".gv": "dot",
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
}
BOM = b"\xef\xbb\xbf"
FONT = "Noto Sans CJK SC"
"""A font with Chinese, Japanese and Korean glyphs (Debian: fonts-noto-cjk)."""
HTML_ROWS = 200
"""Rows a notebook shows; the rest are counted, not drawn (display, not export)."""


class ExportError(OrgLedgerError):
    """A snapshot or a diff could not be exported."""

    code = "export"


class GraphvizError(ExportError):
    """Graphviz's `dot` is missing or failed to draw a chart."""

    code = "graphviz"


class MissingDependencyError(ExportError):
    """An optional package (pandas) is not installed."""

    code = "missing-dependency"


# -- the table layout -------------------------------------------------------------------

FIXED = ("id", "parent", "kind")
RESERVED = frozenset({"id", "parent", "kind", "abbr", "links"})


@dataclass(frozen=True)
class Table:
    """Column names and rows of typed cells (None where a unit has no value)."""

    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def languages(units: Iterable[Mapping[str, str]]) -> list[str]:
    """Languages of the names given: English first, then the others alphabetically."""
    found: set[str] = set()
    for names in units:
        found.update(names)
    return sorted(found, key=lambda lang: (lang != "en", lang))


def attr_column(key: str) -> str:
    """The column of attribute `key`: the key itself, or `attr.KEY` where that would clash
    with a fixed column (`id`, `kind`, `links`, a `name_` column, another `attr.` one)."""
    if key in RESERVED or key.startswith(("name_", "attr.")):
        return f"attr.{key}"
    return key


def cell_text(value: Cell) -> str:
    """A cell as CSV writes it: text as is, numbers as JSON writes them, `true`/`false`,
    and nothing for a missing value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return value


def _link_type(text: str) -> str:
    return text.replace("%", "%25").replace(";", "%3B")


def links_text(links: Iterable[Link]) -> str:
    """Links as `type:target;type:target` (a `%` or `;` in a type is percent-encoded;
    targets are ids, which hold neither `:` nor `;`)."""
    return ";".join(f"{_link_type(link.type)}:{link.to}" for link in links)


def unit_table(snapshot: Snapshot, root: str | None = None, depth: int | None = None) -> Table:
    """One row per unit, in pre-order (every parent before its children)."""
    units = [unit for unit, _ in snapshot.walk(root, depth)]
    langs = languages(unit.names for unit in units)
    keys = sorted({key for unit in units for key in unit.attrs})
    columns = (
        *FIXED,
        *(f"name_{lang}" for lang in langs),
        "abbr",
        "links",
        *(attr_column(key) for key in keys),
    )
    rows: list[tuple[Cell, ...]] = [
        (
            unit.id,
            unit.parent,
            unit.kind,
            *(unit.names.get(lang) for lang in langs),
            unit.abbr,
            links_text(unit.links) or None,
            *(unit.attrs.get(key) for key in keys),
        )
        for unit in units
    ]
    return Table(columns, rows)


# -- the changes of a diff, one row each -------------------------------------------------

CHANGES = ("added", "ended", "moved", "renamed", "kind", "attr", "links")


@dataclass(frozen=True)
class Change:
    """One change in a diff: `field` of unit `id` went from `old` to `new`."""

    change: str
    """added, ended, moved, renamed (a name or the abbreviation), kind, attr or links."""
    id: str
    names: Mapping[str, str]
    """The unit's names (after the change; before it, for an ended unit)."""
    field: str
    """`parent`, `name_<lang>`, `abbr`, `kind`, the attribute's key, or `links`."""
    old: Json
    new: Json
    changesets: tuple[str, ...]
    """The change sets that made it, where known."""

    def to_json(self) -> dict[str, Json]:
        return {
            "change": self.change,
            "id": self.id,
            "names": dict(self.names),
            "field": self.field,
            "from": self.old,
            "to": self.new,
            "changesets": list(self.changesets),
        }


def _changes(diff: Diff) -> list[Change]:
    """The diff's changes without their change sets, in the order of `CHANGES`, then by id."""

    def names(unit_id: str) -> Mapping[str, str]:
        before, after = diff.units.get(unit_id, (None, None))
        unit = after or before
        return unit.names if unit is not None else {}

    found = [Change("added", u.id, u.names, "parent", None, u.parent, ()) for u in diff.added]
    found += [Change("ended", u.id, u.names, "parent", u.parent, None, ()) for u in diff.removed]
    found += [Change("moved", i, names(i), "parent", a, b, ()) for i, a, b in diff.moved]
    for unit_id, old, new in diff.renamed:
        for lang in languages((old, new)):
            if old.get(lang) != new.get(lang):
                a, b = old.get(lang), new.get(lang)
                found.append(Change("renamed", unit_id, names(unit_id), f"name_{lang}", a, b, ()))
    for unit_id, field, old, new in diff.changed:
        if field == "abbr":
            change = "renamed"
        elif field.startswith("attrs."):
            change, field = "attr", field.removeprefix("attrs.")
        else:
            change = field  # kind, links
        found.append(Change(change, unit_id, names(unit_id), field, old, new, ()))
    order = {change: index for index, change in enumerate(CHANGES)}
    return sorted(found, key=lambda c: (order.get(c.change, len(order)), c.id))


def changes(diff: Diff, effects: Mapping[str, Diff] | None = None) -> list[Change]:
    """One `Change` per change in `diff`, each with the change sets that made it.

    `effects` maps each change set of the diff to what it changed on its own
    (`Ledger.changeset(id).diff`); without it, a diff over one change set names it,
    and a diff over several leaves `changesets` empty.
    """
    found = _changes(diff)
    if effects is None:
        named = tuple(diff.changesets) if len(diff.changesets) == 1 else ()
        return [replace(c, changesets=named) for c in found]
    # A diff backwards (DATE1 after DATE2) ends what its change sets added.
    backwards = {"added": "ended", "ended": "added"} if diff.start > diff.end else {}
    made: dict[tuple[str, str, str], list[str]] = {}
    for changeset in diff.changesets:
        effect = effects.get(changeset)
        for step in _changes(effect) if effect is not None else ():
            change = backwards.get(step.change, step.change)
            made.setdefault((change, step.id, step.field), []).append(changeset)
    return [replace(c, changesets=tuple(made.get((c.change, c.id, c.field), ()))) for c in found]


def _value_cell(change: Change, value: Json) -> Cell:
    if change.change == "links":
        return links_text(Link(k["to"], k["type"]) for k in value or ()) or None
    return value  # type: ignore[no-any-return]


def change_table(changes_: Sequence[Change]) -> Table:
    """One row per change: `change, id, name_<lang>..., field, from, to, changesets`."""
    langs = languages(c.names for c in changes_)
    columns = (
        "change",
        "id",
        *(f"name_{lang}" for lang in langs),
        "field",
        "from",
        "to",
        "changesets",
    )
    rows: list[tuple[Cell, ...]] = [
        (
            c.change,
            c.id,
            *(c.names.get(lang) for lang in langs),
            c.field,
            _value_cell(c, c.old),
            _value_cell(c, c.new),
            ";".join(c.changesets) or None,
        )
        for c in changes_
    ]
    return Table(columns, rows)


# -- tables as files ---------------------------------------------------------------------


def to_csv(table: Table, *, bom: bool = False) -> bytes:
    """UTF-8 CSV (with a byte order mark if `bom`, so that Excel reads it as UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # CRLF: the csv module quotes a lone CR only then
    writer.writerow(table.columns)
    writer.writerows([cell_text(cell) for cell in row] for row in table.rows)
    data = buffer.getvalue().encode("utf-8")
    return BOM + data if bom else data


_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]|_(?=x[0-9A-Fa-f]{4}_)")


def _xlsx_escape(match: re.Match[str]) -> str:
    return f"_x{ord(match.group(0)):04X}_"


def to_xlsx(table: Table, sheet: str) -> bytes:
    """An XLSX workbook with one sheet: a bold, frozen header row, then typed cells.

    Text is always text, never a formula. Control characters, which a sheet cannot
    hold, are written as OOXML escapes (`_x0001_`; a literal `_x` before four hex
    digits as `_x005F_`), which Excel shows as the characters.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in table.columns:
        cell = WriteOnlyCell(ws, value=_XLSX_ILLEGAL.sub(_xlsx_escape, name))
        cell.font = bold
        cell.data_type = "s"
        header.append(cell)
    ws.append(header)
    for row in table.rows:
        values: list[Any] = []
        for value in row:
            if isinstance(value, str):
                value = _XLSX_ILLEGAL.sub(_xlsx_escape, value)
                if value.startswith("="):
                    text = WriteOnlyCell(ws, value=value)
                    text.data_type = "s"
                    values.append(text)
                    continue
            values.append(value)
        ws.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_json(value: Json) -> bytes:
    """Indented UTF-8 JSON, as every `--format json` writes it."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def frame(table: Table) -> Any:
    """The table as a pandas DataFrame (pandas is imported only here)."""
    try:
        pandas = importlib.import_module("pandas")
    except ImportError:
        raise MissingDependencyError(
            "to_pandas() needs pandas: pip install 'orgledger[pandas]'"
        ) from None
    return pandas.DataFrame.from_records(table.rows, columns=list(table.columns))


# -- charts ------------------------------------------------------------------------------

STYLES = {
    # status: (fill, border, words in the legend)
    "added": ("#d7f0d4", "#2e7d32", "added"),
    "moved": ("#ffe5b4", "#c77800", "moved"),
    "renamed": ("#d8e6ff", "#1f5fbf", "renamed"),
    "changed": ("#ece0f5", "#6a3d9a", "kind, attributes or links changed"),
    "ended": ("#f0f0f0", "#9e9e9e", "ended (from the earlier date)"),
}


@dataclass(frozen=True)
class Node:
    """A unit as a chart draws it."""

    unit: Unit
    depth: int
    status: str | None = None
    note: str | None = None
    """What changed, in words (`moved from ...`), for readers without colour."""
    hidden: int = 0
    """Units below it that `depth` cut off."""


def chart_nodes(
    snapshot: Snapshot,
    root: str | None = None,
    depth: int | None = None,
    lang: str | None = None,
    diff: Diff | None = None,
) -> list[Node]:
    """Every unit to draw, parents before children; with a diff ending on the snapshot's
    date, each marked with what changed, and the units that ended added from before."""
    if diff is not None and diff.end != snapshot.at:
        raise ExportError(
            f"the diff ends on {diff.end.isoformat()}, not on the snapshot's date "
            f"{snapshot.at.isoformat()}"
        )
    walked = list(snapshot.walk(root, depth))
    if diff is None:
        marks: dict[str, tuple[str, str]] = {}
    else:
        marks = _marks(snapshot, diff, lang)
    nodes: list[Node] = []
    for unit, level in walked:
        hidden = 0
        if depth is not None and level == depth and snapshot.children(unit.id):
            hidden = sum(1 for _ in snapshot.walk(unit.id)) - 1
        status, note = marks.get(unit.id, (None, None))
        nodes.append(Node(unit, level, status, note, hidden))
    if diff is not None and diff.removed:
        levels = {node.unit.id: node.depth for node in nodes}
        ended = {unit.id: unit for unit in diff.removed}
        for unit in _ended_order(diff.removed, ended):
            if unit.parent is None:
                if root is not None:
                    continue
                level = 0
            elif unit.parent in levels:
                level = levels[unit.parent] + 1
            else:
                continue
            if depth is not None and level > depth:
                continue
            levels[unit.id] = level
            nodes.append(Node(unit, level, "ended", "ended"))
    return nodes


def _ended_order(removed: Sequence[Unit], ended: Mapping[str, Unit]) -> list[Unit]:
    """Ended units with every ended parent before its children."""
    placed: set[str] = set()
    order: list[Unit] = []

    def place(unit: Unit, seen: frozenset[str]) -> None:
        if unit.id in placed or unit.id in seen:
            return
        parent = ended.get(unit.parent or "")
        if parent is not None:
            place(parent, seen | {unit.id})
        placed.add(unit.id)
        order.append(unit)

    for unit in removed:
        place(unit, frozenset())
    return order


def _marks(snapshot: Snapshot, diff: Diff, lang: str | None) -> dict[str, tuple[str, str]]:
    """Status and note of every unit the diff lists, the strongest change first."""

    def called(unit_id: str | None) -> str:
        if unit_id is None:
            return "(root)"
        if unit_id in snapshot:
            return snapshot[unit_id].name(lang)
        before, after = diff.units.get(unit_id, (None, None))
        unit = before or after
        return unit.name(lang) if unit is not None else unit_id

    marks: dict[str, tuple[str, str]] = {}
    fields: dict[str, list[str]] = {}
    for unit_id, field, _, _ in diff.changed:
        if field == "abbr":
            continue
        fields.setdefault(unit_id, []).append(field.removeprefix("attrs."))
    for unit_id, names in fields.items():
        marks[unit_id] = ("changed", "changed: " + ", ".join(names))
    for unit_id, field, old, _ in diff.changed:
        if field == "abbr":
            marks[unit_id] = ("renamed", f"abbreviation was {old or '(none)'}")
    for unit_id, old_names, _ in diff.renamed:
        before = Unit(unit_id, None, "", old_names)
        marks[unit_id] = ("renamed", f"renamed from {before.name(lang)}")
    for unit_id, old_parent, _ in diff.moved:
        marks[unit_id] = ("moved", f"moved from {called(old_parent)}")
    for unit in diff.added:
        marks[unit.id] = ("added", "added")
    return marks


def _title(snapshot: Snapshot, diff: Diff | None) -> str:
    title = f"as of {snapshot.at.isoformat()}"
    if snapshot.known_at is not None:
        known = snapshot.known_at.isoformat().replace("+00:00", "Z")
        title += f", as known at {known}"
    if diff is not None:
        title += f"; changes since {diff.start.isoformat()}"
    return title


def _label_lines(node: Node, lang: str | None) -> list[str]:
    unit = node.unit
    name = unit.name(lang)
    lines = [f"{name} ({unit.abbr})" if unit.abbr else name, f"{unit.id} · {unit.kind}"]
    if node.note:
        lines.append(node.note)
    if node.hidden:
        lines.append(f"+{node.hidden} unit{'s' if node.hidden != 1 else ''} below")
    return lines


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _chart(
    snapshot: Snapshot,
    root: str | None,
    depth: int | None,
    lang: str | None,
    diff: Diff | None,
    direction: str,
) -> list[Node]:
    """The nodes a chart in `direction` draws (what DOT and Mermaid share)."""
    if direction not in DIRECTIONS:
        raise UsageError(f"direction must be TB or LR, not '{direction}'")
    return chart_nodes(snapshot, root, depth, lang, diff)


def _links(nodes: list[Node], drawn: Collection[str]) -> Iterator[tuple[Node, Link]]:
    """The dotted lines a chart draws: from units still there, to units drawn."""
    for node in nodes:
        if node.status != "ended":
            for link in node.unit.links:
                if link.to in drawn:
                    yield node, link


def _dot_string(text: str) -> str:
    """A DOT quoted string showing `text` as it is (no escape sequence survives)."""
    text = _CONTROL.sub(" ", text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def to_dot(
    snapshot: Snapshot,
    root: str | None = None,
    depth: int | None = None,
    lang: str | None = None,
    *,
    diff: Diff | None = None,
    direction: str = "TB",
) -> str:
    """A Graphviz DOT digraph of the snapshot (of `root`'s subtree, to `depth` levels).

    Node names are the unit ids, so each unit is one `<g class="node">` titled with
    its id in the SVG. With `diff` (ending on the snapshot's date), units are coloured
    by what changed, the ended ones drawn greyed and dashed, with a legend.
    """
    nodes = _chart(snapshot, root, depth, lang, diff, direction)
    drawn = {node.unit.id for node in nodes}
    # newrank: dot's older ranking is quadratic on wide trees (50,000 units: 5 minutes
    # with it, more than 20 without).
    lines = [
        "digraph orgledger {",
        f'  graph [rankdir={direction}, charset="UTF-8", fontname="{FONT}", fontsize=14,',
        "         labelloc=t, labeljust=l, nodesep=0.2, ranksep=0.45, outputorder=edgesfirst,",
        f"         newrank=true, label=<{_legend(snapshot, diff)}>];",
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#5f6b7a",',
        f'        fontname="{FONT}", fontsize=10, margin="0.12,0.05"];',
        f'  edge [arrowhead=none, color="#8a94a3", fontname="{FONT}", fontsize=8];',
    ]
    for node in nodes:
        label = "\\n".join(_dot_string(line)[1:-1] for line in _label_lines(node, lang))
        attrs = [f'label="{label}"']
        if node.status is not None:
            fill, border, _ = STYLES[node.status]
            attrs += [f'fillcolor="{fill}"', f'color="{border}"', f'class="{node.status}"']
            if node.status == "ended":
                attrs += ['style="rounded,filled,dashed"', 'fontcolor="#757575"']
            else:
                attrs.append("penwidth=1.6")
        lines.append(f'  "{node.unit.id}" [{", ".join(attrs)}];')
    for node in nodes:
        parent = node.unit.parent
        if parent is not None and parent in drawn:
            style = ' [style=dashed, color="#b0b0b0"]' if node.status == "ended" else ""
            lines.append(f'  "{parent}" -> "{node.unit.id}"{style};')
    for node, link in _links(nodes, drawn):
        lines.append(
            f'  "{node.unit.id}" -> "{link.to}" [style=dotted, constraint=false, '
            f'arrowhead=vee, color="#6d7a8c", '
            f"label={_dot_string(link.type)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _legend(snapshot: Snapshot, diff: Diff | None) -> str:
    """The chart's title, and with a diff the legend of its colours (an HTML-like label:
    it holds only dates and fixed words, never a name)."""
    title = f"<b>{html.escape(_title(snapshot, diff))}</b>"
    if diff is None:
        return title
    cells = "".join(
        f'<td bgcolor="{fill}" color="{border}" border="1" cellpadding="3">'
        f"{html.escape(words)}</td>"
        for fill, border, words in STYLES.values()
    )
    return (
        '<table border="0" cellspacing="4" cellborder="0">'
        f'<tr><td colspan="{len(STYLES)}" align="left">{title}</td></tr><tr>{cells}</tr></table>'
    )


def render(source: str, fmt: str) -> bytes:
    """Draw DOT `source` as svg, png or pdf with Graphviz's `dot` (never cut short: a
    bitmap too large for a PNG is scaled down whole)."""
    if fmt not in ("svg", "png", "pdf"):
        raise UsageError(f"Graphviz draws svg, png or pdf here, not '{fmt}'")
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizError(
            f"drawing {fmt} needs Graphviz's `dot`, which is not installed "
            "(Debian: apt-get install graphviz fonts-noto-cjk; from a checkout: make graphviz)"
        )
    try:
        done = subprocess.run(
            [exe, f"-T{fmt}"],
            input=source.encode("utf-8", "replace"),
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise GraphvizError(f"could not run Graphviz's `dot`: {exc.strerror}") from None
    if done.returncode != 0 or not done.stdout:
        problem = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = problem[0] if problem else f"exit code {done.returncode}"
        raise GraphvizError(f"Graphviz's `dot` could not draw the chart: {why}")
    return done.stdout


_MERMAID = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "#": "#35;", "`": "#96;"}


def _mermaid_text(text: str) -> str:
    """Text for a Mermaid `"..."` label: entity escapes for every character that could end
    the label, start markup or break the line."""
    return "".join(_MERMAID.get(ch, f"#{ord(ch)};" if _CONTROL.match(ch) else ch) for ch in text)


def to_mermaid(
    snapshot: Snapshot,
    root: str | None = None,
    depth: int | None = None,
    lang: str | None = None,
    *,
    diff: Diff | None = None,
    direction: str = "TB",
) -> str:
    """A Mermaid flowchart (`flowchart TD`, or `LR`); labels are escaped, node ids
    generated. With `diff`, changed units get a class each, ended units are drawn
    dashed, and a legend follows."""
    nodes = _chart(snapshot, root, depth, lang, diff, direction)
    ids: dict[str, str] = {}
    lines = [f"flowchart {'TD' if direction == 'TB' else 'LR'}"]
    for node in nodes:
        unit = node.unit
        ids[unit.id] = f"u{len(ids)}"
        name = unit.name(lang)
        parts = [_mermaid_text(f"{name} ({unit.abbr})" if unit.abbr else name)]
        parts += [_mermaid_text(line) for line in _label_lines(node, lang)[2:]]
        style = f":::{node.status}" if node.status else ""
        lines.append(f'  {ids[unit.id]}["{"<br/>".join(parts)}"]{style}')
        if unit.parent in ids:
            arrow = "-.-" if node.status == "ended" else "-->"
            lines.append(f"  {ids[unit.parent]} {arrow} {ids[unit.id]}")
    for node, link in _links(nodes, ids):
        kind = _mermaid_text(link.type)
        lines.append(f'  {ids[node.unit.id]} -.->|"{kind}"| {ids[link.to]}')
    if diff is not None:
        since = _mermaid_text(f"changes since {diff.start.isoformat()}")
        lines.append(f'  subgraph legend["{since}"]')
        for index, (status, (_, _, words)) in enumerate(STYLES.items()):
            lines.append(f'    legend{index}["{_mermaid_text(words)}"]:::{status}')
        lines.append("  end")
        for status, (fill, border, _) in STYLES.items():
            extra = ",color:#757575,stroke-dasharray:5 5" if status == "ended" else ""
            lines.append(f"  classDef {status} fill:{fill},stroke:{border}{extra}")
    return "\n".join(lines) + "\n"


# -- whole exports -----------------------------------------------------------------------


def format_of(path: str) -> str | None:
    """The format a file name's suffix implies (`.csv`, `.svg`, `.mmd`, ...), if any."""
    lowered = path.lower()
    return next((fmt for suffix, fmt in SUFFIXES.items() if lowered.endswith(suffix)), None)


def export_snapshot(
    snapshot: Snapshot,
    fmt: str,
    *,
    root: str | None = None,
    depth: int | None = None,
    lang: str | None = None,
    diff: Diff | None = None,
    direction: str = "TB",
    bom: bool = False,
) -> bytes:
    """The snapshot (or `root`'s subtree, to `depth` levels) in `fmt`, one of
    `SNAPSHOT_FORMATS`. `diff` colours a chart; `bom` marks a CSV as UTF-8 for Excel."""
    if fmt not in SNAPSHOT_FORMATS:
        raise UsageError(f"unknown format '{fmt}' (use one of {', '.join(SNAPSHOT_FORMATS)})")
    if diff is not None and fmt not in CHART_FORMATS:
        raise UsageError(f"changes are drawn on charts only ({', '.join(CHART_FORMATS)})")
    if fmt == "csv":
        return to_csv(unit_table(snapshot, root, depth), bom=bom)
    if fmt == "xlsx":
        return to_xlsx(unit_table(snapshot, root, depth), f"units {snapshot.at.isoformat()}")
    if fmt == "json":
        return to_json(snapshot.to_json(root, depth))
    if fmt == "mermaid":
        text = to_mermaid(snapshot, root, depth, lang, diff=diff, direction=direction)
        return text.encode("utf-8")
    source = to_dot(snapshot, root, depth, lang, diff=diff, direction=direction)
    if fmt == "dot":
        return source.encode("utf-8")
    return render(source, fmt)


def export_diff(
    diff: Diff,
    fmt: str,
    *,
    effects: Mapping[str, Diff] | None = None,
    bom: bool = False,
) -> bytes:
    """The diff's changes, one row each, in `fmt` (csv, xlsx or json); see `changes`."""
    if fmt not in DIFF_FORMATS:
        raise UsageError(f"unknown format '{fmt}' for a diff (use one of csv, xlsx, json)")
    found = changes(diff, effects)
    if fmt == "json":
        return to_json(
            {
                "from": diff.start.isoformat(),
                "to": diff.end.isoformat(),
                "changesets": list(diff.changesets),
                "changes": [c.to_json() for c in found],
            }
        )
    table = change_table(found)
    if fmt == "csv":
        return to_csv(table, bom=bom)
    return to_xlsx(table, f"changes {diff.start.isoformat()} {diff.end.isoformat()}")


# -- notebooks ---------------------------------------------------------------------------


def _more(count: int, what: str) -> str:
    return (
        f'<p style="color:#666">… {count:,} more {what} '
        "(to_pandas() or <code>orgledger export</code> give them all)</p>"
        if count > 0
        else ""
    )


def snapshot_html(snapshot: Snapshot, limit: int = HTML_ROWS) -> str:
    """A compact table of the snapshot, indented as a tree, its first `limit` units."""
    e = html.escape
    rows: list[str] = []
    for unit, level in _first(snapshot.walk(), limit):
        rows.append(
            f'<tr><td style="text-align:left;padding-left:{0.3 + 1.2 * level:.1f}em">'
            f'{e(unit.name())}</td><td style="text-align:left"><code>{e(unit.id)}</code></td>'
            f'<td style="text-align:left">{e(unit.kind)}</td>'
            f'<td style="text-align:left">{e(unit.abbr or "")}</td></tr>'
        )
    head = "".join(f'<th style="text-align:left">{c}</th>' for c in ("unit", "id", "kind", "abbr"))
    title = e(_title(snapshot, None))
    return (
        f'<div class="orgledger-snapshot"><p><b>{title}</b>: {len(snapshot):,} units</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"{_more(len(snapshot) - len(rows), 'units')}</div>"
    )


def diff_html(diff: Diff, limit: int = HTML_ROWS) -> str:
    """A compact table of the diff's changes, its first `limit` changes."""
    e = html.escape
    found = changes(diff)
    columns = ("change", "unit", "id", "field", "from", "to")
    rows: list[str] = []
    for c in found[:limit]:
        status = c.change if c.change in ("added", "ended", "moved", "renamed") else "changed"
        fill = STYLES[status][0]
        cells = (
            c.change,
            Unit(c.id, None, "", c.names).name(),
            c.id,
            c.field,
            cell_text(_value_cell(c, c.old)),
            cell_text(_value_cell(c, c.new)),
        )
        tds = "".join(f'<td style="text-align:left">{e(str(v))}</td>' for v in cells[1:])
        rows.append(
            f'<tr><td style="text-align:left;background:{fill}">{e(cells[0])}</td>{tds}</tr>'
        )
    head = "".join(f'<th style="text-align:left">{c}</th>' for c in columns)
    sets = ", ".join(diff.changesets) or "none"
    title = e(f"Changes from {diff.start.isoformat()} to {diff.end.isoformat()}")
    body = (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if found
        else "<p>no changes</p>"
    )
    return (
        f'<div class="orgledger-diff"><p><b>{title}</b> (change sets: {e(sets)})</p>'
        f"{body}{_more(len(found) - len(rows), 'changes')}</div>"
    )


def _first(items: Iterator[tuple[Unit, int]], limit: int) -> Iterator[tuple[Unit, int]]:
    for index, item in enumerate(items):
        if index >= limit:
            return
        yield item
