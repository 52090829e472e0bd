"""The facade that users and the shell call: open a ledger, apply plans, ask questions."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ._columns import ActiveUnits
from .archive import Archive, chain_problems
from .changeset import ChangeSet, Record, timestamp
from .diff import Diff, compare
from .errors import (
    ArchiveError,
    ForbiddenError,
    InactiveUnitError,
    PlanError,
    Problem,
    TokenError,
    UnknownChangeSetError,
    UnknownMetricError,
)
from .forest import Forest
from .history import History, history
from .inference import Described, Inferred, describe, infer, units_of
from .lineage import Lineage
from .lookup import Match, Vocabulary
from .magnitude import Explanation, explain, largest_since
from .metrics import (
    MetricQuery,
    MetricTable,
    MetricValue,
    check_rows,
    current,
    read_metrics,
    series,
)
from .model import Json, Snapshot, Unit
from .plan import from_mapping, parse_plan, read_plan, read_plan_text
from .replay import Outcome, Progress, run
from .scenarios import Outcome as ScenarioOutcome
from .scenarios import (
    Scenario,
    ScenarioError,
    check_name,
    outcome_of,
    simulate,
    stored_plan,
)
from .scenarios import replay as replay_scenarios
from .stats import Stats, measure
from .store import Derived, Store
from .tables import Table
from .timeline import BrokenHistory, Timeline
from .tokens import Token, check_scope, check_subtrees, matching, new_secret
from .tokens import check_name as check_token_name
from .tokens import digest as token_digest
from .tokens import replay as replay_tokens

CHECKPOINT_EVERY = 50_000
PlanLike = ChangeSet | str | os.PathLike[str] | Mapping[str, Any]


@dataclass(frozen=True)
class Preview:
    """What a change set would do: its diff on its effective date and its magnitude."""

    changeset: ChangeSet
    diff: Diff
    magnitude: float


@dataclass(frozen=True)
class LogEntry:
    record: Record
    magnitude: float
    largest_since: str | None = None
    """The latest earlier change set at least as large (None: the largest so far)."""

    def to_json(self) -> dict[str, Json]:
        r = self.record
        return {
            "id": r.id,
            "title": r.title,
            "effective": r.effective.isoformat(),
            "recorded_at": timestamp(r.recorded_at),
            "ops": r.ops,
            "magnitude": round(self.magnitude, 6),
            "largest_since": self.largest_since,
            "seq": r.seq,
            "supersedes": r.supersedes,
        }


@dataclass(frozen=True)
class UnitView:
    """One unit: when it existed, and how it stood on a date."""

    id: str
    at: date
    start: date
    end: date | None
    state: Unit | None
    path: tuple[str, ...]
    latest: Unit
    """Its last state (the one before it ended, for an ended unit)."""

    def to_json(self) -> dict[str, Json]:
        def shape(unit: Unit) -> dict[str, Json]:
            return {"id": unit.id, **unit.state(), "links": [k.to_json() for k in unit.links]}

        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "from": self.start.isoformat(),
            "to": self.end.isoformat() if self.end else None,
            "active": self.state is not None,
            "unit": shape(self.state) if self.state is not None else None,
            "path": list(self.path),
            "latest": shape(self.latest),
        }


@dataclass(frozen=True)
class ChangeSetView:
    """A change set as recorded, with what it changed on its effective date."""

    entry: LogEntry
    changeset: ChangeSet
    diff: Diff

    def to_json(self) -> dict[str, Json]:
        return {**self.entry.to_json(), **self.changeset.content(), "diff": self.diff.to_json()}


@dataclass(frozen=True)
class Report:
    """What `verify` found: nothing (intact) or a list of findings."""

    changesets: int
    head: str
    findings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Json]:
        return {
            "ok": self.ok,
            "changesets": self.changesets,
            "head": self.head,
            "findings": list(self.findings),
        }


def active(records: Iterable[Record]) -> list[Record]:
    """Records not replaced by a correction among `records`."""
    records = list(records)
    replaced = {r.supersedes for r in records if r.supersedes}
    return [r for r in records if r.id not in replaced]


class Ledger:
    """An orgledger ledger: the log of change sets and the timeline it implies."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._past: dict[str, Timeline] = {}
        self._vocabularies: dict[str | None, Vocabulary] = {}
        self._records: list[Record] | None = None
        self._current: Timeline | None = None
        self._token_state: tuple[int, dict[str, Token]] = (0, {})
        """The last token event read and the active tokens then (authentication is frequent)."""

    @classmethod
    def open(cls, db: str | os.PathLike[str] | None = None) -> Ledger:
        """Open an existing ledger (a path, a database URL, or `$ORGLEDGER_DB`)."""
        return cls(Store.open(db))

    @classmethod
    def init(cls, db: str | os.PathLike[str] | None = None) -> Ledger:
        """Create an empty ledger; refuses if one exists."""
        return cls(Store.open(db, create=True))

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def records(self) -> list[Record]:
        """Every recorded change set, in recording order (read on first use)."""
        if self._records is None:
            self._records = self.store.records()
        return self._records

    @property
    def timeline(self) -> Timeline:
        """The temporal index of the current history (loaded on first use)."""
        if self._current is None:
            # The log and its derived rows are read together, so another writer's
            # change set cannot land between them.
            self._records, derived = self.store.state()
            self._current = Timeline.load(
                active(self._records), derived.versions, derived.edges, derived.magnitudes
            )
        return self._current

    def _load(self) -> None:
        """Forget what was read, so that it is read again from the store."""
        self._records = None
        self._current = None
        self._vocabularies.clear()
        self._past.clear()

    def refresh(self) -> bool:
        """Read the ledger again if another writer recorded change sets; True if it did."""
        head = self.store.head()
        known = (self.records[-1].seq, self.records[-1].hash) if self.records else (0, "")
        if head == known:
            return False
        self._load()
        return True

    # -- writing ---------------------------------------------------------------

    def apply(self, *plans: PlanLike, progress: Progress | None = None) -> list[Record]:
        """Validate and record change sets, all or none, in one transaction.

        A change set already recorded with the same content is skipped.
        Raises PlanError with every problem found. Writers take turns: the change
        sets are checked against the ledger as it is once the write lock is held,
        including whatever other writers recorded meanwhile.
        """
        changesets = _changesets(plans)
        with self.store.writing():
            self.refresh()
            return self._apply(changesets, progress)

    def _apply(self, changesets: list[ChangeSet], progress: Progress | None) -> list[Record]:
        fresh = self._fresh(changesets)
        if not fresh:
            return []
        staged = self._stage(fresh, progress)
        appending = staged.rebuild is None
        try:
            self.store.append(
                staged.records,
                staged.derived,
                self.records[-1].seq if self.records else 0,
                rebuild=staged.rebuild,
                version_start=len(self.timeline.versions) if appending else 0,
                edge_start=len(self.timeline.edges) if appending else 0,
                checkpoints=self._checkpoints(staged),
            )
        except BaseException:
            self.timeline.forest.rollback()
            self._load()
            raise
        if staged.in_place:
            self.timeline.add(staged.records[0], staged.outcomes[0])
            self.records.extend(staged.records)
            self._vocabularies.clear()
            self._past.clear()
        else:
            self._load()
        return staged.records

    def _checkpoints(self, staged: _Staged) -> list[tuple[int, Iterable[Unit]]]:
        """Whole states to store with a write, so cold reads replay little (see `_spacing`)."""
        if staged.timeline is not None:
            return _checkpoints_of(staged.timeline)
        return staged.checkpoints

    def preview(self, *plans: PlanLike) -> list[Preview]:
        """What the change sets would do, without writing anything."""
        fresh = self._fresh(_changesets(plans))
        staged = self._stage(fresh, None, dry_run=True)
        return staged.previews

    def _fresh(self, changesets: list[ChangeSet]) -> list[ChangeSet]:
        """The change sets not recorded yet; a different one under a known id is a problem."""
        known = {r.id: r for r in self.records}
        problems: list[Problem] = []
        fresh: list[ChangeSet] = []
        batch: set[str] = set()
        for cs in sorted(changesets, key=lambda c: c.effective):
            record = known.get(cs.id)
            if record is not None:
                if record.digest != cs.digest():
                    problems.append(
                        cs.locate(
                            Problem(
                                "duplicate-changeset",
                                f"change set '{cs.id}' is already recorded with other content; "
                                "give the new one another id (with supersedes: to correct it)",
                                path=("id",),
                            )
                        )
                    )
                continue
            if cs.id in batch:
                problems.append(
                    cs.locate(
                        Problem(
                            "duplicate-changeset",
                            f"change set '{cs.id}' is given twice",
                            path=("id",),
                        )
                    )
                )
                continue
            batch.add(cs.id)
            fresh.append(cs)
        if problems:
            raise PlanError(problems)
        return fresh

    def _stage(
        self, changesets: list[ChangeSet], progress: Progress | None, dry_run: bool = False
    ) -> _Staged:
        head_seq, head_hash = (
            (self.records[-1].seq, self.records[-1].hash) if self.records else (0, "")
        )
        stamp = self.store.next_stamp(self.records)
        records: list[Record] = []
        for offset, cs in enumerate(changesets, start=1):
            record = Record.new(cs, head_seq + offset, stamp, head_hash)
            records.append(record)
            head_hash = record.hash
        self._check_supersedes(changesets)
        last = self.timeline.records[-1].effective if self.timeline.records else date.min
        in_order = all(cs.supersedes is None for cs in changesets) and all(
            cs.effective >= last for cs in changesets
        )
        if in_order:
            return self._stage_at_end(records, progress, dry_run)
        return self._stage_rebuild(records, progress)

    def _check_supersedes(self, changesets: list[ChangeSet]) -> None:
        ids = {r.id for r in self.records} | {c.id for c in changesets}
        taken = {r.supersedes: r.id for r in self.records if r.supersedes}
        problems: list[Problem] = []
        for cs in changesets:
            target = cs.supersedes
            if target is None:
                continue
            if target not in ids or target == cs.id:
                problems.append(
                    cs.locate(
                        Problem(
                            "unknown-changeset",
                            f"supersedes '{target}', which is not recorded",
                            path=("supersedes",),
                        )
                    )
                )
            elif target in taken:
                problems.append(
                    cs.locate(
                        Problem(
                            "already-superseded",
                            f"'{target}' is already superseded by '{taken[target]}'; "
                            "supersede that one",
                            path=("supersedes",),
                        )
                    )
                )
            taken[target] = cs.id
        if problems:
            raise PlanError(problems)

    def _stage_at_end(
        self, records: list[Record], progress: Progress | None, dry_run: bool
    ) -> _Staged:
        """Replay the new change sets after the recorded ones.

        One change set to record is replayed on the live forest, left in its overlay
        until the store has it; otherwise on a scratch copy.
        """
        in_place = len(records) == 1 and not dry_run
        forest = self.timeline.forest
        if not in_place:
            forest = Forest.of(forest.units, forest.spans)
        outcomes: list[Outcome] = []
        previews: list[Preview] = []
        problems: list[Problem] = []
        checkpoints: list[tuple[int, Iterable[Unit]]] = []
        position = len(self.timeline.versions)
        last = position if dry_run else self.store.last_checkpoint()
        for record in records:
            outcome = run(forest, record.changeset, record.seq, progress)
            if isinstance(outcome, list):
                # Keep checking the others, on the structure without this one.
                problems += [record.changeset.locate(p) for p in outcome]
                continue
            overlay = dict(forest.overlay())
            day = record.effective
            previews.append(
                Preview(
                    record.changeset,
                    compare(overlay, forest.units.get, overlay.get, day, day, [record.id]),
                    outcome.magnitude,
                )
            )
            outcomes.append(outcome)
            position += len(outcome.versions)
            if not in_place:
                forest.commit()
                if position - last >= _spacing(len(forest.units)):
                    checkpoints.append((position, list(forest.units.values())))
                    last = position
        if problems:
            raise PlanError(problems)
        derived = Derived(
            [v for o in outcomes for v in o.versions],
            [e for o in outcomes for e in o.edges],
            {o.seq: o.magnitude for o in outcomes},
        )
        staged = _Staged(records, derived, in_place, outcomes, previews, None, forest=forest)
        if in_place and position - last >= max(CHECKPOINT_EVERY, len(forest.units)):
            checkpoints.append((position, staged.head.values()))
        staged.checkpoints.extend(checkpoints)
        return staged

    def _stage_rebuild(self, records: list[Record], progress: Progress | None) -> _Staged:
        """Replay the whole log with the new change sets in their places."""
        everything = active([*self.records, *records])
        try:
            timeline = Timeline.replay(everything, progress, hints=self.timeline.forest.spans)
        except BrokenHistory as exc:
            broken = exc.broken.record
            if broken in records:
                raise PlanError([broken.changeset.locate(p) for p in exc.broken.problems]) from None
            cause = next(
                (r for r in records if r.supersedes is not None or r.effective < broken.effective),
                records[0],
            )
            raise PlanError(
                [
                    cause.changeset.locate(
                        Problem(
                            "breaks-later",
                            f"recording '{cause.id}' would break later change set '{broken.id}' "
                            f"(effective {broken.effective.isoformat()}) at {_where(p)}",
                            path=("effective",),
                        )
                    )
                    for p in exc.broken.problems
                ]
            ) from None
        previews = [
            Preview(r.changeset, timeline.effect(r), timeline.magnitudes[r.id])
            for r in records
            if r.id in timeline.magnitudes
        ]
        derived = Derived(
            timeline.versions,
            timeline.edges,
            {r.seq: timeline.magnitudes[r.id] for r in timeline.records},
        )
        reason = "correction" if any(r.supersedes for r in records) else "back-dated change set"
        return _Staged(records, derived, False, [], previews, reason, timeline=timeline)

    # -- reading ---------------------------------------------------------------

    def _timeline(self, known_at: datetime | None) -> Timeline:
        if known_at is None:
            return self.timeline
        key = timestamp(known_at)
        if key not in self._past:
            seen = [r for r in self.records if r.recorded_at <= known_at]
            self._past[key] = Timeline.replay(active(seen))
        return self._past[key]

    def vocabulary(self, known_at: datetime | None = None) -> Vocabulary:
        """Every id, abbreviation and name, as the ledger knew them at `known_at`."""
        key = None if known_at is None else timestamp(known_at)
        if key not in self._vocabularies:
            self._vocabularies[key] = Vocabulary(self._timeline(known_at))
        return self._vocabularies[key]

    def resolve(self, ref: str, at: date | None = None, *, known_at: datetime | None = None) -> str:
        """The id of the unit `ref` names (id, abbreviation or a name in any language)."""
        return self.vocabulary(known_at).resolve(ref, at)

    def at(self, day: date | None = None, *, known_at: datetime | None = None) -> Snapshot:
        """The structure as of `day` (default today), as known at `known_at` (default now)."""
        day = day or date.today()
        if known_at is None and self._current is None:
            # Cold: read the state on that day alone, not the whole history.
            return Snapshot(day, self.store.state_at(day))
        snapshot = self._timeline(known_at).snapshot(day)
        if known_at is not None:
            return Snapshot(snapshot.at, snapshot.units, known_at)
        return snapshot

    def unit(
        self, unit: str, day: date | None = None, *, known_at: datetime | None = None
    ) -> UnitView:
        """A unit: its lifespan, and its state and path on `day` (None when inactive then)."""
        unit_id = self.resolve(unit, day, known_at=known_at)
        timeline = self._timeline(known_at)
        snapshot = timeline.snapshot(day or date.today())
        span = timeline.span(unit_id)
        assert span is not None
        state = snapshot.units.get(unit_id)
        path = snapshot.path(unit_id) if state is not None else ()
        latest = self.vocabulary(known_at).latest[unit_id]
        return UnitView(unit_id, snapshot.at, span.start, span.end, state, path, latest)

    def subtree_check(self, snapshot: Snapshot, unit: str) -> str:
        """The id of `unit`, which must be active in `snapshot`."""
        if unit in snapshot:
            return unit
        unit_id = self.resolve(unit, snapshot.at, known_at=snapshot.known_at)
        if unit_id not in snapshot:
            span = self._timeline(snapshot.known_at).span(unit_id)
            when = " (it does not exist yet)"
            if span is not None and span.end is not None and span.end <= snapshot.at:
                when = f" (it ends on {span.end.isoformat()})"
            elif span is not None:
                when = f" (it starts on {span.start.isoformat()})"
            raise InactiveUnitError(
                f"unit '{unit_id}' is not active on {snapshot.at.isoformat()}{when}"
            )
        return unit_id

    def diff(self, start: date, end: date, *, known_at: datetime | None = None) -> Diff:
        """What changed between the structures of two dates."""
        timeline = self._timeline(known_at)
        ids, first, second = timeline.columns.changed(
            timeline.position(start), timeline.position(end)
        )
        versions = timeline.versions
        before = {u: versions[p].unit for u, p in zip(ids, first.tolist(), strict=True) if p >= 0}
        after = {u: versions[p].unit for u, p in zip(ids, second.tolist(), strict=True) if p >= 0}
        changesets = [r.id for r in timeline.changesets_between(start, end)]
        return compare(ids, before.get, after.get, start, end, changesets)

    def lineage(self, unit: str, *, known_at: datetime | None = None) -> Lineage:
        """Where the unit's content came from and went (every edge reachable)."""
        unit_id = self.resolve(unit, known_at=known_at)
        return self._timeline(known_at).lineage.trace(unit_id)

    def history(self, unit: str, *, known_at: datetime | None = None) -> History:
        """Every change that touched the unit, in the order they took effect."""
        unit_id = self.resolve(unit, known_at=known_at)
        return history(self._timeline(known_at), unit_id)

    def log(self, *, known_at: datetime | None = None) -> list[LogEntry]:
        """Change sets in force, in effective order (same date: in recording order)."""
        timeline = self._timeline(known_at)
        values = [timeline.magnitudes.get(r.id, 0.0) for r in timeline.records]
        since = largest_since([r.id for r in timeline.records], values)
        return [
            LogEntry(r, value, previous)
            for r, value, previous in zip(timeline.records, values, since, strict=True)
        ]

    def changeset(self, changeset: str, *, known_at: datetime | None = None) -> ChangeSetView:
        """A recorded change set in force: its content, what it changed, its magnitude."""
        timeline = self._timeline(known_at)
        record = next((r for r in timeline.records if r.id == changeset), None)
        if record is None:
            raise UnknownChangeSetError(f"no change set '{changeset}' in force in the ledger")
        entry = next(e for e in self.log(known_at=known_at) if e.record.id == changeset)
        return ChangeSetView(entry, record.changeset, timeline.effect(record))

    def magnitude(self, changeset: str, *, known_at: datetime | None = None) -> Explanation:
        """A change set's magnitude, with every unit that counted and why."""
        return explain(self._timeline(known_at), changeset)

    def find(
        self, text: str, *, known_at: datetime | None = None, limit: int | None = None
    ) -> list[Match]:
        """Units whose id, abbreviation or any name contains `text` (at most `limit`)."""
        return self.vocabulary(known_at).find(text, limit)

    # -- metrics -------------------------------------------------------------------

    def load_metrics(self, path: str | os.PathLike[str], display: str | None = None) -> int:
        """Check a CSV or JSON metrics file against the ledger and store it whole.

        Returns the number of values stored. Raises MetricsError listing every bad row.
        """
        name = display or str(path)
        rows = read_metrics(path, name)
        vocabulary = self.vocabulary()
        values = check_rows(rows, name, vocabulary.resolve, self.timeline.span)
        self.store.append_metrics(name, values)
        return len(values)

    def metric_values(
        self, metric: str | None = None, *, known_at: datetime | None = None
    ) -> list[MetricValue]:
        """The values in force (the latest load of each key), as known at `known_at`."""
        return current(self.store.metric_values(metric), known_at)

    def unit_metrics(self, unit: str, *, known_at: datetime | None = None) -> dict[str, Json]:
        """Every value in force for a unit, by metric, in time order."""
        unit_id = self.resolve(unit, known_at=known_at)
        return {"unit": unit_id, "metrics": series(self.metric_values(known_at=known_at), unit_id)}

    def metrics(
        self, query: MetricQuery, *, known_at: datetime | None = None, lang: str | None = None
    ) -> MetricTable:
        """Answer a metric question in the structure of the query's date."""
        values = self.metric_values(query.metric, known_at=known_at)
        if not values:
            known = sorted({v.metric for v in self.metric_values(known_at=known_at)})
            hint = f" (loaded: {', '.join(known)})" if known else " (none is loaded)"
            raise UnknownMetricError(f"no values of metric '{query.metric}'{hint}")
        day = query.structure_date
        structure = self.at(day, known_at=known_at)
        if query.unit is not None:
            query = replace(query, unit=self.resolve(query.unit, day, known_at=known_at))
        table = query.answer(values, structure, self._timeline(known_at).lineage)
        latest = self.vocabulary(known_at).latest
        names = {r.unit: latest[r.unit].name(lang) for r in table.rows if r.unit in latest}
        return replace(table, names=names)

    # -- org health and scenarios ------------------------------------------------

    def stats(
        self,
        day: date | None = None,
        *,
        root: str | None = None,
        by: str | None = None,
        known_at: datetime | None = None,
    ) -> Stats:
        """Org health of the structure on `day` (or of `root`'s subtree)."""
        snapshot = self.at(day, known_at=known_at)
        unit = self.subtree_check(snapshot, root) if root else None
        return measure(snapshot, unit, by)

    def stats_series(
        self,
        start: date,
        end: date,
        *,
        root: str | None = None,
        by: str | None = None,
        known_at: datetime | None = None,
    ) -> list[Stats]:
        """Org health on `start`, then after each change set effective up to `end`."""
        timeline = self._timeline(known_at)
        points: dict[date, str | None] = {start: None}
        for record in timeline.changesets_between(start, end):
            points[record.effective] = record.id
        unit = self.resolve(root, end, known_at=known_at) if root else None
        return [
            measure(self.at(day, known_at=known_at), unit, by, changeset)
            for day, changeset in points.items()
        ]

    def scenarios(self) -> dict[str, Scenario]:
        """Every scenario by name, with its status (draft, approved, applied)."""
        return replay_scenarios(self.store.scenario_events(), self.records)

    def scenario(self, name: str) -> Scenario:
        found = self.scenarios()
        if name not in found:
            known = ", ".join(sorted(found)) or "none yet"
            raise ScenarioError(f"no scenario '{name}' (known: {known})")
        return found[name]

    def add_scenario(
        self, name: str, plan: str | os.PathLike[str], actor: str | None = None
    ) -> Scenario:
        """Store a draft plan under `name` after checking it against the ledger as it is.

        Adding a name again replaces its draft and withdraws its approval.
        """
        check_name(name)
        text, fmt = read_plan_text(plan, str(plan))
        self.preview(parse_plan(text, str(plan), fmt))
        held = self.scenarios().get(name)
        if held is not None and held.status == "applied":
            raise ScenarioError(f"scenario '{name}' is applied; give a new one a new name")
        self._scenario_event(name, "add", actor, stored_plan(str(plan), text, fmt))
        return self.scenario(name)

    def simulate_scenario(self, name: str) -> ScenarioOutcome:
        """The structure as if the scenario were applied on its effective date, and the diff."""
        found = self.scenario(name)
        record = found.applied
        if record is not None and record.id in self.timeline.magnitudes:
            # Applied: what its change set did, as recorded.
            timeline = self.timeline
            start, end = timeline.versions_of(record)
            day = record.effective
            before = Snapshot(day, ActiveUnits(timeline.columns, timeline.versions, start))
            after = Snapshot(day, ActiveUnits(timeline.columns, timeline.versions, end))
            touched = [v.unit_id for v in timeline.versions[start:end]]
            magnitude = timeline.magnitudes[record.id]
            return outcome_of(found, before, after, timeline.effect(record), magnitude, touched)
        before = self.at(found.changeset.effective)
        head = self.records[-1].seq if self.records else 0
        return simulate(found, before, self.timeline.forest.spans, head + 1)

    def approve(self, name: str, actor: str | None = None) -> Scenario:
        """Record who approved the scenario's current draft, and when."""
        found = self.scenario(name)
        if found.status != "draft":
            by = f" by {found.approved_by}" if found.approved_by else ""
            raise ScenarioError(f"scenario '{name}' is already {found.status}{by}")
        self._scenario_event(name, "approve", actor, None)
        return self.scenario(name)

    def apply_scenario(self, name: str) -> list[Record]:
        """Record an approved scenario's change set, re-validated against the ledger now."""
        found = self.scenario(name)
        if found.status != "approved":
            hint = f"approve it first: orgledger scenario approve {name}"
            why = hint if found.status == "draft" else "it is applied already"
            raise ScenarioError(f"scenario '{name}' cannot be applied: {why}")
        return self.apply(found.changeset)

    def _scenario_event(self, name: str, action: str, actor: str | None, body: str | None) -> None:
        with self.store.writing():
            events = self.store.scenario_events()
            seq = events[-1].seq if events else 0
            self.store.append_scenario_event(name, action, actor, body, seq)

    # -- access tokens -------------------------------------------------------------

    def tokens(self) -> dict[str, Token]:
        """The active access tokens by name, read again when tokens were added or revoked."""
        seq, found = self._token_state
        events = self.store.token_events(after=seq)
        if events:
            found = replay_tokens(events, dict(found))
            self._token_state = (events[-1].seq, found)
        return found

    def add_token(
        self, name: str, scope: str, under: Sequence[str] = (), actor: str | None = None
    ) -> tuple[Token, str]:
        """Add a token and return it with its secret, which the ledger keeps only hashed."""
        check_token_name(name)
        check_scope(scope, under)
        units = tuple(dict.fromkeys(self.resolve(ref) for ref in under))
        secret = new_secret()
        with self.store.writing():
            if name in self.tokens():
                raise TokenError(f"there is already a token '{name}'; revoke it first")
            self.store.append_token_event(
                name,
                "add",
                actor,
                self._token_state[0],
                scope=scope,
                under=units,
                digest=token_digest(secret),
            )
        return self.tokens()[name], secret

    def revoke_token(self, name: str, actor: str | None = None) -> Token:
        """Revoke an active token: from now on it is refused."""
        with self.store.writing():
            found = self.tokens()
            if name not in found:
                known = ", ".join(sorted(found)) or "none"
                raise TokenError(f"no active token '{name}' (active: {known})")
            self.store.append_token_event(name, "revoke", actor, self._token_state[0])
        return found[name]

    def authenticate(self, secret: str) -> Token | None:
        """The active token whose secret this is, or None."""
        return matching(self.tokens(), secret)

    def check_write(self, token: Token, changeset: ChangeSet) -> None:
        """Refuse (ForbiddenError) a change set the token may not record."""
        if not token.can_write:
            raise ForbiddenError(f"token '{token.name}' may only read")
        if token.under:
            check_subtrees(token, changeset, self.at(changeset.effective))

    # -- snapshots from files ----------------------------------------------------

    def infer_snapshot(
        self,
        table: Table,
        effective: date,
        changeset_id: str | None = None,
        under: str | None = None,
    ) -> tuple[dict[str, Any], Inferred]:
        """The plan that turns the structure on `effective` into the table's, and its ops.

        With `under`, the table is that unit's subtree: only it is compared, and the
        table's units may hang from units around it. Nothing is written; `apply`
        the plan, or write it out for a person to review.
        """
        snapshot = self.at(effective)
        before = dict(snapshot.units)
        if under is not None:
            top = self.subtree_check(snapshot, under)
            before = {unit.id: unit for unit, _ in snapshot.walk(top)}
        after = units_of(table, outside=snapshot.units.keys() - before.keys())
        # A unit of the file that stands elsewhere now moves in; it is not created.
        before.update((uid, snapshot[uid]) for uid in after if uid in snapshot)
        inferred = infer(before, after, None if table.complete else Described.of(table))
        rows = len(table.rows)
        plan: dict[str, Any] = {
            "id": changeset_id or f"import-{effective.isoformat()}",
            "title": f"Structure of {Path(table.name).name} as of {effective.isoformat()}",
            "effective": effective.isoformat(),
            "notes": f"Inferred by orgledger from {table.name} ({rows} row(s)): "
            f"{describe(inferred.counts)}.",
            "ops": list(inferred.ops),
        }
        return plan, inferred

    # -- export and import -------------------------------------------------------

    def export(self) -> Archive:
        """Everything recorded, as one consistent whole (writers wait while it is read)."""
        with self.store.writing():
            return Archive(
                tuple(self.store.records()),
                tuple(self.store.metric_loads()),
                tuple(self.store.scenario_events()),
                tuple(self.store.token_events()),
            )

    def import_(self, archive: Archive, progress: Progress | None = None) -> None:
        """Record an export in this empty ledger, in one transaction: the same head hash.

        The derived tables are computed again from the imported log.
        """
        timeline = Timeline.replay(active(archive.records), progress)
        derived = Derived(
            timeline.versions,
            timeline.edges,
            {r.seq: timeline.magnitudes[r.id] for r in timeline.records},
        )
        with self.store.writing():
            if not self.store.is_empty():
                raise ArchiveError(
                    f"{self.store.display} already holds a ledger; import into an empty one"
                )
            self.store.append(
                list(archive.records),
                derived,
                0,
                checkpoints=_checkpoints_of(timeline),
            )
            self.store.restore(archive.loads, archive.scenario_events, archive.token_events)
        self._load()

    def verify(self) -> Report:
        """Recompute the hash chain and every derived row from the log."""
        records = self.store.records()
        findings = chain_problems(records)
        prev = records[-1].hash if records else ""
        try:
            expected = Timeline.replay(active(records))
        except PlanError as exc:
            findings += [f"the log does not replay: {line}" for line in exc.lines()]
            return Report(len(records), prev, tuple(findings))
        stored = self.store.derived()
        findings += _compare_derived(expected, stored, {r.seq: r.id for r in records})
        for position, units in self.store.checkpoints():
            if units != dict(ActiveUnits(expected.columns, expected.versions, position)):
                findings.append(f"checkpoint at version {position} does not match the log")
        findings += self.store.load_problems()
        return Report(len(records), prev, tuple(findings))


