"""The temporal index: every unit version in time order, answering as-of queries fast.

Replaying change sets produces versions (a unit's full state after an operation)
in effective order. The timeline keeps them in one list and indexes them in
numpy columns (`_columns.Columns`), so the units in effect on any date are one
vectorized comparison away and a unit's state at any point one bisection away.
The forest holds the state after the last change set, which new ones build on.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from ._columns import ActiveUnits, Columns
from .changeset import Record
from .diff import Diff, compare
from .errors import PlanError, Problem
from .forest import Forest, Lifespan, Version
from .lineage import EdgeIndex
from .model import Edge, Snapshot, Unit
from .replay import Outcome, Progress, run


@dataclass
class Broken:
    """A recorded change set that no longer applies once something is inserted before it."""

    record: Record
    problems: list[Problem]


@dataclass
class Timeline:
    """Every active change set in effective order, and what each did."""

    forest: Forest = field(default_factory=Forest)
    records: list[Record] = field(default_factory=list)
    magnitudes: dict[str, float] = field(default_factory=dict)
    versions: list[Version] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    columns: Columns = field(default_factory=Columns)
    lineage: EdgeIndex = field(default_factory=EdgeIndex)

    # -- building --------------------------------------------------------------

    @classmethod
    def replay(
        cls,
        records: Iterable[Record],
        progress: Progress | None = None,
        hints: Mapping[str, Lifespan] | None = None,
    ) -> Timeline:
        """A timeline built by applying `records` in effective order.

        `hints` (lifespans from a fuller history) only improve the wording of problems.
        Raises PlanError naming the first record that does not apply.
        """
        timeline = cls()
        timeline.forest.hints = hints or {}
        for record in sorted(records, key=lambda r: (r.effective, r.seq)):
            outcome = run(timeline.forest, record.changeset, record.seq, progress)
            if isinstance(outcome, list):
                raise BrokenHistory(Broken(record, outcome))
            timeline.add(record, outcome)
        return timeline

    @classmethod
    def load(
        cls,
        records: Iterable[Record],
        versions: Sequence[Version],
        edges: Iterable[Edge],
        magnitudes: Mapping[int, float],
    ) -> Timeline:
        """A timeline from stored derived rows, without replaying any operation."""
        timeline = cls()
        timeline.records = sorted(records, key=lambda r: (r.effective, r.seq))
        timeline.magnitudes = {r.id: magnitudes.get(r.seq, 0.0) for r in timeline.records}
        timeline.versions = list(versions)
        timeline.columns.extend(timeline.versions)
        timeline.edges = list(edges)
        timeline.lineage.add(timeline.edges)
        timeline.forest = timeline._head()
        return timeline

    def _head(self) -> Forest:
        """The forest after every version: active units, children and lifespans."""
        columns, versions = self.columns, self.versions
        units = {
            unit.id: unit
            for p in columns.active(columns.size).tolist()
            if (unit := versions[p].unit) is not None
        }
        spans: dict[str, Lifespan] = {}
        for unit_id, seen in zip(columns.ids, columns.history, strict=True):
            if seen:
                last = versions[seen[-1]]
                end = last.day if last.unit is None else None
                spans[unit_id] = Lifespan(versions[seen[0]].day, end)
        return Forest.of(units, spans)

    def add(self, record: Record, outcome: Outcome) -> None:
        """Commit the forest's overlay and index what the change set did."""
        self.forest.commit()
        self.records.append(record)
        self.magnitudes[record.id] = outcome.magnitude
        self.versions.extend(outcome.versions)
        self.columns.extend(outcome.versions)
        self.edges.extend(outcome.edges)
        self.lineage.add(outcome.edges)

    # -- reading ---------------------------------------------------------------

    def position(self, day: date) -> int:
        """How many versions are in effect on `day`."""
        return self.columns.position(day.toordinal())

    def state(self, unit_id: str, position: int) -> Unit | None:
        """The unit as the first `position` versions leave it."""
        latest = self.columns.latest(unit_id, position)
        return None if latest is None else self.versions[latest].unit

    def snapshot(self, day: date) -> Snapshot:
        return Snapshot(day, ActiveUnits(self.columns, self.versions, self.position(day)))

    def span(self, unit_id: str) -> Lifespan | None:
        return self.forest.spans.get(unit_id)

    def versions_of(self, record: Record) -> tuple[int, int]:
        """Positions of the versions `record` produced: its first, and one past its last."""
        key = (record.effective, record.seq)
        start = bisect.bisect_left(self.versions, key, key=lambda v: (v.day, v.seq))
        end = bisect.bisect_right(self.versions, key, key=lambda v: (v.day, v.seq))
        return start, end

    def effect(self, record: Record) -> Diff:
        """What `record` changed, on its effective date."""
        start, end = self.versions_of(record)
        ids = {v.unit_id for v in self.versions[start:end]}
        before = {u: self.state(u, start) for u in ids}
        after = {u: self.state(u, end) for u in ids}
        day = record.effective
        return compare(ids, before.get, after.get, day, day, [record.id])

    def changesets_between(self, start: date, end: date) -> list[Record]:
        """Change sets effective after `start` and on or before `end`."""
        low, high = (start, end) if start <= end else (end, start)
        return [r for r in self.records if low < r.effective <= high]


class BrokenHistory(PlanError):
    """Replaying the log failed at a recorded change set."""

    def __init__(self, broken: Broken) -> None:
        self.broken = broken
        super().__init__([broken.record.changeset.locate(p) for p in broken.problems])
