"""The version index as numpy columns: which version of which unit is in effect where.

Versions are kept in time order (their *positions*). For each one the columns
hold its day, its unit and parent (as integer ids), whether it is an end marker,
and the position of the same unit's next version. The units in effect after the
first `p` versions are exactly those whose next version comes at or after `p`:
one vectorized comparison, however long the history.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping, Sequence
from itertools import chain

import numpy as np
import numpy.typing as npt

from .forest import Version
from .model import Unit

NEVER = np.iinfo(np.int64).max
Ints = npt.NDArray[np.int64]


class Columns:
    """Growable columns over every version, with unit ids interned as integers."""

    def __init__(self) -> None:
        self.size = 0
        self.day: npt.NDArray[np.int32] = np.empty(1024, np.int32)
        self.uid: npt.NDArray[np.int32] = np.empty(1024, np.int32)
        self.parent: npt.NDArray[np.int32] = np.empty(1024, np.int32)
        self.next: Ints = np.empty(1024, np.int64)
        self.alive: npt.NDArray[np.bool_] = np.empty(1024, np.bool_)
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.history: list[list[int]] = []
        """Positions of each unit's versions, by interned id."""
        self.under: list[list[int]] = []
        """Positions of the versions that put a unit under each unit, by interned id."""
        self._names: npt.NDArray[np.object_] | None = None
        self._asked: dict[int, int] = {}
        self._indexes: dict[int, tuple[Ints, Ints]] = {}
        """Children indexes of dates asked about repeatedly (see `subtree`)."""

    def intern(self, unit_id: str) -> int:
        number = self.index.get(unit_id)
        if number is None:
            number = self.index[unit_id] = len(self.ids)
            self.ids.append(unit_id)
            self.history.append([])
            self.under.append([])
            self._names = None
        return number

    def _grow(self) -> None:
        capacity = len(self.day) * 2
        for name in ("day", "uid", "parent", "next", "alive"):
            old = getattr(self, name)
            new = np.empty(capacity, old.dtype)
            new[: self.size] = old[: self.size]
            setattr(self, name, new)

    def append(self, version: Version) -> None:
        if self.size == len(self.day):
            self._grow()
        position = self.size
        number = self.intern(version.unit_id)
        unit = version.unit
        parent = unit.parent if unit is not None else None
        self.day[position] = version.day.toordinal()
        self.uid[position] = number
        self.parent[position] = -1 if parent is None else self.intern(parent)
        if parent is not None:
            self.under[self.index[parent]].append(position)
        self.alive[position] = unit is not None
        self.next[position] = NEVER
        seen = self.history[number]
        if seen:
            self.next[seen[-1]] = position
        seen.append(position)
        self.size += 1

    def extend(self, versions: Sequence[Version]) -> None:
        """Append many versions at once (vectorized; the same result as `append` each)."""
        count = len(versions)
        if not count:
            return
        while self.size + count > len(self.day):
            self._grow()
        start, end = self.size, self.size + count
        intern = self.intern
        uids = [intern(v.unit_id) for v in versions]
        parents = [
            -1 if v.unit is None or v.unit.parent is None else intern(v.unit.parent)
            for v in versions
        ]
        self.day[start:end] = [v.day.toordinal() for v in versions]
        self.uid[start:end] = uids
        self.parent[start:end] = parents
        self.alive[start:end] = [v.unit is not None for v in versions]
        self.next[start:end] = NEVER
        positions = range(start, end)
        for number, position in zip(uids, positions, strict=True):
            seen = self.history[number]
            if seen:
                self.next[seen[-1]] = position
            seen.append(position)
        for number, position in zip(parents, positions, strict=True):
            if number >= 0:
                self.under[number].append(position)
        self.size = end

    def position(self, ordinal: int) -> int:
        """How many versions take effect on or before the day `ordinal`."""
        return int(np.searchsorted(self.day[: self.size], np.int32(ordinal), side="right"))

    def active(self, position: int) -> Ints:
        """Positions of the versions in effect after the first `position` versions."""
        in_effect = self.alive[:position] & (self.next[:position] >= position)
        return np.flatnonzero(in_effect).astype(np.int64)

    def slots(self, position: int) -> Ints:
        """For each unit (by interned id), the position of its version in effect, else -1."""
        where = self.active(position)
        slot = np.full(len(self.ids), -1, np.int64)
        slot[self.uid[where]] = where
        return slot

    def changed(self, first: int, second: int) -> tuple[list[str], Ints, Ints]:
        """Units whose version in effect differs between two positions, with both versions."""
        low, high = min(first, second), max(first, second)
        units = np.unique(self.uid[low:high])
        before, after = self.slots(first)[units], self.slots(second)[units]
        differ = before != after
        return [self.ids[u] for u in units[differ].tolist()], before[differ], after[differ]

    def subtree(self, root: str, position: int) -> Ints:
        """Positions of the versions in effect at `position` in `root`'s subtree, level by level.

        The first question about a date walks the versions that ever sat under each
        level's units; a date asked about again gets a children index of its own
        (a few are kept), so expanding one chart level after another stays cheap.
        """
        start = self.latest(root, position)
        if start is None or not self.alive[start]:
            return np.empty(0, np.int64)
        index = self._children_index(position)
        found = [np.array([start], np.int64)]
        if index is None:
            under = self.under
            frontier = [self.index[root]]
            while frontier:
                candidates = np.fromiter(
                    chain.from_iterable(map(under.__getitem__, frontier)), np.int64
                )
                keep = (candidates < position) & self.alive[candidates]
                keep &= self.next[candidates] >= position
                level = candidates[keep]
                found.append(level)
                frontier = self.uid[level].tolist()
            return np.concatenate(found)
        order, starts = index
        units = np.array([self.index[root]], np.int64)
        while len(units):
            low, high = starts[units], starts[units + 1]
            sizes = high - low
            total = int(sizes.sum())
            if not total:
                break
            ends = np.cumsum(sizes)
            level = order[np.repeat(low - ends + sizes, sizes) + np.arange(total)]
            found.append(level)
            units = self.uid[level].astype(np.int64)
        return np.concatenate(found)

    def _children_index(self, position: int, now: bool = False) -> tuple[Ints, Ints] | None:
        """Children (as version positions) grouped by parent, for a date asked about twice.

        With `now`, built on the first question (for callers that need it whole).
        """
        if position in self._indexes:
            return self._indexes[position]
        self._asked[position] = self._asked.get(position, 0) + 1
        if self._asked[position] < 2 and not now:
            if len(self._asked) > 64:
                self._asked.clear()
            return None
        where = self.active(position)
        parents = self.parent[where].astype(np.int64)
        rooted = parents >= 0
        where, parents = where[rooted], parents[rooted]
        order = where[np.argsort(parents, kind="stable")]
        starts = np.zeros(len(self.ids) + 1, np.int64)
        np.cumsum(np.bincount(parents, minlength=len(self.ids)), out=starts[1:])
        if len(self._indexes) >= 4:
            self._indexes.pop(next(iter(self._indexes)))
        self._indexes[position] = (order, starts)
        return order, starts

    def children(self, unit_id: str, position: int) -> Ints:
        """Positions of the versions of `unit_id`'s children in effect at `position`."""
        index = self._children_index(position, now=True)
        assert index is not None
        number = self.index.get(unit_id)
        if number is None:
            return np.empty(0, np.int64)
        order, starts = index
        return order[starts[number] : starts[number + 1]]

    def latest(self, unit_id: str, position: int) -> int | None:
        """Position of the unit's last version before `position`, if any."""
        number = self.index.get(unit_id)
        if number is None:
            return None
        seen = self.history[number]
        index = bisect.bisect_left(seen, position)
        return seen[index - 1] if index else None

    def names(self) -> npt.NDArray[np.object_]:
        """Ids as an object array, with None appended (so parent -1 reads as None)."""
        if self._names is None or len(self._names) != len(self.ids) + 1:
            self._names = np.array([*self.ids, None], dtype=object)
        return self._names


