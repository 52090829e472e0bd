"""Exports: tables that read back to the snapshot, whole charts, notebooks, `orgledger export`."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, note, settings
from typer.testing import Result

from orgledger import Diff, Ledger, Snapshot, Unit, exports
from orgledger.exports import ExportError, GraphvizError, MissingDependencyError
from orgledger.plan import dump_plan
from orgledger.synth import history as synthetic
from outcomes import as_json, fails, ok
from strategies import LinkedHistory, linked_histories

Cli = Callable[..., Result]

AT = date(2018, 10, 1)
BEFORE = date(2018, 9, 29)
SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = {
    "evil": '"]; evil -->',
    "script": "<script>alert(1)</script>",
    "slash": 'back\\slash \\N \\n "q" \\',
    "entity": "#quot; & <b>x</b> `tick` %% {braces}",
}


@pytest.fixture(scope="module")
def dot_installed() -> None:
    if shutil.which("dot") is None:
        pytest.fail(
            "Graphviz's dot is missing: svg, png and pdf exports need Debian's graphviz "
            "(apt-get install graphviz fonts-noto-cjk, or `make graphviz`)"
        )


@pytest.fixture
def snapshot(tencent: Ledger) -> Snapshot:
    return tencent.at(AT)


@pytest.fixture
def change(tencent: Ledger) -> Diff:
    return tencent.diff(BEFORE, AT)


@pytest.fixture
def hostile(tmp_path: Path) -> Iterator[Ledger]:
    """Names, abbreviations, attributes and link types that try to break out of every format."""
    plan = {
        "id": "hostile",
        "effective": "2020-01-01",
        "ops": [
            {"create": "root", "parent": None, "kind": "company", "names": {"en": "Root & Co"}},
            *(
                {
                    "create": uid,
                    "parent": "root",
                    "kind": 'k"ind<',
                    "names": {"en": name, "zh": f"{name} 中文"},
                    "abbr": '"A]',
                }
                for uid, name in HOSTILE.items()
            ),
            {
                "create": "a--b",
                "parent": "evil",
                "kind": "team",
                "names": {"en": "two\nlines\r\tand =1+1"},
                "attrs": {
                    "kind": "clash",
                    "name_x": "clash",
                    "links": "clash",
                    "attr.y": "clash",
                    "id": "clash",
                    "formula": '=HYPERLINK("x")',
                    "empty": "",
                    "flag": True,
                    "size": 3,
                    "ratio": 2.5,
                    "code": "0042",
                    "bell": "a\x07b_x0041_",
                },
            },
            {"link": "a--b", "to": "script", "type": 'a;b%"c'},
            {"link": "a--b", "to": "root"},
        ],
    }
    with Ledger.init(tmp_path / "hostile.db") as ledger:
        ledger.apply(plan)
        yield ledger


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshot]:
    """A synthetic structure of 5,000 units."""
    path = tmp_path_factory.mktemp("big") / "big.db"
    with Ledger.init(path) as ledger:
        ledger.apply(*synthetic(5000, 1, 0, seed=7))
        yield ledger.at(date(2001, 1, 1))


# -- reading the tables back -------------------------------------------------------------


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def parse_links(text: str) -> list[tuple[str, str]]:
    """`type:target;...` back into (target, type) pairs, as `Unit.links` holds them."""
    pairs = []
    for item in filter(None, text.split(";")):
        kind, _, to = item.rpartition(":")
        pairs.append((to, kind.replace("%3B", ";").replace("%25", "%")))
    return sorted(pairs)


def from_row(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row as the importer will read it: every unknown column is an attribute."""
    fixed = {"id", "parent", "kind", "abbr", "links"}
    return {
        "id": row["id"],
        "parent": row["parent"] or None,
        "kind": row["kind"],
        "names": {k[5:]: v for k, v in row.items() if k.startswith("name_") and v},
        "abbr": row["abbr"] or None,
        "links": parse_links(row["links"]),
        "attrs": {
            k.removeprefix("attr."): v
            for k, v in row.items()
            if k not in fixed and not k.startswith("name_") and v
        },
    }


def expected(unit: Unit) -> dict[str, Any]:
    """A unit as a CSV row holds it: attribute values as text; empty text reads as absent."""
    attrs = {k: exports.cell_text(v) for k, v in unit.attrs.items()}
    return {
        "id": unit.id,
        "parent": unit.parent,
        "kind": unit.kind,
        "names": dict(unit.names),
        "abbr": unit.abbr,
        "links": sorted((link.to, link.type) for link in unit.links),
        "attrs": {k: v for k, v in attrs.items() if v},
    }


