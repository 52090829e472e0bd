"""`orgledger import snapshot`: a structure from a file, and the change set inferred from it."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from orgledger import Ledger
from orgledger.plan import dump_plan
from orgledger.tables import read_table
from outcomes import fails, ok
from strategies import LinkedHistory, linked_histories
from test_properties import SCRATCH

Cli = Callable[..., Any]


def states(ledger: Ledger, day: date) -> dict[str, Any]:
    return {uid: unit.state() for uid, unit in ledger.at(day).units.items()}


# -- round trips -------------------------------------------------------------------


def test_the_930_restructure_is_inferred_from_two_exports(
    cli: Cli, tencent_db: str, db: str, tmp_path: Path
) -> None:
    before, after = tmp_path / "before.csv", tmp_path / "after.xlsx"
    ok(cli("export", "snapshot", "--at", "2018-09-29", "-o", str(before), "--db", tencent_db))
    ok(cli("export", "snapshot", "--at", "2018-10-01", "-o", str(after), "--db", tencent_db))
    first = ok(cli("import", "snapshot", str(before), "--effective", "2018-09-29", "--db", db))
    assert "create" in first.stdout and "recorded import-2018-09-29" in first.stdout
    plan = tmp_path / "plan.yaml"
    emitted = ok(
        cli("import", "snapshot", str(after), "--effective", "2018-09-30",
            "--emit-plan", str(plan), "--id", "upgrade", "--db", db)
    )  # fmt: skip
    assert "merge" in emitted.stdout and "split" in emitted.stdout
    document = yaml.safe_load(plan.read_text(encoding="utf-8"))
    ops = {next(iter(op)): op for op in document["ops"]}
    assert ops["merge"]["into"] == "pcg" and ops["merge"]["merge"] == ["omg"]
    assert "inferred" in ops["merge"]["notes"] and "tencent-news" in ops["merge"]["notes"]
    assert {item["to"] for item in ops["split"]["into"]} == {"csig", "pcg"}
    with Ledger.open(db) as ledger:
        assert ledger.records[-1].id == "import-2018-09-29"  # emitting wrote nothing
    ok(cli("plan", str(plan), "--db", db))
    ok(cli("apply", str(plan), "--db", db))
    with Ledger.open(db) as copy, Ledger.open(tencent_db) as original:
        assert states(copy, date(2018, 10, 1)) == states(original, date(2018, 10, 1))
        # The lineage follows the inferred operations: MIG's units went to CSIG and PCG.
        went = {e.dst for e in copy.lineage("mig").successors}
        assert went == {"csig", "pcg"}


def test_a_snapshot_imported_again_changes_nothing(
    cli: Cli, tencent_db: str, tmp_path: Path
) -> None:
    for suffix in ("csv", "xlsx", "json"):
        path = tmp_path / f"now.{suffix}"
        ok(cli("export", "snapshot", "--at", "2019-06-01", "-o", str(path), "--db", tencent_db))
        again = ok(
            cli("import", "snapshot", str(path), "--effective", "2019-06-01", "--db", tencent_db)
        )
        assert "no changes; nothing to record" in again.stdout, suffix


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(linked=linked_histories(), data=st.data())
def test_importing_a_later_snapshot_reaches_its_structure(
    linked: LinkedHistory, data: st.DataObject, tmp_path_factory: Any
) -> None:
    """On a ledger holding the history up to A, the snapshot of B imported gives B's structure."""
    history = linked.history
    folder = Path(tempfile.mkdtemp(prefix="orgledger-import-", dir=SCRATCH))
    days = history.days()
    a, b = sorted(data.draw(st.lists(st.sampled_from(days), min_size=2, max_size=2)))
    note(f"A={a} B={b}")
    for cs in history.changesets:
        note(dump_plan(cs))
    with Ledger.init(folder / "full.db") as full:
        full.apply(*history.changesets)
        target = full.at(b)
        (folder / "b.json").write_text(json.dumps(target.to_json()), encoding="utf-8")
        # A file cannot tell an attribute of empty text from a missing one (docs/columns.md).
        wanted = {
            uid: unit.replace(attrs={k: v for k, v in unit.attrs.items() if v != ""}).state()
            for uid, unit in target.units.items()
        }
        # The snapshot of B imported as of B into the ledger it came from changes nothing.
        same, nothing = full.infer_snapshot(read_table(folder / "b.json"), b)
        kept_empty = any(v == "" for u in target.units.values() for v in u.attrs.values())
        assert kept_empty or nothing.ops == (), same["ops"]
    with Ledger.init(folder / "part.db") as part:
        early = [cs for cs in history.changesets if cs.effective <= a]
        if early:
            part.apply(*early)
        effective = a + timedelta(days=1)
        plan, inferred = part.infer_snapshot(read_table(folder / "b.json"), effective)
        note(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False))
        if inferred.ops:
            part.apply(plan)
        assert {uid: u.state() for uid, u in part.at(effective).units.items()} == wanted
    shutil.rmtree(folder, ignore_errors=True)


# -- the file's problems -------------------------------------------------------------


