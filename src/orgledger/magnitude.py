"""How big a reorganization was: which units it counted, and which earlier one was as large.

The magnitude of a change set is the weighted share of units whose path to the
root changed, that ended, or that it created, over every unit active just
before or just after it (weight: the `headcount` attribute where present, else
1). `replay.magnitude` computes it while a change set is applied; `explain`
recomputes it from the stored history, unit by unit, so a person can check it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ._columns import ActiveUnits
from .changeset import Record
from .errors import UnknownChangeSetError
from .model import Json, Snapshot
from .timeline import Timeline


@dataclass(frozen=True)
class Counted:
    """One unit the magnitude counts, and why."""

    unit: str
    why: str
    """created, ended, moved, or moved-with (an ancestor moved)."""
    weight: float
    before: tuple[str, ...]
    """Its path from the root before the change set (empty: it did not exist)."""
    after: tuple[str, ...]
    """Its path after (empty: it ended)."""
    detail: str = ""

    def to_json(self) -> dict[str, Json]:
        return {
            "unit": self.unit,
            "why": self.why,
            "weight": self.weight,
            "before": list(self.before),
            "after": list(self.after),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Explanation:
    """A change set's magnitude, with every unit that counted toward it."""

    record: Record
    magnitude: float
    counted: tuple[Counted, ...]
    counted_weight: float
    universe: float
    """Summed weight of the units active just before or just after."""
    units_before: int
    units_after: int
    largest_since: str | None

    def to_json(self) -> dict[str, Json]:
        return {
            "id": self.record.id,
            "effective": self.record.effective.isoformat(),
            "magnitude": round(self.magnitude, 6),
            "largest_since": self.largest_since,
            "counted_weight": self.counted_weight,
            "universe": self.universe,
            "units_before": self.units_before,
            "units_after": self.units_after,
            "counted": [c.to_json() for c in self.counted],
        }


def largest_since(ids: Sequence[str], magnitudes: Sequence[float]) -> list[str | None]:
    """For each change set (in effective order), the latest earlier one at least as large.

    None means it is the largest so far. A stack of ever larger magnitudes makes
    this one pass over the log.
    """
    found: list[str | None] = []
    stack: list[int] = []
    for index, value in enumerate(magnitudes):
        while stack and magnitudes[stack[-1]] < value - 1e-12:
            stack.pop()
        found.append(ids[stack[-1]] if stack else None)
        stack.append(index)
    return found


def count(
    before: Snapshot,
    after: Snapshot,
    touched: Iterable[str],
    heirs: Callable[[str], str] = lambda _: "",
) -> tuple[list[Counted], float]:
    """The units a change counts, given the states before and after it and the ids it touched.

    Returns them (created, ended, moved, moved-with; each by id) and the weight it created.
    `heirs` describes where an ended unit went.
    """
    touched = sorted(set(touched))
    counted: dict[str, Counted] = {}
    created = 0.0
    for unit_id in touched:
        old, new = before.units.get(unit_id), after.units.get(unit_id)
        if old is None and new is not None:
            counted[unit_id] = Counted(
                unit_id, "created", new.weight, (), after.path(unit_id), f"under {new.parent}"
            )
            created += new.weight
        elif new is None and old is not None:
            heir = heirs(unit_id)
            counted[unit_id] = Counted(
                unit_id,
                "ended",
                old.weight,
                before.path(unit_id),
                (),
                f"into {heir}" if heir else "no successor",
            )
    for unit_id in touched:
        old, new = before.units.get(unit_id), after.units.get(unit_id)
        if old is None or new is None or old.parent == new.parent:
            continue
        for unit, _ in after.walk(unit_id):
            mover = unit.id == unit_id
            if unit.id in counted and (not mover or counted[unit.id].why == "created"):
                continue
            earlier = before.units.get(unit.id)
            counted[unit.id] = Counted(
                unit.id,
                "moved" if mover else "moved-with",
                (earlier or unit).weight,
                before.path(unit.id) if unit.id in before.units else (),
                after.path(unit.id),
                f"from {old.parent} to {new.parent}" if mover else f"with {unit_id}",
            )
    ordered = sorted(counted.values(), key=lambda c: (_ORDER[c.why], c.unit))
    return ordered, created


def explain(timeline: Timeline, changeset: str) -> Explanation:
    """Recompute the magnitude of `changeset` from the timeline, unit by unit."""
    records = {r.id: r for r in timeline.records}
    record = records.get(changeset)
    if record is None:
        raise UnknownChangeSetError(f"no change set '{changeset}' in force in the ledger")
    start, end = timeline.versions_of(record)
    before = Snapshot(record.effective, ActiveUnits(timeline.columns, timeline.versions, start))
    after = Snapshot(record.effective, ActiveUnits(timeline.columns, timeline.versions, end))

    def heirs(unit_id: str) -> str:
        ends = timeline.lineage.outgoing.get(unit_id, [])
        return ", ".join(f"{e.dst} {e.share:.0%}" for e in ends if e.changeset == record.id)

    touched = (v.unit_id for v in timeline.versions[start:end])
    counted, created = count(before, after, touched, heirs)
    universe = sum(u.weight for u in before.units.values()) + created
    weight = sum(c.weight for c in counted)
    log = timeline.records
    since = largest_since([r.id for r in log], [timeline.magnitudes.get(r.id, 0.0) for r in log])
    return Explanation(
        record,
        weight / universe if universe > 0 else 0.0,
        tuple(counted),
        weight,
        universe,
        len(before.units),
        len(after.units),
        since[log.index(record)],
    )


_ORDER = {"created": 0, "ended": 1, "moved": 2, "moved-with": 3}