def test_csv_reads_back_as_the_snapshot(snapshot: Snapshot) -> None:
    rows = read_csv(exports.export_snapshot(snapshot, "csv"))
    assert [from_row(r) for r in rows] == [expected(u) for u, _ in snapshot.walk()]
    assert list(rows[0])[:8] == [
        "id",
        "parent",
        "kind",
        "name_en",
        "name_zh",
        "abbr",
        "links",
        "focus",
    ]


def test_csv_for_excel_starts_with_a_byte_order_mark(snapshot: Snapshot) -> None:
    plain = exports.export_snapshot(snapshot, "csv")
    marked = exports.export_snapshot(snapshot, "csv", bom=True)
    assert not plain.startswith(exports.BOM)
    assert marked == exports.BOM + plain
    assert "云与智慧产业事业群" in marked.decode("utf-8-sig")


def test_csv_keeps_hostile_text_and_escapes_clashing_attribute_names(hostile: Ledger) -> None:
    snapshot = hostile.at(date(2020, 1, 1))
    rows = read_csv(exports.export_snapshot(snapshot, "csv"))
    assert [from_row(r) for r in rows] == [expected(u) for u, _ in snapshot.walk()]
    header = list(rows[0])
    assert {"attr.kind", "attr.name_x", "attr.links", "attr.attr.y", "attr.id"} <= set(header)
    (row,) = [r for r in rows if r["id"] == "a--b"]
    assert row["links"] == 'dotted-line:root;a%3Bb%25"c:script'
    assert (row["flag"], row["size"], row["ratio"], row["code"]) == ("true", "3", "2.5", "0042")
    assert row["name_en"] == "two\nlines\r\tand =1+1"


def test_xlsx_reads_back_with_typed_cells(snapshot: Snapshot, hostile: Ledger) -> None:
    book = openpyxl.load_workbook(io.BytesIO(exports.export_snapshot(snapshot, "xlsx")))
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "units 2018-10-01"
    assert sheet.freeze_panes == "A2"
    values = list(sheet.iter_rows(values_only=True))
    header = [str(v) for v in values[0]]
    assert header == list(exports.unit_table(snapshot).columns)
    rows = [
        {k: "" if v is None else str(v) for k, v in zip(header, r, strict=True)} for r in values[1:]
    ]
    assert [from_row(r) for r in rows] == [expected(u) for u, _ in snapshot.walk()]

    odd = hostile.at(date(2020, 1, 1))
    sheet = openpyxl.load_workbook(io.BytesIO(exports.export_snapshot(odd, "xlsx"))).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    (row,) = [r for r in sheet.iter_rows(min_row=2) if r[0].value == "a--b"]
    cells = dict(zip(header, row, strict=True))
    assert cells["formula"].value == '=HYPERLINK("x")'
    assert cells["formula"].data_type == "s"  # text, never a formula
    assert (cells["flag"].value, cells["size"].value, cells["ratio"].value) == (True, 3, 2.5)
    assert cells["bell"].value == "a_x0007_b_x005F_x0041_"  # OOXML escapes, as Excel reads them


def test_json_is_the_shape_of_show(snapshot: Snapshot, cli: Cli, tencent_db: str) -> None:
    data = json.loads(exports.export_snapshot(snapshot, "json"))
    assert data == snapshot.to_json()
    shown = as_json(cli("show", "--at", "2018-10-01", "--format", "json", "--db", tencent_db))
    assert data == shown


def test_links_are_written_type_then_target(snapshot: Snapshot) -> None:
    rows = {r["id"]: r for r in read_csv(exports.export_snapshot(snapshot, "csv"))}
    assert rows["payment"]["links"] == "reported-in:others"
    assert rows["csig"]["links"] == ""


# -- the changes of a diff ---------------------------------------------------------------


