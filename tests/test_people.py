"""`orgledger import people`: an HR export checked and turned into each unit's headcount."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import Result

from orgledger import Ledger
from orgledger.demo import example_plans
from orgledger.errors import ImportFileError
from orgledger.people import headcount_plan, read_people
from orgledger.tables import Row, Table

Cli = Callable[..., Result]
DAY = "2018-10-01"

PEOPLE = """\
employee_id,manager_id,unit,name,title
e1,,Tencent,Pony Ma,CEO
e2,e1,PCG,Ren Yuxin,President
e3,e2,QQ,Alice Zhang,Engineer
e4,e2,pcg,Bob Li ,Engineer
e4,e2,pcg,Bob Li,Engineer
e5,e1,CSIG,Tang Daosheng,President
e6,e5,tencent-cloud,Carol Wu,Engineer
e7,e6,Tencent Cloud,Dan Xu,Engineer
"""
COUNTS = {"tencent": 1, "pcg": 2, "qq": 1, "csig": 1, "tencent-cloud": 2}


def _file(tmp_path: Path, text: str, name: str = "people.csv", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def _headcounts(db: str) -> dict[str, object]:
    with Ledger.open(db) as ledger:
        units = ledger.at(date.fromisoformat(DAY)).units
        return {uid: u.attrs["headcount"] for uid, u in units.items() if "headcount" in u.attrs}


def _head(db: str) -> tuple[int, str]:
    with Ledger.open(db) as ledger:
        return ledger.store.head()


def test_sets_each_units_direct_headcount(cli: Cli, tencent_db: str, tmp_path: Path) -> None:
    result = cli(
        "import", "people", _file(tmp_path, PEOPLE), "--effective", DAY, "--db", tencent_db
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "7 people (1 duplicate row(s) ignored) in 5 unit(s): 5 unit(s) to update; "
        f"recorded people-{DAY} (effective {DAY})\n"
    )
    assert _headcounts(tencent_db) == COUNTS
    again = cli("import", "people", _file(tmp_path, PEOPLE), "--effective", DAY, "--db", tencent_db)
    assert again.exit_code == 0
    assert again.stdout.endswith("0 unit(s) to update; nothing to record\n")


def test_a_unit_nobody_is_in_any_more_drops_to_zero(
    cli: Cli, tencent_db: str, tmp_path: Path
) -> None:
    assert cli("import", "people", _file(tmp_path, PEOPLE), "--effective", DAY, "--db", tencent_db)
    fewer = PEOPLE.replace("e3,e2,QQ,Alice Zhang,Engineer\n", "")
    result = cli(
        "import", "people", _file(tmp_path, fewer), "--effective", "2018-11-01",
        "--db", tencent_db,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with Ledger.open(tencent_db) as ledger:
        units = ledger.at(date(2018, 11, 1)).units
    assert units["qq"].attrs["headcount"] == 0
    assert "headcount" not in units["wxg"].attrs  # never given one: left alone


def test_emit_plan_writes_nothing(cli: Cli, tencent_db: str, tmp_path: Path) -> None:
    before = _head(tencent_db)
    out = tmp_path / "plan.yaml"
    result = cli(
        "import", "people", _file(tmp_path, PEOPLE), "--effective", DAY, "--db", tencent_db,
        "--emit-plan", str(out), "--id", "hr-october",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _head(tencent_db) == before
    plan = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert plan["id"] == "hr-october"
    assert {op["set"]: op["attrs"]["headcount"] for op in plan["ops"]} == COUNTS
    assert "Pony" not in out.read_text(encoding="utf-8")
    applied = cli("apply", str(out), "--db", tencent_db)
    assert applied.exit_code == 0, applied.output
    assert _headcounts(tencent_db) == COUNTS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "id,boss,unit\n1,,QQ\n",
            "people.csv: no employee_id or manager_id column (the columns are id, boss, unit; "
            "map yours with --column employee_id=YOUR_HEADER) [import]",
            id="missing-columns",
        ),
        pytest.param(
            "employee_id,manager_id,unit\na,,QQ\nb,a,QQ\na,b,PCG\n",
            "people.csv:4: employee 'a' is given again, differently (first on line 2) [import]",
            id="duplicate-id",
        ),
        pytest.param(
            "employee_id,manager_id,unit\na,,QQ\nb,zz,QQ\n",
            "people.csv:3: manager 'zz' of 'b' is not in the file "
            "(leave manager_id empty at the top of the tree) [import]",
            id="dangling-manager",
        ),
        pytest.param(
            "employee_id,manager_id,unit\ntop,,QQ\na,c,QQ\nb,a,QQ\nc,b,QQ\nd,c,QQ\n",
            "people.csv:3: the reporting lines go round in a circle: a -> c -> b -> a "
            "(lines 3, 4, 5) [import]",
            id="cycle",
        ),
        pytest.param(
            "employee_id,manager_id,unit\na,a,QQ\n",
            "people.csv:2: the reporting lines go round in a circle: a -> a (lines 2) [import]",
            id="self-manager",
        ),
        pytest.param(
            "employee_id,manager_id,unit\na,,Nowhere\n",
            "people.csv:2: unit 'Nowhere': no unit is called 'Nowhere'; did you mean 'others'? "
            "[import]",
            id="unknown-unit",
        ),
        pytest.param(
            "employee_id,manager_id,unit\na,,omg\n",
            "people.csv:2: unit 'omg': unit 'omg' is not active on 2018-10-01 [import]",
            id="inactive-unit",
        ),
        pytest.param(
            "employee_id,manager_id,unit\na,,\n,a,QQ\n",
            "people.csv:2: employee 'a' has no unit\npeople.csv:3: the row has no employee_id "
            "[import]",
            id="empty-cells",
        ),
    ],
)
def test_each_problem_names_its_line_and_nothing_is_written(
    cli: Cli, tencent_db: str, tmp_path: Path, text: str, expected: str
) -> None:
    before = _head(tencent_db)
    result = cli("import", "people", _file(tmp_path, text), "--effective", DAY, "--db", tencent_db)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.replace(str(tmp_path) + "/", "") == expected + "\n"
    assert _head(tencent_db) == before


def test_every_problem_is_listed_in_line_order_up_to_fifty(
    cli: Cli, tencent_db: str, tmp_path: Path
) -> None:
    rows = "".join(f"p{i},boss{i},QQ\n" for i in range(60))
    text = "employee_id,manager_id,unit\nx,y,Nowhere\n" + rows
    result = cli("import", "people", _file(tmp_path, text), "--effective", DAY, "--db", tencent_db)
    lines = result.stderr.replace(str(tmp_path) + "/", "").splitlines()
    assert lines[0].startswith("people.csv:2: unit 'Nowhere': no unit is called 'Nowhere'")
    assert lines[1].startswith("people.csv:2: manager 'y' of 'x' is not in the file")
    assert lines[2].startswith("people.csv:3: manager 'boss0' of 'p0'")
    assert len(lines) == 51
    assert lines[-1] == "people.csv: and 12 more problem(s) [import]"


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("gb18030", b"")],
    ids=["utf-8", "utf-8-bom", "gb18030"],
)
def test_reads_common_encodings(
    cli: Cli, tencent_db: str, tmp_path: Path, encoding: str, prefix: bytes
) -> None:
    text = "工号,上级,部门\na,,平台与内容事业群\nb,a,微信事业群\nc,a,平台与内容事业群\n"
    path = tmp_path / "people.csv"
    path.write_bytes(prefix + text.encode(encoding))
    result = cli(
        "import", "people", str(path), "--effective", DAY, "--db", tencent_db,
        "--column", "employee_id=工号", "--column", "manager_id=上级", "--column", "unit=部门",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _headcounts(tencent_db) == {"pcg": 2, "wxg": 1}


def test_given_encoding_is_used(cli: Cli, tencent_db: str, tmp_path: Path) -> None:
    text = "employee_id,manager_id,unit,name\na,,QQ,张三\n"
    path = _file(tmp_path, text, encoding="gb18030")
    wrong = cli(
        "import", "people", path, "--effective", DAY, "--db", tencent_db, "--encoding", "utf-8"
    )
    assert wrong.exit_code == 1
    assert "not utf-8" in wrong.stderr
    right = cli(
        "import", "people", path, "--effective", DAY, "--db", tencent_db, "--encoding", "gbk"
    )
    assert right.exit_code == 0, right.output


def test_reads_excel_with_dates_and_numbers(cli: Cli, tencent_db: str, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["employee_id", "manager_id", "unit", "name", "hired"])
    sheet.append([1001, None, "QQ ", "Ann", date(2015, 3, 1)])
    sheet.append([1002, 1001, "QQ", "Ben", date(2016, 4, 1)])
    sheet.append([1002, 1001, "QQ", "Ben", date(2016, 4, 1)])
    sheet.append([1003, 1001.0, "WXG", None, None])
    path = tmp_path / "people.xlsx"
    book.save(path)
    result = cli("import", "people", str(path), "--effective", DAY, "--db", tencent_db)
    assert result.exit_code == 0, result.output
    assert "(1 duplicate row(s) ignored)" in result.stdout
    assert _headcounts(tencent_db) == {"qq": 2, "wxg": 1}


def test_names_are_kept_only_when_asked(cli: Cli, tmp_path: Path) -> None:
    db = str(tmp_path / "names.db")
    with Ledger.init(db) as ledger:
        ledger.apply(*example_plans())
    path = _file(tmp_path, PEOPLE)
    result = cli("import", "people", path, "--effective", DAY, "--db", db)
    assert result.exit_code == 0, result.output
    data = b"".join(p.read_bytes() for p in tmp_path.glob("names.db*"))
    for name in ("Pony Ma", "Alice Zhang", "Bob Li", "Carol Wu", "Dan Xu"):
        assert name.encode() not in data
    kept = cli("import", "people", path, "--effective", "2018-10-02", "--db", db, "--keep-names")
    assert kept.exit_code == 0, kept.output
    with Ledger.open(db) as ledger:
        units = ledger.at(date(2018, 10, 2)).units
    heads = {uid: u.attrs.get("head") for uid, u in units.items() if uid in COUNTS}
    # The head of a unit: the person whose manager is outside it (most direct reports wins).
    assert heads == {
        "tencent": "Pony Ma",
        "pcg": "Ren Yuxin",
        "qq": "Alice Zhang",
        "csig": "Tang Daosheng",
        "tencent-cloud": "Carol Wu",
    }


# --- the checks as pure functions, on random reporting trees ---------------------------------


def _table(managers: list[int | None]) -> Table:
    rows = tuple(
        Row(
            line,
            {"employee_id": f"p{i}", "unit": "u"}
            | ({"manager_id": f"p{m}"} if m is not None else {}),
        )
        for line, (i, m) in enumerate(enumerate(managers), start=2)
    )
    return Table("t.csv", ("employee_id", "manager_id", "unit"), rows, 0)


@st.composite
def trees(draw: st.DrawFn) -> list[int | None]:
    """Managers of people 0..n-1: each reports to someone earlier, or to nobody."""
    size = draw(st.integers(1, 40))
    return [
        None if i == 0 or draw(st.integers(0, 9)) == 0 else draw(st.integers(0, i - 1))
        for i in range(size)
    ]


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees(), shuffle=st.randoms(use_true_random=False))
def test_a_tree_has_no_cycle(tree: list[int | None], shuffle: object) -> None:
    order = list(range(len(tree)))
    shuffle.shuffle(order)  # type: ignore[attr-defined]
    rename = {old: new for new, old in enumerate(order)}
    renamed: list[int | None] = [None] * len(tree)
    for old, manager in enumerate(tree):
        renamed[rename[old]] = None if manager is None else rename[manager]
    people = read_people(_table(renamed), lambda ref: ref)
    assert people.headcount == {"u": len(tree)}


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees(), data=st.data())
def test_a_cycle_inserted_is_always_reported(tree: list[int | None], data: st.DataObject) -> None:
    bottom = data.draw(st.integers(0, len(tree) - 1))
    chain = [bottom]
    while tree[chain[-1]] is not None:
        chain.append(tree[chain[-1]])  # type: ignore[arg-type]
    top = data.draw(st.sampled_from(chain))
    tree = list(tree)
    tree[top] = bottom  # the top of a chain now reports to someone under it (or itself)
    loop = chain[: chain.index(top) + 1]
    with pytest.raises(ImportFileError) as caught:
        read_people(_table(tree), lambda ref: ref)
    lines = [line for line in caught.value.message.splitlines() if "circle" in line]
    assert len(lines) == 1
    listed = lines[0].rsplit("(lines ", 1)[1].rstrip(")")
    assert listed == ", ".join(str(i + 2) for i in sorted(loop))


def test_plan_counts_direct_members_only() -> None:
    people = read_people(_table([None, 0, 0]), lambda ref: ref)
    plan = headcount_plan(people, {}, date(2020, 1, 1), source="x/t.csv")
    assert plan["ops"] == []
    assert plan["id"] == "people-2020-01-01"
    assert plan["title"] == "Headcount from t.csv as of 2020-01-01"


def test_long_chains_and_long_cycles() -> None:
    size = 200_000
    chain = [None, *range(size - 1)]  # p1 reports to p0, p2 to p1, ... one long line
    assert read_people(_table(chain), lambda ref: ref).headcount == {"u": size}
    looped: list[int | None] = [size - 1, *range(size - 1)]
    with pytest.raises(ImportFileError) as caught:
        read_people(_table(looped), lambda ref: ref)
    assert caught.value.message == (
        "t.csv:2: the reporting lines go round in a circle: "
        "p0 -> p199999 -> p199998 -> p199997 -> p199996 -> p199995 -> p199994 -> p199993 "
        "-> p199992 -> p199991 -> ... (lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 199990 more)"
    )
