"""The command line, end to end: exit codes, streams, messages and JSON shapes (DESIGN.md)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

import raw
from orgledger import Ledger, __version__
from orgledger.demo import example_plans
from outcomes import as_json, fails, ok

Cli = Callable[..., Result]
Write = Callable[[str, str], str]

BASE = """
id: base
title: Acme founded
effective: 2020-01-01
ops:
  - create: acme
    parent: null
    kind: company
    names: {en: Acme, zh: 阿克米}
    abbr: ACME
  - create: sales
    parent: acme
    kind: group
    names: {en: Sales}
  - create: ops
    parent: acme
    kind: group
    names: {en: Operations}
"""

GOOD = """
id: lab-2019
title: Lab set up in CSIG
effective: 2019-01-01
ops:
  - create: lab
    parent: csig
    kind: team
    names: {en: Research Lab, zh: 实验室}
"""

BAD = """
id: bad-2019
title: Two broken operations
effective: 2019-01-01
ops:
  - move: tencent-cloud
    to: nowhere
  - create: x
    parent: nobody
    kind: group
    names: {en: X}
"""


# -- helpers -------------------------------------------------------------------


def log_of(cli: Cli, db: str) -> list[dict[str, Any]]:
    return as_json(cli("log", "--format", "json", "--db", db))


def ids_of(entries: list[dict[str, Any]]) -> list[str]:
    return [e["id"] for e in entries]


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def preorder(units: list[dict[str, Any]], root: str | None = None) -> list[str]:
    """The ids of `units` in pre-order, children sorted by id, from their parent links."""
    children: dict[str | None, list[str]] = {}
    present = {u["id"] for u in units}
    for unit in units:
        parent = unit["parent"] if unit["parent"] in present else None
        children.setdefault(parent, []).append(unit["id"])
    order: list[str] = []

    def visit(uid: str) -> None:
        order.append(uid)
        for child in sorted(children.get(uid, [])):
            visit(child)

    for top in sorted(children.get(None, [])):
        visit(top)
    return order


# -- init and choosing the ledger ----------------------------------------------


def test_init_creates_an_empty_ledger(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    result = ok(cli("init", "--db", str(path)))
    assert path.exists()
    assert str(path) in result.stdout
    assert log_of(cli, str(path)) == []
    assert ok(cli("verify", "--db", str(path)))


def test_second_init_on_the_same_path_is_refused(cli: Cli, tencent_db: str) -> None:
    before = log_of(cli, tencent_db)
    result = fails(cli("init", "--db", tencent_db), 1)
    assert result.stderr.strip() == f"a ledger already exists at {tencent_db} [ledger-exists]"
    assert result.stdout == ""
    assert log_of(cli, tencent_db) == before


@pytest.mark.parametrize(
    "command",
    [
        ["show"],
        ["show", "csig"],
        ["diff", "2018-09-29", "2018-09-30"],
        ["lineage", "sng"],
        ["history", "qq"],
        ["log"],
        ["find", "cloud"],
        ["verify"],
        ["apply", "plan.yaml"],
        ["plan", "plan.yaml"],
    ],
)
def test_a_missing_ledger_is_refused_with_a_hint_to_init(
    cli: Cli, tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "missing.db"
    result = fails(cli(*command, "--db", str(missing)), 1)
    assert result.stderr.strip() == (
        f"no ledger at {missing} (create one with `orgledger init`) [no-ledger]"
    )
    assert "orgledger init" in result.stderr
    assert not missing.exists()


def test_the_environment_variable_selects_the_ledger(
    cli: Cli, tencent_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORGLEDGER_DB", tencent_db)
    result = ok(cli("show", "csig", "--at", "2018-09-30"))
    assert "Tencent Cloud" in result.stdout


def test_db_option_wins_over_the_environment_variable(
    cli: Cli, tencent_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORGLEDGER_DB", str(tmp_path / "elsewhere.db"))
    result = ok(cli("show", "csig", "--at", "2018-09-30", "--db", tencent_db))
    assert "Tencent Cloud" in result.stdout


def test_init_honours_the_environment_variable(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "from-env.db"
    monkeypatch.setenv("ORGLEDGER_DB", str(path))
    ok(cli("init"))
    assert path.exists()
    fails(cli("init"), 1)


def test_default_ledger_is_orgledger_db_in_the_working_directory(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORGLEDGER_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    missing = fails(cli("log"), 1)
    assert "orgledger.db" in missing.stderr
    ok(cli("init"))
    assert (tmp_path / "orgledger.db").exists()
    assert as_json(cli("log", "--format", "json")) == []


def test_a_file_that_is_not_a_ledger_gets_consistent_advice(cli: Cli, tmp_path: Path) -> None:
    """A query on a SQLite file of another program must not send the user to a refusing init."""
    path = tmp_path / "other-program.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    query = fails(cli("log", "--db", str(path)), 1)
    if "orgledger init" in query.stderr:
        ok(cli("init", "--db", str(path)))


# -- apply ---------------------------------------------------------------------


def test_apply_records_and_names_each_change_set(cli: Cli, db: str, write: Write) -> None:
    base = write("base.yaml", BASE)
    more = write(
        "more.yaml",
        """
        id: more
        title: Marketing added
        effective: 2021-01-01
        ops:
          - create: marketing
            parent: acme
            kind: group
            names: {en: Marketing}
        """,
    )
    result = ok(cli("apply", base, more, "--db", db))
    assert "base" in result.stdout
    assert "more" in result.stdout
    lines = result.stdout.splitlines()
    assert any("base" in line and "2020-01-01" in line for line in lines)
    assert any("more" in line and "2021-01-01" in line for line in lines)
    assert ids_of(log_of(cli, db)) == ["base", "more"]


def test_apply_is_all_or_nothing_across_files(cli: Cli, tencent_db: str, write: Write) -> None:
    good, bad = write("good.yaml", GOOD), write("bad.yaml", BAD)
    before = log_of(cli, tencent_db)
    result = fails(cli("apply", good, bad, "--db", tencent_db), 1)
    assert result.stdout == ""
    assert log_of(cli, tencent_db) == before
    assert "lab-2019" not in ids_of(log_of(cli, tencent_db))
    fails(cli("show", "lab", "--db", tencent_db), 1)


def test_reapplying_the_same_file_is_a_no_op_with_a_message(
    cli: Cli, db: str, write: Write
) -> None:
    base = write("base.yaml", BASE)
    ok(cli("apply", base, "--db", db))
    before = log_of(cli, db)
    again = ok(cli("apply", base, "--db", db))
    assert "nothing new to record" in again.stdout
    assert log_of(cli, db) == before


def test_apply_refuses_a_different_change_set_under_a_recorded_id(
    cli: Cli, db: str, write: Write
) -> None:
    ok(cli("apply", write("base.yaml", BASE), "--db", db))
    before = log_of(cli, db)
    changed = write("changed.yaml", BASE.replace("Acme founded", "Acme founded again"))
    result = fails(cli("apply", changed, "--db", db), 1)
    assert result.stderr.startswith(f"{changed}:")
    assert "already recorded" in result.stderr
    assert log_of(cli, db) == before


def test_apply_reports_every_error_with_path_and_line_on_stderr(
    cli: Cli, tencent_db: str, write: Write
) -> None:
    bad = write("bad.yaml", BAD)
    before = log_of(cli, tencent_db)
    result = fails(cli("apply", bad, "--db", tencent_db), 1)
    lines = error_lines(result)
    assert lines == [
        f"{bad}:6: op 1 (move): unit 'nowhere' does not exist [unknown-unit]",
        f"{bad}:8: op 2 (create): unit 'nobody' does not exist [unknown-unit]",
    ]
    assert result.stdout == ""
    assert log_of(cli, tencent_db) == before


def test_apply_reports_errors_of_every_file(cli: Cli, tencent_db: str, write: Write) -> None:
    bad = write("bad.yaml", BAD)
    other = write("other.yaml", BAD.replace("bad-2019", "other-2019"))
    result = fails(cli("apply", bad, other, "--db", tencent_db), 1)
    lines = error_lines(result)
    assert len(lines) == 4
    assert sum(line.startswith(f"{bad}:") for line in lines) == 2
    assert sum(line.startswith(f"{other}:") for line in lines) == 2


@pytest.mark.parametrize("given", ["plans/bad.yaml", "./plans/bad.yaml"])
def test_error_paths_are_exactly_as_given_on_the_command_line(
    cli: Cli, tencent_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "bad.yaml").write_text(BAD.lstrip("\n"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for command in ("apply", "plan"):
        result = fails(cli(command, given, "--db", tencent_db), 1)
        lines = error_lines(result)
        assert len(lines) == 2
        for line in lines:
            assert re.match(rf"{re.escape(given)}:\d+: ", line), line
            assert str(tmp_path) not in line


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("broken.yaml", "id: x\ntitle: [unclosed\n", "[syntax]"),
        ("list.yaml", "- a\n- b\n", "[type]"),
        ("empty.yaml", "", "[empty]"),
        ("unknown-key.yaml", GOOD.replace("kind: team", "kind: team\n    colour: red"), "colour"),
    ],
)
def test_malformed_plan_files_are_refused_cleanly(
    cli: Cli, tencent_db: str, write: Write, name: str, text: str, expected: str
) -> None:
    path = write(name, text)
    before = log_of(cli, tencent_db)
    result = fails(cli("apply", path, "--db", tencent_db), 1)
    lines = error_lines(result)
    assert lines
    assert all(re.match(rf"{re.escape(path)}:\d+: ", line) for line in lines), lines
    assert expected in result.stderr
    assert log_of(cli, tencent_db) == before


def test_missing_plan_file_is_refused_with_its_path(cli: Cli, db: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yaml")
    result = fails(cli("apply", missing, "--db", db), 1)
    assert error_lines(result)[0].startswith(f"{missing}:1: ")


def test_back_dated_change_set_that_breaks_a_later_one_is_refused(
    cli: Cli, tencent_db: str, write: Write
) -> None:
    back = write(
        "back.yaml",
        """
        id: back-2016
        title: SNG dissolved early
        effective: 2016-01-01
        ops:
          - dissolve: sng
        """,
    )
    before = log_of(cli, tencent_db)
    result = fails(cli("apply", back, "--db", tencent_db), 1)
    (line,) = error_lines(result)
    assert line.startswith(f"{back}:")
    assert "tencent-2018-09-30" in line
    assert "op 11 (dissolve)" in line
    assert log_of(cli, tencent_db) == before


def test_apply_reads_a_plan_from_stdin(cli: Cli, db: str) -> None:
    ok(cli("apply", "-", "--db", db, input=BASE.lstrip("\n")))
    assert ids_of(log_of(cli, db)) == ["base"]


def test_errors_in_a_plan_read_from_stdin_start_with_a_dash(cli: Cli, tencent_db: str) -> None:
    result = fails(cli("apply", "-", "--db", tencent_db, input=BAD.lstrip("\n")), 1)
    lines = error_lines(result)
    assert len(lines) == 2
    assert all(line.startswith("-:") for line in lines), lines


# -- plan ----------------------------------------------------------------------


def test_plan_shows_the_diff_and_writes_nothing(cli: Cli, tencent_db: str, write: Write) -> None:
    good = write("good.yaml", GOOD)
    before = log_of(cli, tencent_db)
    result = ok(cli("plan", good, "--db", tencent_db))
    assert "added" in result.stdout
    assert "Research Lab" in result.stdout
    assert "lab-2019" in result.stdout
    assert log_of(cli, tencent_db) == before
    fails(cli("show", "lab", "--db", tencent_db), 1)


def test_plan_validates_several_files_as_a_whole(cli: Cli, db: str, write: Write) -> None:
    base = write("base.yaml", BASE)
    child = write(
        "child.yaml",
        """
        id: child
        title: Team under sales
        effective: 2021-01-01
        ops:
          - create: sales-emea
            parent: sales
            kind: team
            names: {en: Sales EMEA}
        """,
    )
    result = ok(cli("plan", base, child, "--db", db))
    assert "sales-emea" in result.stdout
    assert log_of(cli, db) == []


def test_plan_with_errors_exits_1_and_reports_them_on_stderr(
    cli: Cli, tencent_db: str, write: Write
) -> None:
    bad = write("bad.yaml", BAD)
    before = log_of(cli, tencent_db)
    result = fails(cli("plan", bad, "--db", tencent_db), 1)
    assert error_lines(result) == [
        f"{bad}:6: op 1 (move): unit 'nowhere' does not exist [unknown-unit]",
        f"{bad}:8: op 2 (create): unit 'nobody' does not exist [unknown-unit]",
    ]
    assert result.stdout == ""
    assert log_of(cli, tencent_db) == before


def test_plan_json_gives_each_change_set_with_its_diff(
    cli: Cli, tencent_db: str, write: Write
) -> None:
    good = write("good.yaml", GOOD)
    before = log_of(cli, tencent_db)
    previews = as_json(cli("plan", good, "--db", tencent_db, "--format", "json"))
    assert isinstance(previews, list)
    (preview,) = previews
    assert preview["id"] == "lab-2019"
    assert 0 < preview["magnitude"] <= 1
    assert preview["diff"]["changesets"] == ["lab-2019"]
    assert preview["diff"]["added"] == [
        {
            "id": "lab",
            "parent": "csig",
            "kind": "team",
            "names": {"en": "Research Lab", "zh": "实验室"},
            "abbr": None,
        }
    ]
    assert preview["diff"]["removed"] == []
    assert log_of(cli, tencent_db) == before


# -- show ----------------------------------------------------------------------


def test_show_whole_forest(cli: Cli, tencent_db: str) -> None:
    result = ok(cli("show", "--at", "2018-09-30", "--db", tencent_db))
    out = result.stdout
    for name in ("Tencent", "Cloud and Smart Industries Group", "Platform and Content Group"):
        assert name in out
    assert "Tencent Cloud" in out
    assert "Social Network Group" not in out
    before = ok(cli("show", "--at", "2018-09-29", "--db", tencent_db)).stdout
    assert "Social Network Group" in before
    assert "Cloud and Smart Industries Group" not in before


def test_show_one_units_subtree(cli: Cli, tencent_db: str) -> None:
    out = ok(cli("show", "csig", "--at", "2018-09-30", "--db", tencent_db)).stdout
    assert "Cloud and Smart Industries Group" in out
    assert "Tencent Cloud" in out
    assert "Tencent Maps" in out
    assert "QQ" not in out
    assert "Platform and Content Group" not in out


def test_show_depth_limits_the_levels(cli: Cli, tencent_db: str) -> None:
    data = as_json(
        cli("show", "--at", "2018-09-30", "--depth", "1", "--format", "json", "--db", tencent_db)
    )
    assert {u["depth"] for u in data["units"]} == {0, 1}
    ids = [u["id"] for u in data["units"]]
    assert "csig" in ids
    assert "tencent-cloud" not in ids
    text = ok(cli("show", "--at", "2018-09-30", "--depth", "1", "--db", tencent_db)).stdout
    assert "Cloud and Smart Industries Group" in text
    assert "Tencent Cloud" not in text
    zero = as_json(cli("show", "pcg", "--depth", "0", "--format", "json", "--db", tencent_db))
    assert [u["id"] for u in zero["units"]] == ["pcg"]


def test_show_lang_zh_gives_chinese_names(cli: Cli, tencent_db: str) -> None:
    out = ok(cli("show", "--at", "2018-09-30", "--lang", "zh", "--db", tencent_db)).stdout
    for name in ("腾讯", "云与智慧产业事业群", "平台与内容事业群", "腾讯云"):
        assert name in out
    assert "Cloud and Smart Industries Group" not in out


def test_show_json_has_the_documented_shape_in_pre_order(cli: Cli, tencent_db: str) -> None:
    data = as_json(cli("show", "--at", "2018-09-30", "--format", "json", "--db", tencent_db))
    assert set(data) == {"at", "units"}
    assert data["at"] == "2018-09-30"
    keys = {"id", "parent", "kind", "names", "abbr", "attrs", "links", "depth"}
    for unit in data["units"]:
        assert set(unit) == keys
    by_id = {u["id"]: u for u in data["units"]}
    assert by_id["tencent"]["parent"] is None
    assert by_id["tencent"]["depth"] == 0
    assert by_id["csig"] == {
        "id": "csig",
        "parent": "tencent",
        "kind": "group",
        "names": {"en": "Cloud and Smart Industries Group", "zh": "云与智慧产业事业群"},
        "abbr": "CSIG",
        "attrs": {"focus": "to_b", "head": "汤道生"},
        "links": [],
        "depth": 1,
    }
    assert by_id["tencent-cloud"]["depth"] == 2
    ids = [u["id"] for u in data["units"]]
    assert ids == preorder(data["units"])
    assert ids[:3] == ["tencent", "cdg", "ams"]
    assert {"mig", "omg", "sng", "spa"}.isdisjoint(ids)


def test_show_json_of_a_subtree_starts_at_depth_0(cli: Cli, tencent_db: str) -> None:
    data = as_json(cli("show", "pcg", "--at", "2018-09-30", "-f", "json", "--db", tencent_db))
    ids = [u["id"] for u in data["units"]]
    assert ids == [
        "pcg",
        "app-store",
        "qq",
        "qq-browser",
        "qzone",
        "tencent-news",
        "tencent-video",
    ]
    assert [u["depth"] for u in data["units"]] == [0, 1, 1, 1, 1, 1, 1]


def test_show_mermaid_is_a_flowchart(cli: Cli, tencent_db: str) -> None:
    out = ok(cli("show", "csig", "--at", "2018-09-30", "--format", "mermaid", "--db", tencent_db))
    assert out.stdout.startswith("flowchart")
    assert "Tencent Cloud" in out.stdout
    assert "-->" in out.stdout


def test_show_mermaid_escapes_quotes_and_angle_brackets(cli: Cli, db: str, write: Write) -> None:
    plan = write(
        "odd.yaml",
        """
        id: odd
        title: Odd names
        effective: 2020-01-01
        ops:
          - create: acme
            parent: null
            kind: company
            names: {en: 'Acme "Labs" <beta> & co'}
        """,
    )
    ok(cli("apply", plan, "--db", db))
    out = ok(cli("show", "--at", "2020-01-02", "--format", "mermaid", "--db", db)).stdout
    assert out.startswith("flowchart")
    (node,) = [line for line in out.splitlines() if "Acme" in line]
    label = node[node.index('["') + 2 : node.rindex('"]')]
    assert '"' not in label
    assert "<" not in label
    assert ">" not in label
    assert "Acme" in label


def test_show_known_at_answers_as_the_ledger_stood_before_a_correction(
    cli: Cli, db: str, write: Write
) -> None:
    ok(cli("apply", write("base.yaml", BASE), "--db", db))
    (entry,) = log_of(cli, db)
    noted = entry["recorded_at"]
    fix = write(
        "fix.yaml",
        """
        id: base-fixed
        title: Acme founded (corrected)
        effective: 2020-01-01
        supersedes: base
        ops:
          - create: acme
            parent: null
            kind: company
            names: {en: Acme}
          - create: marketing
            parent: acme
            kind: group
            names: {en: Marketing}
        """,
    )
    ok(cli("apply", fix, "--db", db))
    now = as_json(cli("show", "--at", "2020-06-01", "-f", "json", "--db", db))
    assert [u["id"] for u in now["units"]] == ["acme", "marketing"]
    old = as_json(cli("show", "--at", "2020-06-01", "--known-at", noted, "-f", "json", "--db", db))
    assert [u["id"] for u in old["units"]] == ["acme", "ops", "sales"]
    text = ok(cli("show", "--at", "2020-06-01", "--known-at", noted, "--db", db)).stdout
    assert "Sales" in text
    assert "Marketing" not in text


def _correct_base(cli: Cli, db: str, write: Write) -> str:
    """Record BASE, then a correction of it; return a time between the two."""
    ok(cli("apply", write("base.yaml", BASE), "--db", db))
    (entry,) = log_of(cli, db)
    fix = write(
        "fix.yaml",
        """
        id: base-fixed
        title: Acme founded (corrected)
        effective: 2020-01-01
        supersedes: base
        ops:
          - create: acme
            parent: null
            kind: company
            names: {en: Acme}
        """,
    )
    ok(cli("apply", fix, "--db", db))
    return str(entry["recorded_at"])


def test_log_and_diff_known_at_show_the_change_set_later_corrected(
    cli: Cli, db: str, write: Write
) -> None:
    noted = _correct_base(cli, db, write)
    assert ids_of(log_of(cli, db)) == ["base-fixed"]
    then = as_json(cli("log", "--known-at", noted, "-f", "json", "--db", db))
    assert ids_of(then) == ["base"]
    diff = as_json(
        cli("diff", "2019-01-01", "2020-06-01", "--known-at", noted, "-f", "json", "--db", db)
    )
    assert diff["changesets"] == ["base"]
    assert {"acme", "sales", "ops"} == {u["id"] for u in diff["added"]}


@pytest.mark.parametrize("ref", ["sales", "Sales"])
def test_show_known_at_resolves_a_unit_as_the_ledger_knew_it_then(
    cli: Cli, db: str, write: Write, ref: str
) -> None:
    """`sales` exists only in the superseded change set; as known then, it is a unit."""
    noted = _correct_base(cli, db, write)
    fails(cli("show", ref, "--at", "2020-06-01", "--db", db), 1)
    result = cli("show", ref, "--at", "2020-06-01", "--known-at", noted, "-f", "json", "--db", db)
    data = as_json(result)
    assert [u["id"] for u in data["units"]] == ["sales"]


@pytest.mark.parametrize(
    "ref",
    [
        "CSIG",
        "csig",
        "云与智慧产业事业群",
        "cloud and smart industries group",
        "CLOUD AND SMART INDUSTRIES GROUP",
    ],
)
def test_show_accepts_abbreviations_and_names_in_any_language(
    cli: Cli, tencent_db: str, ref: str
) -> None:
    data = as_json(cli("show", ref, "--at", "2018-09-30", "-f", "json", "--db", tencent_db))
    assert data["units"][0]["id"] == "csig"
    assert data["units"][0]["depth"] == 0


def test_an_ambiguous_unit_is_refused_and_lists_the_candidates(
    cli: Cli, db: str, write: Write
) -> None:
    plan = write(
        "dup.yaml",
        """
        id: dup
        title: Two teams called Delivery
        effective: 2020-01-01
        ops:
          - create: acme
            parent: null
            kind: company
            names: {en: Acme}
          - create: delivery-east
            parent: acme
            kind: team
            names: {en: Delivery}
          - create: delivery-west
            parent: acme
            kind: team
            names: {en: Delivery}
        """,
    )
    ok(cli("apply", plan, "--db", db))
    for command in (["show", "delivery", "--at", "2020-02-01"], ["lineage", "Delivery"]):
        result = fails(cli(*command, "--db", db), 1)
        assert "delivery-east" in result.stderr
        assert "delivery-west" in result.stderr
        assert "[ambiguous-unit]" in result.stderr
        assert result.stdout == ""


@pytest.mark.parametrize("command", ["show", "lineage", "history"])
def test_an_unknown_unit_is_refused(cli: Cli, tencent_db: str, command: str) -> None:
    result = fails(cli(command, "no-such-unit", "--db", tencent_db), 1)
    assert "no unit is called 'no-such-unit'" in result.stderr
    assert result.stdout == ""


def test_show_a_unit_not_active_on_the_date_is_refused(cli: Cli, tencent_db: str) -> None:
    result = fails(cli("show", "sng", "--at", "2019-01-01", "--db", tencent_db), 1)
    assert result.stderr.strip() == (
        "unit 'sng' is not active on 2019-01-01 (it ends on 2018-09-30) [inactive]"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["show", "--at", "2023-02-30"],
        ["show", "--at", "yesterday"],
        ["show", "--at", "20180930"],
        ["show", "--known-at", "not-a-time"],
        ["show", "--depth", "-1"],
        ["show", "--format", "xml"],
        ["diff", "2018-09-29", "2023-02-30"],
        ["diff", "yesterday", "2018-09-30"],
        ["diff", "2018-09-29"],
        ["log", "--known-at", "yesterday"],
        ["lineage"],
        ["apply"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(cli: Cli, tencent_db: str, args: list[str]) -> None:
    result = fails(cli(*args, "--db", tencent_db), 2)
    assert result.stdout == ""
    assert result.stderr.strip()


@pytest.mark.parametrize("bad", ["2023-02-30", "yesterday"])
def test_bad_date_message_names_the_value(cli: Cli, tencent_db: str, bad: str) -> None:
    result = fails(cli("show", "--at", bad, "--db", tencent_db), 2)
    assert f"'{bad}' is not a date" in result.stderr


# -- diff ----------------------------------------------------------------------


def test_diff_json_of_the_930_restructure(cli: Cli, tencent_db: str) -> None:
    data = as_json(cli("diff", "2018-09-29", "2018-09-30", "--format", "json", "--db", tencent_db))
    assert set(data) == {
        "from",
        "to",
        "changesets",
        "added",
        "removed",
        "moved",
        "renamed",
        "changed",
    }
    assert data["from"] == "2018-09-29"
    assert data["to"] == "2018-09-30"
    assert data["changesets"] == ["tencent-2018-09-30"]
    added = {u["id"]: u["parent"] for u in data["added"]}
    assert {"csig", "pcg", "ams", "tech-committee"} <= set(added)
    assert added["csig"] == "tencent"
    assert added["ams"] == "cdg"
    removed = {u["id"]: u["parent"] for u in data["removed"]}
    assert {"mig", "omg", "sng", "spa"} <= set(removed)
    assert removed["spa"] == "cdg"
    for entry in data["added"] + data["removed"]:
        assert set(entry) == {"id", "parent", "kind", "names", "abbr"}
    assert next(u for u in data["added"] if u["id"] == "csig")["abbr"] == "CSIG"
    assert next(u for u in data["removed"] if u["id"] == "sng")["names"]["zh"] == "社交网络事业群"
    for entry in data["moved"]:
        assert set(entry) == {"id", "from", "to"}
    assert {"id": "tencent-cloud", "from": "sng", "to": "csig"} in data["moved"]
    assert {"id": "qq", "from": "sng", "to": "pcg"} in data["moved"]
    assert {"id": "tencent-maps", "from": "mig", "to": "csig"} in data["moved"]
    moved_ids = [m["id"] for m in data["moved"]]
    assert len(moved_ids) == len(set(moved_ids))
    assert not set(moved_ids) & (set(added) | set(removed))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2018-09-30", "2018-10-01", []),
        ("2018-09-30", "2018-09-30", []),
        ("2016-01-01", "2018-09-30", ["tencent-2018-09-30"]),
        (
            "2015-03-31",
            "2018-09-30",
            ["tencent-2015-04-01", "tencent-2016-01-01-segments", "tencent-2018-09-30"],
        ),
    ],
)
def test_diff_lists_change_sets_after_the_first_date_up_to_the_second(
    cli: Cli, tencent_db: str, start: str, end: str, expected: list[str]
) -> None:
    data = as_json(cli("diff", start, end, "-f", "json", "--db", tencent_db))
    assert data["changesets"] == expected


def test_diff_text_marks_changes_in_words(cli: Cli, tencent_db: str) -> None:
    out = ok(cli("diff", "2018-09-29", "2018-09-30", "--db", tencent_db)).stdout
    lines = out.splitlines()
    assert any("added" in line and "csig" in line for line in lines)
    assert any("removed" in line and "sng" in line for line in lines)
    assert any(
        "moved" in line and "tencent-cloud" in line and "sng" in line and "csig" in line
        for line in lines
    )
    assert "tencent-2018-09-30" in out


def test_diff_does_not_list_a_unit_that_moved_with_its_parent(
    cli: Cli, db: str, write: Write
) -> None:
    ok(cli("apply", write("base.yaml", BASE), "--db", db))
    more = write(
        "more.yaml",
        """
        id: teams
        title: Teams
        effective: 2020-02-01
        ops:
          - create: field
            parent: sales
            kind: department
            names: {en: Field Sales}
          - create: field-north
            parent: field
            kind: team
            names: {en: Field North}
        """,
    )
    reorg = write(
        "reorg.yaml",
        """
        id: reorg
        title: Field sales go to operations
        effective: 2021-01-01
        ops:
          - move: field
            to: ops
          - rename: ops
            names: {en: Operations and Field}
          - set: sales
            kind: division
        """,
    )
    ok(cli("apply", more, reorg, "--db", db))
    data = as_json(cli("diff", "2020-12-31", "2021-01-01", "-f", "json", "--db", db))
    assert data["moved"] == [{"id": "field", "from": "sales", "to": "ops"}]
    assert data["added"] == []
    assert data["removed"] == []
    assert data["renamed"] == [
        {"id": "ops", "from": {"en": "Operations"}, "to": {"en": "Operations and Field"}}
    ]
    assert data["changed"] == [{"id": "sales", "field": "kind", "from": "group", "to": "division"}]
    text = ok(cli("diff", "2020-12-31", "2021-01-01", "--db", db)).stdout
    assert "field-north" not in text
    assert "renamed" in text
    assert "changed" in text


# -- lineage, history ------------------------------------------------------------


def test_lineage_of_sng_json(cli: Cli, tencent_db: str) -> None:
    data = as_json(cli("lineage", "sng", "--format", "json", "--db", tencent_db))
    assert set(data) == {"unit", "predecessors", "successors"}
    assert data["unit"] == "sng"
    for edge in data["predecessors"] + data["successors"]:
        assert set(edge) == {"from", "to", "date", "changeset", "kind", "share"}
        assert 0 <= edge["share"] <= 1
    successors = {e["to"]: e for e in data["successors"] if e["from"] == "sng"}
    assert set(successors) == {"csig", "pcg"}
    assert sum(e["share"] for e in successors.values()) == pytest.approx(1)
    for edge in successors.values():
        assert edge["date"] == "2018-09-30"
        assert edge["changeset"] == "tencent-2018-09-30"
        assert edge["kind"] == "dissolve"


def test_lineage_by_abbreviation_finds_the_predecessors_of_ams(cli: Cli, tencent_db: str) -> None:
    data = as_json(cli("lineage", "AMS", "-f", "json", "--db", tencent_db))
    assert data["unit"] == "ams"
    sources = {e["from"] for e in data["predecessors"]}
    assert {"spa", "omg-ads"} <= sources
    merges = {e["from"]: e for e in data["predecessors"] if e["kind"] == "merge"}
    assert set(merges) == {"spa", "omg-ads"}
    assert all(e["share"] == 1 for e in merges.values())
    assert data["successors"] == []


def test_lineage_text_shows_the_edges(cli: Cli, tencent_db: str) -> None:
    out = ok(cli("lineage", "sng", "--db", tencent_db)).stdout
    assert "sng -> csig" in out
    assert "sng -> pcg" in out
    assert "tencent-2018-09-30" in out


def test_history_json_lists_events_in_time_order(cli: Cli, tencent_db: str) -> None:
    data = as_json(cli("history", "qq", "--format", "json", "--db", tencent_db))
    assert data["unit"] == "qq"
    events = data["events"]
    dates = [e["date"] for e in events]
    assert dates == sorted(dates)
    assert [(e["date"], e["action"]) for e in events] == [
        ("2005-10-24", "created"),
        ("2012-05-18", "moved"),
        ("2018-09-30", "moved"),
    ]
    assert (events[1]["from"], events[1]["to"]) == ("b2", "sng")
    assert (events[2]["from"], events[2]["to"]) == ("sng", "pcg")
    assert events[2]["changeset"] == "tencent-2018-09-30"


def test_history_text_lists_events_in_time_order(cli: Cli, tencent_db: str) -> None:
    out = ok(cli("history", "qq", "--db", tencent_db)).stdout
    positions = [out.index(d) for d in ("2005-10-24", "2012-05-18", "2018-09-30")]
    assert positions == sorted(positions)
    assert "pcg" in out


def test_history_of_a_dissolved_group_ends_with_its_end(cli: Cli, tencent_db: str) -> None:
    data = as_json(cli("history", "SNG", "-f", "json", "--db", tencent_db))
    events = data["events"]
    assert events[0]["action"] == "created"
    assert events[0]["date"] == "2012-05-18"
    assert events[-1]["action"] == "ended"
    assert events[-1]["date"] == "2018-09-30"
    dates = [e["date"] for e in events]
    assert dates == sorted(dates)


# -- log, find -----------------------------------------------------------------


def test_log_json_lists_change_sets_in_effective_order(cli: Cli, tencent_db: str) -> None:
    entries = log_of(cli, tencent_db)
    assert ids_of(entries) == [
        "tencent-2005-10-24",
        "tencent-2012-05-18",
        "tencent-2013-01-28",
        "tencent-2014-05-06",
        "tencent-2015-04-01",
        "tencent-2016-01-01-segments",
        "tencent-2018-09-30",
        "tencent-2019-01-01-fbs",
    ]
    keys = {"id", "title", "effective", "recorded_at", "ops", "magnitude", "largest_since"}
    for entry in entries:
        assert keys <= set(entry)
        assert isinstance(entry["ops"], int)
        assert not isinstance(entry["ops"], bool)
        assert isinstance(entry["magnitude"], int | float)
        assert entry["recorded_at"].endswith("Z")
    by_id = {e["id"]: e for e in entries}
    assert by_id["tencent-2018-09-30"]["ops"] == 12
    assert by_id["tencent-2015-04-01"]["ops"] == 1
    assert by_id["tencent-2013-01-28"]["title"] == "MIG split up"


def test_log_puts_a_back_dated_change_set_in_effective_order(
    cli: Cli, tencent_db: str, write: Write
) -> None:
    back = write(
        "back.yaml",
        """
        id: lab-2010
        title: A lab in 2010
        effective: 2010-01-01
        ops:
          - create: lab2010
            parent: tencent
            kind: team
            names: {en: Lab 2010}
        """,
    )
    ok(cli("apply", back, "--db", tencent_db))
    entries = log_of(cli, tencent_db)
    assert ids_of(entries)[:3] == ["tencent-2005-10-24", "lab-2010", "tencent-2012-05-18"]
    effective = [e["effective"] for e in entries]
    assert effective == sorted(effective)


def test_log_text_has_the_titles(cli: Cli, tencent_db: str) -> None:
    out = ok(cli("log", "--db", tencent_db)).stdout
    assert "MIG split up" in out
    assert "2018-09-30" in out
    assert out.index("2005-10-24") < out.index("2018-09-30")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("云", {"csig", "tencent-cloud"}),
        ("cloud", {"csig", "tencent-cloud"}),
        ("CLOUD", {"csig", "tencent-cloud"}),
        ("腾讯地图", {"tencent-maps"}),
        ("pcg", {"pcg"}),
    ],
)
def test_find_matches_ids_abbreviations_and_names_in_every_language(
    cli: Cli, tencent_db: str, text: str, expected: set[str]
) -> None:
    data = as_json(cli("find", text, "--format", "json", "--db", tencent_db))
    assert data["query"] == text
    assert {m["id"] for m in data["matches"]} == expected


def test_find_text_lists_the_matches(cli: Cli, tencent_db: str) -> None:
    out = ok(cli("find", "云", "--db", tencent_db)).stdout
    assert "csig" in out
    assert "tencent-cloud" in out
    assert "sng" not in out


def test_find_with_no_match_succeeds_empty(cli: Cli, tencent_db: str) -> None:
    data = as_json(cli("find", "zzzz", "-f", "json", "--db", tencent_db))
    assert data["matches"] == []


# -- verify --------------------------------------------------------------------


def test_verify_passes_on_an_intact_ledger(cli: Cli, tencent_db: str) -> None:
    result = ok(cli("verify", "--db", tencent_db))
    assert "intact" in result.stdout
    assert result.stderr == ""
    report = as_json(cli("verify", "--format", "json", "--db", tencent_db))
    assert report["ok"] is True
    assert report["findings"] == []


def test_verify_detects_a_tampered_change_set(cli: Cli, tencent_db: str) -> None:
    changed = raw.execute(
        tencent_db,
        "UPDATE changesets SET body = replace(body, 'Business units', 'Tampered units') "
        "WHERE seq = 2",
        bypass=["changesets"],
    )
    assert changed == [1]
    result = fails(cli("verify", "--db", tencent_db), 1)
    assert "tencent-2012-05-18" in result.stderr
    report = json.loads(fails(cli("verify", "-f", "json", "--db", tencent_db), 1).stdout)
    assert report["ok"] is False
    assert any("tencent-2012-05-18" in f for f in report["findings"])


# -- demo ----------------------------------------------------------------------


def test_demo_tells_the_story_and_reuses_its_ledger(cli: Cli, tmp_path: Path) -> None:
    path = str(tmp_path / "demo.db")
    first = ok(cli("demo", "--db", path))
    out = first.stdout
    for part in (
        "Tencent on 2018-09-29",
        "Tencent on 2018-09-30",
        "Changes from 2018-09-29 to 2018-09-30",
        "lineage of sng",
        "lineage of mig",
        "lineage of omg",
        "change sets in effective order",
        "Social Network Group",
        "Cloud and Smart Industries Group",
        "is the largest reorganization since tencent-2012-05-18",
        "+81%",
        "+10%",
    ):
        assert part in out, part
    assert "built" in out.splitlines()[0]
    order = [out.index(p) for p in ("2018-09-29", "Changes from", "lineage of sng", "effective")]
    assert order == sorted(order)
    before = log_of(cli, path)
    assert len(before) == len(example_plans())
    second = ok(cli("demo", "--db", path))
    assert "reused" in second.stdout.splitlines()[0]
    assert log_of(cli, path) == before


def test_demo_refuses_a_path_holding_another_ledger(cli: Cli, db: str, write: Write) -> None:
    ok(cli("apply", write("base.yaml", BASE), "--db", db))
    before = log_of(cli, db)
    result = fails(cli("demo", "--db", db), 1)
    assert db in result.stderr
    assert "demo" in result.stderr
    assert result.stdout == ""
    assert log_of(cli, db) == before


# -- the real process ------------------------------------------------------------


def test_version_option_prints_the_version(cli: Cli) -> None:
    result = ok(cli("--version"))
    assert result.stdout.strip() == f"orgledger {__version__}"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ORGLEDGER_DB"}
    return subprocess.run(
        [sys.executable, "-m", "orgledger", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def test_python_dash_m_prints_the_version(tmp_path: Path) -> None:
    done = _run("--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"orgledger {__version__}"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["show", "--db", "missing.db"], 1),
        (["show", "--at", "2023-02-30", "--db", "missing.db"], 2),
        (["apply", "nope.yaml", "--db", "missing.db"], 1),
    ],
)
def test_errors_in_a_real_process_have_no_traceback(
    tmp_path: Path, args: list[str], code: int
) -> None:
    done = _run(*args, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    assert "Traceback" not in done.stdout
    assert done.stderr.strip()


def test_an_unexpected_failure_is_one_line_not_a_traceback(
    cli: Cli, tencent_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Ledger, "log", broken)
    result = fails(cli("log", "--db", tencent_db), 1)
    assert result.stderr.strip() == (
        "internal error: RuntimeError: disk on fire (this is a bug; "
        "ORGLEDGER_DEBUG=1 shows where it happened) [internal]"
    )
    assert "Traceback" not in result.stderr