def test_diff_rows_one_per_change(change: Diff) -> None:
    rows = read_csv(exports.export_diff(change, "csv"))
    assert list(rows[0]) == [
        "change",
        "id",
        "name_en",
        "name_zh",
        "field",
        "from",
        "to",
        "changesets",
    ]
    kinds = [r["change"] for r in rows]
    assert kinds == ["added"] * 4 + ["ended"] * 4 + ["moved"] * 8
    qq = next(r for r in rows if r["id"] == "qq")
    assert (qq["field"], qq["from"], qq["to"], qq["changesets"]) == (
        "parent",
        "sng",
        "pcg",
        "tencent-2018-09-30",
    )
    sng = next(r for r in rows if r["id"] == "sng")
    assert (sng["change"], sng["from"], sng["to"], sng["name_zh"]) == (
        "ended",
        "tencent",
        "",
        "社交网络事业群",
    )


def test_diff_over_several_change_sets_names_the_one_behind_each_change(tencent: Ledger) -> None:
    result = tencent.diff(date(2018, 1, 1), date(2019, 12, 31))
    assert len(result.changesets) > 1
    effects = {cs: tencent.changeset(cs).diff for cs in result.changesets}
    made = {(c.change, c.id): c.changesets for c in exports.changes(result, effects)}
    assert made[("added", "csig")] == ("tencent-2018-09-30",)
    assert made[("links", "payment")] == ("tencent-2019-01-01-fbs",)
    assert all(made.values())
    unknown = exports.changes(result)
    assert all(c.changesets == () for c in unknown)
    back = tencent.diff(date(2019, 12, 31), date(2018, 1, 1))
    undone = {(c.change, c.id): c.changesets for c in exports.changes(back, effects)}
    assert undone[("ended", "csig")] == ("tencent-2018-09-30",)
    assert all(undone.values())


def test_diff_json_and_xlsx(change: Diff) -> None:
    data = json.loads(exports.export_diff(change, "json"))
    assert (data["from"], data["to"], data["changesets"]) == (
        "2018-09-29",
        "2018-10-01",
        ["tencent-2018-09-30"],
    )
    assert data["changes"][0] == {
        "change": "added",
        "id": "ams",
        "names": {"en": "Advertising and Marketing Services", "zh": "广告营销服务线"},
        "field": "parent",
        "from": None,
        "to": "cdg",
        "changesets": ["tencent-2018-09-30"],
    }
    sheet = openpyxl.load_workbook(io.BytesIO(exports.export_diff(change, "xlsx"))).active
    assert sheet is not None
    assert sheet.max_row == 1 + len(data["changes"])


def test_renames_and_attribute_changes_are_one_row_per_field(tencent: Ledger) -> None:
    rows = exports.changes(tencent.diff(date(2013, 1, 27), date(2013, 1, 28)))
    assert [(r.change, r.id, r.field, r.old, r.new) for r in rows if r.change == "attr"] == [
        ("attr", "mig", "head", "刘成敏", None)
    ]
    renamed = Diff(
        date(2020, 1, 1),
        date(2020, 1, 2),
        renamed=(("x", {"en": "Old", "zh": "旧"}, {"en": "New", "zh": "旧"}),),
        changed=(("x", "abbr", None, "X"),),
        units={"x": (None, Unit("x", None, "team", {"en": "New", "zh": "旧"}))},
    )
    got = [(c.change, c.field, c.old, c.new) for c in exports.changes(renamed)]
    assert got == [("renamed", "name_en", "Old", "New"), ("renamed", "abbr", None, "X")]


# -- charts ------------------------------------------------------------------------------

NODE = re.compile(r'^  "([a-z0-9][a-z0-9_.-]*)" \[label="((?:[^"\\]|\\.)*)"')


def test_dot_has_every_unit_once(snapshot: Snapshot) -> None:
    source = exports.to_dot(snapshot)
    named = [m.group(1) for m in map(NODE.match, source.splitlines()) if m]
    assert sorted(named) == sorted(snapshot.units)
    assert f'fontname="{exports.FONT}"' in source


def test_mermaid_has_every_unit_once(snapshot: Snapshot) -> None:
    text = exports.to_mermaid(snapshot, direction="LR")
    assert text.startswith("flowchart LR\n")
    assert len(re.findall(r'^  u\d+\["', text, re.MULTILINE)) == len(snapshot)
    assert '-.->|"reported-in"|' in text