class ActiveUnits(Mapping[str, Unit]):
    """The units in effect at one position: a read-only mapping built on demand."""

    def __init__(self, columns: Columns, versions: Sequence[Version], position: int) -> None:
        self._columns = columns
        self._versions = versions
        self._position = position
        self._active: Ints | None = None
        self._slot: Ints | None = None
        self._roots: tuple[str, ...] | None = None

    @property
    def _where(self) -> Ints:
        """Positions of the versions in effect (computed on first use: a subtree needs none)."""
        if self._active is None:
            self._active = self._columns.active(self._position)
        return self._active

    def _slots(self) -> Ints:
        if self._slot is None:
            slot = np.full(len(self._columns.ids), -1, np.int64)
            slot[self._columns.uid[self._where]] = self._where
            self._slot = slot
        return self._slot

    def _find(self, unit_id: object) -> int:
        number = self._columns.index.get(unit_id) if isinstance(unit_id, str) else None
        if number is None or number >= len(self._slots()):
            return -1
        return int(self._slots()[number])

    def __getitem__(self, unit_id: str) -> Unit:
        position = self._find(unit_id)
        unit = self._versions[position].unit if position >= 0 else None
        if unit is None:
            raise KeyError(unit_id)
        return unit

    def __contains__(self, unit_id: object) -> bool:
        return self._find(unit_id) >= 0

    def __iter__(self) -> Iterator[str]:
        return iter(self.table()[0])

    def __len__(self) -> int:
        return len(self._where)

    def children(self, unit_id: str | None) -> tuple[str, ...]:
        """Ids of the unit's children (the roots for None), sorted by id.

        Answered from the date's children index, so a chart that asks for a few
        levels of a large structure never builds the whole parent -> children map.
        """
        columns = self._columns
        if unit_id is None:
            if self._roots is None:
                where = self._where
                roots = where[columns.parent[where] < 0]
                self._roots = tuple(sorted(columns.names()[columns.uid[roots]].tolist()))
            return self._roots
        if unit_id not in self:
            return ()
        kids = columns.children(unit_id, self._position)
        return tuple(sorted(columns.names()[columns.uid[kids]].tolist()))

    def table(self, root: str | None = None) -> tuple[list[str], list[str | None]]:
        """Ids and parents of every unit in effect, or of `root`'s subtree."""
        if root is None:
            where = self._where
        else:
            where = self._columns.subtree(root, self._position)
            if not len(where):
                raise KeyError(root)
        names = self._columns.names()
        ids: list[str] = names[self._columns.uid[where]].tolist()
        parents: list[str | None] = names[self._columns.parent[where]].tolist()
        return ids, parents
