"""Immutable values: units, snapshots, lineage edges, and their JSON forms."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from types import MappingProxyType
from typing import Any, NamedTuple, TypeAlias

Scalar: TypeAlias = str | int | float | bool
Json: TypeAlias = Any

SLUG = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
WEIGHT_ATTR = "headcount"
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def frozen_map(values: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """A read-only copy, with keys sorted so that equal maps print alike."""
    if not values:
        return _EMPTY
    if isinstance(values, MappingProxyType):
        return values  # every read-only map here is made sorted, so it can be shared
    return MappingProxyType({k: values[k] for k in sorted(values)})


class Link(NamedTuple):
    """A secondary relation from a unit to another (a dotted line, a reporting segment)."""

    to: str
    type: str

    def to_json(self) -> dict[str, Json]:
        return {"to": self.to, "type": self.type}


Links: TypeAlias = tuple[Link, ...]
_NO_LINKS: Links = ()


def sorted_links(links: Iterable[tuple[str, str]]) -> Links:
    """Links as the unit keeps them: unique and sorted, so equal sets compare equal."""
    return tuple(Link(to, kind) for to, kind in sorted(set(links)))


class Unit(NamedTuple):
    """One organizational unit as it stands on some date.

    A named tuple rather than a frozen dataclass: ledgers hold millions of these,
    and a tuple is built several times faster.
    """

    id: str
    parent: str | None
    kind: str
    names: Mapping[str, str]
    abbr: str | None = None
    attrs: Mapping[str, Scalar] = _EMPTY
    links: Links = _NO_LINKS
    """Secondary relations in effect; they never affect the tree."""

    def name(self, lang: str | None = None) -> str:
        """The name in `lang`, else English, else the first name, else the id."""
        if lang and lang in self.names:
            return self.names[lang]
        if "en" in self.names:
            return self.names["en"]
        return next(iter(self.names.values()), self.id)

    @property
    def weight(self) -> float:
        """How much the unit counts when shares are derived: its headcount, else 1."""
        value = self.attrs.get(WEIGHT_ATTR)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return 1.0

    def replace(self, **changes: Any) -> Unit:
        """A copy with some properties changed (names and attrs are frozen again)."""
        values: dict[str, Any] = {
            "id": self.id,
            "parent": self.parent,
            "kind": self.kind,
            "names": self.names,
            "abbr": self.abbr,
            "attrs": self.attrs,
            "links": self.links,
        }
        values.update(changes)
        values["names"] = frozen_map(values["names"])
        values["attrs"] = frozen_map(values["attrs"])
        return Unit(**values)

    def state(self) -> dict[str, Json]:
        """The unit's temporal properties as plain JSON values (links only when it has any)."""
        state: dict[str, Json] = {
            "parent": self.parent,
            "kind": self.kind,
            "names": dict(self.names),
            "abbr": self.abbr,
            "attrs": dict(self.attrs),
        }
        if self.links:
            state["links"] = [list(link) for link in self.links]
        return state

    @classmethod
    def from_state(cls, unit_id: str, state: Mapping[str, Json]) -> Unit:
        """The unit from `state()`'s form, whose maps are already sorted."""
        names, attrs, links = state["names"], state.get("attrs"), state.get("links")
        return cls(
            unit_id,
            state["parent"],
            state["kind"],
            MappingProxyType(names) if names else _EMPTY,
            state.get("abbr"),
            MappingProxyType(attrs) if attrs else _EMPTY,
            tuple(Link(to, kind) for to, kind in links) if links else _NO_LINKS,
        )