def test_mermaid_escapes_hostile_names(hostile: Ledger) -> None:
    text = exports.to_mermaid(hostile.at(date(2020, 1, 1)))
    label = r'"[^"\n<>`]*(?:<br/>[^"\n<>`]*)*"'
    shapes = [
        r"flowchart TD",
        rf"  u\d+\[{label}\](?::::\w+)?",
        r"  u\d+ (?:-->|-\.-) u\d+",
        rf"  u\d+ -\.->\|{label}\| u\d+",
    ]
    for line in text.splitlines():
        assert any(re.fullmatch(shape, line) for shape in shapes), line
    assert "#lt;script#gt;" in text
    assert "#quot;]; evil --#gt;" in text
    assert "#35;quot;" in text  # a literal entity in a name stays literal


def test_dot_escapes_hostile_names(hostile: Ledger, dot_installed: None) -> None:
    snapshot = hostile.at(date(2020, 1, 1))
    source = exports.to_dot(snapshot)
    for line in source.splitlines():
        if line.startswith('  "'):
            # every quoted string closes where it should: the rest is attributes
            assert re.fullmatch(r'  (?:"(?:[^"\\]|\\.)*"|[^"])*', line), line
    texts = svg_texts(exports.render(source, "svg"))
    for name in HOSTILE.values():
        assert f'{name} ("A])' in texts[HOSTILE_IDS[name]]
    assert texts["a--b"][0].replace("\xa0", " ") == "two lines  and =1+1"  # dot keeps spaces


HOSTILE_IDS = {name: uid for uid, name in HOSTILE.items()}


def svg_nodes(data: bytes) -> dict[str, ET.Element]:
    """The SVG's node groups by title (the unit id); fails if the SVG is not XML."""
    tree = ET.fromstring(data)
    nodes: dict[str, ET.Element] = {}
    for group in tree.iter(f"{SVG}g"):
        if group.get("class", "").split()[:1] == ["node"]:
            title = group.find(f"{SVG}title")
            assert title is not None and title.text is not None
            assert title.text not in nodes
            nodes[title.text] = group
    return nodes


def svg_texts(data: bytes) -> dict[str, list[str]]:
    return {
        uid: [t.text or "" for t in group.iter(f"{SVG}text")]
        for uid, group in svg_nodes(data).items()
    }


def test_svg_png_pdf_are_whole_charts(snapshot: Snapshot, dot_installed: None) -> None:
    svg = exports.export_snapshot(snapshot, "svg", lang="zh")
    texts = svg_texts(svg)
    assert set(texts) == set(snapshot.units)
    assert texts["csig"][0] == "云与智慧产业事业群 (CSIG)"
    assert exports.export_snapshot(snapshot, "png").startswith(b"\x89PNG\r\n\x1a\n")
    assert exports.export_snapshot(snapshot, "pdf").startswith(b"%PDF-")


def test_a_chart_of_5000_units_is_not_truncated(big: Snapshot, dot_installed: None) -> None:
    assert len(big) == 5000
    nodes = svg_nodes(exports.export_snapshot(big, "svg", direction="LR"))
    assert set(nodes) == set(big.units)


def test_depth_cuts_deliberately_and_says_what_is_below(snapshot: Snapshot) -> None:
    nodes = exports.chart_nodes(snapshot, "tencent", 1)
    assert [n.unit.id for n in nodes][:2] == ["tencent", "cdg"]
    below = {n.unit.id: n.hidden for n in nodes}
    assert below["pcg"] == len(snapshot.children("pcg"))
    assert below["tencent"] == 0
    assert sum(below.values()) + len(nodes) == sum(1 for _ in snapshot.walk("tencent"))
    assert f"+{below['pcg']} units below" in exports.to_dot(snapshot, "tencent", 1)


def test_diff_colours_every_change_and_keeps_what_ended(
    snapshot: Snapshot, change: Diff, dot_installed: None
) -> None:
    nodes = svg_nodes(exports.export_snapshot(snapshot, "svg", diff=change))
    status = {uid: g.get("class", "").split()[1:] for uid, g in nodes.items()}
    assert set(nodes) == set(snapshot.units) | {"mig", "omg", "sng", "spa"}
    assert {uid for uid, s in status.items() if s == ["ended"]} == {"mig", "omg", "sng", "spa"}
    assert {uid for uid, s in status.items() if s == ["added"]} == {
        "ams",
        "csig",
        "pcg",
        "tech-committee",
    }
    assert status["qq"] == ["moved"] and status["tencent"] == []
    fills = {uid: next(p.get("fill") for p in g.iter(f"{SVG}path")) for uid, g in nodes.items()}
    for uid, kind in (("csig", "added"), ("qq", "moved"), ("sng", "ended")):
        assert fills[uid] == exports.STYLES[kind][0]
    source = exports.to_dot(snapshot, diff=change)
    assert "moved from Social Network Group" in source
    assert 'style="rounded,filled,dashed"' in source
    for _, _, words in exports.STYLES.values():
        assert words in source  # the legend