def _head(db: str) -> tuple[int, str]:
    with Ledger.open(db) as ledger:
        return ledger.store.head()


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(
    cli: Cli, tencent_db: str, write: Callable[[str, str], str]
) -> None:
    path = write(
        "bad.csv",
        """
        id,parent,kind,name_en
        acme,,company,Acme
        sales,acme,team,Sales
        sales,acme,team,Sales Two
        a,b,team,A
        b,a,team,B
        lost,nowhere,team,Lost
        Bad Id,acme,team,Bad
        nameless,acme,team,
        """,
    )
    before = _head(tencent_db)
    result = fails(
        cli("import", "snapshot", path, "--effective", "2020-01-01", "--db", tencent_db), 1
    )
    lines = result.stderr.splitlines()
    assert any(
        "bad.csv:4: id 'sales' is given again, differently (first on line 3)" in x for x in lines
    )
    assert any("bad.csv:7: parent 'nowhere' of 'lost' is not in the file" in x for x in lines)
    assert any("bad.csv:5: the parents go round in a circle: a -> b -> a" in x for x in lines)
    assert any("bad.csv:8: id 'Bad Id' is not an id" in x for x in lines)
    assert any("bad.csv:9: unit 'nameless' has no name" in x for x in lines)
    assert "Traceback" not in result.stderr
    assert _head(tencent_db) == before


def test_missing_columns_are_named_and_can_be_mapped(
    cli: Cli, db: str, write: Callable[[str, str], str]
) -> None:
    path = write("hr.csv", "Org Unit;Reports To;Department\nhq;;Head Office\nrd;hq;R&D\n")
    missing = fails(cli("import", "snapshot", path, "--effective", "2020-01-01", "--db", db), 1)
    assert "hr.csv: no id or parent column" in missing.stderr
    assert "Org Unit, Reports To, Department" in missing.stderr
    mapped = ok(
        cli("import", "snapshot", path, "--effective", "2020-01-01", "--db", db,
            "--column", "id=Org Unit", "--column", "parent=Reports To",
            "--column", "name_en=Department")
    )  # fmt: skip
    assert "2 create" in mapped.stdout
    with Ledger.open(db) as ledger:
        assert ledger.at(date(2020, 1, 1))["rd"].names["en"] == "R&D"
    bad = fails(cli("import", "snapshot", path, "--effective", "2020-01-01", "--db", db,
                    "--column", "id"), 2)  # fmt: skip
    assert "--column needs OURS=THEIRS" in bad.stderr
    absent = fails(cli("import", "snapshot", path, "--effective", "2020-01-01", "--db", db,
                       "--column", "id=Unit Code"), 1)  # fmt: skip
    assert "no column 'Unit Code'" in absent.stderr


def test_chinese_exports_in_gb18030_or_with_a_bom_read_the_same(
    cli: Cli, db: str, tmp_path: Path
) -> None:
    text = "id,parent,name_zh,headcount\nhq,,总部 ,120\nrd,hq,研发部,80\nrd,hq,研发部,80\n"
    files = {
        "gbk.csv": text.encode("gb18030"),
        "bom.csv": b"\xef\xbb\xbf" + text.encode("utf-8"),
        "plain.csv": text.encode("utf-8"),
    }
    plans = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        out = tmp_path / f"{name}.yaml"
        result = ok(cli("import", "snapshot", str(tmp_path / name), "--effective", "2020-01-01",
                        "--emit-plan", str(out), "--db", db))  # fmt: skip
        assert "(1 duplicate row(s) ignored)" in result.stdout
        plans.append(yaml.safe_load(out.read_text(encoding="utf-8"))["ops"])
    assert plans[0] == plans[1] == plans[2]
    assert plans[0][0]["names"] == {"zh": "总部"} and plans[0][0]["attrs"] == {"headcount": 120}
    wrong = fails(cli("import", "snapshot", str(tmp_path / "gbk.csv"), "--effective",
                      "2020-01-01", "--encoding", "utf-8", "--db", db), 1)  # fmt: skip
    assert "gbk.csv:2: not utf-8" in wrong.stderr


def test_an_excel_file_with_dates_numbers_and_spaces(cli: Cli, db: str, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["id", "parent", "kind", "name_en", "founded", "headcount"])
    sheet.append(["hq ", None, "company", "Head Office", date(2001, 5, 17), 120.0])
    sheet.append(["rd", "hq", "department", "  R&D", date(2010, 1, 4), 80])
    path = tmp_path / "org.xlsx"
    book.save(path)
    ok(cli("import", "snapshot", str(path), "--effective", "2020-01-01", "--db", db))
    with Ledger.open(db) as ledger:
        snapshot = ledger.at(date(2020, 1, 1))
        assert dict(snapshot["hq"].attrs) == {"founded": "2001-05-17", "headcount": 120}
        assert snapshot["rd"].names["en"] == "R&D" and snapshot["rd"].parent == "hq"


def test_a_file_without_a_column_leaves_that_field_alone(
    cli: Cli, tencent_db: str, write: Callable[[str, str], str]
) -> None:
    """An export with English names only must not remove the Chinese ones."""
    path = write(
        "csig.csv",
        """
        id,parent,kind,name_en
        csig,tencent,group,Cloud Group
        tencent-cloud,csig,product,Tencent Cloud
        new-team,csig,team,New Team
        """,
    )
    out = Path(path).with_suffix(".yaml")
    ok(cli("import", "snapshot", path, "--under", "csig", "--effective", "2019-06-01",
           "--emit-plan", str(out), "--db", tencent_db))  # fmt: skip
    ops = yaml.safe_load(out.read_text(encoding="utf-8"))["ops"]
    assert ops == [
        {"create": "new-team", "parent": "csig", "kind": "team", "names": {"en": "New Team"}},
        {"rename": "csig", "names": {"en": "Cloud Group"}},
        {
            "dissolve": "tencent-maps",
            "notes": "inferred: not in the file; none of its units went elsewhere",
        },
    ]
    ok(cli("apply", str(out), "--db", tencent_db))
    with Ledger.open(tencent_db) as ledger:
        csig = ledger.at(date(2019, 6, 1))["csig"]
        assert csig.names["zh"] == "云与智慧产业事业群" and csig.abbr == "CSIG"
        assert "pcg" in ledger.at(date(2019, 6, 1))  # outside --under: untouched
