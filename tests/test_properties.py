"""Property tests: random valid histories against the ledger's contract (see DESIGN.md)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from orgledger import Ledger, PlanError, Snapshot
from orgledger.changeset import ChangeSet
from orgledger.diff import plan_between
from orgledger.plan import dump_plan, from_mapping
from strategies import (
    History,
    LinkedHistory,
    histories,
    linked_histories,
    recording_orders,
    reweighted_histories,
)

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

States = dict[str, str]
"""Unit id -> its full state as canonical JSON (so that 1, 1.0 and True differ)."""


SHM = Path("/dev/shm")
SCRATCH = str(SHM) if SHM.is_dir() and os.access(SHM, os.W_OK) else None
"""Per-example ledgers go to memory where possible: the examples are many, fsync is slow."""


@contextmanager
def scratch() -> Iterator[Path]:
    """A directory for one example's ledgers (fixtures are shared across examples)."""
    with tempfile.TemporaryDirectory(prefix="orgledger-prop-", dir=SCRATCH) as tmp:
        yield Path(tmp)


def states(snapshot: Snapshot) -> States:
    return {
        uid: json.dumps(unit.state(), sort_keys=True, ensure_ascii=False)
        for uid, unit in snapshot.units.items()
    }


def lineages(ledger: Ledger, history: History) -> dict[str, object]:
    """Every unit's lineage (predecessors and successors) as JSON."""
    return {uid: ledger.lineage(uid).to_json() for uid in sorted(history.ids)}


def show(history: History) -> None:
    """Put the history on the failure report, as plan files."""
    for cs in history.changesets:
        note(dump_plan(cs))


def record_in_order(ledger: Ledger, changesets: tuple[ChangeSet, ...]) -> None:
    for cs in changesets:
        ledger.apply(cs)


def safe_path(snapshot: Snapshot, unit: str) -> list[str]:
    """Ids from the unit up to its root; fails instead of looping on a cycle."""
    chain: list[str] = []
    current: str | None = unit
    while current is not None:
        assert current not in chain, f"cycle through {current!r}: {chain}"
        assert current in snapshot, f"{chain[-1]!r} has parent {current!r}, not active"
        chain.append(current)
        current = snapshot[current].parent
    return chain


@PROPERTY
@given(histories())
def test_random_valid_histories_keep_the_forest_invariants(history: History) -> None:
    show(history)
    with scratch() as tmp, Ledger.init(tmp / "a.db") as ledger:
        record_in_order(ledger, history.changesets)
        for day in history.days():
            snapshot = ledger.at(day)
            for uid, unit in snapshot.units.items():
                assert unit.id == uid
                assert unit.parent is None or unit.parent in snapshot
                chain = safe_path(snapshot, uid)
                assert snapshot.path(uid) == tuple(reversed(chain))
            walked = [unit.id for unit, _ in snapshot.walk()]
            assert sorted(walked) == sorted(snapshot.units), f"walk on {day}"
            assert len(walked) == len(set(walked))
        report = ledger.verify()
        assert report.ok, report.findings


@PROPERTY
@given(histories())
def test_ledger_structure_matches_the_simulated_model(history: History) -> None:
    show(history)
    with scratch() as tmp, Ledger.init(tmp / "a.db") as ledger:
        record_in_order(ledger, history.changesets)
        for cs, parents in zip(history.changesets, history.states, strict=True):
            snapshot = ledger.at(cs.effective)
            assert {u.id: u.parent for u in snapshot.units.values()} == parents, cs.id


@PROPERTY
@given(histories())
def test_replaying_the_log_equals_the_step_by_step_state(history: History) -> None:
    show(history)
    with scratch() as tmp:
        with Ledger.init(tmp / "a.db") as stepwise:
            record_in_order(stepwise, history.changesets)
            expected = {day: states(stepwise.at(day)) for day in history.days()}
            lineage = lineages(stepwise, history)
            head = stepwise.store.head()
        with Ledger.init(tmp / "b.db") as batch:
            batch.apply(*history.changesets)
            for day, want in expected.items():
                assert states(batch.at(day)) == want, f"one apply call, on {day}"
            assert lineages(batch, history) == lineage
        with Ledger.open(tmp / "a.db") as reopened:
            assert reopened.store.head() == head
            for day, want in expected.items():
                assert states(reopened.at(day)) == want, f"re-opened, on {day}"
            assert lineages(reopened, history) == lineage
            assert reopened.verify().ok


