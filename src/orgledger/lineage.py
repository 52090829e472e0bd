"""Where a unit's content came from and went, through merges, splits and dissolutions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .model import Edge, Json


@dataclass(frozen=True)
class Lineage:
    """Every edge reachable backwards (predecessors) and forwards (successors)."""

    unit: str
    predecessors: tuple[Edge, ...]
    successors: tuple[Edge, ...]

    def to_json(self) -> dict[str, Json]:
        return {
            "unit": self.unit,
            "predecessors": [e.to_json() for e in self.predecessors],
            "successors": [e.to_json() for e in self.successors],
        }


class EdgeIndex:
    """Lineage edges indexed by the unit they leave and the unit they reach."""

    def __init__(self, edges: Iterable[Edge] = ()) -> None:
        self.outgoing: dict[str, list[Edge]] = {}
        self.incoming: dict[str, list[Edge]] = {}
        self.add(edges)

    def add(self, edges: Iterable[Edge]) -> None:
        for edge in edges:
            self.outgoing.setdefault(edge.src, []).append(edge)
            self.incoming.setdefault(edge.dst, []).append(edge)

    def trace(self, unit_id: str) -> Lineage:
        """The lineage of `unit_id`; each edge is followed at most once."""
        return Lineage(
            unit_id,
            _reach(unit_id, self.incoming, lambda e: e.src),
            _reach(unit_id, self.outgoing, lambda e: e.dst),
        )


def _reach(
    start: str, index: dict[str, list[Edge]], step: Callable[[Edge], str]
) -> tuple[Edge, ...]:
    seen: set[str] = {start}
    found: list[Edge] = []
    todo = [start]
    while todo:
        current = todo.pop()
        for edge in index.get(current, ()):
            found.append(edge)
            nxt = step(edge)
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return tuple(sorted(found, key=lambda e: (e.date, e.changeset, e.src, e.dst)))
