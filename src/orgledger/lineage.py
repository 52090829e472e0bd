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


def trace(unit_id: str, edges: Iterable[Edge]) -> Lineage:
    """The lineage of `unit_id` over `edges` (each followed at most once)."""
    forward: dict[str, list[Edge]] = {}
    backward: dict[str, list[Edge]] = {}
    for edge in edges:
        forward.setdefault(edge.src, []).append(edge)
        backward.setdefault(edge.dst, []).append(edge)
    return Lineage(
        unit_id,
        _reach(unit_id, backward, lambda e: e.src),
        _reach(unit_id, forward, lambda e: e.dst),
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
