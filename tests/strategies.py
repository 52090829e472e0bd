"""Hypothesis strategies: random valid histories of change sets, built by simulation.

The generator keeps its own model of the structure (active unit -> parent, the
languages each unit is named in, every id ever used) and draws, at each step,
only operations that are valid on that model. Each change set is built as a plan
mapping and read with `orgledger.plan.from_mapping`, so what the ledger stores
and re-reads is exactly what the tests generated.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from orgledger.changeset import ChangeSet
from orgledger.model import WEIGHT_ATTR
from orgledger.plan import from_mapping

Plan = dict[str, Any]
Parents = dict[str, str | None]

KINDS = ("company", "group", "department", "line", "team", "segment", "committee")
LANGS = ("en", "zh", "de")
PREFIXES = ("u", "team", "g.", "bu-", "x_")
OP_KINDS = ("create", "rename", "set", "move", "merge", "split", "dissolve")
OP_CHOICES = ("create", "create", "create", *OP_KINDS)
"""Creates weigh more, so that structures grow deep enough for the other operations."""

names_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
    min_size=1,
    max_size=6,
)
headcounts = st.integers(min_value=0, max_value=500)
other_attr_values: st.SearchStrategy[str | int | float | bool] = st.one_of(
    st.booleans(),
    st.integers(min_value=-1000, max_value=1000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(alphabet="abcxyz ", max_size=4),
)


@dataclass
class World:
    """The generator's own model of the structure while a history is drawn."""

    parents: Parents = field(default_factory=dict)
    langs: dict[str, set[str]] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)

    # -- reading ---------------------------------------------------------------

    def active(self) -> list[str]:
        return sorted(self.parents)

    def children(self, unit: str) -> list[str]:
        return sorted(u for u, p in self.parents.items() if p == unit)

    def subtree(self, unit: str) -> set[str]:
        found = {unit}
        todo = [unit]
        while todo:
            current = todo.pop()
            for child in self.children(current):
                found.add(child)
                todo.append(child)
        return found

    def outside(self, units: Iterable[str]) -> list[str]:
        """Active units that lie in none of the subtrees of `units`."""
        inside: set[str] = set()
        for unit in units:
            inside |= self.subtree(unit)
        return [u for u in self.active() if u not in inside]

    # -- changing --------------------------------------------------------------

    def add(self, unit: str, parent: str | None, langs: Iterable[str]) -> None:
        self.parents[unit] = parent
        self.langs[unit] = set(langs)
        self.used.add(unit)

    def end(self, unit: str) -> None:
        assert not self.children(unit), f"ending {unit} with children"
        del self.parents[unit]
        del self.langs[unit]


@dataclass(frozen=True)
class History:
    """A valid history: change sets in effective order, and the model's state after each."""

    changesets: tuple[ChangeSet, ...]
    states: tuple[Parents, ...]
    ids: frozenset[str]

    @property
    def dates(self) -> list[date]:
        return [cs.effective for cs in self.changesets]

    def days(self) -> list[date]:
        """Every effective date, the day before and after each, and a day long after."""
        found: set[date] = set()
        for day in self.dates:
            found |= {day - timedelta(days=1), day, day + timedelta(days=1)}
        if self.dates:
            found.add(self.dates[-1] + timedelta(days=3650))
        return sorted(found)


# -- drawing the parts of an operation ------------------------------------------


def _fresh_id(draw: st.DrawFn, world: World) -> str:
    prefix = draw(st.sampled_from(PREFIXES))
    number = len(world.used)
    while f"{prefix}{number}" in world.used:
        number += 1
    unit = f"{prefix}{number}"
    world.used.add(unit)
    return unit


def _names(draw: st.DrawFn) -> dict[str, str]:
    langs = draw(st.lists(st.sampled_from(LANGS), min_size=1, max_size=2, unique=True))
    return {lang: draw(names_text) for lang in langs}


