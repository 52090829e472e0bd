"""Scenarios: draft plans kept in the ledger, shown, compared, approved and applied.

The ledger holds, from 2020-01-01,

    acme (company)
    ├── a (group; headcount 10) ── a1 (team; headcount 7), a2 (team)
    ├── b (group)
    └── c (group)

(weights: 1 + 10 + 7 + 1 + 1 + 1 = 21). The scenarios take effect on 2023-01-01.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

import raw
from orgledger import Ledger, PlanError
from orgledger.scenarios import ScenarioError
from outcomes import as_json, fails, ok

Cli = Callable[..., Result]
Write = Callable[[str, str], str]

EFFECTIVE = date(2023, 1, 1)

BASE = {
    "id": "base",
    "effective": "2020-01-01",
    "ops": [
        {"create": "acme", "parent": None, "kind": "company", "names": {"en": "Acme"}},
        {
            "create": "a",
            "parent": "acme",
            "kind": "group",
            "names": {"en": "Alpha"},
            "attrs": {"headcount": 10},
        },
        {
            "create": "a1",
            "parent": "a",
            "kind": "team",
            "names": {"en": "Alpha One"},
            "attrs": {"headcount": 7},
        },
        {"create": "a2", "parent": "a", "kind": "team", "names": {"en": "Alpha Two"}},
        {"create": "b", "parent": "acme", "kind": "group", "names": {"en": "Beta"}},
        {"create": "c", "parent": "acme", "kind": "group", "names": {"en": "Gamma"}},
    ],
}

MOVE_A = """
id: move-a
title: Alpha goes under Beta
effective: 2023-01-01
ops:
  - move: a
    to: b
"""
"""Moves a (10) with a1 (7) and a2 (1): 18 of 21; 17 of it headcount."""

MERGE_C = """
id: merge-c
title: Gamma merged into Beta
effective: 2023-01-01
ops:
  - merge: [c]
    into: b
"""
"""Ends c (1): 1 of 21."""

GHOST = """
id: ghost
effective: 2023-01-01
ops:
  - move: ghost
    to: b