@dataclass(frozen=True)
class _Staged:
    records: list[Record]
    derived: Derived
    in_place: bool
    outcomes: list[Outcome]
    previews: list[Preview]
    rebuild: str | None
    forest: Forest | None = None
    """Appending: the forest the change sets were replayed on (overlay pending if in place)."""
    timeline: Timeline | None = None
    """Rebuilding: the new timeline."""
    checkpoints: list[tuple[int, Iterable[Unit]]] = field(default_factory=list)
    """Appending: whole states to store, by position."""

    @property
    def head(self) -> dict[str, Unit]:
        """The units in effect after the appended change sets."""
        assert self.forest is not None
        units = dict(self.forest.units)
        for unit_id, unit in self.forest.overlay().items():
            if unit is None:
                units.pop(unit_id, None)
            else:
                units[unit_id] = unit
        return units


def _checkpoints_of(timeline: Timeline) -> list[tuple[int, Iterable[Unit]]]:
    total, every = len(timeline.versions), _spacing(len(timeline.forest.units))
    return [
        (position, ActiveUnits(timeline.columns, timeline.versions, position).values())
        for position in (*range(every, total, every), total)
    ]


def _spacing(units: int) -> int:
    """Versions between checkpoints: a cold read replays at most this many after one.

    Half the active units keeps that replay cheaper than decoding the checkpoint,
    while the stored states stay within a small multiple of the history's size.
    """
    return max(CHECKPOINT_EVERY, units // 2)


def _where(problem: Problem) -> str:
    op = f"op {problem.op} ({problem.op_kind}): " if problem.op is not None else ""
    return f"{op}{problem.message}"


def _changesets(plans: Sequence[PlanLike]) -> list[ChangeSet]:
    changesets: list[ChangeSet] = []
    problems: list[Problem] = []
    for plan in plans:
        try:
            if isinstance(plan, ChangeSet):
                changesets.append(plan)
            elif isinstance(plan, Mapping):
                changesets.append(from_mapping(plan))
            else:
                changesets.append(read_plan(Path(plan), str(plan)))
        except PlanError as exc:
            problems += exc.problems
    if problems:
        raise PlanError(problems)
    return changesets


def _compare_derived(expected: Timeline, stored: Derived, ids: Mapping[int, str]) -> list[str]:
    findings: list[str] = []
    pairs = zip(expected.versions, stored.versions, strict=False)
    for index, (want, have) in enumerate(pairs):
        if want != have:
            seq = have.seq if have.seq in ids else want.seq
            findings.append(
                f"derived version {index} of unit '{have.unit_id}' does not match "
                f"the log (change set '{ids.get(seq, seq)}')"
            )
            break
    if len(expected.versions) != len(stored.versions):
        first = min(len(expected.versions), len(stored.versions))
        extra = (stored.versions if first < len(stored.versions) else expected.versions)[first]
        findings.append(
            f"derived versions: {len(stored.versions)} stored, "
            f"{len(expected.versions)} expected from the log "
            f"(from change set '{ids.get(extra.seq, extra.seq)}')"
        )
    if expected.edges != stored.edges:
        edge_pairs = enumerate(zip(expected.edges, stored.edges, strict=False))
        at = next(
            (i for i, (want_edge, have_edge) in edge_pairs if want_edge != have_edge),
            min(len(expected.edges), len(stored.edges)),
        )
        edge = (stored.edges if at < len(stored.edges) else expected.edges)[at]
        findings.append(
            f"derived lineage edge {at} ({edge.src} -> {edge.dst}) does not match the log "
            f"(change set '{edge.changeset}'); {len(stored.edges)} stored, "
            f"{len(expected.edges)} expected"
        )
    want_magnitudes = {r.seq: expected.magnitudes[r.id] for r in expected.records}
    for seq, value in want_magnitudes.items():
        if abs(stored.magnitudes.get(seq, -1.0) - value) > 1e-9:
            findings.append(
                f"derived magnitude of change set '{ids.get(seq, seq)}' does not match the log"
            )
    return findings


def parse_timestamp(text: str) -> datetime:
    """An ISO timestamp; without a zone it is taken as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
