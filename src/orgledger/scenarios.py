"""Scenarios: draft plans kept in the ledger's store, compared, approved, then applied.

A scenario never changes the effective history until it is applied; applying
records its change set like any other. Its life is a list of stored events:
`add` (with the plan's text; adding the same name again replaces the draft and
resets its approval) and `approve` (who and when). Whether it was applied is
read from the ledger itself: its change set is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import orjson

from .changeset import ChangeSet, Record, timestamp
from .diff import Diff, compare
from .errors import OrgLedgerError, PlanError
from .forest import Forest, Lifespan
from .magnitude import count
from .model import SLUG, Json, Snapshot
from .plan import parse_plan
from .replay import run
from .stats import Stats, measure
from .store import ScenarioEvent


class ScenarioError(OrgLedgerError):
    code = "scenario"


@dataclass(frozen=True)
class Scenario:
    """A draft plan under a name, as its latest `add` left it."""

    name: str
    file: str
    text: str
    fmt: str
    added_at: datetime
    added_by: str | None
    approved_at: datetime | None = None
    approved_by: str | None = None
    applied: Record | None = None

    @property
    def changeset(self) -> ChangeSet:
        return parse_plan(self.text, f"scenario {self.name} ({self.file})", self.fmt)

    @property
    def status(self) -> str:
        if self.applied is not None:
            return "applied"
        return "approved" if self.approved_at is not None else "draft"

    def to_json(self) -> dict[str, Json]:
        changeset = self.changeset
        return {
            "name": self.name,
            "status": self.status,
            "changeset": changeset.id,
            "effective": changeset.effective.isoformat(),
            "title": changeset.title,
            "file": self.file,
            "added_at": timestamp(self.added_at),
            "added_by": self.added_by,
            "approved_at": timestamp(self.approved_at) if self.approved_at else None,
            "approved_by": self.approved_by,
            "applied_at": timestamp(self.applied.recorded_at) if self.applied else None,
        }


def check_name(name: str) -> str:
    if not SLUG.fullmatch(name):
        raise ScenarioError(
            f"'{name}' is not a valid scenario name (lowercase letters, digits, '_', '.', '-')"
        )
    return name


def stored_plan(file: str, text: str, fmt: str) -> str:
    """What an `add` event stores: the plan as written, so errors keep their lines."""
    return orjson.dumps({"file": file, "text": text, "format": fmt}).decode("utf-8")


def replay(events: Iterable[ScenarioEvent], records: Sequence[Record]) -> dict[str, Scenario]:
    """Every scenario as its events leave it, marked applied when its change set is recorded."""
    found: dict[str, Scenario] = {}
    for event in events:
        if event.action == "add" and event.body is not None:
            stored = orjson.loads(event.body)
            found[event.name] = Scenario(
                event.name,
                stored["file"],
                stored["text"],
                stored["format"],
                event.recorded_at,
                event.actor,
            )
        elif event.action == "approve" and event.name in found:
            found[event.name] = replace(
                found[event.name], approved_at=event.recorded_at, approved_by=event.actor
            )
    recorded = {(r.id, r.digest): r for r in records}
    for name, scenario in found.items():
        changeset = scenario.changeset
        record = recorded.get((changeset.id, changeset.digest()))
        if record is not None and record.recorded_at >= scenario.added_at:
            found[name] = replace(scenario, applied=record)
    return found


@dataclass(frozen=True)
class Outcome:
    """The structure as if a scenario were applied on its effective date, and what changed."""

    scenario: Scenario
    before: Snapshot
    after: Snapshot
    diff: Diff
    magnitude: float
    affected: int
    """Units created, ended or whose path to the root changed."""
    headcount_moved: float
    """Summed `headcount` of the units whose path changed."""
    stats: Stats

    def to_json(self) -> dict[str, Json]:
        s = self.stats
        return {
            **self.scenario.to_json(),
            "magnitude": round(self.magnitude, 6),
            "units_affected": self.affected,
            "headcount_moved": self.headcount_moved,
            "layers": s.layers,
            "span_mean": None if s.span_mean is None else round(s.span_mean, 6),
            "span_max": s.span_max,
            "units": s.units,
            "diff": self.diff.to_json(),
        }


def simulate(
    scenario: Scenario, before: Snapshot, spans: Mapping[str, Lifespan], seq: int
) -> Outcome:
    """Apply the scenario's change set to the structure of its effective date, in memory.

    Raises PlanError if it does not apply there.
    """
    changeset = scenario.changeset
    forest = Forest.of(dict(before.units), spans)
    outcome = run(forest, changeset, seq)
    if isinstance(outcome, list):
        raise PlanError([changeset.locate(p) for p in outcome])
    overlay = dict(forest.overlay())
    units = dict(before.units)
    for unit_id, unit in overlay.items():
        if unit is None:
            units.pop(unit_id, None)
        else:
            units[unit_id] = unit
    after = Snapshot(changeset.effective, units)
    day = changeset.effective
    diff = compare(overlay, before.units.get, after.units.get, day, day, [changeset.id])
    return outcome_of(scenario, before, after, diff, outcome.magnitude, overlay)


def outcome_of(
    scenario: Scenario,
    before: Snapshot,
    after: Snapshot,
    diff: Diff,
    magnitude: float,
    touched: Iterable[str],
) -> Outcome:
    """The figures of a scenario's change set, given the structures around it."""
    counted, _ = count(before, after, touched)
    moved = sum(
        float(c.weight)
        for c in counted
        if c.why in ("moved", "moved-with") and "headcount" in after.units[c.unit].attrs
    )
    return Outcome(scenario, before, after, diff, magnitude, len(counted), moved, measure(after))