"""


@pytest.fixture
def org_db(db: str) -> str:
    with Ledger.open(db) as ledger:
        ledger.apply(BASE)
    return db


@pytest.fixture
def org(org_db: str) -> Iterator[Ledger]:
    with Ledger.open(org_db) as opened:
        yield opened


def history_view(cli: Cli, db: str) -> list[Any]:
    """What the effective history looks like from the command line: log, structure, diff."""
    return [
        as_json(cli("log", "-f", "json", "--db", db)),
        as_json(cli("show", "--at", "2030-01-01", "-f", "json", "--db", db)),
        as_json(cli("diff", "2020-01-01", "2030-01-01", "-f", "json", "--db", db)),
    ]


def recorded(db: str) -> tuple[Any, ...]:
    """The same, read through the Python API (quicker): head, log, structure, diff."""
    with Ledger.open(db) as ledger:
        return (
            ledger.store.head(),
            [(e.record.id, e.magnitude) for e in ledger.log()],
            dict(ledger.at(date(2030, 1, 1)).units),
            ledger.diff(date(2020, 1, 1), date(2030, 1, 1)).to_json(),
        )


def listed(cli: Cli, db: str) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in as_json(cli("scenario", "list", "-f", "json", "--db", db))}


def event_rows(db: str) -> list[tuple[Any, ...]]:
    return raw.rows(db, "SELECT * FROM scenario_events ORDER BY seq")


# -- add and list ----------------------------------------------------------------------------


def test_add_stores_a_draft_and_list_shows_it(cli: Cli, org_db: str, write: Write) -> None:
    path = write("move-a.yaml", MOVE_A)
    result = ok(cli("scenario", "add", "move", path, "--by", "alice", "--db", org_db))
    assert "move" in result.stdout
    assert "draft" in result.stdout
    found = listed(cli, org_db)
    assert set(found) == {"move"}
    entry = found["move"]
    assert entry["status"] == "draft"
    assert entry["changeset"] == "move-a"
    assert entry["effective"] == "2023-01-01"
    assert entry["title"] == "Alpha goes under Beta"
    assert entry["added_by"] == "alice"
    assert entry["approved_by"] is None
    assert entry["approved_at"] is None
    assert entry["applied_at"] is None
    text = ok(cli("scenario", "list", "--db", org_db)).stdout
    (row,) = [line for line in text.splitlines() if "move-a" in line]
    assert "draft" in row
    assert "alice" in row


def test_without_by_the_system_user_is_recorded(
    cli: Cli, org_db: str, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, "dora")
    ok(cli("scenario", "add", "move", write("move-a.yaml", MOVE_A), "--db", org_db))
    ok(cli("scenario", "approve", "move", "--db", org_db))
    entry = listed(cli, org_db)["move"]
    assert entry["added_by"] == "dora"
    assert entry["approved_by"] == "dora"


@pytest.mark.parametrize(
    ("text", "line", "code"),
    [
        pytest.param(GHOST, 4, "unknown-unit", id="unknown-unit"),
        pytest.param(
            MOVE_A.replace("move: a\n", "move: a\n    colour: red\n"),
            6,
            "unknown-key",
            id="unknown-key",
        ),
        pytest.param(MOVE_A.replace("to: b", "to: a1"), 5, "cycle", id="cycle"),
    ],
)
def test_add_refuses_a_plan_that_does_not_apply_and_stores_nothing(
    cli: Cli, org_db: str, write: Write, text: str, line: int, code: str
) -> None:
    path = write("bad.yaml", text)
    before = recorded(org_db)
    result = fails(cli("scenario", "add", "bad", path, "--db", org_db), 1)
    lines = [entry for entry in result.stderr.splitlines() if entry.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{path}:{line}: op 1 (move): "), lines[0]
    assert lines[0].endswith(f"[{code}]")
    assert result.stdout == ""
    assert listed(cli, org_db) == {}
    assert event_rows(org_db) == []
    assert recorded(org_db) == before


def test_add_refuses_a_back_dated_plan_that_breaks_later_history(
    org: Ledger, org_db: str, write: Write
) -> None:
    org.apply({"id": "later", "effective": "2022-01-01", "ops": [{"move": "a1", "to": "b"}]})
    path = write(
        "early.yaml",
        """
        id: early
        effective: 2021-01-01
        ops:
          - dissolve: a1
        """,
    )
    with pytest.raises(PlanError) as caught:
        org.add_scenario("early", path, "alice")
    assert [p.code for p in caught.value.problems] == ["breaks-later"]
    assert org.scenarios() == {}
    assert event_rows(org_db) == []


def test_add_refuses_a_missing_plan_file(cli: Cli, org_db: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yaml")
    result = fails(cli("scenario", "add", "x", missing, "--db", org_db), 1)
    assert result.stderr.startswith(f"{missing}:")
    assert listed(cli, org_db) == {}


@pytest.mark.parametrize(
    "name", ["Bad Name", "UPPER", "_lead", ".hidden", "a/b", "", "x" * 65, "café"]
)
def test_bad_scenario_names_are_refused(org: Ledger, org_db: str, write: Write, name: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        org.add_scenario(name, write("move-a.yaml", MOVE_A), "alice")
    assert repr(name) in caught.value.message
    assert org.scenarios() == {}
    assert event_rows(org_db) == []


def test_a_bad_scenario_name_is_refused_on_the_command_line(
    cli: Cli, org_db: str, write: Write
) -> None:
    path = write("move-a.yaml", MOVE_A)
    result = fails(cli("scenario", "add", "Bad Name", path, "--db", org_db), 1)
    (line,) = [text for text in result.stderr.splitlines() if text.strip()]
    assert "'Bad Name'" in line
    assert line.endswith("[scenario]")
    assert result.stdout == ""
    assert listed(cli, org_db) == {}


@pytest.mark.parametrize("name", ["a", "plan-2023", "v1.2_final", "0" * 64])
def test_good_scenario_names_are_accepted(org: Ledger, write: Write, name: str) -> None:
    org.add_scenario(name, write("move-a.yaml", MOVE_A))
    assert set(org.scenarios()) == {name}


def test_adding_a_name_again_replaces_the_draft_and_withdraws_approval(
    org: Ledger, write: Write
) -> None:
    org.add_scenario("next", write("move-a.yaml", MOVE_A), "alice")
    org.approve("next", "bob")
    assert org.scenario("next").status == "approved"
    replaced = org.add_scenario("next", write("merge-c.yaml", MERGE_C), "carol")
    assert replaced.status == "draft"
    assert replaced.changeset.id == "merge-c"
    assert replaced.added_by == "carol"
    assert replaced.approved_at is None
    assert replaced.approved_by is None
    assert org.scenario("next").status == "draft"
    assert len(org.scenarios()) == 1
    with pytest.raises(ScenarioError):
        org.apply_scenario("next")
    org.approve("next", "dave")
    assert org.scenario("next").approved_by == "dave"


def test_scenarios_never_change_the_history_until_applied(
    cli: Cli, org_db: str, write: Write
) -> None:
    before = history_view(cli, org_db)
    changesets = raw.rows(org_db, "SELECT count(*) FROM changesets")
    ok(cli("scenario", "add", "move", write("move-a.yaml", MOVE_A), "--db", org_db))
    ok(cli("scenario", "add", "merge", write("merge-c.yaml", MERGE_C), "--db", org_db))
    ok(cli("scenario", "show", "move", "--db", org_db))
    ok(cli("scenario", "compare", "move", "merge", "--db", org_db))
    ok(cli("scenario", "approve", "move", "--by", "bob", "--db", org_db))
    assert history_view(cli, org_db) == before
    assert raw.rows(org_db, "SELECT count(*) FROM changesets") == changesets
    assert ok(cli("verify", "--db", org_db))


# -- show and compare ------------------------------------------------------------------------


def test_show_json_gives_the_structure_as_if_applied_with_diff_and_magnitude(
    cli: Cli, org_db: str, write: Write
) -> None:
    ok(cli("scenario", "add", "move", write("move-a.yaml", MOVE_A), "--db", org_db))
    data = as_json(cli("scenario", "show", "move", "-f", "json", "--db", org_db))
    assert {
        "name",
        "status",
        "changeset",
        "effective",
        "magnitude",
        "units_affected",
        "headcount_moved",
        "diff",
        "structure",
    } <= set(data)
    assert data["name"] == "move"
    assert data["status"] == "draft"
    assert data["changeset"] == "move-a"
    assert data["magnitude"] == pytest.approx(18 / 21, abs=1e-6)
    assert data["units_affected"] == 3
    assert data["headcount_moved"] == 17
    assert data["diff"]["moved"] == [{"id": "a", "from": "acme", "to": "b"}]
    assert data["diff"]["added"] == []
    assert data["diff"]["removed"] == []
    assert data["diff"]["changesets"] == ["move-a"]
    structure = {u["id"]: (u["parent"], u["depth"]) for u in data["structure"]["units"]}
    assert structure == {
        "acme": (None, 0),
        "b": ("acme", 1),
        "a": ("b", 2),
        "a1": ("a", 3),
        "a2": ("a", 3),
        "c": ("acme", 1),
    }
    assert data["structure"]["at"] == "2023-01-01"
    # and the ledger itself still has a under acme
    now = as_json(cli("show", "--at", "2023-01-01", "-f", "json", "--db", org_db))
    assert {u["id"]: u["parent"] for u in now["units"]}["a"] == "acme"


def test_show_text_has_the_tree_the_changes_and_the_magnitude(
    cli: Cli, org_db: str, write: Write
) -> None:
    ok(cli("scenario", "add", "move", write("move-a.yaml", MOVE_A), "--db", org_db))
    out = ok(cli("scenario", "show", "move", "--db", org_db)).stdout
    lines = out.splitlines()
    beta = next(i for i, line in enumerate(lines) if "Beta" in line)
    alpha = next(i for i, line in enumerate(lines) if "Alpha  a ·" in line)
    assert alpha == beta + 1
    assert lines[alpha].index("Alpha") > lines[beta].index("Beta")  # indented below Beta
    assert any("moved" in line and "from acme to b" in line for line in lines)
    assert "magnitude 0.86" in out
    assert "draft" in out


def test_show_of_an_unknown_scenario_is_refused(cli: Cli, org_db: str) -> None:
    result = fails(cli("scenario", "show", "nothing", "--db", org_db), 1)
    assert "nothing" in result.stderr
    assert "[scenario]" in result.stderr


def test_compare_puts_scenarios_side_by_side(cli: Cli, org_db: str, write: Write) -> None:
    ok(cli("scenario", "add", "move", write("move-a.yaml", MOVE_A), "--db", org_db))
    ok(cli("scenario", "add", "merge", write("merge-c.yaml", MERGE_C), "--db", org_db))
    data = as_json(cli("scenario", "compare", "merge", "move", "-f", "json", "--db", org_db))
    assert isinstance(data, list)
    assert [d["name"] for d in data] == ["merge", "move"]
    merge, move = data
    assert merge["magnitude"] == pytest.approx(1 / 21, abs=1e-6)
    assert move["magnitude"] == pytest.approx(18 / 21, abs=1e-6)
    assert (merge["units_affected"], move["units_affected"]) == (1, 3)
    assert (merge["headcount_moved"], move["headcount_moved"]) == (0, 17)
    assert (merge["units"], move["units"]) == (5, 6)
    assert (merge["layers"], move["layers"]) == (3, 4)
    for entry in data:
        shown = as_json(cli("scenario", "show", entry["name"], "-f", "json", "--db", org_db))
        assert entry["magnitude"] == shown["magnitude"]
        assert entry["units_affected"] == shown["units_affected"]
    text = ok(cli("scenario", "compare", "merge", "move", "--db", org_db)).stdout
    header = next(line for line in text.splitlines() if "merge" in line and "move" in line)
    assert header.index("merge") < header.index("move")
    (row,) = [line for line in text.splitlines() if "units affected" in line]
    assert [cell.strip() for cell in row.split("│") if cell.strip()] == ["units affected", "1", "3"]


# -- approve and apply -----------------------------------------------------------------------


def test_approve_records_who_and_when(org: Ledger, org_db: str, write: Write) -> None:
    org.add_scenario("move", write("move-a.yaml", MOVE_A), "alice")
    start = datetime.now(UTC)
    approved = org.approve("move", "bob")
    end = datetime.now(UTC)
    assert approved.status == "approved"
    assert approved.approved_by == "bob"
    assert approved.approved_at is not None
    assert start <= approved.approved_at <= end
    assert approved.added_by == "alice"
    with Ledger.open(org_db) as again:
        kept = again.scenario("move")
        assert (kept.status, kept.approved_by) == ("approved", "bob")


def test_approving_twice_is_refused(cli: Cli, org_db: str, write: Write) -> None:
    ok(cli("scenario", "add", "move", write("move-a.yaml", MOVE_A), "--db", org_db))
    ok(cli("scenario", "approve", "move", "--by", "bob", "--db", org_db))
    rows = event_rows(org_db)
    result = fails(cli("scenario", "approve", "move", "--by", "eve", "--db", org_db), 1)
    assert "[scenario]" in result.stderr
    assert "bob" in result.stderr
    assert event_rows(org_db) == rows
    assert listed(cli, org_db)["move"]["approved_by"] == "bob"


def test_approving_an_unknown_scenario_is_refused(cli: Cli, org_db: str) -> None:
    result = fails(cli("scenario", "approve", "nothing", "--db", org_db), 1)
    assert "[scenario]" in result.stderr
    assert event_rows(org_db) == []


def test_a_draft_cannot_be_applied(cli: Cli, org_db: str, write: Write) -> None:
    ok(cli("scenario", "add", "move", write("move-a.yaml", MOVE_A), "--db", org_db))
    before = recorded(org_db)
    result = fails(cli("scenario", "apply", "move", "--db", org_db), 1)
    assert "approve" in result.stderr
    assert "[scenario]" in result.stderr
    assert recorded(org_db) == before
    assert listed(cli, org_db)["move"]["status"] == "draft"


def test_an_approved_scenario_is_applied_and_recorded(cli: Cli, org_db: str, write: Write) -> None:
    ok(cli("scenario", "add", "move", write("move-a.yaml", MOVE_A), "--db", org_db))
    ok(cli("scenario", "approve", "move", "--by", "bob", "--db", org_db))
    result = ok(cli("scenario", "apply", "move", "--db", org_db))
    assert "move-a" in result.stdout
    log = as_json(cli("log", "-f", "json", "--db", org_db))
    assert [e["id"] for e in log] == ["base", "move-a"]
    assert log[1]["effective"] == "2023-01-01"
    assert log[1]["magnitude"] == pytest.approx(18 / 21, abs=1e-6)
    now = as_json(cli("show", "--at", "2023-01-01", "-f", "json", "--db", org_db))
    assert {u["id"]: u["parent"] for u in now["units"]}["a"] == "b"
    entry = listed(cli, org_db)["move"]
    assert entry["status"] == "applied"
    assert entry["applied_at"] == log[1]["recorded_at"]
    assert entry["approved_by"] == "bob"
    ok(cli("verify", "--db", org_db))


def test_an_applied_scenario_cannot_be_applied_again_or_replaced(
    cli: Cli, org_db: str, write: Write
) -> None:
    path = write("move-a.yaml", MOVE_A)
    ok(cli("scenario", "add", "move", path, "--db", org_db))
    ok(cli("scenario", "approve", "move", "--db", org_db))
    ok(cli("scenario", "apply", "move", "--db", org_db))
    before = recorded(org_db)
    rows = event_rows(org_db)
    again = fails(cli("scenario", "apply", "move", "--db", org_db), 1)
    assert "[scenario]" in again.stderr
    other = write("merge-c.yaml", MERGE_C)
    replaced = fails(cli("scenario", "add", "move", other, "--db", org_db), 1)
    assert "applied" in replaced.stderr
    assert "[scenario]" in replaced.stderr
    reapproved = fails(cli("scenario", "approve", "move", "--db", org_db), 1)
    assert "[scenario]" in reapproved.stderr
    assert event_rows(org_db) == rows
    assert recorded(org_db) == before
    assert listed(cli, org_db)["move"]["status"] == "applied"


def test_apply_checks_the_plan_again_against_the_ledger_as_it_is_then(
    cli: Cli, org_db: str, write: Write
) -> None:
    ok(cli("scenario", "add", "move", write("move-a.yaml", MOVE_A), "--db", org_db))
    ok(cli("scenario", "approve", "move", "--db", org_db))
    meanwhile = write(
        "meanwhile.yaml",
        """
        id: meanwhile
        effective: 2022-06-01
        ops:
          - merge: [a]
            into: c
        """,
    )
    ok(cli("apply", meanwhile, "--db", org_db))
    before = recorded(org_db)
    result = fails(cli("scenario", "apply", "move", "--db", org_db), 1)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert ":5: op 1 (move): " in lines[0]
    assert lines[0].endswith("[inactive]")
    assert "'a'" in lines[0]
    assert recorded(org_db) == before
    assert [cs_id for cs_id, _ in before[1]] == ["base", "meanwhile"]
    assert listed(cli, org_db)["move"]["status"] == "approved"


def test_the_python_api_runs_the_whole_life_of_a_scenario(org: Ledger, write: Write) -> None:
    added = org.add_scenario("merge", write("merge-c.yaml", MERGE_C), "alice")
    assert added.status == "draft"
    outcome = org.simulate_scenario("merge")
    assert outcome.magnitude == pytest.approx(1 / 21)
    assert outcome.affected == 1
    assert [u.id for u in outcome.diff.removed] == ["c"]
    assert "c" not in outcome.after
    assert "c" in org.at(EFFECTIVE)
    assert outcome.stats.units == 5
    org.approve("merge", "bob")
    records = org.apply_scenario("merge")
    assert [r.id for r in records] == ["merge-c"]
    assert "c" not in org.at(EFFECTIVE)
    assert org.scenario("merge").status == "applied"
    assert org.scenario("merge").applied is not None
    assert [e.record.id for e in org.log()] == ["base", "merge-c"]
    with pytest.raises(ScenarioError):
        org.apply_scenario("merge")
    with pytest.raises(ScenarioError):
        org.scenario("unknown")


@pytest.mark.parametrize(
    ("text", "changeset"),
    [pytest.param(MOVE_A, "move-a", id="move"), pytest.param(MERGE_C, "merge-c", id="merge")],
)
def test_an_applied_scenario_shows_what_its_change_set_did(
    cli: Cli, org_db: str, write: Write, text: str, changeset: str
) -> None:
    """Once applied, `show` reports the recorded change, not a re-run of it on its own result.

    (Re-running it fails for the merge, whose source has ended, and finds "no changes" with
    magnitude 0 for the move, whose unit is already in place.)
    """
    ok(cli("scenario", "add", "it", write("plan.yaml", text), "--db", org_db))
    drafted = as_json(cli("scenario", "show", "it", "-f", "json", "--db", org_db))
    ok(cli("scenario", "approve", "it", "--db", org_db))
    ok(cli("scenario", "apply", "it", "--db", org_db))
    log = {e["id"]: e for e in as_json(cli("log", "-f", "json", "--db", org_db))}
    effect = as_json(cli("diff", "2022-12-31", "2023-01-01", "-f", "json", "--db", org_db))
    shown = as_json(cli("scenario", "show", "it", "-f", "json", "--db", org_db))
    assert shown["status"] == "applied"
    assert shown["magnitude"] == pytest.approx(log[changeset]["magnitude"], abs=1e-6)
    assert shown["magnitude"] == pytest.approx(drafted["magnitude"], abs=1e-6)
    for key in ("added", "removed", "moved"):
        assert shown["diff"][key] == effect[key] == drafted["diff"][key], key
    now = as_json(cli("show", "--at", "2023-01-01", "-f", "json", "--db", org_db))
    assert shown["structure"]["units"] == now["units"]


def test_recording_the_plan_with_apply_marks_the_scenario_applied(
    cli: Cli, org_db: str, write: Write
) -> None:
    path = write("move-a.yaml", MOVE_A)
    ok(cli("scenario", "add", "move", path, "--db", org_db))
    assert listed(cli, org_db)["move"]["status"] == "draft"
    ok(cli("apply", path, "--db", org_db))
    entry = listed(cli, org_db)["move"]
    assert entry["status"] == "applied"
    log = as_json(cli("log", "-f", "json", "--db", org_db))
    assert entry["applied_at"] == log[-1]["recorded_at"]
    fails(cli("scenario", "apply", "move", "--db", org_db), 1)


# -- storage ---------------------------------------------------------------------------------


def test_scenario_rows_are_append_only(cli: Cli, org_db: str, write: Write) -> None:
    ok(cli("scenario", "add", "move", write("move-a.yaml", MOVE_A), "--db", org_db))
    ok(cli("scenario", "approve", "move", "--by", "bob", "--db", org_db))
    rows = event_rows(org_db)
    assert [(r[0], r[1], r[2]) for r in rows] == [(1, "move", "add"), (2, "move", "approve")]
    for statement in (
        "UPDATE scenario_events SET actor = 'mallory'",
        "UPDATE scenario_events SET body = NULL WHERE action = 'add'",
        "DELETE FROM scenario_events WHERE action = 'approve'",
        "DELETE FROM scenario_events",
    ):
        assert "append-only" in raw.refused(org_db, statement)
    assert event_rows(org_db) == rows
    assert listed(cli, org_db)["move"]["approved_by"] == "bob"