def _attrs(draw: st.DrawFn, removable: bool = False) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if draw(st.booleans()):
        attrs[WEIGHT_ATTR] = draw(headcounts)
    for key in draw(st.lists(st.sampled_from(("flag", "focus", "size")), max_size=2, unique=True)):
        attrs[key] = draw(other_attr_values)
    if removable:
        for key in draw(st.lists(st.sampled_from((WEIGHT_ATTR, "flag", "gone")), max_size=1)):
            attrs.setdefault(key, None)
    return attrs


def _new_unit(draw: st.DrawFn, world: World, parents: Sequence[str | None]) -> Plan:
    """The description of a new unit under one of `parents` (not yet added to the world)."""
    unit: Plan = {
        "create": _fresh_id(draw, world),
        "parent": draw(st.sampled_from(list(parents))),
        "kind": draw(st.sampled_from(KINDS)),
        "names": _names(draw),
    }
    if draw(st.booleans()):
        unit["abbr"] = draw(st.text(alphabet="ABCDEFGHIJ", min_size=1, max_size=4))
    attrs = _attrs(draw)
    if attrs:
        unit["attrs"] = attrs
    return unit


def _add_new(world: World, unit: Plan) -> None:
    world.add(unit["create"], unit["parent"], unit["names"])


# -- the seven operations: each draws a valid one and updates the world --------


def _create(draw: st.DrawFn, world: World) -> Plan:
    unit = _new_unit(draw, world, [None, *world.active()])
    _add_new(world, unit)
    return unit


def _rename(draw: st.DrawFn, world: World) -> Plan:
    target = draw(st.sampled_from(world.active()))
    op: Plan = {"rename": target}
    changes: dict[str, str | None] = {}
    for lang in draw(st.lists(st.sampled_from(LANGS), max_size=2, unique=True)):
        changes[lang] = draw(st.one_of(st.none(), names_text))
    left = {lang for lang in world.langs[target] if changes.get(lang, "") is not None}
    left |= {lang for lang, name in changes.items() if name is not None}
    if not left:  # never leave a unit without a name
        changes[LANGS[0]] = draw(names_text)
        left = {LANGS[0]}
    if changes:
        op["names"] = changes
    if not changes or draw(st.booleans()):
        op["abbr"] = draw(st.one_of(st.none(), st.text(alphabet="KLMNOP", min_size=1, max_size=3)))
    world.langs[target] = left
    return op


def _set(draw: st.DrawFn, world: World) -> Plan:
    op: Plan = {"set": draw(st.sampled_from(world.active()))}
    attrs = _attrs(draw, removable=True)
    if attrs:
        op["attrs"] = attrs
    if not attrs or draw(st.booleans()):
        op["kind"] = draw(st.sampled_from(KINDS))
    return op


def _move(draw: st.DrawFn, world: World) -> Plan:
    units = draw(st.lists(st.sampled_from(world.active()), min_size=1, max_size=3, unique=True))
    to = draw(st.sampled_from([None, *world.outside(units)]))
    for unit in units:
        world.parents[unit] = to
    listed = len(units) > 1 or draw(st.booleans())
    return {"move": units if listed else units[0], "to": to}


def _merge(draw: st.DrawFn, world: World) -> Plan:
    sources = draw(st.lists(st.sampled_from(world.active()), min_size=1, max_size=3, unique=True))
    candidates = world.outside(sources)
    into: str | Plan
    if bool(candidates) and draw(st.booleans()):
        into = target = draw(st.sampled_from(candidates))
    else:
        into = _new_unit(draw, world, [None, *candidates])
        _add_new(world, into)
        target = into["create"]
    for source in sources:
        for child in world.children(source):
            world.parents[child] = target
        world.end(source)
    return {"merge": sources, "into": into}


def _shares(draw: st.DrawFn, count: int, complete: bool, extra: bool) -> list[float | None]:
    """Shares for `count` parts: all given and summing to 1, or some given summing to <= 1.

    `extra` says that one more target (rest_to) takes part without a share of its own.
    """
    if complete:
        weights = draw(st.lists(st.integers(0, 5), min_size=count, max_size=count))
        if not any(weights):
            weights[draw(st.integers(0, count - 1))] = 1
        total = sum(weights)
        return [w / total for w in weights]
    given = draw(st.lists(st.booleans(), min_size=count, max_size=count))
    if not extra and all(given):  # some target must be left open for the remainder
        given[-1] = False
    weights = [draw(st.integers(0, 5)) if g else 0 for g in given]
    total = sum(weights) + draw(st.integers(0, 5))
    return [
        (w / total if total else 0.0) if g else None for g, w in zip(given, weights, strict=True)
    ]


