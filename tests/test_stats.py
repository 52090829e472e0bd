"""Org health: units by kind, layers, span of control, headcount and shares by attribute.

The structure below is recorded on 2020-01-01. Expected figures are computed in the
tests from the table itself (depths from the parent chain, spans from counting
children, attribute values by walking up to the nearest ancestor that has one),
with `statistics`, and a few are also written out by hand.

    co (company)                      seg (segment)
    ├── g1 (group; focus to_b, 10)    └── seg1 (segment; focus to_c)
    │   ├── t1 (team; 5)
    │   ├── t2 (team)
    │   ├── t3 (team; focus to_c, 3)
    │   │   └── s1 (squad)
    │   └── t5 (team)
    ├── g2 (group; 20)
    │   └── t4 (team; focus to_b)
    └── g3 (group)
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from orgledger import Ledger
from orgledger.stats import Stats
from outcomes import as_json, fails, ok

Cli = Callable[..., Result]

START = date(2020, 1, 1)
NONE = "(none)"

STRUCTURE: list[tuple[str, str | None, str, dict[str, Any]]] = [
    ("co", None, "company", {}),
    ("g1", "co", "group", {"focus": "to_b", "headcount": 10}),
    ("t1", "g1", "team", {"headcount": 5}),
    ("t2", "g1", "team", {}),
    ("t3", "g1", "team", {"focus": "to_c", "headcount": 3}),
    ("t5", "g1", "team", {}),
    ("s1", "t3", "squad", {}),
    ("g2", "co", "group", {"headcount": 20}),
    ("t4", "g2", "team", {"focus": "to_b"}),
    ("g3", "co", "group", {}),
    ("seg", None, "segment", {}),
    ("seg1", "seg", "segment", {"focus": "to_c"}),
]
PARENT = {uid: parent for uid, parent, _, _ in STRUCTURE}
KIND = {uid: kind for uid, _, kind, _ in STRUCTURE}
ATTRS = {uid: attrs for uid, _, _, attrs in STRUCTURE}


def plan(cs_id: str, effective: date | str, *ops: dict[str, Any]) -> dict[str, Any]:
    effective = effective if isinstance(effective, str) else effective.isoformat()
    return {"id": cs_id, "effective": effective, "ops": list(ops)}


def create(uid: str, parent: str | None, kind: str, attrs: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"create": uid, "parent": parent, "kind": kind}
    op["names"] = {"en": uid.upper()}
    if attrs:
        op["attrs"] = attrs
    return op


BASE = plan("base", START, *(create(*row) for row in STRUCTURE))


@pytest.fixture
def org(ledger: Ledger) -> Ledger:
    ledger.apply(BASE)
    return ledger


@pytest.fixture
def org_db(db: str) -> str:
    with Ledger.open(db) as ledger:
        ledger.apply(BASE)
    return db


# -- the expected figures, from the table ------------------------------------------------------


def members(root: str | None) -> list[str]:
    """The units of the whole structure, or of `root`'s subtree."""
    if root is None:
        return list(PARENT)
    return [uid for uid in PARENT if root in chain(uid)]


def chain(uid: str) -> list[str]:
    """The unit and its ancestors, nearest first."""
    found: list[str] = []
    current: str | None = uid
    while current is not None:
        found.append(current)
        current = PARENT[current]
    return found


def depth(uid: str, root: str | None) -> int:
    up = chain(uid)
    return up.index(root) if root is not None else len(up) - 1


def value(uid: str, attr: str) -> str:
    for unit in chain(uid):
        if attr in ATTRS[unit]:
            return str(ATTRS[unit][attr])
    return NONE


def expected(root: str | None = None) -> dict[str, Any]:
    units = members(root)
    depths = [depth(u, root) for u in units]
    spans = [n for n in (sum(PARENT[c] == u for c in units) for u in units) if n]
    heads = [ATTRS[u]["headcount"] for u in units if "headcount" in ATTRS[u]]
    return {
        "units": len(units),
        "kinds": dict(Counter(KIND[u] for u in units)),
        "layers": max(depths) + 1,
        "mean_depth": statistics.mean(depths),
        "managers": len(spans),
        "span_mean": statistics.mean(spans) if spans else None,
        "span_median": statistics.median(spans) if spans else None,
        "span_p90": (
            statistics.quantiles(spans, n=10, method="inclusive")[8]
            if len(spans) > 1
            else (spans[0] if spans else None)
        ),
        "span_max": max(spans) if spans else None,
        "headcount": sum(heads) if heads else None,
        "headcount_units": len(heads),
    }


