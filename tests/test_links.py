"""Links: secondary relations (dotted lines and other types) between units.

A small organization is recorded on 2020-01-01; `old` ends on 2020-06-01, and the
tests link and unlink from 2021-01-01 on:

    acme (company)
    ├── a (group) ── a1, a2 (teams)
    ├── b (group) ── b1 (team)
    ├── c (group)
    └── old (group; ended 2020-06-01)

Links never change the tree; they end when either end of them ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

import raw
from orgledger import Ledger, PlanError, Snapshot
from orgledger import ledger as ledger_module
from orgledger.diff import plan_between
from orgledger.model import Link
from outcomes import as_json, fails, ok

Cli = Callable[..., Result]
Write = Callable[[str, str], str]

START = date(2020, 1, 1)
CLOSED = date(2020, 6, 1)
DAY = date(2021, 1, 1)
BEFORE = DAY - timedelta(days=1)
LATER = date(2022, 1, 1)
DOTTED = "dotted-line"


def plan(cs_id: str, effective: date | str, *ops: dict[str, Any], **extra: Any) -> dict[str, Any]:
    effective = effective if isinstance(effective, str) else effective.isoformat()
    return {"id": cs_id, "effective": effective, "ops": list(ops), **extra}


def create(uid: str, parent: str | None, kind: str = "group", **extra: Any) -> dict[str, Any]:
    return {"create": uid, "parent": parent, "kind": kind, "names": {"en": uid.upper()}, **extra}


def link(source: str, to: str, kind: str | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"link": source, "to": to}
    if kind is not None:
        op["type"] = kind
    return op


def unlink(source: str, to: str, kind: str | None = None) -> dict[str, Any]:
    op: dict[str, Any] = {"unlink": source, "to": to}
    if kind is not None:
        op["type"] = kind
    return op


BASE = plan(
    "base",
    START,
    create("acme", None, "company"),
    create("a", "acme"),
    create("a1", "a", "team"),
    create("a2", "a", "team"),
    create("b", "acme"),
    create("b1", "b", "team"),
    create("c", "acme"),
    create("old", "acme"),
)

CLOSE_OLD = plan("close-old", CLOSED, {"dissolve": "old"})


@pytest.fixture
def org(ledger: Ledger) -> Ledger:
    ledger.apply(BASE, CLOSE_OLD)
    return ledger


@pytest.fixture
def org_db(db: str) -> str:
    with Ledger.open(db) as opened:
        opened.apply(BASE, CLOSE_OLD)
    return db


def links_of(snapshot: Snapshot) -> dict[str, set[tuple[str, str]]]:
    """Unit -> its links as (to, type) pairs, for the units that have any."""
    return {
        uid: {(k.to, k.type) for k in unit.links}
        for uid, unit in snapshot.units.items()
        if unit.links
    }


def parents(snapshot: Snapshot) -> dict[str, str | None]:
    return {uid: unit.parent for uid, unit in snapshot.units.items()}


def magnitude(ledger: Ledger, cs_id: str) -> float:
    return next(e.magnitude for e in ledger.log() if e.record.id == cs_id)


def refused(ledger: Ledger, *plans: Any) -> PlanError:
    with pytest.raises(PlanError) as caught:
        ledger.apply(*plans)
    return caught.value


# -- link and unlink -------------------------------------------------------------------------


def test_a_link_is_a_dotted_line_unless_a_type_is_given(org: Ledger) -> None:
    org.apply(plan("links", DAY, link("a", "b"), link("a", "c", "finance")))
    assert org.at(DAY)["a"].links == (Link("b", DOTTED), Link("c", "finance"))
    assert org.at(BEFORE)["a"].links == ()
    assert links_of(org.at(DAY)) == {"a": {("b", DOTTED), ("c", "finance")}}


def test_links_are_kept_unique_and_sorted_by_target_then_type(org: Ledger) -> None:
    wanted = [("c", "solid"), ("b", "x"), ("c", "audit"), ("a1", "zeta"), ("a1", "alpha")]
    org.apply(plan("links", DAY, *(link("b1", to, kind) for to, kind in wanted)))
    assert [tuple(k) for k in org.at(DAY)["b1"].links] == sorted(wanted)


def test_several_types_of_link_to_the_same_target_coexist(org: Ledger) -> None:
    org.apply(plan("links", DAY, link("a", "b"), link("a", "b", "finance"), link("a", "b", "hr")))
    assert links_of(org.at(DAY)) == {"a": {("b", DOTTED), ("b", "finance"), ("b", "hr")}}


def test_unlink_with_a_type_ends_only_that_type(org: Ledger) -> None:
    org.apply(plan("links", DAY, link("a", "b"), link("a", "b", "finance"), link("a", "c")))
    org.apply(plan("drop", LATER, unlink("a", "b", "finance")))
    assert links_of(org.at(LATER)) == {"a": {("b", DOTTED), ("c", DOTTED)}}
    assert links_of(org.at(DAY)) == {"a": {("b", DOTTED), ("b", "finance"), ("c", DOTTED)}}


def test_unlink_without_a_type_ends_every_type_to_that_target_only(org: Ledger) -> None:
    org.apply(plan("links", DAY, link("a", "b"), link("a", "b", "finance"), link("a", "c", "hr")))
    org.apply(plan("drop", LATER, unlink("a", "b")))
    assert links_of(org.at(LATER)) == {"a": {("c", "hr")}}
    ended = [e for e in org.history("a").events if e.action == "unlinked"]
    assert {(e.changeset, e.detail["to"], e.detail["type"]) for e in ended} == {
        ("drop", "b", DOTTED),
        ("drop", "b", "finance"),
    }


def test_unlinking_the_last_link_leaves_none(org: Ledger) -> None:
    org.apply(plan("links", DAY, link("a", "b")))
    org.apply(plan("drop", LATER, unlink("a", "b", DOTTED)))
    assert org.at(LATER)["a"].links == ()
    assert links_of(org.at(LATER)) == {}


def test_link_and_unlink_in_one_change_set_leave_no_link(org: Ledger) -> None:
    org.apply(plan("both", DAY, link("a", "b"), unlink("a", "b"), link("c", "a")))
    assert links_of(org.at(DAY)) == {"c": {("a", DOTTED)}}


# -- links leave the tree alone --------------------------------------------------------------


def test_links_never_change_the_tree_the_diff_or_the_magnitude(org: Ledger) -> None:
    org.apply(
        plan(
            "links",
            DAY,
            link("a1", "b1"),
            link("b", "a"),
            link("acme", "c", "board"),
            link("a2", "acme"),
        )
    )
    assert parents(org.at(DAY)) == parents(org.at(BEFORE))
    assert org.at(DAY).path("a1") == ("acme", "a", "a1")
    diff = org.diff(BEFORE, DAY)
    assert diff.moved == ()
    assert diff.added == ()
    assert diff.removed == ()
    assert diff.renamed == ()
    assert {entry[0] for entry in diff.changed} == {"a1", "b", "acme", "a2"}
    assert {entry[1] for entry in diff.changed} == {"links"}
    assert magnitude(org, "links") == 0.0
    explanation = org.magnitude("links")
    assert explanation.magnitude == 0.0
    assert explanation.counted == ()


@pytest.mark.parametrize(
    "ops",
    [
        pytest.param([link("a", "b"), link("b", "a")], id="two-units"),
        pytest.param([link("a", "b"), link("b", "c"), link("c", "a")], id="three-units"),
        pytest.param([link("a", "a1"), link("a1", "a")], id="parent-and-child"),
    ],
)
def test_links_may_form_a_cycle(org: Ledger, ops: list[dict[str, Any]]) -> None:
    org.apply(plan("cycle", DAY, *ops))
    expected: dict[str, set[tuple[str, str]]] = {}
    for op in ops:
        expected.setdefault(op["link"], set()).add((op["to"], DOTTED))
    assert links_of(org.at(DAY)) == expected
    assert parents(org.at(DAY)) == parents(org.at(BEFORE))
    assert org.verify().ok


def test_a_cycle_may_be_closed_by_a_later_change_set(org: Ledger) -> None:
    org.apply(plan("one-way", DAY, link("a", "b")))
    org.apply(plan("other-way", LATER, link("b", "a", "solid")))
    assert links_of(org.at(LATER)) == {"a": {("b", DOTTED)}, "b": {("a", "solid")}}


def test_a_holder_keeps_its_links_when_it_moves_or_is_renamed(org: Ledger) -> None:
    org.apply(plan("links", DAY, link("a1", "c", "finance")))
    org.apply(
        plan(
            "reorg",
            LATER,
            {"move": "a1", "to": "b"},
            {"rename": "a1", "names": {"en": "Renamed"}},
            {"set": "a1", "kind": "squad", "attrs": {"headcount": 4}},
        )
    )
    unit = org.at(LATER)["a1"]
    assert unit.parent == "b"
    assert unit.links == (Link("c", "finance"),)


def test_the_target_keeps_incoming_links_when_it_moves(org: Ledger) -> None:
    org.apply(plan("links", DAY, link("a1", "b1")))
    org.apply(plan("reorg", LATER, {"move": "b1", "to": "c"}))
    assert links_of(org.at(LATER)) == {"a1": {("b1", DOTTED)}}


# -- errors ----------------------------------------------------------------------------------

PREFIX = """\
id: bad-links
effective: 2021-01-01
ops:
  - link: a1
    to: b1