def _split(draw: st.DrawFn, world: World) -> Plan:
    target = draw(st.sampled_from(world.active()))
    kids = world.children(target)
    outside = world.outside([target])
    count = draw(st.integers(1, 3))
    parts: list[Plan] = []
    taken: set[str] = set()
    for _ in range(count):
        free = [u for u in outside if u not in taken]
        if bool(free) and draw(st.booleans()):
            part: Plan = {"to": draw(st.sampled_from(free))}
            taken.add(part["to"])
        else:
            part = _new_unit(draw, world, [None, *outside])
            taken.add(part["create"])
        part["children"] = []
        parts.append(part)
    rest_to: str | None = None
    if draw(st.booleans()):
        rest_to = draw(st.sampled_from(sorted(taken) + outside))
    for kid in kids:
        choices = list(range(len(parts))) + ([-1] if rest_to is not None else [])
        chosen = draw(st.sampled_from(choices))
        if chosen >= 0:
            parts[chosen]["children"].append(kid)
    mode = draw(st.sampled_from(("none", "complete", "partial")))
    if mode != "none":
        extra = rest_to is not None and rest_to not in taken
        shares = _shares(draw, len(parts), mode == "complete" and not extra, extra)
        for part, share in zip(parts, shares, strict=True):
            if share is not None:
                part["share"] = share
    # update the world the way the split does
    for part in parts:
        if "create" in part:
            _add_new(world, part)
    named: set[str] = set()
    for part in parts:
        receiver = part.get("to") or part["create"]
        for kid in part["children"]:
            world.parents[kid] = receiver
            named.add(kid)
        if not part["children"]:
            del part["children"]
    for kid in kids:
        if kid not in named:
            assert rest_to is not None
            world.parents[kid] = rest_to
    world.end(target)
    op: Plan = {"split": target, "into": parts}
    if rest_to is not None:
        op["rest_to"] = rest_to
    return op


def _dissolve(draw: st.DrawFn, world: World) -> Plan:
    target = draw(st.sampled_from(world.active()))
    kids = world.children(target)
    parent = world.parents[target]
    heirs: list[str | None] = list(world.outside([target]))
    if parent is not None or not kids:
        heirs.append(None)  # the default: its parent (or nothing to hand on)
    if not heirs:  # a root with children and nowhere else to put them: create a place
        heir = _new_unit(draw, world, [None])
        _add_new(world, heir)
        heirs = [heir["create"]]
        prelude: Plan | None = heir
    else:
        prelude = None
    children_to = draw(st.sampled_from(heirs))
    for kid in kids:
        world.parents[kid] = children_to if children_to is not None else parent
    world.end(target)
    op: Plan = {"dissolve": target}
    if children_to is not None:
        op["children_to"] = children_to
    if prelude is not None:
        op["_prelude"] = prelude
    return op


DRAW = {
    "create": _create,
    "rename": _rename,
    "set": _set,
    "move": _move,
    "merge": _merge,
    "split": _split,
    "dissolve": _dissolve,
}


def _ops(draw: st.DrawFn, world: World, max_ops: int) -> list[Plan]:
    ops: list[Plan] = []
    for _ in range(draw(st.integers(1, max_ops))):
        kind = "create" if not world.parents else draw(st.sampled_from(OP_CHOICES))
        op = DRAW[kind](draw, world)
        prelude = op.pop("_prelude", None)
        if prelude is not None:
            ops.append(prelude)
        ops.append(op)
    return ops