def expected_shares(root: str | None, attr: str) -> dict[str, tuple[int, float, float | None]]:
    """Value -> (units, unit share, headcount share)."""
    units = members(root)
    groups = Counter(value(u, attr) for u in units)
    heads: Counter[str] = Counter()
    for u in units:
        if "headcount" in ATTRS[u]:
            heads[value(u, attr)] += ATTRS[u]["headcount"]
    total = sum(heads.values())
    return {v: (n, n / len(units), heads[v] / total if total else None) for v, n in groups.items()}


def figures(stats: Stats) -> dict[str, Any]:
    return {
        "units": stats.units,
        "kinds": stats.kinds,
        "layers": stats.layers,
        "mean_depth": stats.mean_depth,
        "managers": stats.managers,
        "span_mean": stats.span_mean,
        "span_median": stats.span_median,
        "span_p90": stats.span_p90,
        "span_max": stats.span_max,
        "headcount": stats.headcount,
        "headcount_units": stats.headcount_units,
    }


def shares(stats: Stats) -> dict[str, tuple[int, float, float | None]]:
    return {s.value: (s.units, s.unit_share, s.headcount_share) for s in stats.shares}


def same_shares(
    got: dict[str, tuple[int, float, float | None]],
    want: dict[str, tuple[int, float, float | None]],
) -> bool:
    """Equal groups and counts; shares equal up to rounding (None only where None)."""
    assert set(got) == set(want), (got, want)
    for key, (units, unit_share, head_share) in want.items():
        have = got[key]
        assert have[0] == units, key
        assert have[1] == pytest.approx(unit_share), key
        if head_share is None:
            assert have[2] is None, key
        else:
            assert have[2] == pytest.approx(head_share), key
    return True


# -- measuring one date ----------------------------------------------------------------------


def test_the_whole_forest_figures_worked_out_by_hand(org: Ledger) -> None:
    stats = org.stats(START)
    assert stats.units == 12
    assert stats.kinds == {"company": 1, "group": 3, "team": 5, "squad": 1, "segment": 2}
    assert stats.layers == 4
    assert stats.mean_depth == pytest.approx(17 / 12)
    assert stats.managers == 5  # co 3, g1 4, t3 1, g2 1, seg 1
    assert stats.span_mean == pytest.approx(2.0)
    assert stats.span_median == pytest.approx(1.0)
    assert stats.span_p90 == pytest.approx(3.6)
    assert stats.span_max == 4
    assert stats.headcount == 38
    assert stats.headcount_units == 4
    assert stats.at == START


@pytest.mark.parametrize("root", [None, "co", "g1", "t3", "g2", "seg", "s1"])
def test_figures_of_the_forest_and_of_each_subtree(org: Ledger, root: str | None) -> None:
    stats = org.stats(START, root=root)
    want = expected(root)
    got = figures(stats)
    for key in ("mean_depth", "span_mean", "span_median", "span_p90"):
        assert got.pop(key) == pytest.approx(want.pop(key)), key
    assert got == want


def test_a_lone_root_has_one_layer_and_no_span(ledger: Ledger) -> None:
    ledger.apply(plan("solo", START, create("solo", None, "company", {})))
    stats = ledger.stats(START)
    assert stats.units == 1
    assert stats.layers == 1
    assert stats.mean_depth == 0
    assert stats.managers == 0
    assert (stats.span_mean, stats.span_median, stats.span_p90, stats.span_max) == (None,) * 4
    assert stats.headcount is None
    assert stats.headcount_units == 0
    assert stats.kinds == {"company": 1}


def test_an_empty_structure_has_no_units(org: Ledger) -> None:
    stats = org.stats(date(2019, 12, 31))
    assert stats.units == 0
    assert stats.layers == 0
    assert stats.kinds == {}
    assert stats.headcount is None


def test_headcount_ignores_units_without_it_and_counts_zero(ledger: Ledger) -> None:
    ledger.apply(
        plan(
            "hc",
            START,
            create("co", None, "company", {"headcount": 0}),
            create("x", "co", "team", {"headcount": 2.5}),
            create("y", "co", "team", {"site": "z"}),
        )
    )
    stats = ledger.stats(START)
    assert stats.headcount == pytest.approx(2.5)
    assert stats.headcount_units == 2


def test_shares_by_attribute_inherit_from_the_nearest_ancestor(org: Ledger) -> None:
    stats = org.stats(START, by="focus")
    assert stats.by == "focus"
    assert same_shares(
        shares(stats),
        {
            "to_b": (5, 5 / 12, 15 / 38),  # g1, t1, t2, t5 (from g1) and t4
            NONE: (4, 4 / 12, 20 / 38),  # co, g2, g3, seg
            "to_c": (3, 3 / 12, 3 / 38),  # t3, s1 (from t3, not g1) and seg1
        },
    )
    assert same_shares(shares(stats), expected_shares(None, "focus"))
    assert [s.value for s in stats.shares] == ["to_b", NONE, "to_c"]  # most units first
    assert sum(s.unit_share for s in stats.shares) == pytest.approx(1)
    assert sum(s.headcount_share or 0 for s in stats.shares) == pytest.approx(1)
    heads = {s.value: s.headcount for s in stats.shares}
    assert heads == {"to_b": 15, NONE: 20, "to_c": 3}


