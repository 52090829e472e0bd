"""Magnitude: the weighted share of units a change set touched, and which earlier one was as large.

The forest of ten units (each of weight 1 unless a test gives headcounts)

    acme
    ├── a ── a1, a2
    ├── b ── b1
    ├── c ── c1, c2
    └── d

is recorded on 2020-01-01; the change set under test takes effect on 2021-01-01.
Expected values are worked out by hand, and where a ledger computes them, checked
against `reference`, which recomputes the formula from the two snapshots alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import pytest
from typer.testing import Result

from orgledger import Ledger, Snapshot
from orgledger.magnitude import largest_since
from outcomes import as_json, fails, ok

Cli = Callable[..., Result]

START = date(2020, 1, 1)
DAY = date(2021, 1, 1)
BEFORE = DAY - timedelta(days=1)


def plan(cs_id: str, effective: date | str, *ops: dict[str, Any], **extra: Any) -> dict[str, Any]:
    effective = effective if isinstance(effective, str) else effective.isoformat()
    return {"id": cs_id, "effective": effective, "ops": list(ops), **extra}


def create(uid: str, parent: str | None, kind: str = "group", **extra: Any) -> dict[str, Any]:
    return {"create": uid, "parent": parent, "kind": kind, "names": {"en": uid.upper()}, **extra}


TREE = {
    "acme": None,
    "a": "acme",
    "a1": "a",
    "a2": "a",
    "b": "acme",
    "b1": "b",
    "c": "acme",
    "c1": "c",
    "c2": "c",
    "d": "acme",
}
BASE = plan("base", START, *(create(uid, parent) for uid, parent in TREE.items()))


@pytest.fixture
def org(ledger: Ledger) -> Ledger:
    ledger.apply(BASE)
    return ledger


def logged(ledger: Ledger, cs_id: str) -> float:
    return next(e.magnitude for e in ledger.log() if e.record.id == cs_id)


def reference(before: Snapshot, after: Snapshot) -> float:
    """The documented formula from two snapshots, assuming no weight changes between them."""
    universe: dict[str, float] = {}
    counted: set[str] = set()
    for uid in set(before.units) | set(after.units):
        unit = after.units.get(uid) or before.units[uid]
        universe[uid] = unit.weight
        created_or_ended = uid not in before.units or uid not in after.units
        if created_or_ended or before.path(uid) != after.path(uid):
            counted.add(uid)
    total = sum(universe.values())
    return sum(universe[u] for u in counted) / total if total else 0.0


def naive_largest_since(ids: Sequence[str], values: Sequence[float]) -> list[str | None]:
    """For each entry, scan back for the latest earlier one at least as large."""
    found: list[str | None] = []
    for index, value in enumerate(values):
        earlier = [j for j in range(index) if values[j] >= value - 1e-12]
        found.append(ids[earlier[-1]] if earlier else None)
    return found


# -- the formula, by hand ----------------------------------------------------------------------

CASES = [
    pytest.param([{"move": "a", "to": "b"}], 3 / 10, id="move-with-two-children"),
    pytest.param([{"move": "a1", "to": "a2"}], 1 / 10, id="move-leaf-under-sibling"),
    pytest.param([{"move": ["a1", "b1"], "to": "d"}], 2 / 10, id="move-two-leaves"),
    pytest.param([{"move": "c", "to": None}], 3 / 10, id="move-to-root"),
    pytest.param([{"move": "a", "to": "d"}, {"move": "d", "to": "b"}], 4 / 10, id="move-chain"),
    pytest.param([{"move": "a", "to": "b"}, {"move": "a", "to": "acme"}], 0.0, id="move-and-back"),
    pytest.param([create("e", "acme")], 1 / 11, id="create"),
    pytest.param([create("e", "acme"), create("e1", "e", "team")], 2 / 12, id="create-two"),
    pytest.param([{"merge": ["a"], "into": "b"}], 3 / 10, id="merge-with-children"),
    pytest.param([{"merge": ["a2"], "into": "a1"}], 1 / 10, id="merge-leaf"),
    pytest.param(
        [{"merge": ["a", "c"], "into": create("ac", "acme")}], 7 / 11, id="merge-into-new"
    ),
    pytest.param([{"dissolve": "d"}], 1 / 10, id="dissolve-leaf"),
    pytest.param([{"dissolve": "c"}], 3 / 10, id="dissolve-with-children"),
    pytest.param(
        [
            {
                "split": "c",
                "into": [{"to": "a", "children": ["c1"]}, {"to": "b", "children": ["c2"]}],
            }
        ],
        3 / 10,
        id="split",
    ),
    pytest.param(
        [{"move": "a", "to": "b"}, {"move": "a1", "to": "c"}], 3 / 10, id="moved-then-moved-out"
    ),
    pytest.param(
        [create("x", "acme"), {"merge": ["x"], "into": "b"}, {"move": "d", "to": "b"}],
        1 / 10,
        id="created-and-ended-counts-nowhere",
    ),
    pytest.param(
        [create("x", "d"), {"move": "a", "to": "x"}, {"dissolve": "x"}],
        3 / 10,
        id="created-and-ended-parent",
    ),
    pytest.param([{"rename": "a", "names": {"en": "Alpha"}, "abbr": "AL"}], 0.0, id="rename"),
    pytest.param(
        [{"set": "a", "kind": "division", "attrs": {"site": "x", "headcount": 7}}], 0.0, id="set"
    ),
    pytest.param([{"link": "a", "to": "b"}, {"link": "b", "to": "a", "type": "x"}], 0.0, id="link"),
]


@pytest.mark.parametrize(("ops", "expected"), CASES)
def test_magnitude_of_a_change_set_by_hand(
    org: Ledger, ops: list[dict[str, Any]], expected: float
) -> None:
    org.apply(plan("reorg", DAY, *ops))
    assert logged(org, "reorg") == pytest.approx(expected)
    explanation = org.magnitude("reorg")
    assert explanation.magnitude == pytest.approx(expected)
    assert explanation.counted_weight / explanation.universe == pytest.approx(expected)
    assert explanation.counted_weight == pytest.approx(sum(c.weight for c in explanation.counted))
    assert reference(org.at(BEFORE), org.at(DAY)) == pytest.approx(expected)


def test_a_move_counts_the_unit_and_everything_below_it(org: Ledger) -> None:
    org.apply(plan("reorg", DAY, {"move": "a", "to": "b"}))
    explanation = org.magnitude("reorg")
    assert {(c.unit, c.why, c.weight, c.before, c.after) for c in explanation.counted} == {
        ("a", "moved", 1.0, ("acme", "a"), ("acme", "b", "a")),
        ("a1", "moved-with", 1.0, ("acme", "a", "a1"), ("acme", "b", "a", "a1")),
        ("a2", "moved-with", 1.0, ("acme", "a", "a2"), ("acme", "b", "a", "a2")),
    }
    assert explanation.counted_weight == 3
    assert explanation.universe == 10
    assert explanation.units_before == 10
    assert explanation.units_after == 10
    assert explanation.magnitude == pytest.approx(0.3)
    assert explanation.record.id == "reorg"
    assert explanation.largest_since == "base"


def test_a_unit_moved_on_its_own_after_its_parent_moved_counts_as_moved(org: Ledger) -> None:
    org.apply(plan("reorg", DAY, {"move": "a", "to": "b"}, {"move": "a1", "to": "c"}))
    why = {c.unit: c.why for c in org.magnitude("reorg").counted}
    assert why == {"a": "moved", "a1": "moved", "a2": "moved-with"}


def test_a_merge_into_a_new_unit_counts_created_ended_and_moved(org: Ledger) -> None:
    org.apply(plan("reorg", DAY, {"merge": ["a", "c"], "into": create("ac", "acme")}))
    explanation = org.magnitude("reorg")
    assert {(c.unit, c.why) for c in explanation.counted} == {
        ("ac", "created"),
        ("a", "ended"),
        ("c", "ended"),
        ("a1", "moved"),
        ("a2", "moved"),
        ("c1", "moved"),
        ("c2", "moved"),
    }
    by_unit = {c.unit: c for c in explanation.counted}
    assert by_unit["ac"].before == ()
    assert by_unit["ac"].after == ("acme", "ac")
    assert by_unit["a"].before == ("acme", "a")
    assert by_unit["a"].after == ()
    assert by_unit["c1"].after == ("acme", "ac", "c1")
    assert explanation.universe == 11
    assert explanation.units_before == 10
    assert explanation.units_after == 9
    assert explanation.magnitude == pytest.approx(7 / 11) == logged(org, "reorg")


def test_a_unit_created_and_ended_in_the_same_change_set_is_not_counted(org: Ledger) -> None:
    ops = [create("x", "acme"), {"merge": ["x"], "into": "b"}, {"move": "d", "to": "b"}]
    org.apply(plan("reorg", DAY, *ops))
    explanation = org.magnitude("reorg")
    assert [c.unit for c in explanation.counted] == ["d"]
    assert explanation.universe == 10


# -- weights -----------------------------------------------------------------------------------


@pytest.fixture
def weighted(ledger: Ledger) -> Ledger:
    headcounts = {"a": 4, "a1": 3, "a2": 0, "b": 2, "c": 10}
    ops = []
    for uid, parent in TREE.items():
        extra = {"attrs": {"headcount": headcounts[uid]}} if uid in headcounts else {}
        ops.append(create(uid, parent, **extra))
    ledger.apply(plan("base", START, *ops))
    return ledger


# Weights: acme 1, a 4, a1 3, a2 0, b 2, b1 1, c 10, c1 1, c2 1, d 1: 24 in all.
WEIGHTED = [
    pytest.param([{"move": "a", "to": "b"}], (4 + 3 + 0) / 24, id="move-subtree"),
    pytest.param([{"move": "a2", "to": "b"}], 0.0, id="move-weightless"),
    pytest.param([{"dissolve": "c"}], (10 + 1 + 1) / 24, id="dissolve"),
    pytest.param([create("e", "acme", attrs={"headcount": 6})], 6 / 30, id="create-weighted"),
    pytest.param([create("e", "acme")], 1 / 25, id="create-unweighted"),
    pytest.param(
        [{"move": "a", "to": "b"}, {"dissolve": "b1"}], (4 + 3 + 0 + 1) / 24, id="move-and-dissolve"
    ),
]


@pytest.mark.parametrize(("ops", "expected"), WEIGHTED)
def test_magnitude_is_weighted_by_headcount(
    weighted: Ledger, ops: list[dict[str, Any]], expected: float
) -> None:
    weighted.apply(plan("reorg", DAY, *ops))
    assert logged(weighted, "reorg") == pytest.approx(expected)
    explanation = weighted.magnitude("reorg")
    assert explanation.magnitude == pytest.approx(expected)
    assert explanation.universe == pytest.approx(
        sum(u.weight for u in weighted.at(DAY).units.values())
        + sum(c.weight for c in explanation.counted if c.why == "ended")
    )
    assert reference(weighted.at(BEFORE), weighted.at(DAY)) == pytest.approx(expected)


def test_explanation_gives_each_units_weight(weighted: Ledger) -> None:
    weighted.apply(plan("reorg", DAY, {"move": "a", "to": "b"}))
    explanation = weighted.magnitude("reorg")
    assert {c.unit: c.weight for c in explanation.counted} == {"a": 4, "a1": 3, "a2": 0}
    assert explanation.counted_weight == 7
    assert explanation.universe == 24


def test_magnitude_stays_within_0_and_1_when_a_moved_unit_gains_headcount(org: Ledger) -> None:
    """The docs: a magnitude runs "from 0 to 1", whatever the change set does to weights."""
    ops = [{"set": "a1", "attrs": {"headcount": 1000}}, {"move": "a1", "to": "b"}]
    org.apply(plan("grow", DAY, *ops))
    assert 0.0 <= logged(org, "grow") <= 1.0
    assert 0.0 <= org.magnitude("grow").magnitude <= 1.0


@pytest.mark.parametrize("how", ["one-by-one", "in-a-batch", "back-dated", "reopened"])
def test_stored_and_explained_magnitudes_agree_however_recorded(
    ledger: Ledger, db: str, how: str
) -> None:
    reorg = plan("reorg", DAY, {"merge": ["a"], "into": "b"}, create("e", "c"))
    later = plan("later", date(2022, 1, 1), {"move": "c", "to": "d"})
    if how == "in-a-batch":
        ledger.apply(BASE, reorg, later)
    elif how == "back-dated":
        ledger.apply(BASE, later)
        ledger.apply(reorg)
    else:
        for cs in (BASE, reorg, later):
            ledger.apply(cs)
    # reorg: a ended, a1 and a2 moved, e created: 4 / 11
    # later: c moved with c1, c2 and e under it: 4 / 10 (a has ended, e exists)
    expected = {"base": 1.0, "reorg": 4 / 11, "later": 4 / 10}
    if how == "reopened":
        with Ledger.open(db) as reopened:
            entries = reopened.log()
            explained = {e.record.id: reopened.magnitude(e.record.id).magnitude for e in entries}
    else:
        entries = ledger.log()
        explained = {e.record.id: ledger.magnitude(e.record.id).magnitude for e in entries}
    assert {e.record.id: e.magnitude for e in entries} == pytest.approx(expected)
    assert explained == pytest.approx(expected)


# -- largest since ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([], [], id="empty"),
        pytest.param([0.4], [None], id="one"),
        pytest.param([0.1, 0.2, 0.3], [None, None, None], id="growing"),
        pytest.param([0.3, 0.2, 0.1], [None, "c0", "c1"], id="shrinking"),
        pytest.param([0.5, 0.5, 0.5], [None, "c0", "c1"], id="ties-take-the-latest"),
        pytest.param(
            [0.2, 0.5, 0.3, 0.5, 0.1, 0.6, 0.0],
            [None, None, "c1", "c1", "c3", None, "c5"],
            id="mixed-with-ties",
        ),
        pytest.param([0.9, 0.1, 0.2, 0.3, 0.4], [None, "c0", "c0", "c0", "c0"], id="one-giant"),
        pytest.param([0.0, 0.0], [None, "c0"], id="zeros-tie"),
        pytest.param([0.1 + 0.2, 0.3], [None, "c0"], id="rounding-tie"),
        pytest.param([0.3, 0.1 + 0.2], [None, "c0"], id="rounding-tie-other-way"),
    ],
)
def test_largest_since_is_the_latest_earlier_entry_at_least_as_large(
    values: list[float], expected: list[str | None]
) -> None:
    ids = [f"c{k}" for k in range(len(values))]
    assert largest_since(ids, values) == expected
    assert naive_largest_since(ids, values) == expected


def test_log_entries_carry_largest_since_consistent_with_their_magnitudes(org: Ledger) -> None:
    days = [DAY + timedelta(days=k) for k in range(4)]
    org.apply(
        plan("big", days[0], {"move": "a", "to": "b"}),
        plan("small", days[1], {"move": "d", "to": "c"}),
        plan("tie", days[2], {"move": "a", "to": "c"}),
        plan("zero", days[3], {"rename": "b", "names": {"en": "Bee"}}),
    )
    entries = org.log()
    ids = [e.record.id for e in entries]
    values = [e.magnitude for e in entries]
    assert values == pytest.approx([1.0, 0.3, 0.1, 0.3, 0.0])
    assert [e.largest_since for e in entries] == [None, "base", "big", "big", "tie"]
    assert [e.largest_since for e in entries] == naive_largest_since(ids, values)
    for entry in entries:
        assert org.magnitude(entry.record.id).largest_since == entry.largest_since


# -- the command line ------------------------------------------------------------------------


@pytest.fixture
def org_db(db: str) -> str:
    with Ledger.open(db) as ledger:
        ledger.apply(BASE, plan("reorg", DAY, {"merge": ["a"], "into": "b"}, create("e", "c")))
    return db


def test_log_json_has_largest_since_for_every_entry(cli: Cli, org_db: str) -> None:
    entries = as_json(cli("log", "-f", "json", "--db", org_db))
    assert [e["id"] for e in entries] == ["base", "reorg"]
    assert [e["largest_since"] for e in entries] == [None, "base"]
    assert entries[1]["magnitude"] == pytest.approx(4 / 11, abs=1e-6)


def test_magnitude_command_lists_the_counted_units_and_why(cli: Cli, org_db: str) -> None:
    out = ok(cli("magnitude", "reorg", "--db", org_db)).stdout
    assert "reorg" in out
    assert "0.3636" in out
    rows = {
        line.split()[1]: line
        for line in out.splitlines()
        if line.startswith("│") and len(line.split()) > 2
    }
    assert "ended" in rows["a"]
    assert "created" in rows["e"]
    assert "moved" in rows["a1"]
    assert "moved" in rows["a2"]
    assert "b1" not in rows
    assert "base" in out  # largest since


def test_magnitude_command_json(cli: Cli, org_db: str) -> None:
    data = as_json(cli("magnitude", "reorg", "-f", "json", "--db", org_db))
    assert data["id"] == "reorg"
    assert data["effective"] == "2021-01-01"
    assert data["magnitude"] == pytest.approx(4 / 11, abs=1e-6)
    assert data["largest_since"] == "base"
    assert data["counted_weight"] == 4
    assert data["universe"] == 11
    assert data["units_before"] == 10
    assert data["units_after"] == 10
    counted = {c["unit"]: c for c in data["counted"]}
    assert {u: c["why"] for u, c in counted.items()} == {
        "e": "created",
        "a": "ended",
        "a1": "moved",
        "a2": "moved",
    }
    assert counted["a1"]["before"] == ["acme", "a", "a1"]
    assert counted["a1"]["after"] == ["acme", "b", "a1"]
    assert counted["a"]["after"] == []
    assert counted["e"]["before"] == []
    assert counted["e"]["weight"] == 1


def test_magnitude_of_an_unknown_change_set_is_refused(cli: Cli, org_db: str) -> None:
    result = fails(cli("magnitude", "no-such", "--db", org_db), 1)
    assert result.stderr.strip().endswith("[unknown-changeset]")
    assert "no-such" in result.stderr
    assert result.stdout == ""


# -- the Tencent example -------------------------------------------------------------------------


def test_the_930_upgrade_is_the_largest_since_2012(cli: Cli, tencent_db: str) -> None:
    entries = as_json(cli("log", "-f", "json", "--db", tencent_db))
    ids = [e["id"] for e in entries]
    values = {e["id"]: e["magnitude"] for e in entries}
    upgrade = ids.index("tencent-2018-09-30")
    since = ids.index("tencent-2012-05-18")
    assert values["tencent-2012-05-18"] >= values["tencent-2018-09-30"]
    assert all(values[i] < values["tencent-2018-09-30"] for i in ids[since + 1 : upgrade])
    assert entries[upgrade]["largest_since"] == "tencent-2012-05-18"
    for entry, expected in zip(
        entries, naive_largest_since(ids, list(values.values())), strict=True
    ):
        assert entry["largest_since"] == expected


def test_the_930_upgrade_explained(tencent: Ledger) -> None:
    explanation = tencent.magnitude("tencent-2018-09-30")
    why = {c.unit: c.why for c in explanation.counted}
    assert {"csig", "pcg"} <= {u for u, w in why.items() if w == "created"}
    assert {"mig", "sng", "omg"} <= {u for u, w in why.items() if w == "ended"}
    assert why["tencent-cloud"] == "moved"
    assert "omg-ads" not in why  # created and merged into AMS within the change set
    before, after = tencent.at(date(2018, 9, 29)), tencent.at(date(2018, 9, 30))
    assert explanation.magnitude == pytest.approx(reference(before, after))
    assert explanation.magnitude == pytest.approx(logged(tencent, "tencent-2018-09-30"))
    assert explanation.largest_since == "tencent-2012-05-18"
    assert explanation.units_before == len(before)
    assert explanation.units_after == len(after)