def test_diff_colours_in_a_subtree_and_in_mermaid(snapshot: Snapshot, change: Diff) -> None:
    nodes = exports.chart_nodes(snapshot, "cdg", None, None, change)
    assert [(n.unit.id, n.status) for n in nodes] == [
        ("cdg", None),
        ("ams", "added"),
        ("payment", None),
        ("spa", "ended"),
    ]
    text = exports.to_mermaid(snapshot, "cdg", diff=change)
    assert "  u0 -.- u3" in text and ":::ended" in text and "classDef added" in text
    with pytest.raises(ExportError, match="the diff ends on 2018-09-30"):
        exports.to_dot(snapshot, diff=Diff(BEFORE, date(2018, 9, 30)))


def test_graphviz_missing_or_failing_is_a_clear_error(
    snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports.shutil, "which", lambda _: None)
    with pytest.raises(GraphvizError, match="needs Graphviz's `dot`, which is not installed"):
        exports.export_snapshot(snapshot, "svg")
    monkeypatch.setattr(exports.shutil, "which", lambda _: "/bin/false")
    with pytest.raises(GraphvizError, match="could not draw the chart: exit code 1"):
        exports.export_snapshot(snapshot, "png")


# -- pandas and notebooks ----------------------------------------------------------------


def test_to_pandas_has_the_csv_columns(snapshot: Snapshot, change: Diff) -> None:
    frame = snapshot.to_pandas()
    assert list(frame.columns) == list(exports.unit_table(snapshot).columns)
    assert frame.shape == (len(snapshot), 9)
    assert list(frame["id"])[:2] == ["tencent", "cdg"]
    changes = change.to_pandas()
    assert changes.shape == (16, 8)
    assert set(changes["change"]) == {"added", "ended", "moved"}
    assert snapshot.to_pandas("csig", 0).shape[0] == 1