@pytest.mark.parametrize(
    ("root", "wanted"),
    [
        ("g1", {"to_b": 4, "to_c": 2}),
        ("t3", {"to_c": 2}),
        ("s1", {"to_c": 1}),  # the nearest ancestor with a value is t3, not g1
        ("t1", {"to_b": 1}),  # inherited from above the subtree
        ("g2", {NONE: 1, "to_b": 1}),
        ("seg", {NONE: 1, "to_c": 1}),
    ],
)
def test_shares_of_a_subtree_inherit_from_above_it(
    org: Ledger, root: str, wanted: dict[str, int]
) -> None:
    stats = org.stats(START, root=root, by="focus")
    assert {s.value: s.units for s in stats.shares} == wanted
    assert same_shares(shares(stats), expected_shares(root, "focus"))
    assert stats.root == root


def test_shares_without_any_headcount_have_no_headcount_share(ledger: Ledger) -> None:
    ledger.apply(
        plan(
            "plain",
            START,
            create("co", None, "company", {"region": "north"}),
            create("x", "co", "team", {}),
            create("y", "co", "team", {"region": "south"}),
        )
    )
    stats = ledger.stats(START, by="region")
    assert same_shares(shares(stats), {"north": (2, 2 / 3, None), "south": (1, 1 / 3, None)})
    assert all(s.headcount is None for s in stats.shares)


def test_an_attribute_no_unit_has_puts_every_unit_under_none(org: Ledger) -> None:
    stats = org.stats(START, by="colour")
    assert same_shares(shares(stats), {NONE: (12, 1.0, 1.0)})


def test_stats_of_a_subtree_accept_an_abbreviation_or_name(org: Ledger) -> None:
    assert org.stats(START, root="G1").units == 6


# -- a series over a range -------------------------------------------------------------------


@pytest.fixture
def changing(org: Ledger) -> Ledger:
    org.apply(
        plan("grow", "2020-06-01", create("x", "g3", "team", {"focus": "to_c"})),
        plan("shrink", "2021-01-01", {"dissolve": "g3"}),
        plan("same-day", "2021-01-01", {"move": "t4", "to": "g1"}),
    )
    return org


@pytest.mark.parametrize(
    ("start", "end", "points"),
    [
        (
            "2020-01-01",
            "2021-01-01",
            [("2020-01-01", None, 12), ("2020-06-01", "grow", 13), ("2021-01-01", "same-day", 12)],
        ),
        (
            "2019-06-01",
            "2020-12-31",
            [("2019-06-01", None, 0), ("2020-01-01", "base", 12), ("2020-06-01", "grow", 13)],
        ),
        ("2020-06-02", "2020-12-31", [("2020-06-02", None, 13)]),
        ("2020-05-31", "2020-06-01", [("2020-05-31", None, 12), ("2020-06-01", "grow", 13)]),
    ],
)
def test_a_series_has_the_start_then_one_point_per_change_set_date(
    changing: Ledger, start: str, end: str, points: list[tuple[str, str | None, int]]
) -> None:
    series = changing.stats_series(date.fromisoformat(start), date.fromisoformat(end))
    assert [(s.at.isoformat(), s.changeset, s.units) for s in series] == points


def test_a_series_measures_the_structure_after_each_change_set(changing: Ledger) -> None:
    series = changing.stats_series(START, date(2021, 12, 31), root="co", by="focus")
    assert [s.at for s in series] == [START, date(2020, 6, 1), date(2021, 1, 1)]
    for point in series:
        single = changing.stats(point.at, root="co", by="focus")
        assert figures(point) == figures(single)
        assert point.shares == single.shares
    last = series[-1]
    # g3 dissolved (x moves up to co), t4 moved under g1: g1 has 5 children now
    assert last.span_max == 5
    assert {s.value: s.units for s in last.shares} == {"to_b": 5, "to_c": 3, NONE: 2}


# -- the command line ------------------------------------------------------------------------