@dataclass(frozen=True)
class Snapshot:
    """The forest of active units as of a date (and as known at a time)."""

    at: date
    units: Mapping[str, Unit]
    known_at: datetime | None = None

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self.units

    def __len__(self) -> int:
        return len(self.units)

    def __getitem__(self, unit_id: str) -> Unit:
        return self.units[unit_id]

    @cached_property
    def _children(self) -> Mapping[str | None, tuple[str, ...]]:
        index: dict[str | None, list[str]] = {}
        for unit_id, parent in zip(*self.table(), strict=True):
            index.setdefault(parent, []).append(unit_id)
        return {parent: tuple(sorted(ids)) for parent, ids in index.items()}

    def children(self, unit_id: str | None) -> tuple[str, ...]:
        """Ids of the unit's children sorted by id; `None` gives the roots."""
        if "_children" not in self.__dict__:
            fast = getattr(self.units, "children", None)
            if fast is not None:
                return fast(unit_id)  # type: ignore[no-any-return]
        return self._children.get(unit_id, ())

    def roots(self) -> tuple[str, ...]:
        return self.children(None)

    def walk(self, root: str | None = None, depth: int | None = None) -> Iterator[tuple[Unit, int]]:
        """Units in pre-order with their depth below the start, children sorted by id.

        A walk of a few levels asks for each unit's children; a whole walk builds
        the children map once.
        """
        units = self.units
        lookup = self.children if depth is not None else self._children.get
        stack = [(uid, 0) for uid in reversed(self.roots() if root is None else (root,))]
        pop, push = stack.pop, stack.extend
        while stack:
            uid, level = pop()
            yield units[uid], level
            if depth is not None and level >= depth:
                continue
            kids = lookup(uid)
            if kids:
                below = level + 1
                push([(kid, below) for kid in reversed(kids)])

    def table(self, root: str | None = None) -> tuple[list[str], list[str | None]]:
        """Ids and parents of every unit (or of `root`'s subtree), as two parallel lists.

        Raises KeyError if `root` is not in the snapshot.
        """
        fast = getattr(self.units, "table", None)
        if fast is not None:
            return fast(root)  # type: ignore[no-any-return]
        if root is None:
            return list(self.units), [unit.parent for unit in self.units.values()]
        ids: list[str] = []
        parents: list[str | None] = []
        for unit, _ in self.walk(root):
            ids.append(unit.id)
            parents.append(unit.parent)
        return ids, parents

    def path(self, unit_id: str) -> tuple[str, ...]:
        """Ids from the root down to the unit."""
        chain: list[str] = []
        current: str | None = unit_id
        while current is not None:
            chain.append(current)
            current = self.units[current].parent
        return tuple(reversed(chain))

    def to_json(self, root: str | None = None, depth: int | None = None) -> dict[str, Json]:
        return {
            "at": self.at.isoformat(),
            "units": [
                {
                    "id": unit.id,
                    "parent": unit.parent,
                    "kind": unit.kind,
                    "names": unit.names.copy(),  # type: ignore[attr-defined]
                    "abbr": unit.abbr,
                    "attrs": unit.attrs.copy(),  # type: ignore[attr-defined]
                    "links": [link.to_json() for link in unit.links],
                    "depth": level,
                }
                for unit, level in self.walk(root, depth)
            ],
        }

    def to_pandas(self, root: str | None = None, depth: int | None = None) -> Any:
        """A pandas DataFrame, one row per unit in pre-order, with the columns of
        `export snapshot --format csv` (needs pandas: `pip install 'orgledger[pandas]'`)."""
        from . import exports

        return exports.frame(exports.unit_table(self, root, depth))

    def _repr_html_(self) -> str:
        """A compact table for notebooks (its first rows only; see `to_pandas`)."""
        from .exports import snapshot_html

        return snapshot_html(self)


@dataclass(frozen=True, slots=True)
class Edge:
    """A lineage link: `src` ended and `dst` carried on `share` of its content."""

    src: str
    dst: str
    date: date
    changeset: str
    kind: str
    share: float

    def to_json(self) -> dict[str, Json]:
        return {
            "from": self.src,
            "to": self.dst,
            "date": self.date.isoformat(),
            "changeset": self.changeset,
            "kind": self.kind,
            "share": round(self.share, 12),
        }