def test_to_pandas_without_pandas_says_how_to_install_it(
    snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing(name: str) -> Any:
        raise ImportError(name)

    monkeypatch.setattr(exports.importlib, "import_module", missing)
    with pytest.raises(MissingDependencyError, match=r"pip install 'orgledger\[pandas\]'"):
        snapshot.to_pandas()


def test_html_escapes_every_name(hostile: Ledger) -> None:
    snapshot = hostile.at(date(2020, 1, 1))
    shown = snapshot._repr_html_()
    assert "<script" not in shown and "&lt;script&gt;" in shown
    assert "&quot;]; evil --&gt;" in shown
    changed = hostile.diff(date(2019, 12, 31), date(2020, 1, 1))._repr_html_()
    assert "<script" not in changed and "&lt;script&gt;" in changed
    assert "change sets: hostile" in changed
    assert "no changes" in Diff(AT, AT)._repr_html_()


def test_html_of_a_huge_snapshot_is_cut_and_says_so(big: Snapshot) -> None:
    shown = big._repr_html_()
    assert shown.count("<tr>") == 1 + exports.HTML_ROWS
    assert "… 4,800 more units" in shown
    # well-formed, for a notebook's sanitizer
    ET.fromstring(shown)


# -- the command line --------------------------------------------------------------------


def test_cli_snapshot_csv_to_stdout(cli: Cli, tencent_db: str, snapshot: Snapshot) -> None:
    result = ok(cli("export", "snapshot", "--at", "2018-10-01", "--db", tencent_db))
    assert result.stdout_bytes == exports.export_snapshot(snapshot, "csv")


def test_cli_infers_the_format_from_the_file(cli: Cli, tencent_db: str, tmp_path: Path) -> None:
    target = tmp_path / "csig.xlsx"
    result = ok(
        cli(
            "export",
            "snapshot",
            "--at",
            "2018-10-01",
            "--under",
            "CSIG",
            "-o",
            str(target),
            "--db",
            tencent_db,
        )
    )
    assert result.stdout == f"wrote {target}: 3 unit(s) as of 2018-10-01\n"
    sheet = openpyxl.load_workbook(target).active
    assert sheet is not None and sheet.max_row == 4


def test_cli_draws_a_diff_coloured_chart(
    cli: Cli, tencent_db: str, tmp_path: Path, dot_installed: None
) -> None:
    target = tmp_path / "930.svg"
    args = ("--at", "2018-10-01", "--compare", "2018-09-29", "--direction", "LR")
    ok(cli("export", "snapshot", *args, "-o", str(target), "--db", tencent_db))
    assert "mig" in svg_nodes(target.read_bytes())
    png = ok(
        cli("export", "snapshot", "--at", "2018-10-01", "-f", "png", "-o", "-", "--db", tencent_db)
    )
    assert png.stdout_bytes.startswith(b"\x89PNG")


def test_cli_diff_exports(cli: Cli, tencent_db: str) -> None:
    data = as_json(
        cli("export", "diff", "2018-01-01", "2019-12-31", "-f", "json", "--db", tencent_db)
    )
    assert {c["changesets"][0] for c in data["changes"]} == {
        "tencent-2018-09-30",
        "tencent-2019-01-01-fbs",
    }
    rows = read_csv(
        ok(
            cli("export", "diff", "2018-09-29", "2018-10-01", "--excel", "--db", tencent_db)
        ).stdout_bytes
    )
    assert len(rows) == 16


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("snapshot", "-f", "gif"), 2, "Invalid value for '--format' / '-f'"),
        (
            ("snapshot", "-f", "png"),
            2,
            "png is binary: give a file with -o (or -o - to write it to stdout) [usage]",
        ),
        (
            ("snapshot", "-o", "chart.txt"),
            2,
            "cannot tell the format from 'chart.txt': give --format",
        ),
        (("snapshot", "--at", "2018-13-01"), 2, "'2018-13-01' is not a date (YYYY-MM-DD)"),
        (("snapshot", "--compare", "2018-09-29", "-f", "csv"), 2, "--compare colours charts only"),
        (
            ("snapshot", "--at", "2018-10-01", "--compare", "2018-10-01", "-f", "dot"),
            2,
            "--compare takes a date before 2018-10-01, not 2018-10-01 [usage]",
        ),
        (("snapshot", "--excel", "-f", "json"), 2, "--excel applies to csv only [usage]"),
        (("snapshot", "--under", "nobody"), 1, "[unknown-unit]"),
        (
            ("snapshot", "--at", "2010-01-01", "--under", "pcg"),
            1,
            "unit 'pcg' is not active on 2010-01-01",
        ),
        (
            ("snapshot", "-o", "/no/such/dir/x.csv"),
            1,
            "cannot write /no/such/dir/x.csv: No such file or directory [export]",
        ),
        (
            ("diff", "2018-09-29", "2018-10-01", "-f", "svg"),
            2,
            "Invalid value for '--format' / '-f'",
        ),
        (("diff", "2018-09-29"), 2, "Missing argument 'DATE2'"),
    ],
)
def test_cli_errors(
    cli: Cli, tencent_db: str, args: tuple[str, ...], code: int, message: str
) -> None:
    result = fails(cli("export", *args, "--db", tencent_db), code)
    assert message in result.stderr
    assert result.stdout == ""


def test_cli_without_graphviz(cli: Cli, tencent_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports.shutil, "which", lambda _: None)
    result = fails(cli("export", "snapshot", "-o", "x.svg", "--db", tencent_db), 1)
    assert result.stderr.count("\n") == 1
    assert result.stderr.endswith("make graphviz) [graphviz]\n")


# -- the round trip, for any history -----------------------------------------------------


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(linked=linked_histories())
def test_csv_export_reads_back_as_the_snapshot(linked: LinkedHistory) -> None:
    """Ids, parents, kinds, names, abbreviations, links, and attributes as text."""
    history = linked.history
    for cs in history.changesets:
        note(dump_plan(cs))
    with (
        tempfile.TemporaryDirectory(prefix="orgledger-export-") as tmp,
        Ledger.init(Path(tmp) / "a.db") as ledger,
    ):
        for cs in history.changesets:
            ledger.apply(cs)
        for day in history.days():
            snapshot = ledger.at(day)
            rows = read_csv(exports.export_snapshot(snapshot, "csv"))
            assert sorted(r["id"] for r in rows) == sorted(snapshot.units)
            assert [from_row(r) for r in rows] == [expected(u) for u, _ in snapshot.walk()]
