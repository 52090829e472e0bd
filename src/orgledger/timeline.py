"""The temporal index: every unit version in time order, answering as-of queries fast.

Replaying change sets produces versions (a unit's full state after an operation)
in effective order. They are kept in one list with their days, plus each unit's
own positions in it, plus checkpoints (the whole state at some positions). The
state on a date is the nearest checkpoint before it plus the versions after the
checkpoint up to the date; a unit's state at any position is one bisection away.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from .changeset import Record
from .errors import PlanError, Problem
from .forest import Forest, Lifespan, Version
from .model import Edge, Snapshot, Unit
from .replay import Outcome, Progress, run

CHECKPOINT_MIN = 10_000


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
    days: list[int] = field(default_factory=list)
    positions: dict[str, list[int]] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    ranges: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Positions of each change set's versions, for change sets added in this process."""
    _checkpoints: list[tuple[int, dict[str, Unit]]] = field(default_factory=lambda: [(0, {})])

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
        versions: Iterable[Version],
        edges: Iterable[Edge],
        magnitudes: dict[int, float],
    ) -> Timeline:
        """A timeline from stored derived rows, without replaying any operation."""
        timeline = cls()
        forest = timeline.forest
        timeline.records = sorted(records, key=lambda r: (r.effective, r.seq))
        timeline.magnitudes = {r.id: magnitudes.get(r.seq, 0.0) for r in timeline.records}
        for version in versions:
            old = forest.units.get(version.unit_id)
            if old is not None:
                forest.kids[old.parent].discard(version.unit_id)
                forest.weight_total -= old.weight
            if version.unit is None:
                del forest.units[version.unit_id]
                forest.spans[version.unit_id].end = version.day
            else:
                if old is None:
                    forest.spans[version.unit_id] = Lifespan(version.day)
                forest.units[version.unit_id] = version.unit
                forest.kids.setdefault(version.unit.parent, set()).add(version.unit_id)
                forest.weight_total += version.unit.weight
            timeline._index(version)
            timeline._checkpoint()
        timeline.edges = list(edges)
        return timeline

    def _index(self, version: Version) -> None:
        self.positions.setdefault(version.unit_id, []).append(len(self.versions))
        self.versions.append(version)
        self.days.append(version.day.toordinal())

    def _checkpoint(self) -> None:
        """Keep the forest's state at the current position if the last one is far back."""
        last = self._checkpoints[-1][0]
        if len(self.versions) - last >= max(CHECKPOINT_MIN, 2 * len(self.forest.units)):
            self._checkpoints.append((len(self.versions), dict(self.forest.units)))

    def fits_at_end(self, effective: date) -> bool:
        """True if a change set on `effective` applies after every recorded one."""
        return not self.records or effective >= self.records[-1].effective

    def add(self, record: Record, outcome: Outcome) -> None:
        """Commit the forest's overlay and index what the change set did."""
        self.forest.commit()
        self.records.append(record)
        self.magnitudes[record.id] = outcome.magnitude
        self.ranges[record.id] = (len(self.versions), len(self.versions) + len(outcome.versions))
        for version in outcome.versions:
            self._index(version)
        self._checkpoint()
        self.edges.extend(outcome.edges)

    # -- reading ---------------------------------------------------------------

    def position(self, day: date) -> int:
        """How many versions are in effect on `day`."""
        return bisect.bisect_right(self.days, day.toordinal())

    def state(self, unit_id: str, position: int) -> Unit | None:
        """The unit as the first `position` versions leave it."""
        where = self.positions.get(unit_id)
        if not where:
            return None
        index = bisect.bisect_left(where, position)
        return self.versions[where[index - 1]].unit if index else None

    def units_at(self, position: int) -> dict[str, Unit]:
        starts = [p for p, _ in self._checkpoints]
        at, base = self._checkpoints[bisect.bisect_right(starts, position) - 1]
        units = dict(base)
        for version in self.versions[at:position]:
            if version.unit is None:
                units.pop(version.unit_id, None)
            else:
                units[version.unit_id] = version.unit
        return units

    def snapshot(self, day: date) -> Snapshot:
        return Snapshot(day, self.units_at(self.position(day)))

    def touched(self, start: int, end: int) -> set[str]:
        """Ids of units with a version between two positions."""
        return {v.unit_id for v in self.versions[start:end]}

    def unit_versions(self, unit_id: str) -> Iterator[Version]:
        for index in self.positions.get(unit_id, ()):
            yield self.versions[index]

    def span(self, unit_id: str) -> Lifespan | None:
        return self.forest.spans.get(unit_id)

    def ids(self) -> Sequence[str]:
        return list(self.positions)

    def changesets_between(self, start: date, end: date) -> list[Record]:
        """Change sets effective after `start` and on or before `end`."""
        low, high = (start, end) if start <= end else (end, start)
        return [r for r in self.records if low < r.effective <= high]


class BrokenHistory(PlanError):
    """Replaying the log failed at a recorded change set."""

    def __init__(self, broken: Broken) -> None:
        self.broken = broken
        super().__init__([broken.record.changeset.locate(p) for p in broken.problems])
