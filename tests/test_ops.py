"""The seven operations and the ledger's time semantics, through the Python API.

Expected values are worked out by hand from docs in DESIGN.md (and, for magnitude,
from the formula documented in `replay.magnitude`): a small organization

    acme (company)
    ├── a (group) ── a1, a2 (teams)
    └── b (group) ── b1 (team)

is recorded on 2020-01-01, and reorganizations take effect on 2021-01-01.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from orgledger import Ledger, PlanError, Snapshot

START = date(2020, 1, 1)
DAY = date(2021, 1, 1)
BEFORE = DAY - timedelta(days=1)


def plan(cs_id: str, effective: date | str, *ops: dict[str, Any], **extra: Any) -> dict[str, Any]:
    effective = effective if isinstance(effective, str) else effective.isoformat()
    return {"id": cs_id, "effective": effective, "ops": list(ops), **extra}


def create(uid: str, parent: str | None, kind: str = "group", **extra: Any) -> dict[str, Any]:
    return {"create": uid, "parent": parent, "kind": kind, "names": {"en": uid.upper()}, **extra}


BASE = plan(
    "base",
    START,
    create("acme", None, "company"),
    create("a", "acme"),
    create("a1", "a", "team"),
    create("a2", "a", "team"),
    create("b", "acme"),
    create("b1", "b", "team"),
)


@pytest.fixture
def org(ledger: Ledger) -> Ledger:
    ledger.apply(BASE)
    return ledger


def parents(snapshot: Snapshot) -> dict[str, str | None]:
    return {uid: unit.parent for uid, unit in snapshot.units.items()}


def successors(ledger: Ledger, uid: str) -> dict[str, float]:
    """Direct lineage edges out of `uid`: successor -> share."""
    return {e.dst: e.share for e in ledger.lineage(uid).successors if e.src == uid}


def edge_kinds(ledger: Ledger, uid: str) -> set[str]:
    return {e.kind for e in ledger.lineage(uid).successors if e.src == uid}


def magnitude(ledger: Ledger, cs_id: str) -> float:
    return next(e.magnitude for e in ledger.log() if e.record.id == cs_id)


def refused(ledger: Ledger, *plans: Any) -> PlanError:
    with pytest.raises(PlanError) as caught:
        ledger.apply(*plans)
    return caught.value


# -- create ----------------------------------------------------------------------------------


def test_create_adds_a_unit_with_its_properties_from_its_effective_date(org: Ledger) -> None:
    new = {
        "create": "c",
        "parent": "acme",
        "kind": "department",
        "names": {"en": "Cloud", "zh": "云"},
        "abbr": "CLD",
        "attrs": {"headcount": 12, "site": "Shenzhen", "listed": False},
    }
    org.apply(plan("add-c", DAY, new))
    unit = org.at(DAY)["c"]
    assert unit.parent == "acme"
    assert unit.kind == "department"
    assert dict(unit.names) == {"en": "Cloud", "zh": "云"}
    assert unit.abbr == "CLD"
    assert dict(unit.attrs) == {"headcount": 12, "site": "Shenzhen", "listed": False}
    assert "c" not in org.at(BEFORE)
    assert org.at(DAY).children("acme") == ("a", "b", "c")


def test_create_with_null_parent_makes_a_new_root(org: Ledger) -> None:
    org.apply(plan("segments", DAY, create("segments", None, "segment")))
    assert org.at(DAY).roots() == ("acme", "segments")
    assert org.at(BEFORE).roots() == ("acme",)


# -- rename ----------------------------------------------------------------------------------


def test_rename_merges_names_and_null_removes_a_language(org: Ledger) -> None:
    org.apply(plan("zh", DAY, {"rename": "a", "names": {"zh": "甲", "de": "Ah"}}))
    later = DAY + timedelta(days=10)
    org.apply(plan("rename", later, {"rename": "a", "names": {"en": "Alpha", "de": None}}))
    assert dict(org.at(BEFORE)["a"].names) == {"en": "A"}
    assert dict(org.at(DAY)["a"].names) == {"en": "A", "zh": "甲", "de": "Ah"}
    assert dict(org.at(later)["a"].names) == {"en": "Alpha", "zh": "甲"}


def test_rename_sets_and_removes_the_abbreviation_keeping_names(org: Ledger) -> None:
    org.apply(plan("abbr", DAY, {"rename": "a", "abbr": "AG"}))
    later = DAY + timedelta(days=1)
    org.apply(plan("no-abbr", later, {"rename": "a", "abbr": None}))
    assert org.at(BEFORE)["a"].abbr is None
    assert org.at(DAY)["a"].abbr == "AG"
    assert dict(org.at(DAY)["a"].names) == {"en": "A"}
    assert org.at(later)["a"].abbr is None


def test_rename_that_would_remove_every_name_is_refused(org: Ledger) -> None:
    error = refused(org, plan("nameless", DAY, {"rename": "a", "names": {"en": None}}))
    assert [p.code for p in error.problems] == ["no-names"]


# -- set -------------------------------------------------------------------------------------


def test_set_changes_kind_and_merges_attrs_where_null_removes_a_key(org: Ledger) -> None:
    org.apply(plan("attrs", DAY, {"set": "a", "attrs": {"headcount": 10, "site": "sz"}}))
    later = DAY + timedelta(days=1)
    org.apply(
        plan("more", later, {"set": "a", "kind": "division", "attrs": {"site": None, "ok": True}})
    )
    assert dict(org.at(DAY)["a"].attrs) == {"headcount": 10, "site": "sz"}
    assert org.at(DAY)["a"].kind == "group"
    assert dict(org.at(later)["a"].attrs) == {"headcount": 10, "ok": True}
    assert org.at(later)["a"].kind == "division"
    assert dict(org.at(later)["a"].names) == {"en": "A"}


# -- move ------------------------------------------------------------------------------------


def test_move_takes_the_whole_subtree_with_it(org: Ledger) -> None:
    org.apply(plan("move", DAY, {"move": "a", "to": "b"}))
    now = org.at(DAY)
    assert now["a"].parent == "b"
    assert now["a1"].parent == "a"
    assert now.path("a1") == ("acme", "b", "a", "a1")
    assert now.children("b") == ("a", "b1")
    assert org.at(BEFORE).path("a1") == ("acme", "a", "a1")


def test_move_of_a_list_moves_every_unit(org: Ledger) -> None:
    org.apply(plan("move", DAY, {"move": ["a1", "a2"], "to": "b"}))
    now = org.at(DAY)
    assert now.children("b") == ("a1", "a2", "b1")
    assert now.children("a") == ()
    assert "a" in now


def test_move_to_null_makes_a_root(org: Ledger) -> None:
    org.apply(plan("spin-off", DAY, {"move": "b", "to": None}))
    now = org.at(DAY)
    assert now.roots() == ("acme", "b")
    assert now["b"].parent is None
    assert now.path("b1") == ("b", "b1")


# -- merge -----------------------------------------------------------------------------------


def test_merge_moves_children_to_the_target_and_ends_the_sources(org: Ledger) -> None:
    org.apply(plan("merge", DAY, {"merge": ["a"], "into": "b"}))
    now = org.at(DAY)
    assert "a" not in now
    assert now.children("b") == ("a1", "a2", "b1")
    assert "a" in org.at(BEFORE)
    assert successors(org, "a") == {"b": 1.0}
    assert edge_kinds(org, "a") == {"merge"}


def test_merge_into_a_new_unit_creates_it_and_links_every_source(org: Ledger) -> None:
    into = {
        "create": "ab",
        "parent": "acme",
        "kind": "group",
        "names": {"en": "A and B"},
        "abbr": "AB",
    }
    org.apply(plan("merge", DAY, {"merge": ["a", "b"], "into": into}))
    now = org.at(DAY)
    assert parents(now) == {"acme": None, "ab": "acme", "a1": "ab", "a2": "ab", "b1": "ab"}
    assert now["ab"].abbr == "AB"
    assert successors(org, "a") == {"ab": 1.0}
    assert successors(org, "b") == {"ab": 1.0}
    assert {(e.src, e.share) for e in org.lineage("ab").predecessors} == {("a", 1.0), ("b", 1.0)}


# -- split -----------------------------------------------------------------------------------


def test_split_with_explicit_shares(org: Ledger) -> None:
    new_c = {**create("c", "acme"), "children": ["a2"], "share": 0.3}
    org.apply(
        plan(
            "split",
            DAY,
            {"split": "a", "into": [{"to": "b", "children": ["a1"], "share": 0.7}, new_c]},
        )
    )
    now = org.at(DAY)
    assert "a" not in now
    assert now["a1"].parent == "b"
    assert now["a2"].parent == "c"
    assert now["c"].parent == "acme"
    assert successors(org, "a") == pytest.approx({"b": 0.7, "c": 0.3})
    assert edge_kinds(org, "a") == {"split"}


def _add_a3(ledger: Ledger, headcounts: dict[str, int]) -> None:
    ops: list[dict[str, Any]] = [create("a3", "a", "team"), create("c", "acme")]
    ops += [{"set": uid, "attrs": {"headcount": n}} for uid, n in headcounts.items()]
    ledger.apply(plan("prep", DAY - timedelta(days=30), *ops))


@pytest.mark.parametrize(
    ("headcounts", "expected"),
    [
        # no headcount: each child counts 1; b gets a1 (1), c gets a2 and a3 (2)
        ({}, {"b": 1 / 3, "c": 2 / 3}),
        # headcount where present, else 1: b gets 30, c gets 10 + 1
        ({"a1": 30, "a2": 10}, {"b": 30 / 41, "c": 11 / 41}),
    ],
)
def test_split_default_shares_follow_the_weight_of_children_received(
    org: Ledger, headcounts: dict[str, int], expected: dict[str, float]
) -> None:
    _add_a3(org, headcounts)
    into = [{"to": "b", "children": ["a1"]}, {"to": "c", "children": ["a2", "a3"]}]
    org.apply(plan("split", DAY, {"split": "a", "into": into}))
    assert successors(org, "a") == pytest.approx(expected)
    assert org.at(DAY).children("c") == ("a2", "a3")


def test_split_given_share_leaves_the_rest_to_open_targets_by_weight(org: Ledger) -> None:
    _add_a3(org, {})
    ops = [
        create("d", "acme"),
        {
            "split": "a",
            "into": [
                {"to": "b", "children": ["a1"], "share": 0.5},
                {"to": "c", "children": ["a2"]},
            ],
            "rest_to": "d",
        },
    ]
    org.apply(plan("split", DAY, *ops))
    # 0.5 left over, shared by c (a2: 1) and d (a3 via rest_to: 1)
    assert successors(org, "a") == pytest.approx({"b": 0.5, "c": 0.25, "d": 0.25})
    assert org.at(DAY)["a3"].parent == "d"


def test_split_open_targets_without_children_share_the_rest_equally(org: Ledger) -> None:
    ops = [
        create("c", "acme"),
        create("d", "acme"),
        {
            "split": "a",
            "into": [{"to": "b", "children": ["a1", "a2"], "share": 0.4}, {"to": "c"}, {"to": "d"}],
        },
    ]
    org.apply(plan("split", DAY, *ops))
    assert successors(org, "a") == pytest.approx({"b": 0.4, "c": 0.3, "d": 0.3})


def test_split_of_a_childless_unit_shares_equally(org: Ledger) -> None:
    org.apply(plan("split", DAY, {"split": "a1", "into": [{"to": "a2"}, {"to": "b1"}]}))
    assert successors(org, "a1") == pytest.approx({"a2": 0.5, "b1": 0.5})


def test_split_rest_to_receives_unnamed_children_and_a_lineage_edge(org: Ledger) -> None:
    ops = [
        create("c", "acme"),
        {"split": "a", "into": [{"to": "b", "children": ["a1"]}], "rest_to": "c"},
    ]
    org.apply(plan("split", DAY, *ops))
    now = org.at(DAY)
    assert now["a1"].parent == "b"
    assert now["a2"].parent == "c"
    assert successors(org, "a") == pytest.approx({"b": 0.5, "c": 0.5})


def test_split_rest_to_without_children_still_gets_an_edge(org: Ledger) -> None:
    ops = [
        create("c", "acme"),
        {
            "split": "a",
            "into": [{"to": "b", "children": ["a1", "a2"], "share": 1}],
            "rest_to": "c",
        },
    ]
    org.apply(plan("split", DAY, *ops))
    assert successors(org, "a") == pytest.approx({"b": 1.0, "c": 0.0})


# -- dissolve --------------------------------------------------------------------------------


def test_dissolve_sends_children_to_the_parent_by_default(org: Ledger) -> None:
    org.apply(plan("dissolve", DAY, {"dissolve": "a"}))
    now = org.at(DAY)
    assert "a" not in now
    assert now.children("acme") == ("a1", "a2", "b")
    assert successors(org, "a") == {"acme": 1.0}
    assert edge_kinds(org, "a") == {"dissolve"}


def test_dissolve_sends_children_to_children_to(org: Ledger) -> None:
    org.apply(plan("dissolve", DAY, {"dissolve": "a", "children_to": "b"}))
    assert org.at(DAY).children("b") == ("a1", "a2", "b1")
    assert successors(org, "a") == {"b": 1.0}


@pytest.mark.parametrize(
    ("headcounts", "expected"),
    [
        ({}, {"b": 0.5, "acme": 0.5}),
        ({"a1": 3, "a2": 1}, {"b": 0.75, "acme": 0.25}),
    ],
)
def test_dissolve_lineage_counts_children_moved_out_earlier_in_the_change_set(
    org: Ledger, headcounts: dict[str, int], expected: dict[str, float]
) -> None:
    if headcounts:
        ops = [{"set": uid, "attrs": {"headcount": n}} for uid, n in headcounts.items()]
        org.apply(plan("weights", START + timedelta(days=1), *ops))
    org.apply(plan("reorg", DAY, {"move": "a1", "to": "b"}, {"dissolve": "a"}))
    assert successors(org, "a") == pytest.approx(expected)


@pytest.mark.parametrize(
    ("ads", "video", "expected"),
    [
        (None, None, {"ams": 0.5, "pcg": 0.5}),
        (300, 100, {"ams": 0.75, "pcg": 0.25}),
    ],
)
def test_dissolve_counts_a_child_merged_away_earlier_as_received_by_its_successor(
    ledger: Ledger, ads: int | None, video: int | None, expected: dict[str, float]
) -> None:
    def weighted(uid: str, parent: str, headcount: int | None) -> dict[str, Any]:
        op = create(uid, parent, "line")
        if headcount is not None:
            op["attrs"] = {"headcount": headcount}
        return op

    ledger.apply(
        plan(
            "before",
            "2018-01-01",
            create("tencent", None, "company"),
            create("cdg", "tencent"),
            create("spa", "cdg", "department"),
            create("omg", "tencent"),
            weighted("omg-ads", "omg", ads),
            weighted("omg-video", "omg", video),
            create("pcg", "tencent"),
        )
    )
    ams = {"create": "ams", "parent": "cdg", "kind": "line", "names": {"en": "AMS"}}
    ledger.apply(
        plan(
            "930",
            "2018-09-30",
            {"merge": ["spa", "omg-ads"], "into": ams},
            {"move": "omg-video", "to": "pcg"},
            {"dissolve": "omg"},
        )
    )
    assert successors(ledger, "omg") == pytest.approx(expected)
    assert successors(ledger, "omg-ads") == {"ams": 1.0}
    assert "omg" not in ledger.at(date(2018, 9, 30))
    assert "omg" in ledger.at(date(2018, 9, 29))


def test_dissolve_counts_a_child_split_away_earlier_in_that_childs_shares(org: Ledger) -> None:
    # d has children c (headcount 4, with c1 and c2) and e (headcount 4)
    org.apply(
        plan(
            "prep",
            BEFORE,
            create("d", "acme"),
            create("c", "d", attrs={"headcount": 4}),
            create("c1", "c", "team"),
            create("c2", "c", "team"),
            create("e", "d", attrs={"headcount": 4}),
        )
    )
    split = {
        "split": "c",
        "into": [
            {"to": "a", "children": ["c1"], "share": 0.25},
            {"to": "b", "children": ["c2"], "share": 0.75},
        ],
    }
    org.apply(plan("reorg", DAY, split, {"dissolve": "d", "children_to": "b1"}))
    # c's weight 4 goes 1 to a and 3 to b; e's weight 4 goes to b1: total 8
    assert successors(org, "d") == pytest.approx({"a": 0.125, "b": 0.375, "b1": 0.5})


def test_dissolve_links_to_the_receiver_even_when_children_weigh_nothing(org: Ledger) -> None:
    # "Its lineage goes to every unit that received one of its children": a1 and a2 went to
    # acme, so acme is a successor however little they weigh.
    ops = [{"set": uid, "attrs": {"headcount": 0}} for uid in ("a1", "a2")]
    org.apply(plan("weights", BEFORE, *ops))
    org.apply(plan("close", DAY, {"dissolve": "a"}))
    assert org.at(DAY).children("acme") == ("a1", "a2", "b")
    assert successors(org, "a") == pytest.approx({"acme": 1.0})


def test_dissolving_a_childless_unit_with_nothing_moved_out_has_no_successor(org: Ledger) -> None:
    org.apply(plan("close", DAY, {"dissolve": "a1"}))
    assert "a1" not in org.at(DAY)
    assert org.lineage("a1").successors == ()
    assert org.at(DAY).children("a") == ("a2",)


# -- effective dates -------------------------------------------------------------------------


def test_a_query_sees_change_sets_effective_on_or_before_its_date(org: Ledger) -> None:
    org.apply(plan("rename", DAY, {"rename": "a", "names": {"en": "Alpha"}}))
    assert org.at(BEFORE)["a"].names["en"] == "A"
    assert org.at(DAY)["a"].names["en"] == "Alpha"
    assert org.at(date(2030, 1, 1))["a"].names["en"] == "Alpha"
    assert org.at(date(2019, 12, 31)).units == {}


def test_change_sets_on_the_same_date_apply_in_recording_order(org: Ledger) -> None:
    org.apply(plan("first", DAY, {"rename": "a", "names": {"en": "First"}}))
    org.apply(plan("second", DAY, {"rename": "a", "names": {"en": "Second"}}))
    assert org.at(DAY)["a"].names["en"] == "Second"


def test_same_date_change_sets_in_one_batch_apply_in_the_order_given(org: Ledger) -> None:
    org.apply(
        plan("first", DAY, {"rename": "a", "names": {"en": "First"}}),
        plan("second", DAY, {"move": "a", "to": "b"}, {"rename": "a", "names": {"en": "Second"}}),
    )
    assert org.at(DAY)["a"].names["en"] == "Second"
    assert org.at(DAY)["a"].parent == "b"


def test_back_dated_change_set_on_a_shared_date_applies_after_earlier_recorded_ones(
    org: Ledger,
) -> None:
    org.apply(plan("first", DAY, {"rename": "a", "names": {"en": "First"}}))
    org.apply(plan("later", DAY + timedelta(days=100), {"rename": "b", "names": {"en": "Bee"}}))
    org.apply(plan("second", DAY, {"rename": "a", "names": {"en": "Second"}}))
    assert org.at(DAY)["a"].names["en"] == "Second"
    assert org.at(DAY + timedelta(days=100))["b"].names["en"] == "Bee"


def test_ids_are_never_reused_after_a_unit_ends(org: Ledger) -> None:
    org.apply(plan("close", DAY, {"dissolve": "a1"}))
    error = refused(org, plan("again", DAY + timedelta(days=1), create("a1", "a", "team")))
    assert [p.code for p in error.problems] == ["exists"]
    assert "never reused" in error.problems[0].message
    assert "a1" not in org.at(DAY + timedelta(days=1))


# -- back-dating -----------------------------------------------------------------------------


def test_back_dated_change_set_is_accepted_when_later_history_still_applies(org: Ledger) -> None:
    later = date(2022, 1, 1)
    org.apply(plan("later", later, {"rename": "a", "names": {"en": "Alpha"}}))
    org.apply(plan("earlier", DAY, create("c", "acme"), {"move": "a", "to": "c"}))
    assert org.at(BEFORE)["a"].parent == "acme"
    assert org.at(DAY)["a"].parent == "c"
    assert org.at(DAY)["a"].names["en"] == "A"
    assert org.at(later)["a"].parent == "c"
    assert org.at(later)["a"].names["en"] == "Alpha"
    assert [e.record.id for e in org.log()] == ["base", "earlier", "later"]
    assert org.verify().ok


def test_back_dated_change_set_that_breaks_later_history_is_refused_and_nothing_changes(
    org: Ledger, db: str
) -> None:
    later = date(2022, 1, 1)
    org.apply(
        plan("later", later, {"rename": "b", "names": {"en": "Bee"}}, {"move": "a1", "to": "b"})
    )
    head = org.store.head()
    days = [START, DAY, later]
    before = [dict(org.at(d).units) for d in days]
    error = refused(org, plan("earlier", DAY, {"dissolve": "a1"}))
    assert [p.code for p in error.problems] == ["breaks-later"]
    message = error.problems[0].message
    assert "'later'" in message
    assert "op 2 (move)" in message
    assert "a1" in message
    assert org.store.head() == head
    assert [dict(org.at(d).units) for d in days] == before
    with Ledger.open(db) as reopened:
        assert reopened.store.head() == head
        assert [dict(reopened.at(d).units) for d in days] == before
        assert [r.id for r in reopened.records] == ["base", "later"]


# -- corrections -----------------------------------------------------------------------------


def test_a_correction_replaces_a_change_set_from_its_recording_time_on(org: Ledger) -> None:
    org.apply(plan("reorg", DAY, {"rename": "a", "names": {"en": "Alpha"}}))
    original = org.records[-1].recorded_at
    org.apply(plan("reorg-fix", DAY, {"rename": "a", "names": {"en": "Apex"}}, supersedes="reorg"))
    fixed = org.records[-1].recorded_at
    assert fixed > original
    assert org.at(DAY)["a"].names["en"] == "Apex"
    assert org.at(DAY, known_at=original)["a"].names["en"] == "Alpha"
    assert org.at(DAY, known_at=fixed)["a"].names["en"] == "Apex"
    assert org.at(DAY, known_at=org.records[0].recorded_at)["a"].names["en"] == "A"
    assert [r.id for r in org.records] == ["base", "reorg", "reorg-fix"]


def test_a_correction_may_change_the_effective_date(org: Ledger) -> None:
    org.apply(plan("reorg", DAY, {"move": "a1", "to": "b"}))
    moved = DAY + timedelta(days=31)
    org.apply(plan("reorg-fix", moved, {"move": "a1", "to": "b"}, supersedes="reorg"))
    assert org.at(DAY)["a1"].parent == "a"
    assert org.at(moved)["a1"].parent == "b"
    assert [e.record.id for e in org.log()] == ["base", "reorg-fix"]


def test_superseding_a_change_set_twice_is_refused(org: Ledger) -> None:
    org.apply(plan("reorg", DAY, {"rename": "a", "names": {"en": "Alpha"}}))
    org.apply(plan("fix1", DAY, {"rename": "a", "names": {"en": "Apex"}}, supersedes="reorg"))
    head = org.store.head()
    error = refused(
        org, plan("fix2", DAY, {"rename": "a", "names": {"en": "Acme A"}}, supersedes="reorg")
    )
    assert [p.code for p in error.problems] == ["already-superseded"]
    assert "fix1" in error.problems[0].message
    assert org.store.head() == head
    assert org.at(DAY)["a"].names["en"] == "Apex"


def test_superseding_an_unknown_change_set_is_refused(org: Ledger) -> None:
    head = org.store.head()
    error = refused(
        org, plan("fix", DAY, {"rename": "a", "names": {"en": "X"}}, supersedes="no-such")
    )
    assert [p.code for p in error.problems] == ["unknown-changeset"]
    assert "no-such" in error.problems[0].message
    assert org.store.head() == head


def test_an_empty_correction_retracts_a_change_set(org: Ledger) -> None:
    org.apply(plan("oops", DAY, {"dissolve": "b"}))
    recorded = org.records[-1].recorded_at
    assert "b" not in org.at(DAY)
    org.apply(plan("retract-oops", DAY, supersedes="oops"))
    assert "b" in org.at(DAY)
    assert org.at(DAY).children("b") == ("b1",)
    assert "b" not in org.at(DAY, known_at=recorded)
    assert org.lineage("b").successors == ()


def test_a_correction_that_breaks_later_history_is_refused(org: Ledger) -> None:
    org.apply(plan("make-c", DAY, create("c", "acme")))
    org.apply(plan("use-c", DAY + timedelta(days=1), {"move": "a", "to": "c"}))
    head = org.store.head()
    error = refused(org, plan("unmake-c", DAY, supersedes="make-c"))
    assert [p.code for p in error.problems] == ["breaks-later"]
    assert "'use-c'" in error.problems[0].message
    assert org.store.head() == head
    assert org.at(DAY + timedelta(days=1))["a"].parent == "c"


# -- recording the same thing again -----------------------------------------------------------


def test_reapplying_the_identical_plan_is_a_no_op(org: Ledger, write) -> None:
    path = write(
        "reorg.yaml",
        """
        id: reorg
        effective: 2021-01-01
        ops:
          - move: a1
            to: b
        """,
    )
    assert [r.id for r in org.apply(path)] == ["reorg"]
    head = org.store.head()
    assert org.apply(path) == []
    assert org.apply(plan("reorg", DAY, {"move": "a1", "to": "b"})) == []
    assert org.store.head() == head
    assert [r.id for r in org.records] == ["base", "reorg"]


def test_the_same_id_with_other_content_is_refused(org: Ledger) -> None:
    org.apply(plan("reorg", DAY, {"move": "a1", "to": "b"}))
    head = org.store.head()
    error = refused(org, plan("reorg", DAY, {"move": "a2", "to": "b"}))
    assert [p.code for p in error.problems] == ["duplicate-changeset"]
    assert org.store.head() == head
    assert org.at(DAY)["a2"].parent == "a"


# -- diff, history, verify -------------------------------------------------------------------


def test_diff_lists_what_changed_and_does_not_list_units_moved_with_their_parent(
    org: Ledger,
) -> None:
    org.apply(
        plan(
            "reorg",
            DAY,
            {"move": "a", "to": "b"},
            {"rename": "b1", "names": {"en": "Bee one"}},
            {"set": "b", "kind": "division"},
            create("c", "acme"),
            {"dissolve": "a2"},
        )
    )
    diff = org.diff(BEFORE, DAY)
    assert diff.changesets == ("reorg",)
    assert [u.id for u in diff.added] == ["c"]
    assert [u.id for u in diff.removed] == ["a2"]
    assert diff.moved == (("a", "acme", "b"),)
    assert diff.renamed == (("b1", {"en": "B1"}, {"en": "Bee one"}),)
    assert diff.changed == (("b", "kind", "group", "division"),)
    assert not org.diff(DAY, DAY + timedelta(days=5))


def test_history_lists_the_changes_to_a_unit_in_order(org: Ledger) -> None:
    org.apply(plan("rename", DAY, {"rename": "a1", "names": {"en": "Ay one"}}))
    org.apply(plan("move", DAY + timedelta(days=1), {"move": "a1", "to": "b"}))
    org.apply(plan("close", DAY + timedelta(days=2), {"dissolve": "a1"}))
    events = org.history("a1").events
    assert [(e.changeset, e.action) for e in events] == [
        ("base", "created"),
        ("rename", "renamed"),
        ("move", "moved"),
        ("close", "ended"),
    ]
    assert events[2].detail == {"from": "a", "to": "b"}


def test_verify_is_ok_after_back_dating_and_corrections(org: Ledger, db: str) -> None:
    org.apply(plan("merge", DAY, {"merge": ["a"], "into": "b"}))
    org.apply(plan("earlier", BEFORE, create("c", "acme")))
    org.apply(plan("merge-fix", DAY, {"merge": ["a"], "into": "c"}, supersedes="merge"))
    org.apply(plan("retract", DAY, supersedes="earlier"), plan("noop", DAY, supersedes="merge-fix"))
    assert org.verify().ok
    with Ledger.open(db) as reopened:
        report = reopened.verify()
        assert report.ok, report.findings
        assert report.changesets == 6
        assert parents(reopened.at(DAY)) == parents(org.at(DAY))


# -- magnitude -------------------------------------------------------------------------------

# The base has 6 units of weight 1. Magnitude = weight of units that were created, ended or
# whose path to the root changed, over the weight of the units active before plus those created.
MAGNITUDES = [
    pytest.param([{"rename": "a", "names": {"en": "Alpha"}}], 0.0, id="rename"),
    pytest.param([{"set": "a", "kind": "division"}], 0.0, id="set"),
    pytest.param([{"move": "a1", "to": "b"}], 1 / 6, id="move-leaf"),
    pytest.param([{"move": "a", "to": "b"}], 3 / 6, id="move-subtree"),
    pytest.param([create("c", "acme")], 1 / 7, id="create"),
    pytest.param([{"merge": ["a2"], "into": "a1"}], 1 / 6, id="merge-leaf"),
    pytest.param([{"merge": ["a"], "into": "b"}], 3 / 6, id="merge-with-children"),
    pytest.param([{"dissolve": "b"}], 2 / 6, id="dissolve"),
    pytest.param(
        [{"split": "a", "into": [{**create("c", "acme"), "children": ["a1", "a2"]}]}],
        4 / 7,
        id="split-into-new",
    ),
]


@pytest.mark.parametrize(("ops", "expected"), MAGNITUDES)
def test_magnitude_of_a_change_set(org: Ledger, ops: list[dict[str, Any]], expected: float) -> None:
    org.apply(plan("reorg", DAY, *ops))
    assert magnitude(org, "reorg") == pytest.approx(expected)


@pytest.mark.parametrize("how", ["alone", "in-a-batch", "back-dated"])
def test_magnitude_is_weighted_by_headcount_however_it_is_recorded(
    ledger: Ledger, how: str
) -> None:
    weighted = plan(
        "weighted",
        START,
        create("acme", None, "company"),
        create("a", "acme", attrs={"headcount": 4}),
        create("a1", "a", attrs={"headcount": 3}),
        create("b", "acme", attrs={"headcount": 2}),
    )
    reorg = plan("reorg", DAY, {"move": "a1", "to": "b"})
    if how == "in-a-batch":
        ledger.apply(weighted, reorg)
    else:
        ledger.apply(weighted)
        if how == "back-dated":
            ledger.apply(plan("later", date(2030, 1, 1), {"rename": "b", "names": {"en": "Bee"}}))
        ledger.apply(reorg)
    # a1 (3) changed its path; the universe is 1 + 4 + 3 + 2
    assert magnitude(ledger, "reorg") == pytest.approx(0.3)
    assert ledger.verify().ok


def test_split_rest_to_may_be_one_of_the_targets(org: Ledger) -> None:
    org.apply(
        plan(
            "split", DAY, {"split": "a", "into": [{"to": "b", "children": ["a1"]}], "rest_to": "b"}
        )
    )
    assert org.at(DAY).children("b") == ("a1", "a2", "b1")
    assert successors(org, "a") == pytest.approx({"b": 1.0})


def test_lineage_follows_edges_transitively(org: Ledger) -> None:
    org.apply(plan("merge", DAY, {"merge": ["a"], "into": "b"}))
    later = DAY + timedelta(days=1)
    split = {
        "split": "b",
        "into": [
            {**create("c", "acme"), "children": ["a1"], "share": 0.25},
            {**create("d", "acme"), "children": ["a2", "b1"], "share": 0.75},
        ],
    }
    org.apply(plan("split", later, split))
    forward = {(e.src, e.dst, e.kind) for e in org.lineage("a").successors}
    assert forward == {("a", "b", "merge"), ("b", "c", "split"), ("b", "d", "split")}
    backward = {(e.src, e.dst) for e in org.lineage("d").predecessors}
    assert backward == {("a", "b"), ("b", "d")}
    assert org.lineage("acme").successors == ()


def test_a_back_dated_change_set_is_invisible_to_queries_known_at_before_it(org: Ledger) -> None:
    org.apply(plan("later", date(2022, 1, 1), {"rename": "a", "names": {"en": "Alpha"}}))
    known = org.records[-1].recorded_at
    org.apply(plan("earlier", DAY, {"move": "a", "to": "b"}))
    assert org.at(DAY)["a"].parent == "b"
    assert org.at(DAY, known_at=known)["a"].parent == "acme"
    assert org.at(date(2022, 1, 1), known_at=known)["a"].names["en"] == "Alpha"
