"""What the benchmarks ask: the dates, the units, and the change set to apply."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta

import networkx as nx

from orgledger import ChangeSet, Ledger
from orgledger.ops import Move, Op, Rename

from .baselines import Edit


def dates(ledger: Ledger) -> tuple[date, date]:
    """A day 90% into the history, and the day a year before it."""
    records = ledger.timeline.records
    first, last = records[0].effective, records[-1].effective
    day = first + (last - first) * 9 // 10
    return day - timedelta(days=365), day


def subtree_root(ids: Sequence[str], parents: Sequence[str | None], share: float = 0.01) -> str:
    """The unit whose subtree holds closest to `share` of the units (ties: lowest id)."""
    parent_of = dict(zip(ids, parents, strict=True))
    size = Counter[str]()
    for unit in ids:
        current: str | None = unit
        while current is not None:
            size[current] += 1
            current = parent_of[current]
    goal = max(2, round(share * len(ids)))
    return min(ids, key=lambda u: (abs(size[u] - goal), u))


def lineage_unit(graph: nx.DiGraph, candidates: int = 20) -> str:
    """Of the best-connected units in the lineage graph, the one that reaches the most."""
    ranked = sorted(graph.nodes, key=lambda u: (-graph.degree(u), u))[:candidates]
    return max(
        ranked,
        key=lambda u: (len(nx.ancestors(graph, u)) + len(nx.descendants(graph, u)), u),
    )


def history_unit(ledger: Ledger) -> str:
    """The unit with the most versions (ties: lowest id)."""
    counts = Counter(v.unit_id for v in ledger.timeline.versions)
    return min(counts, key=lambda u: (-counts[u], u))


def reorganization(ledger: Ledger, size: int, seed: int = 7) -> tuple[ChangeSet, list[Edit]]:
    """Half renames, half moves (never into the mover's own subtree), the day after the last."""
    day = ledger.timeline.records[-1].effective + timedelta(days=1)
    units = ledger.at(day).units
    parent = {uid: unit.parent for uid, unit in units.items()}
    alive = sorted(parent)
    rng = random.Random(seed)
    ops: list[Op] = []
    edits: list[Edit] = []
    while len(ops) < size:
        unit = alive[rng.randrange(len(alive))]
        if rng.random() < 0.5:
            name = f"Renamed {unit} {len(ops)}"
            ops.append(Rename(target=unit, names={"en": name}))
            edits.append(Edit("rename", unit, name))
            continue
        to = alive[rng.randrange(len(alive))]
        if parent[unit] is None or to == parent[unit] or _inside(parent, to, unit):
            continue
        parent[unit] = to
        ops.append(Move(targets=(unit,), to=to, listed=False))
        edits.append(Edit("move", unit, to))
    changeset = ChangeSet(
        id="bench-apply", effective=day, ops=tuple(ops), title=f"{size} renames and moves"
    )
    return changeset, edits


def _inside(parent: dict[str, str | None], unit: str, ancestor: str) -> bool:
    current: str | None = unit
    while current is not None:
        if current == ancestor:
            return True
        current = parent[current]
    return False