@PROPERTY
@given(st.data())
def test_recording_order_does_not_matter(data: st.DataObject) -> None:
    history = data.draw(histories(), label="history")
    show(history)
    order = data.draw(recording_orders(history), label="order")
    note(f"recording order: {[cs.id for cs in order]}")
    with scratch() as tmp:
        with Ledger.init(tmp / "dated.db") as dated:
            record_in_order(dated, history.changesets)
            expected = {day: states(dated.at(day)) for day in history.days()}
            lineage = lineages(dated, history)
        with Ledger.init(tmp / "shuffled.db") as shuffled:
            pending = list(order)
            rounds = 0
            while pending:
                rounds += 1
                refused: list[ChangeSet] = []
                for cs in pending:
                    head = shuffled.store.head()
                    try:
                        shuffled.apply(cs)
                    except PlanError:
                        assert shuffled.store.head() == head, "a refused change set was written"
                        refused.append(cs)
                if refused and len(refused) == len(pending):
                    # None of them can be recorded alone (see
                    # test_one_at_a_time_back_dating_can_deadlock): together they must be.
                    event("stuck one at a time; the rest recorded in one call")
                    recorded = [entry.record.id for entry in shuffled.log()]
                    note(f"stuck with {[cs.id for cs in refused]} after {recorded}")
                    shuffled.apply(*refused)
                    refused = []
                pending = refused
            event(f"recorded in {rounds} round(s)")
            for day, want in expected.items():
                assert states(shuffled.at(day)) == want, f"on {day}"
            assert lineages(shuffled, history) == lineage
            assert shuffled.verify().ok


@PROPERTY
@given(histories())
def test_lineage_shares_of_every_ended_unit_sum_to_one(history: History) -> None:
    show(history)
    with scratch() as tmp, Ledger.init(tmp / "a.db") as ledger:
        record_in_order(ledger, history.changesets)
        ended = history.ids - set(ledger.at(history.days()[-1]).units)
        for uid in sorted(ended):
            outgoing = [e for e in ledger.lineage(uid).successors if e.src == uid]
            for edge in outgoing:
                assert 0.0 <= edge.share <= 1.0, edge
                assert edge.dst != uid, edge
            if outgoing:
                total = sum(e.share for e in outgoing)
                assert abs(total - 1.0) <= 1e-9, (uid, [(e.dst, e.share) for e in outgoing])


@PROPERTY
@given(st.data())
def test_diff_lists_the_set_differences_and_parent_changes(data: st.DataObject) -> None:
    history = data.draw(histories(), label="history")
    show(history)
    days = history.days()
    first = data.draw(st.integers(0, len(days) - 2), label="d1")
    second = data.draw(st.integers(first + 1, len(days) - 1), label="d2")
    d1, d2 = days[first], days[second]
    with scratch() as tmp, Ledger.init(tmp / "a.db") as ledger:
        record_in_order(ledger, history.changesets)
        before, after = ledger.at(d1), ledger.at(d2)
        diff = ledger.diff(d1, d2)
        old, new = set(before.units), set(after.units)
        assert {u.id for u in diff.added} == new - old
        assert {u.id for u in diff.removed} == old - new
        moved = {
            (uid, before[uid].parent, after[uid].parent)
            for uid in old & new
            if before[uid].parent != after[uid].parent
        }
        assert set(diff.moved) == moved
        assert list(diff.changesets) == [
            cs.id for cs in history.changesets if d1 < cs.effective <= d2
        ]


def test_one_at_a_time_back_dating_can_deadlock() -> None:
    """Two missing change sets that can only be recorded together, not one after the other.

    c2 alone breaks c4 (b under a, then a under b); c3 alone needs d, which c2 creates.
    Every change set is valid in the full history, so this is the design's one-at-a-time
    re-validation, not a broken history: recording both in one call works.
    """
    unit = {"kind": "team", "names": {"en": "x"}}
    c1 = from_mapping(
        {
            "id": "c1",
            "effective": "2020-01-01",
            "ops": [{"create": u, "parent": None, **unit} for u in ("a", "b", "c")],
        }
    )
    c2 = from_mapping(
        {
            "id": "c2",
            "effective": "2020-02-01",
            "ops": [{"create": "d", "parent": None, **unit}, {"move": "b", "to": "a"}],
        }
    )
    c3 = from_mapping({"id": "c3", "effective": "2020-03-01", "ops": [{"move": "b", "to": "d"}]})
    c4 = from_mapping({"id": "c4", "effective": "2020-04-01", "ops": [{"move": "a", "to": "b"}]})
    with scratch() as tmp:
        with Ledger.init(tmp / "dated.db") as dated:
            dated.apply(c1, c2, c3, c4)
            want = states(dated.at(c4.effective))
        with Ledger.init(tmp / "shuffled.db") as shuffled:
            shuffled.apply(c1)
            shuffled.apply(c4)
            for alone, code in ((c2, "breaks-later"), (c3, "unknown-unit")):
                with pytest.raises(PlanError) as refused:
                    shuffled.apply(alone)
                assert [p.code for p in refused.value.problems] == [code]
            shuffled.apply(c2, c3)
            assert states(shuffled.at(c4.effective)) == want


# -- magnitudes and links ----------------------------------------------------------------------

FEWER = settings(PROPERTY, max_examples=20)
"""For the properties added with links and magnitude explanations: the file stays quick."""


