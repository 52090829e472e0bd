"""Applying one change set to a forest: validate every operation, then apply it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .changeset import ChangeSet
from .errors import Problem
from .forest import Forest, Version
from .model import Edge

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Outcome:
    """What a valid change set did, as the timeline and the store keep it."""

    seq: int
    versions: list[Version]
    edges: list[Edge]
    magnitude: float


def run(
    forest: Forest, changeset: ChangeSet, seq: int, progress: Progress | None = None
) -> Outcome | list[Problem]:
    """Replay `changeset` on `forest`, leaving the result uncommitted in its overlay.

    Returns the outcome, or every problem found (the forest is then rolled back).
    Operations are checked in order, each against the forest as the operations
    before it left it; an invalid one is skipped so that later ones still get checked.
    """
    forest.begin(changeset.effective, seq, changeset.id)
    problems: list[Problem] = []
    total = len(changeset.ops)
    step = max(1, total // 200)
    for index, op in enumerate(changeset.ops, start=1):
        forest.op = index
        found = op.validate(forest)
        if found:
            problems += [Problem(p.code, p.message, index, op.kind, p.path) for p in found]
        else:
            op.apply(forest)
        if progress is not None and (index % step == 0 or index == total):
            progress(index, total)
    if problems:
        forest.rollback()
        return problems
    return Outcome(seq, list(forest.versions), list(forest.edges), magnitude(forest))


def magnitude(forest: Forest) -> float:
    """Weighted share of units whose path to the root changed, that ended or were created.

    Over every unit active just before or just after the change set; the weight is
    the `headcount` attribute where present, else 1, as it stood before the change
    set (as it stands after, for a unit the change set created), so the result
    lies in [0, 1].
    """
    counted: dict[str, float] = {}
    created_weight = 0.0
    for unit_id, after in forest.overlay().items():
        before = forest.units.get(unit_id)
        if before is None and after is None:
            continue
        if before is None and after is not None:
            counted[unit_id] = after.weight
            created_weight += after.weight
        elif after is None and before is not None:
            counted[unit_id] = before.weight
        elif before is not None and after is not None and before.parent != after.parent:
            for inner in forest.subtree(unit_id):
                # A unit that existed weighs what it weighed before, as in the universe.
                held = forest.units.get(inner)
                counted[inner] = (held or forest[inner]).weight
    universe = forest.weight_total + created_weight
    return sum(counted.values()) / universe if universe > 0 else 0.0
