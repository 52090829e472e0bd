"""The working copy of the structure that operations validate against and change.

A change set is replayed on a `Forest`: each operation reads it, and if valid,
changes it through the few methods below, which also record what happened
(new unit versions, endings, lineage edges). Changes sit in an overlay over
the base dictionaries until `commit()`, so a refused change set costs nothing
and a large ledger is never copied.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

from .errors import Problem
from .model import Edge, Unit

_GONE = None


@dataclass
class Lifespan:
    """When an id was first active and, if it ended, the day it ended."""

    start: date
    end: date | None = None


@dataclass(frozen=True, slots=True)
class Version:
    """A unit's state after operation `op` of change set `seq` (None: it ended)."""

    unit_id: str
    day: date
    seq: int
    op: int
    unit: Unit | None


@dataclass
class _Departure:
    """A child that left a unit during the current change set, and who received it."""

    weight: float
    receivers: dict[str, float]


@dataclass
class Forest:
    """Units active on `day`, with a parent -> children index and every id's lifespan."""

    units: dict[str, Unit] = field(default_factory=dict)
    kids: dict[str | None, set[str]] = field(default_factory=dict)
    spans: dict[str, Lifespan] = field(default_factory=dict)
    day: date = date.min
    seq: int = 0
    changeset: str = ""
    op: int = 0
    hints: Mapping[str, Lifespan] = field(default_factory=dict)
    """Lifespans known from elsewhere (later history), only to explain problems."""
    weight_total: float = 0.0
    """The summed weight of the base's units (kept up to date by `commit`)."""
    linked: dict[str, set[str]] = field(default_factory=dict)
    """Target -> units that link to it (so that a target's end removes those links)."""
    _units: dict[str, Unit | None] = field(default_factory=dict)
    _kids: dict[str | None, set[str]] = field(default_factory=dict)
    _linked: dict[str, set[str]] = field(default_factory=dict)
    _spans: dict[str, Lifespan] = field(default_factory=dict)
    versions: list[Version] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    _departures: dict[str, list[_Departure]] = field(default_factory=dict)

    # -- reading -------------------------------------------------------------

    def get(self, unit_id: str) -> Unit | None:
        if unit_id in self._units:
            return self._units[unit_id]
        return self.units.get(unit_id)

    def __getitem__(self, unit_id: str) -> Unit:
        unit = self.get(unit_id)
        if unit is None:
            raise KeyError(unit_id)
        return unit

    def active(self, unit_id: str) -> bool:
        return self.get(unit_id) is not None

    def children(self, unit_id: str | None) -> set[str]:
        if unit_id in self._kids:
            return self._kids[unit_id]
        return self.kids.get(unit_id, set())

    def linkers(self, unit_id: str) -> set[str]:
        """Active units with a link to `unit_id`."""
        if unit_id in self._linked:
            return self._linked[unit_id]
        return self.linked.get(unit_id, set())

    def span(self, unit_id: str) -> Lifespan | None:
        return self._spans.get(unit_id) or self.spans.get(unit_id)

    def ancestors(self, unit_id: str) -> Iterator[str]:
        parent = self[unit_id].parent
        while parent is not None:
            yield parent
            parent = self[parent].parent

    def inside(self, unit_id: str, ancestor: str) -> bool:
        """True if `unit_id` is `ancestor` or lies below it."""
        return unit_id == ancestor or ancestor in self.ancestors(unit_id)

    def subtree(self, unit_id: str) -> Iterator[str]:
        stack = [unit_id]
        while stack:
            current = stack.pop()
            yield current
            stack.extend(self.children(current))

    # -- checks shared by the operations -------------------------------------

    def need_active(self, unit_id: str, path: tuple[str | int, ...]) -> Problem | None:
        """A problem if `unit_id` is not active on the forest's day."""
        if self.active(unit_id):
            return None
        span = self.span(unit_id) or self.hints.get(unit_id)
        day = self.day.isoformat()
        if span is None:
            return Problem("unknown-unit", f"unit '{unit_id}' does not exist", path=path)
        if span.end is not None and span.end <= self.day:
            why = f"it ends on {span.end.isoformat()}"
        else:
            why = (
                f"in the recorded history it starts on {span.start.isoformat()}"
                if span.start == self.day
                else f"it starts on {span.start.isoformat()}"
            )
        return Problem("inactive", f"unit '{unit_id}' is not active on {day} ({why})", path=path)

    def need_new(self, unit_id: str, path: tuple[str | int, ...]) -> Problem | None:
        """A problem if `unit_id` is or ever was in use: ids are never reused."""
        span = self.span(unit_id)
        if span is None:
            return None
        if self.active(unit_id):
            return Problem("exists", f"unit '{unit_id}' already exists", path=path)
        if span.end is not None and span.end <= self.day:
            return Problem(
                "exists",
                f"unit '{unit_id}' existed until {span.end.isoformat()}; ids are never reused",
                path=path,
            )
        return Problem(
            "exists",
            f"unit '{unit_id}' is created later, on {span.start.isoformat()}",
            path=path,
        )

    # -- changing ------------------------------------------------------------

    def _set_kids(self, parent: str | None) -> set[str]:
        if parent not in self._kids:
            self._kids[parent] = set(self.kids.get(parent, set()))
        return self._kids[parent]

    def _set_linked(self, target: str) -> set[str]:
        if target not in self._linked:
            self._linked[target] = set(self.linked.get(target, set()))
        return self._linked[target]

    def _relink(self, old: Unit | None, new: Unit | None) -> None:
        """Keep the target -> linkers index in step with a unit's links."""
        before = {link.to for link in old.links} if old is not None else set()
        after = {link.to for link in new.links} if new is not None else set()
        unit_id = (new or old).id  # type: ignore[union-attr]
        for target in before - after:
            self._set_linked(target).discard(unit_id)
        for target in after - before:
            self._set_linked(target).add(unit_id)

    def _record(self, unit_id: str, unit: Unit | None) -> None:
        self._units[unit_id] = unit
        self.versions.append(Version(unit_id, self.day, self.seq, self.op, unit))

    def put(self, unit: Unit) -> None:
        """Create the unit or replace its state (a move goes through `move`)."""
        old = self.get(unit.id)
        if old is None:
            self._spans[unit.id] = Lifespan(self.day)
        elif old.parent != unit.parent:
            self._set_kids(old.parent).discard(unit.id)
        if unit.links or (old is not None and old.links):
            self._relink(old, unit)
        self._set_kids(unit.parent).add(unit.id)
        self._record(unit.id, unit)

    def move(self, unit_id: str, parent: str | None) -> None:
        unit = self[unit_id]
        if unit.parent == parent:
            return
        if unit.parent is not None:
            self._departures.setdefault(unit.parent, []).append(
                _Departure(unit.weight, {parent: 1.0} if parent is not None else {})
            )
        self.put(unit.replace(parent=parent))

    def end(self, unit_id: str, successors: Mapping[str, float], kind: str) -> None:
        """End a childless unit, with lineage to `successors` (id -> share).

        Links from it end with it; links to it are removed from the units that held them.
        """
        unit = self[unit_id]
        for source in sorted(self.linkers(unit_id)):
            holder = self[source]
            self.put(holder.replace(links=tuple(k for k in holder.links if k.to != unit_id)))
        if unit.links:
            self._relink(unit, None)
        for dst, share in successors.items():
            self.edges.append(Edge(unit_id, dst, self.day, self.changeset, kind, share))
        if unit.parent is not None:
            self._departures.setdefault(unit.parent, []).append(
                _Departure(unit.weight, dict(successors))
            )
        self._set_kids(unit.parent).discard(unit_id)
        span = self.span(unit_id)
        assert span is not None
        self._spans[unit_id] = Lifespan(span.start, self.day)
        self._record(unit_id, _GONE)

    def departures(self, unit_id: str) -> list[_Departure]:
        """Children that left `unit_id` earlier in this change set."""
        return self._departures.get(unit_id, [])

    # -- change-set boundaries -----------------------------------------------

    def begin(self, day: date, seq: int, changeset: str) -> None:
        self.day, self.seq, self.changeset, self.op = day, seq, changeset, 0
        self.rollback()

    def rollback(self) -> None:
        self._units, self._kids, self._spans, self._linked = {}, {}, {}, {}
        self.versions, self.edges, self._departures = [], [], {}

    def overlay(self) -> Mapping[str, Unit | None]:
        """Units changed by the change set under way (None: ended)."""
        return self._units

    def commit(self) -> None:
        """Write the overlay into the base dictionaries."""
        for unit_id, unit in self._units.items():
            old = self.units.get(unit_id)
            if old is not None:
                self.weight_total -= old.weight
            if unit is None:
                self.units.pop(unit_id, None)
            else:
                self.units[unit_id] = unit
                self.weight_total += unit.weight
        for parent, kids in self._kids.items():
            if kids:
                self.kids[parent] = kids
            else:
                self.kids.pop(parent, None)
        for target, sources in self._linked.items():
            if sources:
                self.linked[target] = sources
            else:
                self.linked.pop(target, None)
        self.spans.update(self._spans)
        self._units, self._kids, self._spans, self._departures = {}, {}, {}, {}
        self._linked = {}

    @classmethod
    def of(cls, units: Mapping[str, Unit], spans: Mapping[str, Lifespan]) -> Forest:
        """A forest whose base is a copy of `units` (for one-off checks)."""
        kids: dict[str | None, set[str]] = {}
        linked: dict[str, set[str]] = {}
        for unit in units.values():
            kids.setdefault(unit.parent, set()).add(unit.id)
            for link in unit.links:
                linked.setdefault(link.to, set()).add(unit.id)
        total = sum(unit.weight for unit in units.values())
        return cls(
            units=dict(units), kids=kids, spans=dict(spans), weight_total=total, linked=linked
        )