def _latest_at_least(ids: list[str], values: list[float]) -> list[str | None]:
    """For each entry, the latest earlier one whose value is at least as large, by a plain scan."""
    found: list[str | None] = []
    for index, value in enumerate(values):
        earlier = [j for j in range(index) if values[j] >= value - 1e-12]
        found.append(ids[earlier[-1]] if earlier else None)
    return found


@FEWER
@given(reweighted_histories())
def test_explained_magnitudes_equal_the_stored_ones(history: History) -> None:
    show(history)
    with scratch() as tmp:
        with Ledger.init(tmp / "a.db") as ledger:
            record_in_order(ledger, history.changesets)
            entries = ledger.log()
            stored = {e.record.id: e.magnitude for e in entries}
            for entry in entries:
                explanation = ledger.magnitude(entry.record.id)
                assert abs(explanation.magnitude - entry.magnitude) <= 1e-9, entry.record.id
                weights = sum(c.weight for c in explanation.counted)
                assert abs(explanation.counted_weight - weights) <= 1e-9
                counted = [c.unit for c in explanation.counted]
                assert len(counted) == len(set(counted)), counted
                assert explanation.largest_since == entry.largest_since
            ids = [e.record.id for e in entries]
            values = [e.magnitude for e in entries]
            assert [e.largest_since for e in entries] == _latest_at_least(ids, values)
        with Ledger.open(tmp / "a.db") as reopened:
            for entry in reopened.log():
                assert abs(entry.magnitude - stored[entry.record.id]) <= 1e-9
                again = reopened.magnitude(entry.record.id).magnitude
                assert abs(again - entry.magnitude) <= 1e-9


@settings(FEWER, phases=[Phase.explicit, Phase.generate])
@given(reweighted_histories())
def test_magnitudes_lie_between_0_and_1(history: History) -> None:
    """A magnitude is a share: from 0 to 1 (not shrunk, so that a failure stays quick to report)."""
    show(history)
    with scratch() as tmp, Ledger.init(tmp / "a.db") as ledger:
        record_in_order(ledger, history.changesets)
        for entry in ledger.log():
            assert 0.0 <= entry.magnitude <= 1.0, (entry.record.id, entry.magnitude)
            explained = ledger.magnitude(entry.record.id).magnitude
            assert 0.0 <= explained <= 1.0, (entry.record.id, explained)


def _links(snapshot: Snapshot) -> dict[str, frozenset[tuple[str, str]]]:
    return {
        uid: frozenset((k.to, k.type) for k in unit.links)
        for uid, unit in snapshot.units.items()
        if unit.links
    }


def _show_linked(linked: LinkedHistory) -> None:
    show(linked.history)
    for cs, links in zip(linked.history.changesets, linked.links, strict=True):
        note(f"links after {cs.id}: {sorted((h, sorted(p)) for h, p in links.items())}")


@FEWER
@given(linked_histories())
def test_links_follow_the_simulated_model_and_read_back_cold(linked: LinkedHistory) -> None:
    _show_linked(linked)
    history = linked.history
    with scratch() as tmp:
        with Ledger.init(tmp / "a.db") as ledger:
            record_in_order(ledger, history.changesets)
            for cs, parents, links in zip(
                history.changesets, history.states, linked.links, strict=True
            ):
                snapshot = ledger.at(cs.effective)
                assert _links(snapshot) == links, cs.id
                assert {u.id: u.parent for u in snapshot.units.values()} == parents, cs.id
            days = [*history.dates, history.days()[-1]]
            expected = {day: states(ledger.at(day)) for day in days}
            assert ledger.verify().ok
        for day, want in expected.items():
            with Ledger.open(tmp / "a.db") as cold:
                assert states(cold.at(day)) == want, f"cold read on {day}"


@settings(FEWER, max_examples=60)
@given(st.data())
def test_plan_between_two_dates_turns_one_state_into_the_other(data: st.DataObject) -> None:
    """Also with links: the histories link and unlink units (or not) as they go."""
    linked = data.draw(linked_histories(), label="history")
    _show_linked(linked)
    history = linked.history
    days = history.days()
    first = data.draw(st.integers(0, len(days) - 2), label="d1")
    second = data.draw(st.integers(first + 1, len(days) - 1), label="d2")
    d1, d2 = days[first], days[second]
    with scratch() as tmp:
        with Ledger.init(tmp / "a.db") as original:
            record_in_order(original, history.changesets)
            before, after = original.at(d1), original.at(d2)
        with Ledger.init(tmp / "c.db") as rebuilt:
            base = plan_between(Snapshot(d1, {}), before, "base", d1)
            step = plan_between(before, after, "step", d2)
            note(dump_plan(base))
            note(dump_plan(step))
            event(f"links before: {bool(_links(before))}, after: {bool(_links(after))}")
            for cs in (base, step):
                if cs.ops:
                    rebuilt.apply(cs)
            assert states(rebuilt.at(d1)) == states(before)
            assert states(rebuilt.at(d2)) == states(after)
            assert _links(rebuilt.at(d2)) == _links(after)
            assert rebuilt.verify().ok