@st.composite
def histories(draw: st.DrawFn, max_changesets: int = 6, max_ops: int = 5) -> History:
    """A valid history: change sets on distinct, increasing dates, each valid where it falls."""
    world = World()
    day = draw(st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)))
    changesets: list[ChangeSet] = []
    states: list[Parents] = []
    for number in range(1, draw(st.integers(1, max_changesets)) + 1):
        if number > 1:
            day += timedelta(days=draw(st.integers(1, 90)))
        plan: Plan = {
            "id": f"cs{number}",
            "title": f"change set {number}",
            "effective": day.isoformat(),
            "ops": _ops(draw, world, max_ops),
        }
        changesets.append(from_mapping(plan))
        states.append(dict(world.parents))
    return History(tuple(changesets), tuple(states), frozenset(world.used))


def recording_orders(history: History) -> st.SearchStrategy[list[ChangeSet]]:
    """The history's change sets in a random recording order."""
    return st.permutations(history.changesets)


# -- links: random link and unlink operations on top of a history ---------------------------

LINK_TYPES = ("dotted-line", "finance", "hr")
"""The first is the type a `link` gets when the plan gives none."""

Links = dict[str, frozenset[tuple[str, str]]]
"""Unit -> its links as (target, type) pairs, for the units that have any."""


@dataclass(frozen=True)
class LinkedHistory:
    """A valid history whose change sets also link and unlink units, and the links after each."""

    history: History
    links: tuple[Links, ...]


@st.composite
def linked_histories(
    draw: st.DrawFn, max_changesets: int = 5, max_ops: int = 4, max_links: int = 4
) -> LinkedHistory:
    """A history with `link`/`unlink` operations appended to each change set.

    The links are tracked alongside: a link ends when its holder or its target ends
    (which the change set's own operations, before the appended ones, may do).
    """
    base = draw(histories(max_changesets, max_ops))
    held: dict[str, set[tuple[str, str]]] = {}
    changesets: list[ChangeSet] = []
    after: list[Links] = []
    for cs, parents in zip(base.changesets, base.states, strict=True):
        held = {
            holder: {(to, kind) for to, kind in pairs if to in parents}
            for holder, pairs in held.items()
            if holder in parents
        }
        active = sorted(parents)
        ops: list[Plan] = []
        for _ in range(draw(st.integers(1, max_links))):
            existing = sorted((h, to, kind) for h, pairs in held.items() for to, kind in pairs)
            if existing and draw(st.integers(0, 2)) == 0:  # link twice as often as unlink
                holder, to, kind = draw(st.sampled_from(existing))
                typed = draw(st.booleans())
                op: Plan = {"unlink": holder, "to": to}
                if typed:
                    op["type"] = kind
                held[holder] = {(t, k) for t, k in held[holder] if t != to or (typed and k != kind)}
                ops.append(op)
            elif len(active) >= 2:
                holder = draw(st.sampled_from(active))
                to = draw(st.sampled_from([u for u in active if u != holder]))
                kind = draw(st.sampled_from(LINK_TYPES))
                if (to, kind) in held.get(holder, set()):
                    continue
                op = {"link": holder, "to": to}
                if kind != LINK_TYPES[0] or draw(st.booleans()):
                    op["type"] = kind
                held.setdefault(holder, set()).add((to, kind))
                ops.append(op)
        plan = cs.content()
        plan["ops"] = [*plan["ops"], *ops]
        changesets.append(from_mapping(plan))
        after.append({h: frozenset(pairs) for h, pairs in held.items() if pairs})
    return LinkedHistory(History(tuple(changesets), base.states, base.ids), tuple(after))


@st.composite
def reweighted_histories(draw: st.DrawFn, max_changesets: int = 6, max_ops: int = 5) -> History:
    """A history whose change sets may first set the headcount of units active before them.

    The units' weights then change within the change sets that go on to move or end them,
    which the plain histories do only now and then. The structure is the same.
    """
    base = draw(histories(max_changesets, max_ops))
    changesets = [base.changesets[0]]
    for cs, before in zip(base.changesets[1:], base.states, strict=False):
        chosen = [unit for unit in sorted(before) if draw(st.booleans())]
        ops: list[Plan] = [{"set": u, "attrs": {WEIGHT_ATTR: draw(headcounts)}} for u in chosen]
        plan = cs.content()
        plan["ops"] = [*ops, *plan["ops"]]
        changesets.append(from_mapping(plan))
    return History(tuple(changesets), base.states, base.ids)