def test_stats_json_of_one_date(cli: Cli, org_db: str) -> None:
    data = as_json(
        cli("stats", "--at", "2020-01-01", "--by", "focus", "-f", "json", "--db", org_db)
    )
    assert data["at"] == "2020-01-01"
    assert data["units"] == 12
    assert data["layers"] == 4
    assert data["kinds"] == {"company": 1, "group": 3, "segment": 2, "squad": 1, "team": 5}
    assert data["mean_depth"] == pytest.approx(17 / 12, abs=1e-6)
    assert data["span"] == pytest.approx(
        {"managers": 5, "mean": 2.0, "median": 1.0, "p90": 3.6, "max": 4}
    )
    assert data["headcount"] == 38
    assert data["by"] == "focus"
    by_value = {s["value"]: s for s in data["shares"]}
    assert by_value["to_b"]["units"] == 5
    assert by_value["to_b"]["unit_share"] == pytest.approx(5 / 12, abs=1e-6)
    assert by_value["to_b"]["headcount_share"] == pytest.approx(15 / 38, abs=1e-6)
    assert set(by_value) == {"to_b", "to_c", NONE}


def test_stats_of_a_unit_is_its_subtree(cli: Cli, org_db: str) -> None:
    data = as_json(cli("stats", "g1", "--at", "2020-01-01", "-f", "json", "--db", org_db))
    assert data["root"] == "g1"
    assert data["units"] == 6
    assert data["layers"] == 3
    assert data["span"]["max"] == 4
    assert data["headcount"] == 18


def test_stats_range_json_is_a_list_of_points(cli: Cli, org_db: str) -> None:
    with Ledger.open(org_db) as ledger:
        ledger.apply(plan("grow", "2020-06-01", create("x", "g3", "team", {})))
    data = as_json(
        cli("stats", "--from", "2020-01-01", "--to", "2020-12-31", "-f", "json", "--db", org_db)
    )
    assert [(p["at"], p["changeset"], p["units"]) for p in data] == [
        ("2020-01-01", None, 12),
        ("2020-06-01", "grow", 13),
    ]


def test_stats_text_shows_the_figures(cli: Cli, org_db: str) -> None:
    out = ok(cli("stats", "--at", "2020-01-01", "--by", "focus", "--db", org_db)).stdout
    assert "org health" in out
    assert "2020-01-01" in out
    row = next(line for line in out.splitlines() if line.startswith("│ 2020-01-01"))
    cells = [cell.strip() for cell in row.strip("│").split("│")]
    assert cells[2:] == ["12", "4", "2", "1", "3.6", "4", "38"]
    assert "to_b" in out


def test_stats_plot_writes_a_png(cli: Cli, org_db: str, tmp_path: Path) -> None:
    with Ledger.open(org_db) as ledger:
        ledger.apply(plan("grow", "2020-06-01", create("x", "g3", "team", {"focus": "to_c"})))
    chart = tmp_path / "health.png"
    result = ok(
        cli(
            "stats",
            "--from",
            "2020-01-01",
            "--to",
            "2020-12-31",
            "--by",
            "focus",
            "--plot",
            str(chart),
            "--db",
            org_db,
        )
    )
    data = chart.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 5_000
    assert str(chart) in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "2020-01-01"],
        ["--to", "2020-12-31"],
        ["--at", "2020-06-01", "--from", "2020-01-01", "--to", "2020-12-31"],
        ["--at", "2020-06-01", "--from", "2020-01-01"],
        ["--at", "2020-02-30"],
    ],
)
def test_stats_usage_errors_exit_2(cli: Cli, org_db: str, args: list[str]) -> None:
    result = fails(cli("stats", *args, "--db", org_db), 2)
    assert result.stdout == ""
    assert result.stderr.strip()


def test_stats_of_a_unit_not_active_then_is_refused(cli: Cli, tencent_db: str) -> None:
    result = fails(cli("stats", "sng", "--at", "2019-01-01", "--db", tencent_db), 1)
    assert "[inactive]" in result.stderr
    assert result.stdout == ""


def test_tencent_to_b_units_appear_with_the_930_upgrade(cli: Cli, tencent_db: str) -> None:
    data = as_json(
        cli(
            "stats",
            "tencent",
            "--from",
            "2018-01-01",
            "--to",
            "2018-12-31",
            "--by",
            "focus",
            "-f",
            "json",
            "--db",
            tencent_db,
        )
    )
    assert [p["at"] for p in data] == ["2018-01-01", "2018-09-30"]
    assert data[1]["changeset"] == "tencent-2018-09-30"
    before = {s["value"]: s["units"] for s in data[0]["shares"]}
    after = {s["value"]: s["units"] for s in data[1]["shares"]}
    assert "to_b" not in before
    assert after["to_b"] == 3  # csig, and tencent-cloud and tencent-maps below it
    assert sum(after.values()) == data[1]["units"]
    assert sum(before.values()) == data[0]["units"]
    show = as_json(cli("show", "csig", "--at", "2018-09-30", "-f", "json", "--db", tencent_db))
    assert {u["id"] for u in show["units"]} == {"csig", "tencent-cloud", "tencent-maps"}
