"""From a table of units as of a date to the change set that turns the ledger's structure into it.

Reading: `units_of(table)` checks the table (ids, parents, cycles, names) and
gives the structure it describes. Inferring: `infer(before, after)` compares two
structures and proposes operations, each with a note saying why:

- a unit only in `after` is created (parents before children);
- a unit only in `before` ends: merged into the one unit that now holds all its
  remaining children, split among the several units that do, or dissolved when
  it had none (deepest units first, so a unit's own children have settled);
- a unit in both is moved (units nearer the root first, so that no move puts a
  unit under its own subtree), renamed, given its new kind or attributes, and
  linked or unlinked.

Merges and splits are inferred, not known: their notes give the evidence, and a
person reviews the plan (`--emit-plan`) before it is applied.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from .errors import ImportFileError
from .model import Link, Scalar, Unit, frozen_map
from .tables import Table

FIXED = frozenset({"id", "parent", "kind", "abbr", "links"})
DEFAULT_KIND = "unit"
_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]*")


def _scalar(text: str) -> Scalar:
    """A cell as the attribute it holds: JSON numbers and booleans typed, the rest text."""
    if text in ("true", "false") or re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text):
        value = orjson.loads(text)
        if isinstance(value, bool | int | float):
            return value
    return text


def _links(text: str) -> tuple[Link, ...]:
    links: list[Link] = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        kind, sep, target = part.rpartition(":")
        if not sep or not kind:
            kind, target = "dotted-line", part
        links.append(Link(target.strip(), kind.replace("%3B", ";").replace("%25", "%")))
    return tuple(sorted(set(links)))


def units_of(table: Table, outside: Collection[str] = ()) -> dict[str, Unit]:
    """The structure a table describes; ImportFileError lists every bad row.

    A unit's parent (or a link's target) must be in the file, or among `outside`:
    the units around a subtree the file describes.
    """
    problems: list[str] = []
    if not table.rows:
        return {}  # a file with no units says that none are left
    if "id" not in table.columns or "parent" not in table.columns:
        absent = [c for c in ("id", "parent") if c not in table.columns]
        raise ImportFileError(
            f"{table.name}: no {' or '.join(absent)} column (the columns are "
            f"{', '.join(table.columns)}; map yours with --column id=YOUR_HEADER)"
        )
    units: dict[str, Unit] = {}
    lines: dict[str, int] = {}
    for row in table.rows:
        cells = row.cells
        where = f"{table.name}:{row.line}"
        uid = cells.get("id", "")
        if not _SLUG.fullmatch(uid):
            problems.append(
                f"{where}: id '{uid}' is not an id (lowercase letters, digits, . _ -)"
                if uid
                else f"{where}: the row has no id"
            )
            continue
        names = {
            column.removeprefix("name_"): value
            for column, value in cells.items()
            if column.startswith("name_")
        }
        if "name" in cells and "en" not in names:
            names["en"] = cells["name"]
        if not names:
            problems.append(f"{where}: unit '{uid}' has no name (columns name_en, name_zh, ...)")
            continue
        attrs = {
            column.removeprefix("attr."): _scalar(value)
            for column, value in cells.items()
            if column not in FIXED and column != "name" and not column.startswith("name_")
        }
        unit = Unit(
            uid,
            cells.get("parent") or None,
            cells.get("kind") or DEFAULT_KIND,
            frozen_map(names),
            cells.get("abbr") or None,
            frozen_map(attrs),
            _links(cells.get("links", "")),
        )
        if uid in units:
            if units[uid] != unit:
                problems.append(
                    f"{where}: id '{uid}' is given again, differently (first on line {lines[uid]})"
                )
            continue
        units[uid] = unit
        lines[uid] = row.line
    for uid, unit in units.items():
        if unit.parent is not None and unit.parent not in units and unit.parent not in outside:
            problems.append(
                f"{table.name}:{lines[uid]}: parent '{unit.parent}' of '{uid}' is not in the file"
            )
    for uid, unit in units.items():
        problems += [
            f"{table.name}:{lines[uid]}: '{uid}' links to '{link.to}', which is not in the file"
            for link in unit.links
            if link.to not in units and link.to not in outside
        ]
    problems += _cycles(units, lines, table.name)
    if problems:
        raise ImportFileError("\n".join(problems))
    return units


def _cycles(units: Mapping[str, Unit], lines: Mapping[str, int], name: str) -> list[str]:
    problems: list[str] = []
    settled: set[str] = set()
    for start in units:
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in settled and node in units:
            if node in path:
                loop = path[path.index(node) :]
                rows = ", ".join(str(lines[u]) for u in loop)
                problems.append(
                    f"{name}:{lines[node]}: the parents go round in a circle: "
                    f"{' -> '.join([*loop, node])} (lines {rows})"
                )
                break
            path.append(node)
            node = units[node].parent
        settled.update(path)
    return problems


@dataclass(frozen=True)
class Described:
    """What a table says about its units: a column it lacks leaves that field as it is."""

    langs: frozenset[str] | None
    """The languages named (None: every language)."""
    attrs: frozenset[str] | None
    """The attributes given (None: every attribute)."""
    kind: bool = True
    abbr: bool = True
    links: bool = True

    @classmethod
    def of(cls, table: Table) -> Described:
        columns = set(table.columns)
        langs = {c.removeprefix("name_") for c in columns if c.startswith("name_")}
        if "name" in columns:
            langs.add("en")
        attrs = {
            c.removeprefix("attr.")
            for c in columns
            if c not in FIXED and c != "name" and not c.startswith("name_")
        }
        return cls(
            frozenset(langs),
            frozenset(attrs),
            "kind" in columns,
            "abbr" in columns,
            "links" in columns,
        )


EVERYTHING = Described(None, None)
"""Compare every field (the languages and attributes of both sides)."""


@dataclass(frozen=True)
class Inferred:
    """The proposed operations (plan mappings with their notes) and what they do."""

    ops: tuple[dict[str, Any], ...]
    counts: Mapping[str, int]


def _depths(units: Mapping[str, Unit]) -> dict[str, int]:
    depths: dict[str, int] = {}

    def depth(uid: str) -> int:
        chain: list[str] = []
        node: str | None = uid
        while node is not None and node not in depths and node in units:
            chain.append(node)
            node = units[node].parent
        base = depths.get(node, -1) if node is not None else -1
        for offset, item in enumerate(reversed(chain), start=1):
            depths[item] = base + offset
        return depths[uid]

    for uid in units:
        depth(uid)
    return depths


def _new(unit: Unit) -> dict[str, Any]:
    op: dict[str, Any] = {"parent": unit.parent, "kind": unit.kind, "names": dict(unit.names)}
    if unit.abbr:
        op["abbr"] = unit.abbr
    if unit.attrs:
        op["attrs"] = dict(unit.attrs)
    return op


def infer(
    before: Mapping[str, Unit], after: Mapping[str, Unit], described: Described | None = None
) -> Inferred:
    """The operations that turn the structure `before` into `after`, with their evidence.

    With `described`, a kept unit's fields the table has no column for are left alone
    (a file without `name_zh` does not remove Chinese names).

    Order: creates (parents first), moves (nearer the root first), unlinks,
    renames and sets, ends (deepest first), links.
    """
    ops: list[dict[str, Any]] = []
    counts: dict[str, int] = {}

    def add(op: dict[str, Any]) -> None:
        ops.append(op)
        kind = next(iter(op))
        counts[kind] = counts.get(kind, 0) + 1

    new_depth, old_depth = _depths(after), _depths(before)
    for uid in sorted((u for u in after if u not in before), key=lambda u: (new_depth[u], u)):
        add({"create": uid, **_new(after[uid])})
    kept = [u for u in after if u in before]
    for uid in sorted(kept, key=lambda u: (new_depth[u], u)):
        if before[uid].parent != after[uid].parent:
            add({"move": uid, "to": after[uid].parent})
    told = described or EVERYTHING
    if told.links:
        for uid in sorted(kept):
            for link in sorted(set(before[uid].links) - set(after[uid].links)):
                if link.to in after:
                    add({"unlink": uid, "to": link.to, "type": link.type})
    for uid in sorted(kept):
        old, new = before[uid], after[uid]
        renamed: dict[str, Any] = {}
        names = _changes(old.names, new.names, told.langs)
        if names:
            renamed["names"] = names
        if old.abbr != new.abbr and told.abbr:
            renamed["abbr"] = new.abbr
        if renamed:
            add({"rename": uid, **renamed})
        changed: dict[str, Any] = {}
        if old.kind != new.kind and told.kind:
            changed["kind"] = new.kind
        attrs = _changes(old.attrs, new.attrs, told.attrs)
        if attrs:
            changed["attrs"] = attrs
        if changed:
            add({"set": uid, **changed})
    children: dict[str, list[str]] = {}
    for uid, unit in before.items():
        if unit.parent is not None:
            children.setdefault(unit.parent, []).append(uid)
    for uid in sorted((u for u in before if u not in after), key=lambda u: (-old_depth[u], u)):
        add(_end(uid, sorted(c for c in children.get(uid, ()) if c in after), after))
    for uid in sorted(after):
        if uid in before and not told.links:
            continue
        old_links = set(before[uid].links) if uid in before else set()
        for link in sorted(set(after[uid].links) - old_links):
            add({"link": uid, "to": link.to, "type": link.type})
    return Inferred(tuple(ops), counts)


def _changes(
    old: Mapping[str, Any], new: Mapping[str, Any], keys: frozenset[str] | None
) -> dict[str, Any]:
    """The new value of each key (of `keys`, else of either side) whose value differs."""
    wanted = set(old) | set(new) if keys is None else keys
    return {key: new.get(key) for key in sorted(wanted) if old.get(key) != new.get(key)}


def _end(uid: str, left: list[str], after: Mapping[str, Unit]) -> dict[str, Any]:
    """How a unit missing from the file ends, judged by where its units went (moved before)."""
    weights: dict[str, float] = {}
    received: dict[str, list[str]] = {}
    for child in left:
        target = after[child].parent
        if target is not None:
            weights[target] = weights.get(target, 0.0) + after[child].weight
            received.setdefault(target, []).append(child)
    went = "; ".join(f"{', '.join(units)} to {t}" for t, units in sorted(received.items()))
    if not received:
        return {
            "dissolve": uid,
            "notes": "inferred: not in the file; none of its units went elsewhere",
        }
    if len(received) == 1:
        (target,) = received
        return {
            "merge": [uid],
            "into": target,
            "notes": f"inferred: merge, because its units went to {target}: {went}",
        }
    total = sum(weights.values())
    targets = sorted(weights)
    shares = [round(weights[t] / total, 6) for t in targets]
    shares[-1] = round(1 - sum(shares[:-1]), 6)
    return {
        "split": uid,
        "into": [{"to": t, "share": share} for t, share in zip(targets, shares, strict=True)],
        "notes": f"inferred: split, because its units went to several units: {went} "
        "(shares by their headcount, else 1 each)",
    }


def describe(counts: Mapping[str, int]) -> str:
    order = ("create", "move", "rename", "set", "merge", "split", "dissolve", "link", "unlink")
    parts = [f"{counts[k]} {k}" for k in order if counts.get(k)]
    return ", ".join(parts) or "no changes"