"""
"""Lines 1-5; the operation under test is op 2, from line 6 on."""


@pytest.mark.parametrize(
    ("op", "line", "kind", "code", "words"),
    [
        pytest.param("link: ghost\nto: b", 6, "link", "unknown-unit", ["'ghost'"], id="no-source"),
        pytest.param("link: a\nto: ghost", 7, "link", "unknown-unit", ["'ghost'"], id="no-target"),
        pytest.param(
            "link: old\nto: b", 6, "link", "inactive", ["'old'", "2020-06-01"], id="ended-source"
        ),
        pytest.param(
            "link: a\nto: old", 7, "link", "inactive", ["'old'", "2020-06-01"], id="ended-target"
        ),
        pytest.param("link: a\nto: a", 7, "link", "self-link", ["'a'"], id="self-link"),
        pytest.param("link: a1\nto: b1", 7, "link", "exists", ["'a1'", "'b1'"], id="twice"),
        pytest.param(
            "link: a1\nto: b1\ntype: dotted-line", 7, "link", "exists", ["'b1'"], id="twice-typed"
        ),
        pytest.param(
            "unlink: ghost\nto: b", 6, "unlink", "unknown-unit", ["'ghost'"], id="unlink-no-source"
        ),
        pytest.param(
            "unlink: old\nto: b", 6, "unlink", "inactive", ["'old'"], id="unlink-ended-source"
        ),
        pytest.param("unlink: a\nto: b", 7, "unlink", "no-link", ["'a'", "'b'"], id="no-link"),
        pytest.param(
            "unlink: a1\nto: b1\ntype: solid",
            7,
            "unlink",
            "no-link",
            ["solid"],
            id="no-link-of-type",
        ),
        pytest.param(
            "link: a\nto: b\ncolour: red", 8, "link", "unknown-key", ["colour"], id="unknown-key"
        ),
        pytest.param("link: a", 6, "link", "missing-key", ["'to'"], id="link-without-to"),
        pytest.param("unlink: a", 6, "unlink", "missing-key", ["'to'"], id="unlink-without-to"),
        pytest.param("link: a\nto: b\ntype: [x]", 8, "link", "type", ["type"], id="type-not-text"),
    ],
)
def test_a_bad_link_operation_is_refused_with_file_line_op_and_code(
    cli: Cli,
    org_db: str,
    write: Write,
    op: str,
    line: int,
    kind: str,
    code: str,
    words: list[str],
) -> None:
    path = write("bad.yaml", PREFIX + "  - " + op.replace("\n", "\n    ") + "\n")
    with Ledger.open(org_db) as ledger:
        head = ledger.store.head()
    result = fails(cli("apply", path, "--db", org_db), 1)
    (message,) = [text for text in result.stderr.splitlines() if text.strip()]
    assert message.startswith(f"{path}:{line}: op 2 ({kind}): "), message
    assert message.endswith(f"[{code}]"), message
    for word in words:
        assert word in message
    assert result.stdout == ""
    with Ledger.open(org_db) as ledger:
        assert ledger.store.head() == head
        assert [r.id for r in ledger.records] == ["base", "close-old"]
        assert links_of(ledger.at(DAY)) == {}


def test_plan_reports_every_bad_link_with_file_and_line_and_writes_nothing(
    cli: Cli, org_db: str, write: Write
) -> None:
    path = write(
        "bad.yaml",
        """
        id: bad-links
        effective: 2021-01-01
        ops:
          - link: a
            to: nowhere
          - link: b
            to: b
          - unlink: c
            to: a
            type: solid
        """,
    )
    before = as_json(cli("show", "--at", "2021-06-01", "-f", "json", "--db", org_db))
    result = fails(cli("plan", path, "--db", org_db), 1)
    lines = [text for text in result.stderr.splitlines() if text.strip()]
    assert [line.split(" ", 1)[0] for line in lines] == [f"{path}:5:", f"{path}:7:", f"{path}:9:"]
    assert [line.rsplit(" ", 1)[1] for line in lines] == [
        "[unknown-unit]",
        "[self-link]",
        "[no-link]",
    ]
    assert [line.split(": ", 2)[1] for line in lines] == [
        "op 1 (link)",
        "op 2 (link)",
        "op 3 (unlink)",
    ]
    assert result.stdout == ""
    assert as_json(cli("show", "--at", "2021-06-01", "-f", "json", "--db", org_db)) == before
    assert [e["id"] for e in as_json(cli("log", "-f", "json", "--db", org_db))] == [
        "base",
        "close-old",
    ]


def test_every_bad_link_in_a_plan_is_reported_and_nothing_is_written(org: Ledger, db: str) -> None:
    head = org.store.head()
    error = refused(
        org,
        plan(
            "bad",
            DAY,
            link("a", "nowhere"),
            link("a", "a"),
            link("b", "c"),
            link("b", "c"),
            unlink("c", "b"),
        ),
    )
    assert [(p.op, p.op_kind, p.code) for p in error.problems] == [
        (1, "link", "unknown-unit"),
        (2, "link", "self-link"),
        (4, "link", "exists"),
        (5, "unlink", "no-link"),
    ]
    assert org.store.head() == head
    assert links_of(org.at(DAY)) == {}
    with Ledger.open(db) as reopened:
        assert [r.id for r in reopened.records] == ["base", "close-old"]
        assert links_of(reopened.at(DAY)) == {}


def test_a_link_recorded_earlier_cannot_be_added_again(org: Ledger) -> None:
    org.apply(plan("links", DAY, link("a", "b", "finance")))
    head = org.store.head()
    error = refused(org, plan("again", LATER, link("a", "b", "finance")))
    assert [p.code for p in error.problems] == ["exists"]
    assert org.store.head() == head


def test_a_unit_created_later_cannot_be_linked_to_before_it_exists(org: Ledger) -> None:
    org.apply(plan("new", LATER, create("d", "acme")))
    error = refused(org, plan("early", DAY, link("a", "d")))
    assert [p.code for p in error.problems] == ["inactive"]
    assert links_of(org.at(LATER)) == {}


# -- ends ------------------------------------------------------------------------------------

TARGET_ENDS = [
    pytest.param({"merge": ["b"], "into": "c"}, id="merge"),
    pytest.param({"split": "b", "into": [{"to": "c", "children": ["b1"]}]}, id="split"),
    pytest.param({"dissolve": "b"}, id="dissolve"),
]


@pytest.mark.parametrize("end", TARGET_ENDS)
def test_when_the_target_ends_its_links_are_removed_from_their_holders(
    org: Ledger, end: dict[str, Any]
) -> None:
    org.apply(
        plan(
            "links", DAY, link("a", "b"), link("a", "c"), link("a1", "b", "finance"), link("c", "b")
        )
    )
    org.apply(plan("end", LATER, end))
    now = org.at(LATER)
    assert "b" not in now
    assert links_of(now) == {"a": {("c", DOTTED)}}
    assert now["a1"].parent == "a"
    assert now["a"].parent == "acme"
    assert links_of(org.at(LATER - timedelta(days=1))) == {
        "a": {("b", DOTTED), ("c", DOTTED)},
        "a1": {("b", "finance")},
        "c": {("b", DOTTED)},
    }
    for holder, kind in (("a", DOTTED), ("a1", "finance"), ("c", DOTTED)):
        events = org.history(holder).events
        last = [e for e in events if e.changeset == "end" and e.action == "unlinked"]
        assert [(e.detail["to"], e.detail["type"]) for e in last] == [("b", kind)], holder
        assert all(e.op_kind == next(iter(end)) for e in last)
    assert org.verify().ok


@pytest.mark.parametrize("end", TARGET_ENDS)
def test_ending_a_link_target_does_not_count_the_holders_in_the_magnitude(
    org: Ledger, end: dict[str, Any]
) -> None:
    org.apply(plan("links", DAY, link("a", "b"), link("a1", "b")))
    org.apply(plan("end", LATER, end))
    # b ends and b1 moves to c (merge, split) or acme (dissolve): 2 of the 7 active units
    assert magnitude(org, "end") == pytest.approx(2 / 7)
    counted = {c.unit for c in org.magnitude("end").counted}
    assert counted == {"b", "b1"}


def test_links_to_a_target_end_even_when_the_ledger_was_reopened(org_db: str) -> None:
    with Ledger.open(org_db) as ledger:
        ledger.apply(plan("links", DAY, link("a", "b"), link("c", "b", "solid")))
    with Ledger.open(org_db) as ledger:
        ledger.apply(plan("end", LATER, {"dissolve": "b"}))
    with Ledger.open(org_db) as ledger:
        assert links_of(ledger.at(LATER)) == {}
        assert ledger.verify().ok


HOLDER_ENDS = [
    pytest.param({"merge": ["a"], "into": "c"}, id="merge"),
    pytest.param({"split": "a", "into": [{"to": "c", "children": ["a1", "a2"]}]}, id="split"),
    pytest.param({"dissolve": "a"}, id="dissolve"),
]


@pytest.mark.parametrize("end", HOLDER_ENDS)
def test_when_the_holder_ends_its_links_end_with_it(org: Ledger, end: dict[str, Any]) -> None:
    org.apply(plan("links", DAY, link("a", "b"), link("a", "c", "finance"), link("b1", "b")))
    org.apply(plan("end", LATER, end))
    now = org.at(LATER)
    assert "a" not in now
    assert links_of(now) == {"b1": {("b", DOTTED)}}
    assert org.history("a").events[-1].action == "ended"
    assert not [e for e in org.history("a").events if e.action == "unlinked"]
    # The targets' later end does not bring the ended holder back.
    final = LATER + timedelta(days=1)
    org.apply(plan("close", final, {"dissolve": "b", "children_to": "c"}))
    assert "a" not in org.at(final)
    assert links_of(org.at(final)) == {}
    assert org.verify().ok


def test_holder_and_target_ending_in_one_change_set(org: Ledger) -> None:
    org.apply(plan("links", DAY, link("a1", "b1"), link("b1", "a1")))
    org.apply(plan("end", LATER, {"dissolve": "a1"}, {"dissolve": "b1"}))
    now = org.at(LATER)
    assert "a1" not in now
    assert "b1" not in now
    assert links_of(now) == {}
    assert org.verify().ok


# -- show, history, diff ---------------------------------------------------------------------


@pytest.fixture
def linked_db(org_db: str) -> str:
    with Ledger.open(org_db) as ledger:
        ledger.apply(
            plan(
                "links",
                DAY,
                link("a1", "c", "finance"),
                link("a1", "b"),
                link("b", "a", "solid"),
                link("a", "b"),
            )
        )
    return org_db


def test_show_json_lists_each_units_links_sorted(cli: Cli, linked_db: str) -> None:
    data = as_json(cli("show", "--at", "2021-01-01", "-f", "json", "--db", linked_db))
    by_id = {u["id"]: u for u in data["units"]}
    assert by_id["a1"]["links"] == [
        {"to": "b", "type": DOTTED},
        {"to": "c", "type": "finance"},
    ]
    assert by_id["b"]["links"] == [{"to": "a", "type": "solid"}]
    assert by_id["a"]["links"] == [{"to": "b", "type": DOTTED}]
    assert by_id["c"]["links"] == []
    assert by_id["a1"]["parent"] == "a"
    before = as_json(cli("show", "--at", "2020-12-31", "-f", "json", "--db", linked_db))
    assert all(u["links"] == [] for u in before["units"])


def test_show_text_marks_each_link_with_its_target_and_type(cli: Cli, linked_db: str) -> None:
    out = ok(cli("show", "--at", "2021-01-01", "--db", linked_db)).stdout
    (a1_line,) = [line for line in out.splitlines() if " a1 · " in line]
    assert "┄> b (dotted-line)" in a1_line
    assert "┄> c (finance)" in a1_line
    (b_line,) = [line for line in out.splitlines() if " b · " in line]
    assert "┄> a (solid)" in b_line
    (c_line,) = [line for line in out.splitlines() if " c · " in line]
    assert "┄>" not in c_line
    before = ok(cli("show", "--at", "2020-12-31", "--db", linked_db)).stdout
    assert "┄>" not in before


def test_show_mermaid_draws_links_as_dotted_edges_labelled_with_their_type(
    cli: Cli, linked_db: str
) -> None:
    out = ok(cli("show", "--at", "2021-01-01", "-f", "mermaid", "--db", linked_db)).stdout
    nodes = dict(re.findall(r'^\s*(u\d+)\["([^"]*)"\]$', out, flags=re.M))
    node = {label: nid for nid, label in nodes.items()}
    dotted = set(re.findall(r'^\s*(u\d+) -\.->\|"([^"]*)"\| (u\d+)$', out, flags=re.M))
    assert dotted == {
        (node["A1"], "finance", node["C"]),
        (node["A1"], DOTTED, node["B"]),
        (node["B"], "solid", node["A"]),
        (node["A"], DOTTED, node["B"]),
    }
    solid = set(re.findall(r"^\s*(u\d+) --> (u\d+)$", out, flags=re.M))
    assert (node["A"], node["A1"]) in solid
    assert len(solid) == len(nodes) - 1  # the tree edges: one per unit but the root


def test_history_shows_linked_and_unlinked_events(cli: Cli, linked_db: str, write: Write) -> None:
    drop = write(
        "drop.yaml",
        """
        id: drop
        effective: 2022-01-01
        ops:
          - unlink: a1
            to: c
        """,
    )
    ok(cli("apply", drop, "--db", linked_db))
    data = as_json(cli("history", "a1", "-f", "json", "--db", linked_db))
    events = [e for e in data["events"] if e["action"] in ("linked", "unlinked")]
    assert [(e["changeset"], e["action"], e["to"], e["type"]) for e in events] == [
        ("links", "linked", "c", "finance"),
        ("links", "linked", "b", DOTTED),
        ("drop", "unlinked", "c", "finance"),
    ]
    assert [e["op_kind"] for e in events] == ["link", "link", "unlink"]
    assert [e["date"] for e in events] == ["2021-01-01", "2021-01-01", "2022-01-01"]
    text = ok(cli("history", "a1", "--db", linked_db)).stdout
    assert "linked" in text
    assert "unlinked" in text
    assert "finance" in text


def test_diff_json_reports_changed_links_with_before_and_after(
    cli: Cli, linked_db: str, write: Write
) -> None:
    data = as_json(cli("diff", "2020-12-31", "2021-01-01", "-f", "json", "--db", linked_db))
    assert data["moved"] == []
    assert data["added"] == []
    assert data["removed"] == []
    changed = {c["id"]: c for c in data["changed"]}
    assert changed["a1"] == {
        "id": "a1",
        "field": "links",
        "from": [],
        "to": [{"to": "b", "type": DOTTED}, {"to": "c", "type": "finance"}],
    }
    assert changed["b"]["to"] == [{"to": "a", "type": "solid"}]
    assert set(changed) == {"a", "a1", "b"}
    end = write(
        "end.yaml",
        """
        id: end-c
        effective: 2022-01-01
        ops:
          - dissolve: c
        """,
    )
    ok(cli("apply", end, "--db", linked_db))
    later = as_json(cli("diff", "2021-12-31", "2022-01-01", "-f", "json", "--db", linked_db))
    assert [(u["id"], u["parent"]) for u in later["removed"]] == [("c", "acme")]
    assert later["changed"] == [
        {
            "id": "a1",
            "field": "links",
            "from": [{"to": "b", "type": DOTTED}, {"to": "c", "type": "finance"}],
            "to": [{"to": "b", "type": DOTTED}],
        }
    ]


# -- time: cold reads, known-at, back-dating -------------------------------------------------


def _linked_history(ledger: Ledger) -> list[date]:
    """Links added, changed and ended over several change sets; the days worth reading."""
    days = [DAY + timedelta(days=30 * k) for k in range(6)]
    ledger.apply(plan("l1", days[0], link("a", "b"), link("a1", "c", "finance"), link("b", "a")))
    ledger.apply(plan("l2", days[1], link("b1", "a1"), unlink("a", "b"), link("a", "c")))
    ledger.apply(plan("l3", days[2], {"move": "a1", "to": "b"}, link("c", "b1", "hr")))
    ledger.apply(plan("l4", days[3], {"merge": ["c"], "into": "b"}))
    ledger.apply(plan("l5", days[4], create("d", "acme"), link("d", "b"), link("d", "a")))
    ledger.apply(plan("l6", days[5], {"dissolve": "a1"}))
    return [d + timedelta(days=k) for d in days for k in (-1, 0)]


@pytest.mark.parametrize("spacing", [None, 3], ids=["default-checkpoints", "small-checkpoints"])
def test_links_survive_a_cold_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spacing: int | None
) -> None:
    if spacing is not None:
        monkeypatch.setattr(ledger_module, "CHECKPOINT_EVERY", spacing)
    path = tmp_path / "links.db"
    with Ledger.init(path) as ledger:
        ledger.apply(BASE, CLOSE_OLD)
        days = _linked_history(ledger)
        warm = {day: dict(ledger.at(day).units) for day in days}
        linked = {day: links_of(ledger.at(day)) for day in days}
    if spacing is not None:
        with Ledger.open(path) as reopened:
            assert reopened.store.checkpoints(), "the history is long enough for checkpoints"
    assert linked[DAY] == {"a": {("b", DOTTED)}, "a1": {("c", "finance")}, "b": {("a", DOTTED)}}
    assert linked[days[-1]] == {"b": {("a", DOTTED)}, "d": {("b", DOTTED), ("a", DOTTED)}}
    for day, units in warm.items():
        with Ledger.open(path) as cold:
            snapshot = cold.at(day)
            assert dict(snapshot.units) == units, day
            assert links_of(snapshot) == linked[day], day
    with Ledger.open(path) as reopened:
        assert reopened.verify().ok
        for day, units in warm.items():
            assert dict(reopened.timeline.snapshot(day).units) == units, day


def test_show_known_at_gives_the_links_as_known_then(cli: Cli, org_db: str, write: Write) -> None:
    with Ledger.open(org_db) as ledger:
        ledger.apply(plan("links", DAY, link("a", "b", "finance")))
        noted = ledger.records[-1].recorded_at
        ledger.apply(plan("links-fix", DAY, link("a", "c", "hr"), supersedes="links"))
        assert links_of(ledger.at(DAY)) == {"a": {("c", "hr")}}
        assert links_of(ledger.at(DAY, known_at=noted)) == {"a": {("b", "finance")}}
    stamp = noted.isoformat()
    then = as_json(
        cli("show", "--at", "2021-06-01", "--known-at", stamp, "-f", "json", "--db", org_db)
    )
    now = as_json(cli("show", "--at", "2021-06-01", "-f", "json", "--db", org_db))
    assert {u["id"]: u["links"] for u in then["units"]}["a"] == [{"to": "b", "type": "finance"}]
    assert {u["id"]: u["links"] for u in now["units"]}["a"] == [{"to": "c", "type": "hr"}]
    history = as_json(cli("history", "a", "--known-at", stamp, "-f", "json", "--db", org_db))
    linked = [(e["to"], e["type"]) for e in history["events"] if e["action"] == "linked"]
    assert linked == [("b", "finance")]


@pytest.mark.parametrize(
    ("later_op", "kind"),
    [
        pytest.param(unlink("a", "b"), "unlink", id="later-unlink"),
        pytest.param(link("c", "b"), "link", id="later-link"),
    ],
)
def test_a_back_dated_end_of_a_link_target_that_breaks_a_later_link_op_is_refused(
    org: Ledger, db: str, later_op: dict[str, Any], kind: str
) -> None:
    org.apply(plan("links", DAY, link("a", "b")))
    org.apply(plan("later", date(2023, 1, 1), later_op))
    head = org.store.head()
    days = [DAY, LATER, date(2023, 1, 1)]
    before = [dict(org.at(d).units) for d in days]
    error = refused(org, plan("early-end", LATER, {"dissolve": "b"}))
    assert [p.code for p in error.problems] == ["breaks-later"]
    message = error.problems[0].message
    assert "'later'" in message
    assert f"op 1 ({kind})" in message
    assert org.store.head() == head
    assert [dict(org.at(d).units) for d in days] == before
    with Ledger.open(db) as reopened:
        assert [r.id for r in reopened.records] == ["base", "close-old", "links", "later"]


def test_a_back_dated_end_of_a_link_target_removes_the_link_from_then_on(org: Ledger) -> None:
    org.apply(plan("links", DAY, link("a", "b"), link("a", "c")))
    org.apply(plan("later", date(2023, 1, 1), {"rename": "a", "names": {"en": "Alpha"}}))
    org.apply(plan("early-end", LATER, {"dissolve": "b"}))
    assert links_of(org.at(LATER - timedelta(days=1))) == {"a": {("b", DOTTED), ("c", DOTTED)}}
    assert links_of(org.at(LATER)) == {"a": {("c", DOTTED)}}
    assert org.at(date(2023, 1, 1))["a"].links == (Link("c", DOTTED),)
    assert org.at(date(2023, 1, 1))["a"].names["en"] == "Alpha"
    assert org.verify().ok


def test_verify_checks_the_links_in_the_derived_versions(org: Ledger, db: str) -> None:
    org.apply(plan("links", DAY, link("a", "b", "finance")))
    assert org.verify().ok
    [changed] = raw.execute(
        db, "UPDATE versions SET state = replace(state, 'finance', 'audit')", bypass=["versions"]
    )
    assert changed >= 1
    with Ledger.open(db) as reopened:
        report = reopened.verify()
        assert not report.ok
        assert any("'links'" in finding for finding in report.findings), report.findings


# -- plan_between ----------------------------------------------------------------------------


def test_plan_between_turns_one_set_of_links_into_another(org: Ledger, tmp_path: Path) -> None:
    org.apply(plan("links", DAY, link("a", "b"), link("a", "c", "finance"), link("b1", "a1")))
    org.apply(
        plan(
            "changes",
            LATER,
            unlink("a", "c"),
            link("a", "c", "hr"),
            link("c", "a"),
            {"dissolve": "a1"},
        )
    )
    before, after = org.at(DAY), org.at(LATER)
    step = plan_between(before, after, "step", LATER)
    kinds = [op.kind for op in step.ops]
    assert "link" in kinds
    assert "unlink" in kinds
    with Ledger.init(tmp_path / "rebuilt.db") as rebuilt:
        rebuilt.apply(plan_between(Snapshot(DAY, {}), before, "base", DAY), step)
        assert dict(rebuilt.at(DAY).units) == dict(before.units)
        assert dict(rebuilt.at(LATER).units) == dict(after.units)
        assert links_of(rebuilt.at(LATER)) == {
            "a": {("b", DOTTED), ("c", "hr")},
            "c": {("a", DOTTED)},
        }
