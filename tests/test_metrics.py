"""Metric values over structure: periods, metrics files, rollup, restatement and growth.

Expected numbers are worked out by hand from a small organization recorded below
(ACME_2019, REORG_2020, REORG_2021) and the lineage rules of docs/plan-language.md:

    2019-01-01                   2020-01-01                   2021-01-01
    acme                         acme                         acme
    ├── eng                      ├── infra: platform          ├── digital: docs, web
    │   ├── apps (headcount 8)   ├── product: apps,           ├── infra: apps, platform
    │   ├── platform (12)        │   docs, web                ├── research-a
    │   └── web (2)              ├── research-a               └── sales: field, helpdesk
    ├── lab                      ├── research-b
    ├── research                 └── sales: field, helpdesk
    ├── sales (SLS, "Ventes")
    │   ├── east (30)
    │   └── west (10)
    └── support
        ├── docs (no headcount: weight 1)
        └── helpdesk (6)

digital is named "Product", like the product group it takes part of.

Lineage shares:
- 2020: east, west -> field 1 each (merge); eng -> product 10/22 (apps 8 + web 2),
  eng -> infra 12/22 (platform 12); support -> product 1/7 (docs moved there first),
  support -> sales 6/7 (helpdesk); research -> research-a, research-b 1/2 each (no
  children received: equal); lab dissolved with no children: no successor.
- 2021: product -> infra 0.7, product -> digital 0.3 (explicit shares);
  research-b dissolved with no children: no successor.
"""

from __future__ import annotations

import csv
import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import Result

from orgledger import (
    CurrencyError,
    Ledger,
    MetricQuery,
    MetricsError,
    MetricTable,
    Period,
    UnknownMetricError,
    parse_period,
)
from orgledger.changeset import timestamp
from orgledger.demo import example_metrics
from orgledger.errors import UsageError
from orgledger.periods import PeriodError
from orgledger.synth import history
from outcomes import as_json, fails, ok

Cli = Callable[..., Result]
Write = Callable[[str, str], str]

ACME_2019 = """
id: acme-2019
title: Acme as first recorded
effective: 2019-01-01
ops:
  - {create: acme, parent: null, kind: company, names: {en: Acme, zh: 阿克米}, abbr: ACME}
  - {create: eng, parent: acme, kind: group, names: {en: Engineering}}
  - {create: apps, parent: eng, kind: team, names: {en: Apps, zh: 交付}, attrs: {headcount: 8}}
  - {create: platform, parent: eng, kind: team, names: {en: Platform}, attrs: {headcount: 12}}
  - {create: web, parent: eng, kind: team, names: {en: Web}, attrs: {headcount: 2}}
  - {create: lab, parent: acme, kind: team, names: {en: Lab}}
  - {create: research, parent: acme, kind: team, names: {en: Research}}
  - {create: sales, parent: acme, kind: group, names: {en: Sales, fr: Ventes}, abbr: SLS}
  - {create: east, parent: sales, kind: team, names: {en: Sales East}, attrs: {headcount: 30}}
  - {create: west, parent: sales, kind: team, names: {en: Sales West}, attrs: {headcount: 10}}
  - {create: support, parent: acme, kind: group, names: {en: Support}}
  - {create: docs, parent: support, kind: team, names: {en: Documentation}}
  - create: helpdesk
    parent: support
    kind: team
    names: {en: Helpdesk, zh: 交付}
    attrs: {headcount: 6}
"""

REORG_2020 = """
id: reorg-2020
title: Field sales merged, engineering split, support and lab dissolved
effective: 2020-01-01
ops:
  - merge: [east, west]
    into:
      create: field
      parent: sales
      kind: team
      names: {en: Field Sales}
      attrs: {headcount: 40}
  - split: eng
    into:
      - {create: product, parent: acme, kind: group, names: {en: Product}, children: [apps, web]}
      - {create: infra, parent: acme, kind: group, names: {en: Infra}, children: [platform]}
  - move: docs
    to: product
  - dissolve: support
    children_to: sales
  - split: research
    into:
      - {create: research-a, parent: acme, kind: team, names: {en: Research A}}
      - {create: research-b, parent: acme, kind: team, names: {en: Research B}}
  - dissolve: lab
"""

REORG_2021 = """
id: reorg-2021
title: Product split between infra and a new digital group
effective: 2021-01-01
ops:
  - split: product
    into:
      - {to: infra, children: [apps], share: 0.7}
      - create: digital
        parent: acme
        kind: group
        names: {en: Product}
        children: [web, docs]
        share: 0.3
  - dissolve: research-b
"""

HEADER = "unit,metric,period,value,currency,basis,source"


# -- helpers -------------------------------------------------------------------


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def row(
    unit: str,
    value: float | str,
    period: str = "2019Q4",
    metric: str = "revenue",
    currency: str = "EUR",
    basis: str = "reported",
) -> str:
    """One CSV line, with a source of its own."""
    return (
        f"{unit},{metric},{period},{value},{currency},{basis},https://example.org/{unit}/{period}"
    )


def csv_text(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def load(ledger: Ledger, write: Write, *rows: str, name: str = "figures.csv") -> int:
    return ledger.load_metrics(write(name, csv_text(*rows)), name)


def ask(
    ledger: Ledger, period: str = "2019Q4", metric: str = "revenue", **query: Any
) -> MetricTable:
    return ledger.metrics(MetricQuery(metric, parse_period(period), **query))


def values(table: MetricTable) -> dict[str, float]:
    return {r.unit: r.figure.value for r in table.rows}


def by_unit(table: MetricTable) -> dict[str, Any]:
    return {r.unit: r for r in table.rows}


def unallocated(table: MetricTable) -> dict[str, float]:
    return {u.unit: u.value for u in table.unallocated}


def stored(ledger: Ledger) -> set[tuple[str, str, str, float]]:
    return {(v.unit, v.metric, v.period.label, v.value) for v in ledger.metric_values()}


@pytest.fixture
def acme(ledger: Ledger, write: Write) -> Ledger:
    ledger.apply(
        write("acme-2019.yaml", ACME_2019),
        write("reorg-2020.yaml", REORG_2020),
        write("reorg-2021.yaml", REORG_2021),
    )
    return ledger


@pytest.fixture
def figures(tencent: Ledger) -> Ledger:
    """The Tencent ledger with its figures (segment revenue, headcount) loaded."""
    tencent.load_metrics(example_metrics(), "metrics.csv")
    return tencent


def tencent_rows() -> list[dict[str, str]]:
    with example_metrics().open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def tencent_value(unit: str, metric: str, period: str) -> float:
    (found,) = [
        float(r["value"])
        for r in tencent_rows()
        if (r["unit"], r["metric"], r["period"]) == (unit, metric, period)
    ]
    return found


# -- periods -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2018Q1", date(2018, 1, 1), date(2018, 3, 31), "2018Q1"),
        ("2018Q2", date(2018, 4, 1), date(2018, 6, 30), "2018Q2"),
        ("2018Q4", date(2018, 10, 1), date(2018, 12, 31), "2018Q4"),
        ("2018H1", date(2018, 1, 1), date(2018, 6, 30), "2018H1"),
        ("2018H2", date(2018, 7, 1), date(2018, 12, 31), "2018H2"),
        ("2018", date(2018, 1, 1), date(2018, 12, 31), "2018"),
        ("2018-06", date(2018, 6, 1), date(2018, 6, 30), "2018-06"),
        ("2020-02", date(2020, 2, 1), date(2020, 2, 29), "2020-02"),
        ("2019-02", date(2019, 2, 1), date(2019, 2, 28), "2019-02"),
        ("2018-06-30", date(2018, 6, 30), date(2018, 6, 30), "2018-06-30"),
        ("2018-04-01..2018-06-30", date(2018, 4, 1), date(2018, 6, 30), "2018Q2"),
        ("2018-07-01..2018-12-31", date(2018, 7, 1), date(2018, 12, 31), "2018H2"),
        ("2018-01-01..2018-12-31", date(2018, 1, 1), date(2018, 12, 31), "2018"),
        ("2018-06-01..2018-06-30", date(2018, 6, 1), date(2018, 6, 30), "2018-06"),
        ("2018-06-30..2018-06-30", date(2018, 6, 30), date(2018, 6, 30), "2018-06-30"),
        (
            "2018-02-01..2018-04-30",
            date(2018, 2, 1),
            date(2018, 4, 30),
            "2018-02-01..2018-04-30",
        ),
        (
            "2017-10-01..2018-03-31",
            date(2017, 10, 1),
            date(2018, 3, 31),
            "2017-10-01..2018-03-31",
        ),
    ],
)
def test_parse_period_reads_every_form_and_labels_it_shortest(
    text: str, start: date, end: date, label: str
) -> None:
    period = parse_period(text)
    assert (period.start, period.end) == (start, end)
    assert period.label == label
    assert str(period) == label


def test_an_explicit_range_equals_the_quarter_it_spans() -> None:
    assert parse_period("2018-04-01..2018-06-30") == parse_period("2018Q2")
    assert parse_period("2018-04-01..2018-06-30").is_quarter


@pytest.mark.parametrize(
    "text",
    [
        "2018Q5",
        "2018Q0",
        "2018H3",
        "18Q2",
        "Q2 2018",
        "2018-13",
        "2018-00",
        "2018-6",
        "2018-02-30",
        "2018-6-30",
        "2018-04-01..",
        "..2018-06-30",
        "2018-04-01..2018Q2",
        "0000",
        "",
        "yesterday",
    ],
)
def test_bad_period_text_is_refused_naming_the_accepted_forms(text: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    message = str(caught.value)
    assert f"'{text}'" in message
    for form in ("2018Q2", "2018H1", "2018", "2018-06", "2018-06-30", "2018-04-01..2018-06-30"):
        assert form in message


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(PeriodError, match="ends before it starts"):
        parse_period("2018-06-30..2018-04-01")


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2018Q2", date(2017, 4, 1), date(2017, 6, 30)),
        ("2018Q1", date(2017, 1, 1), date(2017, 3, 31)),
        ("2018H2", date(2017, 7, 1), date(2017, 12, 31)),
        ("2018", date(2017, 1, 1), date(2017, 12, 31)),
        ("2018-06", date(2017, 6, 1), date(2017, 6, 30)),
        # A month end stays a month end: February of a leap year ends on the 29th ...
        ("2021-02", date(2020, 2, 1), date(2020, 2, 29)),
        # ... and February 29th becomes the 28th.
        ("2020-02", date(2019, 2, 1), date(2019, 2, 28)),
        ("2018-06-30", date(2017, 6, 30), date(2017, 6, 30)),
        ("2020-02-29", date(2019, 2, 28), date(2019, 2, 28)),
        ("2018-03-15..2018-05-20", date(2017, 3, 15), date(2017, 5, 20)),
        ("2019-03-01..2020-02-29", date(2018, 3, 1), date(2019, 2, 28)),
    ],
)
def test_year_before_is_the_same_period_a_year_earlier(text: str, start: date, end: date) -> None:
    assert parse_period(text).year_before() == Period(start, end)


def test_year_before_a_single_month_end_day_is_one_day_that_is_a_month_end() -> None:
    """2021-02-28 is a month's last day: a year earlier that is 2020-02-29, one day."""
    before = parse_period("2021-02-28").year_before()
    assert before.start == before.end
    assert before == Period(date(2020, 2, 29), date(2020, 2, 29))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018Q2", "2018Q1"),
        ("2018Q1", "2017Q4"),
        ("2018Q4", "2018Q3"),
        ("2018Q3", "2018Q2"),
        ("2018-04-01..2018-06-30", "2018Q1"),
    ],
)
def test_quarter_before_is_the_previous_quarter(text: str, expected: str) -> None:
    before = parse_period(text).quarter_before()
    assert before == parse_period(expected)
    assert before.label == expected


@pytest.mark.parametrize(
    "text", ["2018", "2018H1", "2018-06", "2018-06-30", "2018-02-01..2018-04-30"]
)
def test_only_a_quarter_has_a_quarter_before(text: str) -> None:
    period = parse_period(text)
    assert not period.is_quarter
    with pytest.raises(PeriodError, match="not a quarter"):
        period.quarter_before()


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(999, 1, 1), date(999, 12, 31)),
        (date(999, 4, 1), date(999, 6, 30)),
        (date(999, 6, 1), date(999, 6, 30)),
    ],
)
def test_the_label_of_a_period_before_year_1000_can_be_read_back(start: date, end: date) -> None:
    period = Period(start, end)
    assert parse_period(period.label) == period


# -- reading metrics files -------------------------------------------------------


def test_a_csv_with_bom_any_case_header_blank_lines_and_grouped_numbers_loads(
    acme: Ledger, tmp_path: Path
) -> None:
    text = (
        "Unit,METRIC,Period,Value,Currency,Basis,Source\r\n"
        "\r\n"
        'sales,revenue,2019Q4,"17,496",RMB million,derived,'
        "https://a.example/1 https://b.example/2\r\n"
        ",,,,,,\r\n"
        "platform,revenue,2019Q4,-1.5,,approx,https://c.example\r\n"
        'apps,revenue,2019Q4,"1,234,567.25",RMB million,reported,https://d.example\r\n'
    )
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert acme.load_metrics(path, "bom.csv") == 3
    found = {v.unit: v for v in acme.metric_values("revenue")}
    assert set(found) == {"sales", "platform", "apps"}
    sales = found["sales"]
    assert sales.value == 17496
    assert sales.currency == "RMB million"
    assert sales.basis == "derived"
    assert sales.sources == ("https://a.example/1", "https://b.example/2")
    assert sales.period == parse_period("2019Q4")
    assert sales.row == 3
    assert found["platform"].value == -1.5
    assert found["platform"].currency is None
    assert found["platform"].row == 5
    assert found["apps"].value == 1234567.25


@pytest.mark.parametrize("wrapped", [False, True])
def test_a_json_list_or_metrics_object_loads(acme: Ledger, write: Write, wrapped: bool) -> None:
    rows = [
        {
            "unit": "sales",
            "metric": "revenue",
            "period": "2019Q4",
            "value": 120,
            "currency": "EUR",
            "basis": "restated",
            "source": ["https://a.example/1", "https://b.example/2"],
        },
        {
            "unit": "platform",
            "metric": "headcount",
            "period": "2019-12-31",
            "value": "1,200",
            "source": "https://c.example https://d.example",
        },
    ]
    document: Any = {"metrics": rows} if wrapped else rows
    path = write("figures.json", json.dumps(document, indent=2))
    assert acme.load_metrics(path, "figures.json") == 2
    found = {(v.unit, v.metric): v for v in acme.metric_values()}
    sales = found["sales", "revenue"]
    assert (sales.value, sales.currency, sales.basis) == (120, "EUR", "restated")
    assert sales.sources == ("https://a.example/1", "https://b.example/2")
    people = found["platform", "headcount"]
    assert people.value == 1200
    assert people.period == Period(date(2019, 12, 31), date(2019, 12, 31))
    assert people.currency is None
    assert people.basis == "reported"
    assert people.sources == ("https://c.example", "https://d.example")


@pytest.mark.parametrize(
    ("name", "text"),
    [
        pytest.param(
            "no-source.csv", "unit,metric,period,value\nsales,revenue,2019Q4,5\n", id="csv"
        ),
        pytest.param(
            "empty-source.csv",
            "unit,metric,period,value,source,currency,basis\nsales,revenue,2019Q4,5,,,\n",
            id="csv-empty-cells",
        ),
        pytest.param(
            "no-source.json",
            '[\n{"unit": "sales", "metric": "revenue", "period": "2019Q4",\n "value": 5}\n]\n',
            id="json",
        ),
        pytest.param(
            "null-source.json",
            '[\n{"unit": "sales", "metric": "revenue", "period": "2019Q4",\n'
            ' "value": 5, "source": null, "currency": null, "basis": null}\n]\n',
            id="json-nulls",
        ),
    ],
)
def test_currency_basis_and_source_are_optional(
    acme: Ledger, write: Write, name: str, text: str
) -> None:
    assert acme.load_metrics(write(name, text), name) == 1
    (value,) = acme.metric_values()
    assert (value.unit, value.value, value.currency) == ("sales", 5, None)
    assert value.basis == "reported"
    assert value.sources == ()


def test_a_json_file_on_one_line_loads_every_row(acme: Ledger, write: Write) -> None:
    rows = [
        {"unit": u, "metric": "revenue", "period": "2019Q4", "value": v, "source": "s"}
        for u, v in (("sales", 1), ("platform", 2), ("apps", 3))
    ]
    path = write("compact.json", json.dumps(rows))
    assert acme.load_metrics(path, "compact.json") == 3
    assert stored(acme) == {
        ("sales", "revenue", "2019Q4", 1),
        ("platform", "revenue", "2019Q4", 2),
        ("apps", "revenue", "2019Q4", 3),
    }


@pytest.mark.parametrize("ref", ["sales", "SLS", "sls", "Ventes", "SALES", "Sales"])
def test_a_unit_may_be_named_by_id_abbreviation_or_any_name(
    acme: Ledger, write: Write, ref: str
) -> None:
    load(acme, write, row(ref, 10))
    (value,) = acme.metric_values()
    assert value.unit == "sales"


def test_a_name_is_resolved_on_the_last_day_of_the_period(acme: Ledger, write: Write) -> None:
    """'Product' names product until 2020-12-31 and digital from 2021-01-01."""
    load(acme, write, row("Product", 10, "2020Q4"), row("Product", 20, "2021Q1"))
    found = {v.period.label: v.unit for v in acme.metric_values()}
    assert found == {"2020Q4": "product", "2021Q1": "digital"}


def test_a_unit_active_on_some_day_of_the_period_is_accepted(acme: Ledger, write: Write) -> None:
    """east ends on 2020-01-01 and field starts then: both are active in 2019-12..2020-01."""
    period = "2019-12-01..2020-01-31"
    load(acme, write, row("east", 1, period), row("field", 2, period))
    assert {v.unit for v in acme.metric_values()} == {"east", "field"}


# -- refusing bad files ------------------------------------------------------------


BAD_FILES = [
    pytest.param(
        "f.csv",
        "unit,metric,value\nsales,revenue,5\n",
        ["f.csv:1: missing column(s): period [missing-column]"],
        id="missing-column",
    ),
    pytest.param(
        "f.csv",
        "unit,metric,period,value,colour\nsales,revenue,2019Q4,5,red\n",
        [
            "f.csv:1: unknown column(s): colour "
            "(known: unit, metric, period, value, currency, basis, source) [unknown-column]"
        ],
        id="unknown-column",
    ),
    pytest.param(
        "f.csv",
        "unit,metric,period,value,Value,source\nsales,revenue,2019Q4,5,6,s\n",
        ["f.csv:1: column(s) given twice: value [duplicate-column]"],
        id="duplicate-column",
    ),
    pytest.param(
        "f.csv",
        f"{HEADER}\n{row('sales', 1)}\nplatform,revenue,2019Q4\n",
        ["f.csv:3: 3 cells where the header has 7 [columns]"],
        id="cell-count",
    ),
    pytest.param(
        "f.csv",
        f"{HEADER}\nsales,revenue,,5,EUR,reported,s\n",
        ["f.csv:2: 'period' is empty [bad-row]"],
        id="empty-cell",
    ),
    pytest.param(
        "f.csv",
        f"{HEADER}\n{row('sales', 1, period='2019Q5')}\n",
        ["f.csv:2: '2019Q5' is not a period (use "],
        id="bad-period",
    ),
    pytest.param(
        "f.csv",
        f"{HEADER}\n{row('sales', 'lots')}\n",
        ["f.csv:2: value 'lots' is not a number [bad-row]"],
        id="not-a-number",
    ),
    pytest.param(
        "f.csv",
        f"{HEADER}\n{row('sales', chr(34) + '1,23' + chr(34))}\n",
        ["f.csv:2: value '1,23' is not a number [bad-row]"],
        id="bad-grouping",
    ),
    pytest.param(
        "f.csv",
        f"{HEADER}\n{row('sales', 1, basis='guessed')}\n",
        ["f.csv:2: basis 'guessed' is not one of reported, derived, restated, approx [bad-row]"],
        id="bad-basis",
    ),
    pytest.param(
        "f.csv",
        f"{HEADER}\n{row('saels', 1)}\n",
        ["f.csv:2: no unit is called 'saels'; did you mean 'sales'"],
        id="unknown-unit",
    ),
    pytest.param(
        "f.csv",
        f"{HEADER}\n{row('交付', 1)}\n",
        ["f.csv:2: '交付' matches 2 units: apps (", "helpdesk ("],
        id="ambiguous-unit",
    ),
    pytest.param(
        "f.csv",
        f"{HEADER}\n{row('field', 1)}\n",
        ["f.csv:2: unit 'field' is not active during 2019Q4 (it starts 2020-01-01) [inactive]"],
        id="inactive",
    ),
    pytest.param(
        "f.csv",
        f"{HEADER}\n{row('east', 1, period='2020Q1')}\n",
        [
            "f.csv:2: unit 'east' is not active during 2020Q1 "
            "(it starts 2019-01-01, ends 2020-01-01) [inactive]"
        ],
        id="inactive-ended",
    ),
    pytest.param(
        "f.csv",
        f"{HEADER}\n{row('sales', 1)}\n{row('SLS', 2)}\n",
        ["f.csv:3: revenue of 'sales' for 2019Q4 is already given on line 2 [duplicate-row]"],
        id="duplicate-key",
    ),
    pytest.param(
        "f.json",
        '[\n  {"unit": "sales", "metric": "revenue",\n   "period": "2019Q4" "value": 1}\n]\n',
        ["f.json:3: not valid JSON: "],
        id="json-syntax",
    ),
    pytest.param(
        "f.json",
        '[\n  {"unit": "sales", "metric": "revenue", "period": "2019Q4", "value": 1},\n'
        "  [1, 2]\n]\n",
        ["f.json:3: row 2 is not an object [type]"],
        id="json-not-an-object",
    ),
    pytest.param(
        "f.json",
        '[\n  {"unit": "sales", "metric": "revenue", "period": "2019Q4", "value": 1,\n'
        '   "colour": "red"}\n]\n',
        ["f.json:2: unknown key 'colour' [unknown-key]"],
        id="json-unknown-key",
    ),
    pytest.param(
        "f.json",
        '[\n  {"unit": "sales", "metric": "revenue", "period": "2019Q4", "value": true,'
        ' "source": "s"}\n]\n',
        ["f.json:2: value True is not a number [bad-row]"],
        id="json-boolean-value",
    ),
    pytest.param(
        "f.json",
        '{"rows": []}\n',
        ['f.json:1: expected a list of rows, or {"metrics": [rows]} [type]'],
        id="json-not-a-list",
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), BAD_FILES)
def test_a_bad_metrics_file_is_refused_and_nothing_is_written(
    acme: Ledger, write: Write, name: str, text: str, expected: list[str]
) -> None:
    load(acme, write, row("platform", 7), name="earlier.csv")
    before = stored(acme)
    with pytest.raises(MetricsError) as caught:
        acme.load_metrics(write(name, text), name)
    lines = caught.value.lines()
    assert len(lines) == 1, lines
    for part in expected:
        assert part in lines[0], lines
    assert lines[0].startswith(expected[0])
    assert lines[0].endswith("]")
    assert caught.value.code == "metrics-refused"
    assert stored(acme) == before


def test_an_unknown_unit_hint_does_not_repeat_a_suggestion(acme: Ledger, write: Write) -> None:
    """'saels' is close to the id and to the name of sales: one unit, one suggestion."""
    with pytest.raises(MetricsError) as caught:
        load(acme, write, row("saels", 1))
    (line,) = caught.value.lines()
    assert line.count("'sales'") == 1, line


def test_a_missing_file_is_refused_with_its_name(acme: Ledger, tmp_path: Path) -> None:
    with pytest.raises(MetricsError) as caught:
        acme.load_metrics(tmp_path / "absent.csv", "absent.csv")
    (line,) = caught.value.lines()
    assert line.startswith("absent.csv:")
    assert "no such file" in line
    assert line.endswith("[no-file]")
    assert acme.metric_values() == []


def test_a_file_that_is_not_utf8_is_refused(acme: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(f"{HEADER}\n{row('sales', 1)}\n".encode() + "Café,x\n".encode("latin-1"))
    with pytest.raises(MetricsError) as caught:
        acme.load_metrics(path, "latin.csv")
    (line,) = caught.value.lines()
    assert line.startswith("latin.csv:3: the file is not UTF-8")
    assert line.endswith("[encoding]")
    assert acme.metric_values() == []


def test_every_bad_row_is_listed_with_its_line(acme: Ledger, write: Write) -> None:
    rows = [
        row("sales", 1),  # line 2: fine
        row("sales", 2, period="2019Q9"),  # 3
        row("nobody", 3),  # 4
        row("platform", "many"),  # 5
        row("web", 4, basis="hearsay"),  # 6
        row("digital", 5),  # 7: digital starts 2021-01-01
        row("SLS", 6),  # 8: sales again
        row("apps", 7),  # 9: fine
    ]
    with pytest.raises(MetricsError) as caught:
        load(acme, write, *rows)
    lines = caught.value.lines()
    assert [line.split(":")[1] for line in lines] == ["3", "4", "5", "6", "7", "8"]
    assert all(line.startswith("figures.csv:") for line in lines)
    codes = [line.rsplit("[", 1)[1].rstrip("]") for line in lines]
    assert codes == ["bad-row", "unknown-unit", "bad-row", "bad-row", "inactive", "duplicate-row"]
    assert "already given on line 2" in lines[-1]
    assert str(caught.value) == "metrics file refused with 6 problems"
    assert acme.metric_values() == []


@pytest.mark.parametrize(
    ("name", "text", "lines"),
    [
        pytest.param(
            "f.csv",
            f"{HEADER}\n{row('sales', 1, period='2019Q9')}\nplatform,revenue\n{row('nobody', 1)}\n",
            ["2", "3", "4"],
            id="csv-cell-count",
        ),
        pytest.param(
            "f.json",
            '[\n  {"unit": "sales", "metric": "revenue", "period": "2019Q9", "value": 1,'
            ' "source": "s"},\n  7,\n'
            '  {"unit": "nobody", "metric": "revenue", "period": "2019Q4", "value": 1,'
            ' "source": "s"}\n]\n',
            ["2", "3", "4"],
            id="json-not-an-object",
        ),
    ],
)
def test_a_malformed_row_does_not_hide_the_other_bad_rows(
    acme: Ledger, write: Write, name: str, text: str, lines: list[str]
) -> None:
    with pytest.raises(MetricsError) as caught:
        acme.load_metrics(write(name, text), name)
    assert [line.split(":")[1] for line in caught.value.lines()] == lines
    assert acme.metric_values() == []


def test_metrics_load_on_the_command_line_reports_every_bad_row_and_writes_nothing(
    cli: Cli, acme: Ledger, db: str, write: Write, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    good = write("good.csv", csv_text(row("sales", 1), row("platform", 2)))
    result = ok(cli("metrics", "load", good, "--db", db))
    assert result.stdout.strip() == f"loaded 2 value(s) from {good}"
    before = as_json(cli("metrics", "list", "-f", "json", "--db", db))
    write("bad.csv", csv_text(row("sales", 5, period="2019Q5"), row("nobody", 1)))
    result = fails(cli("metrics", "load", "bad.csv", "--db", db), 1)
    lines = error_lines(result)
    assert len(lines) == 2
    assert lines[0].startswith("bad.csv:2: '2019Q5' is not a period")
    assert lines[0].endswith("[bad-row]")
    assert lines[1].startswith("bad.csv:3: no unit is called 'nobody'")
    assert lines[1].endswith("[unknown-unit]")
    assert result.stdout == ""
    assert as_json(cli("metrics", "list", "-f", "json", "--db", db)) == before
    assert stored(acme) == {("sales", "revenue", "2019Q4", 1), ("platform", "revenue", "2019Q4", 2)}


# -- storing: append-only, superseded, known-at --------------------------------------


def _pause() -> datetime:
    """A moment strictly between what was recorded before and what is recorded after."""
    time.sleep(0.01)
    moment = datetime.now(UTC)
    time.sleep(0.01)
    return moment


def test_a_later_load_supersedes_its_keys_and_known_at_shows_the_earlier_value(
    acme: Ledger, write: Write
) -> None:
    load(acme, write, row("sales", 100), row("platform", 7), name="first.csv")
    between = _pause()
    load(acme, write, row("SLS", 120), row("apps", 3), name="second.csv")
    assert stored(acme) == {
        ("sales", "revenue", "2019Q4", 120),
        ("platform", "revenue", "2019Q4", 7),
        ("apps", "revenue", "2019Q4", 3),
    }
    then = {(v.unit, v.value) for v in acme.metric_values(known_at=between)}
    assert then == {("sales", 100), ("platform", 7)}
    assert values(ask(acme, unit="sales")) == {"sales": 120}
    old = acme.metrics(MetricQuery("revenue", parse_period("2019Q4"), "sales"), known_at=between)
    assert values(old) == {"sales": 100}
    assert acme.metric_values(known_at=datetime(2000, 1, 1, tzinfo=UTC)) == []


def test_metrics_show_known_at_answers_as_loaded_then(
    cli: Cli, acme: Ledger, db: str, write: Write
) -> None:
    ok(cli("metrics", "load", write("a.csv", csv_text(row("sales", 100))), "--db", db))
    between = timestamp(_pause())
    ok(cli("metrics", "load", write("b.csv", csv_text(row("sales", 120))), "--db", db))
    show = ("metrics", "show", "revenue", "--period", "2019Q4", "-f", "json", "--db", db)
    now = as_json(cli(*show))
    then = as_json(cli(*show, "--known-at", between))
    assert [(r["unit"], r["value"]) for r in now["rows"]] == [("sales", 120)]
    assert [(r["unit"], r["value"]) for r in then["rows"]] == [("sales", 100)]
    listed = as_json(
        cli("metrics", "list", "--known-at", "2000-01-01T00:00:00Z", "-f", "json", "--db", db)
    )
    assert listed == []


# -- answering: plain, rollup ----------------------------------------------------------


LEAVES_2019Q4 = {
    "east": 300,
    "west": 100,
    "apps": 80,
    "web": 20,
    "platform": 120,
    "helpdesk": 60,
    "docs": 10,
    "lab": 50,
    "research": 40,
}


def test_values_are_listed_as_loaded_in_structure_order(acme: Ledger, write: Write) -> None:
    load(acme, write, row("west", 100), row("eng", 230), row("east", 300, basis="approx"))
    table = ask(acme)
    # Pre-order of the 2019-12-31 structure, children by id: eng ... sales, east, west.
    assert [r.unit for r in table.rows] == ["eng", "east", "west"]
    east = by_unit(table)["east"]
    assert east.figure.value == 300
    assert east.figure.basis == "approx"
    assert east.figure.currency == "EUR"
    assert east.figure.sources == ("https://example.org/east/2019Q4",)
    assert east.figure.parts == ("east",)
    assert (east.yoy, east.qoq) == (None, None)
    assert table.at == date(2019, 12, 31)
    assert table.unallocated == ()


def test_rollup_sums_children_into_units_without_their_own_value(
    acme: Ledger, write: Write
) -> None:
    load(acme, write, *(row(u, v) for u, v in LEAVES_2019Q4.items()), row("eng", 230))
    table = ask(acme, rollup=True)
    got = values(table)
    leaves = LEAVES_2019Q4
    sales = leaves["east"] + leaves["west"]
    support = leaves["helpdesk"] + leaves["docs"]
    # eng has its own value, taken as its subtree total (not 80 + 20 + 120 = 220).
    total = 230 + sales + support + leaves["lab"] + leaves["research"]
    assert got == {**leaves, "eng": 230, "sales": sales, "support": support, "acme": total}
    rows = by_unit(table)
    assert rows["eng"].figure.basis == "reported"
    assert rows["sales"].figure.basis == "derived"
    assert rows["acme"].figure.basis == "derived"
    assert set(rows["sales"].figure.parts) == {"east", "west"}
    assert set(rows["sales"].figure.sources) == {
        "https://example.org/east/2019Q4",
        "https://example.org/west/2019Q4",
    }
    assert [r.unit for r in table.rows][:2] == ["acme", "eng"]
    assert table.unallocated == ()


def test_rollup_takes_the_loosest_basis_of_its_parts(acme: Ledger, write: Write) -> None:
    load(acme, write, row("east", 1, basis="approx"), row("west", 2), row("docs", 3))
    rows = by_unit(ask(acme, rollup=True))
    assert rows["sales"].figure.basis == "approx"
    assert rows["acme"].figure.basis == "approx"
    # A sum of children is derived even when one child has a value.
    assert rows["support"].figure.basis == "derived"


def test_rollup_in_a_later_structure_leaves_ended_units_unallocated(
    acme: Ledger, write: Write
) -> None:
    load(acme, write, *(row(u, v) for u, v in LEAVES_2019Q4.items()))
    table = ask(acme, rollup=True, at=date(2020, 6, 30))
    leaves = LEAVES_2019Q4
    product = leaves["apps"] + leaves["web"] + leaves["docs"]
    expected = {
        "apps": leaves["apps"],
        "web": leaves["web"],
        "docs": leaves["docs"],
        "platform": leaves["platform"],
        "helpdesk": leaves["helpdesk"],
        "product": product,
        "infra": leaves["platform"],
        "sales": leaves["helpdesk"],
        "acme": product + leaves["platform"] + leaves["helpdesk"],
    }
    assert values(table) == expected
    assert unallocated(table) == {u: leaves[u] for u in ("east", "west", "lab", "research")}
    for item in table.unallocated:
        assert "2020-06-30" in item.reason
    assert table.at == date(2020, 6, 30)


def test_show_of_one_unit_resolves_its_name_in_the_structure(acme: Ledger, write: Write) -> None:
    load(acme, write, *(row(u, v) for u, v in LEAVES_2019Q4.items()))
    assert values(ask(acme, unit="SLS", rollup=True)) == {"sales": 400}
    assert values(ask(acme, unit="Ventes")) == {}  # sales has no value of its own
    assert values(ask(acme, unit="east")) == {"east": 300}


# -- answering: restatement -------------------------------------------------------


RESTATED = {"east": 300, "west": 100, "eng": 220, "support": 70, "lab": 50, "platform": 25}


def test_restating_carries_values_through_merge_split_and_dissolve(
    acme: Ledger, write: Write
) -> None:
    load(acme, write, *(row(u, v) for u, v in RESTATED.items()))
    table = ask(acme, restate_to=date(2020, 6, 30))
    got = values(table)
    assert got["field"] == pytest.approx(300 + 100)  # merge: share 1 each
    assert got["product"] == pytest.approx(220 * 10 / 22 + 70 * 1 / 7)
    assert got["infra"] == pytest.approx(220 * 12 / 22)
    assert got["sales"] == pytest.approx(70 * 6 / 7)
    assert got["platform"] == 25  # active on 2020-06-30: stays where it is
    assert set(got) == {"field", "product", "infra", "sales", "platform"}
    assert unallocated(table) == {"lab": 50}
    (lab,) = table.unallocated
    assert "successor" in lab.reason
    rows = by_unit(table)
    assert rows["field"].figure.basis == "restated"
    assert rows["product"].figure.basis == "restated"
    assert rows["platform"].figure.basis == "reported"
    assert set(rows["field"].figure.parts) == {"east", "west"}
    assert set(rows["product"].figure.parts) == {"eng", "support"}
    assert table.at == date(2020, 6, 30)
    assert table.restated_to == date(2020, 6, 30)


def test_restating_follows_two_successive_reorganizations(acme: Ledger, write: Write) -> None:
    load(acme, write, *(row(u, v) for u, v in RESTATED.items()))
    table = ask(acme, restate_to=date(2021, 6, 30))
    product = 220 * 10 / 22 + 70 * 1 / 7  # held by product in 2020, split 0.7 / 0.3 in 2021
    expected = {
        "field": 400,
        "sales": 70 * 6 / 7,
        "infra": 220 * 12 / 22 + 0.7 * product,
        "digital": 0.3 * product,
        "platform": 25,
    }
    assert values(table) == pytest.approx(expected)
    assert unallocated(table) == {"lab": 50}
    total = sum(values(table).values()) + sum(unallocated(table).values())
    assert total == pytest.approx(sum(RESTATED.values()))


def test_restating_to_a_date_before_a_reorganization_uses_only_earlier_edges(
    acme: Ledger, write: Write
) -> None:
    """Restated to 2020-06-30, product still holds its part: the 2021 split is later."""
    load(acme, write, row("eng", 220))
    assert values(ask(acme, restate_to=date(2020, 12, 31))) == pytest.approx(
        {"product": 100, "infra": 120}
    )


def test_a_split_without_children_or_shares_divides_equally(acme: Ledger, write: Write) -> None:
    load(acme, write, row("research", 40))
    table = ask(acme, restate_to=date(2020, 6, 30))
    assert values(table) == pytest.approx({"research-a": 20, "research-b": 20})


def test_a_share_that_later_goes_nowhere_is_unallocated_not_lost(
    acme: Ledger, write: Write
) -> None:
    """research went half to research-b, which was dissolved in 2021 with no successor."""
    load(acme, write, row("research", 40))
    table = ask(acme, restate_to=date(2021, 6, 30))
    assert values(table) == pytest.approx({"research-a": 20})
    assert sum(unallocated(table).values()) == pytest.approx(20)
    assert set(unallocated(table)) <= {"research", "research-b"}


def test_restating_keeps_approx_and_makes_the_rest_restated(acme: Ledger, write: Write) -> None:
    load(
        acme,
        write,
        row("eng", 220, basis="derived"),
        row("support", 70, basis="approx"),
        row("east", 1, basis="reported"),
    )
    rows = by_unit(ask(acme, restate_to=date(2020, 6, 30)))
    assert rows["infra"].figure.basis == "restated"  # from eng (derived) alone
    assert rows["product"].figure.basis == "approx"  # eng (derived) + support (approx)
    assert rows["sales"].figure.basis == "approx"  # support (approx) alone
    assert rows["field"].figure.basis == "restated"


def test_restated_parts_add_to_the_rolled_values_of_their_heirs_children(
    acme: Ledger, write: Write
) -> None:
    """Disjoint values: east and west (teams) and support (a group, its teams have none).

    Restated to 2020-06-30, sales holds 6/7 of support besides field, which holds
    east and west: the sales subtree is 400 + 60, and acme holds everything.
    """
    load(acme, write, row("east", 300), row("west", 100), row("support", 70))
    table = ask(acme, restate_to=date(2020, 6, 30), rollup=True)
    got = values(table)
    assert got["field"] == 400
    assert got["product"] == pytest.approx(10)
    assert got["sales"] == pytest.approx(400 + 60)
    assert got["acme"] == pytest.approx(300 + 100 + 70)


def test_restating_and_rolling_up_together(acme: Ledger, write: Write) -> None:
    load(acme, write, *(row(u, v) for u, v in LEAVES_2019Q4.items()))
    table = ask(acme, restate_to=date(2020, 6, 30), rollup=True)
    got = values(table)
    leaves = LEAVES_2019Q4
    assert got["field"] == leaves["east"] + leaves["west"]
    assert got["sales"] == leaves["east"] + leaves["west"] + leaves["helpdesk"]
    assert got["product"] == leaves["apps"] + leaves["web"] + leaves["docs"]
    assert got["research-a"] == got["research-b"] == pytest.approx(leaves["research"] / 2)
    assert got["acme"] == pytest.approx(sum(leaves.values()) - leaves["lab"])
    assert unallocated(table) == {"lab": leaves["lab"]}


# -- growth ------------------------------------------------------------------------


def test_yoy_and_qoq_are_fractions_against_earlier_periods(acme: Ledger, write: Write) -> None:
    load(
        acme,
        write,
        row("platform", 100, "2019Q4"),
        row("platform", 120, "2020Q3"),
        row("platform", 150, "2020Q4"),
        row("apps", 0, "2019Q4"),
        row("apps", 30, "2020Q4"),
        row("web", 9, "2020Q4"),
    )
    rows = by_unit(ask(acme, "2020Q4", growth=("yoy", "qoq")))
    assert rows["platform"].yoy == pytest.approx(150 / 100 - 1)
    assert rows["platform"].qoq == pytest.approx(150 / 120 - 1)
    assert rows["apps"].yoy is None  # the earlier value is zero
    assert rows["apps"].qoq is None  # no earlier value
    assert (rows["web"].yoy, rows["web"].qoq) == (None, None)


def test_growth_of_a_merged_unit_is_computable_only_when_restated(
    acme: Ledger, write: Write
) -> None:
    """field (2020) is east + west (2019); sales took 6/7 of support in 2020."""
    load(
        acme,
        write,
        row("east", 300, "2019Q4"),
        row("west", 100, "2019Q4"),
        row("sales", 50, "2019Q4"),
        row("support", 70, "2019Q4"),
        row("field", 500, "2020Q4"),
        row("sales", 130, "2020Q4"),
    )
    plain = by_unit(ask(acme, "2020Q4", growth=("yoy",)))
    assert plain["field"].yoy is None
    assert plain["sales"].yoy == pytest.approx(130 / 50 - 1)  # compares different content
    restated = by_unit(ask(acme, "2020Q4", growth=("yoy",), restate_to=date(2020, 12, 31)))
    assert restated["field"].yoy == pytest.approx(500 / (300 + 100) - 1)
    assert restated["sales"].yoy == pytest.approx(130 / (50 + 70 * 6 / 7) - 1)
    assert restated["field"].figure.value == 500
    assert restated["field"].figure.basis == "reported"


def test_growth_with_rollup_compares_both_periods_in_the_same_structure(
    acme: Ledger, write: Write
) -> None:
    now = {"field": 500, "apps": 90, "web": 20, "platform": 130, "helpdesk": 60, "docs": 10}
    load(
        acme,
        write,
        *(row(u, v) for u, v in LEAVES_2019Q4.items()),
        *(row(u, v, "2020Q4") for u, v in now.items()),
    )
    leaves = LEAVES_2019Q4
    rolled = by_unit(ask(acme, "2020Q4", rollup=True, growth=("yoy",)))
    # 2019Q4 in the structure of 2020-12-31 without restating: east and west (now
    # field) are outside it, so acme's two figures are not held by the same units
    # and their growth is not computed rather than overstated.
    assert rolled["acme"].figure.value == sum(now.values())
    assert rolled["acme"].yoy is None
    assert "east" in {
        u.unit for u in ask(acme, "2019Q4", rollup=True, at=date(2020, 12, 31)).unallocated
    }
    assert rolled["product"].yoy == pytest.approx((90 + 20 + 10) / (80 + 20 + 10) - 1)
    both = by_unit(ask(acme, "2020Q4", rollup=True, growth=("yoy",), restate_to=date(2020, 12, 31)))
    carried = sum(leaves.values()) - leaves["lab"]  # lab went nowhere
    assert both["acme"].figure.value == sum(now.values())
    # Restated, 2019Q4 holds support's share in sales itself, which has no 2020Q4
    # value of its own: acme's two figures are still held by different units.
    assert both["acme"].yoy is None
    before = by_unit(ask(acme, "2019Q4", rollup=True, restate_to=date(2020, 12, 31)))
    assert before["acme"].figure.value == pytest.approx(carried)
    assert both["field"].yoy == pytest.approx(500 / 400 - 1)


def test_qoq_needs_a_quarter(acme: Ledger, write: Write) -> None:
    load(acme, write, row("platform", 1, "2019"))
    with pytest.raises(UsageError, match=r"qoq needs a quarter period, and 2019 is not one"):
        ask(acme, "2019", growth=("qoq",))


def test_an_unknown_growth_kind_is_a_usage_error(acme: Ledger, write: Write) -> None:
    load(acme, write, row("platform", 1))
    with pytest.raises(UsageError, match=r"unknown growth 'mom' \(use yoy, qoq\)"):
        ask(acme, growth=("mom",))


def test_at_and_a_different_restate_date_are_refused_together(acme: Ledger, write: Write) -> None:
    load(acme, write, row("east", 1))
    with pytest.raises(UsageError, match="not both"):
        ask(acme, at=date(2020, 1, 1), restate_to=date(2020, 6, 30))


# -- currencies ------------------------------------------------------------------


def _currency_message(caught: pytest.ExceptionInfo[CurrencyError], *needles: str) -> None:
    message = caught.value.message
    for needle in needles:
        assert needle in message, message
    assert caught.value.code == "currency-mix"


def test_rollup_refuses_to_sum_different_currencies(acme: Ledger, write: Write) -> None:
    load(acme, write, row("east", 1, currency="USD"), row("west", 2, currency="EUR"))
    with pytest.raises(CurrencyError) as caught:
        ask(acme, rollup=True)
    _currency_message(caught, "USD", "EUR", "east", "west")


def test_rollup_refuses_to_sum_a_currency_with_no_currency(acme: Ledger, write: Write) -> None:
    load(acme, write, row("docs", 1, currency=""), row("helpdesk", 2, currency="USD"))
    with pytest.raises(CurrencyError) as caught:
        ask(acme, rollup=True)
    _currency_message(caught, "USD", "no currency", "docs", "helpdesk")


def test_restating_refuses_to_merge_different_currencies(acme: Ledger, write: Write) -> None:
    load(acme, write, row("east", 1, currency="USD"), row("west", 2, currency="EUR"))
    assert values(ask(acme)) == {"east": 1, "west": 2}  # as loaded, nothing is added
    with pytest.raises(CurrencyError) as caught:
        ask(acme, restate_to=date(2020, 6, 30))
    _currency_message(caught, "USD", "EUR", "east", "west")


def test_growth_refuses_to_compare_different_currencies(acme: Ledger, write: Write) -> None:
    load(
        acme,
        write,
        row("platform", 10, "2019Q4", currency="USD"),
        row("platform", 12, "2020Q4", currency="EUR"),
    )
    assert values(ask(acme, "2020Q4")) == {"platform": 12}
    with pytest.raises(CurrencyError) as caught:
        ask(acme, "2020Q4", growth=("yoy",))
    _currency_message(caught, "USD", "EUR", "platform")


def test_metrics_show_reports_a_currency_mix_with_exit_1(
    cli: Cli, acme: Ledger, db: str, write: Write
) -> None:
    load(acme, write, row("east", 1, currency="USD"), row("west", 2, currency="EUR"))
    result = fails(
        cli("metrics", "show", "revenue", "--period", "2019Q4", "--rollup", "--db", db), 1
    )
    (line,) = error_lines(result)
    assert line.endswith("[currency-mix]")
    assert all(needle in line for needle in ("USD", "EUR", "east", "west"))
    assert result.stdout == ""


# -- unknown metrics, the command line ------------------------------------------------


def test_an_unknown_metric_lists_the_loaded_ones(acme: Ledger, write: Write) -> None:
    with pytest.raises(UnknownMetricError, match="none is loaded"):
        ask(acme, metric="profit")
    load(acme, write, row("east", 1), row("west", 2, metric="headcount"))
    with pytest.raises(UnknownMetricError) as caught:
        ask(acme, metric="profit")
    assert "'profit'" in caught.value.message
    assert "loaded: headcount, revenue" in caught.value.message


def test_metrics_show_json_has_the_documented_shape(
    cli: Cli, acme: Ledger, db: str, write: Write
) -> None:
    load(acme, write, *(row(u, v) for u, v in LEAVES_2019Q4.items()))
    data = as_json(
        cli(
            "metrics", "show", "revenue", "--period", "2019Q4", "--restate-to", "2020-06-30",
            "--rollup", "--growth", "yoy,qoq", "-f", "json", "--db", db,
        )
    )  # fmt: skip
    assert set(data) == {"metric", "period", "at", "rollup", "restated_to", "rows", "unallocated"}
    assert (data["metric"], data["period"], data["at"]) == ("revenue", "2019Q4", "2020-06-30")
    assert (data["rollup"], data["restated_to"]) == (True, "2020-06-30")
    for item in data["rows"]:
        assert set(item) == {
            "unit", "value", "currency", "yoy", "qoq", "basis", "sources", "from",
        }  # fmt: skip
        assert item["yoy"] is None  # nothing was loaded for 2018Q4 or 2019Q3
    rows = {item["unit"]: item for item in data["rows"]}
    assert rows["field"]["value"] == 400
    assert rows["field"]["currency"] == "EUR"
    assert rows["field"]["basis"] == "restated"
    assert sorted(rows["field"]["from"]) == ["east", "west"]
    assert sorted(rows["field"]["sources"]) == [
        "https://example.org/east/2019Q4",
        "https://example.org/west/2019Q4",
    ]
    assert rows["acme"]["value"] == pytest.approx(sum(LEAVES_2019Q4.values()) - 50)
    assert data["unallocated"] == [
        {"unit": "lab", "value": 50, "reason": data["unallocated"][0]["reason"]}
    ]
    assert "successor" in data["unallocated"][0]["reason"]


def test_metrics_show_text_names_the_structure_and_the_unplaced_values(
    cli: Cli, acme: Ledger, db: str, write: Write
) -> None:
    load(acme, write, *(row(u, v) for u, v in RESTATED.items()))
    out = ok(
        cli("metrics", "show", "revenue", "--period", "2019Q4", "--restate-to", "2020-06-30",
            "--db", db)
    ).stdout  # fmt: skip
    assert "revenue, 2019Q4, structure of 2020-06-30 (restated to 2020-06-30)" in out
    assert "Field Sales" in out
    assert "not placed: lab 50" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--period", "2019", "--growth", "qoq"], "qoq needs a quarter period"),
        (["--period", "2019Q4", "--growth", "mom"], "unknown growth 'mom'"),
        (["--period", "2019Q5"], "2018-04-01..2018-06-30"),
        (["--period", "2019Q4", "--at", "2020-01-01", "--restate-to", "2020-06-30"], "not both"),
        (["--period", "2019Q4", "--restate-to", "2020-02-30"], "2020-02-30"),
    ],
)
def test_metrics_show_usage_errors_exit_2_with_a_clear_message(
    cli: Cli, acme: Ledger, db: str, write: Write, args: list[str], needle: str
) -> None:
    load(acme, write, row("platform", 1), row("platform", 1, "2019"))
    result = fails(cli("metrics", "show", "revenue", *args, "--db", db), 2)
    assert needle in result.stderr
    assert result.stdout == ""


def test_metrics_show_an_unknown_metric_exits_1(
    cli: Cli, acme: Ledger, db: str, write: Write
) -> None:
    load(acme, write, row("platform", 1))
    result = fails(cli("metrics", "show", "profit", "--period", "2019Q4", "--db", db), 1)
    (line,) = error_lines(result)
    assert line == "no values of metric 'profit' (loaded: revenue) [unknown-metric]"


def test_metrics_list_counts_values_units_and_periods(
    cli: Cli, acme: Ledger, db: str, write: Write
) -> None:
    assert as_json(cli("metrics", "list", "-f", "json", "--db", db)) == []
    assert "no metrics loaded" in ok(cli("metrics", "list", "--db", db)).stdout
    load(
        acme,
        write,
        row("platform", 1, "2020Q4"),
        row("platform", 2, "2019Q4"),
        row("apps", 3, "2019Q4"),
        row("apps", 4, "2019-12-31", metric="headcount"),
        row("east", 5, "2019", metric="cost"),
    )
    assert as_json(cli("metrics", "list", "-f", "json", "--db", db)) == [
        {"metric": "cost", "values": 1, "units": 1, "periods": ["2019"]},
        {"metric": "headcount", "values": 1, "units": 1, "periods": ["2019-12-31"]},
        {"metric": "revenue", "values": 3, "units": 2, "periods": ["2019Q4", "2020Q4"]},
    ]
    text = ok(cli("metrics", "list", "--db", db)).stdout.splitlines()
    assert text == [
        "cost: 1 value(s), 1 unit(s), 1 period(s) (2019 .. 2019)",
        "headcount: 1 value(s), 1 unit(s), 1 period(s) (2019-12-31 .. 2019-12-31)",
        "revenue: 3 value(s), 2 unit(s), 2 period(s) (2019Q4 .. 2020Q4)",
    ]


# -- the Tencent example ------------------------------------------------------------


def test_tencent_others_grew_81_percent_yoy_and_10_percent_qoq(
    cli: Cli, figures: Ledger, tencent_db: str
) -> None:
    now = tencent_value("others", "revenue", "2018Q2")
    year_ago = tencent_value("others", "revenue", "2017Q2")
    quarter_ago = tencent_value("others", "revenue", "2018Q1")
    assert (now, year_ago, quarter_ago) == (17496, 9654, 15962)
    show = ("metrics", "show", "revenue", "--unit", "others", "--period", "2018Q2")
    data = as_json(cli(*show, "--growth", "yoy,qoq", "-f", "json", "--db", tencent_db))
    (item,) = data["rows"]
    assert item["unit"] == "others"
    assert item["value"] == now
    assert item["yoy"] == pytest.approx(now / year_ago - 1, abs=1e-6)
    assert item["qoq"] == pytest.approx(now / quarter_ago - 1, abs=1e-6)
    assert round(item["yoy"], 3) == 0.812
    assert round(item["qoq"], 3) == 0.096
    text = ok(cli(*show, "--growth", "yoy,qoq", "--db", tencent_db)).stdout
    assert "+81%" in text
    assert "+10%" in text


def test_tencent_segments_rolled_up_equal_their_reported_total(figures: Ledger) -> None:
    reported = tencent_value("tencent-segments", "revenue", "2018Q2")
    parts = sum(
        tencent_value(u, "revenue", "2018Q2") for u in ("vas", "online-advertising", "others")
    )
    assert reported == parts == 73675
    rows = by_unit(ask(figures, "2018Q2", rollup=True))
    assert rows["tencent-segments"].figure.value == reported
    assert rows["tencent-segments"].figure.basis == "reported"
    assert figures.at(date(2018, 6, 30)).children("tencent-segments") == (
        "online-advertising",
        "others",
        "vas",
    )


def test_tencent_headcount_grew_year_on_year_at_mid_2018(figures: Ledger) -> None:
    now = tencent_value("tencent", "headcount", "2018-06-30")
    before = tencent_value("tencent", "headcount", "2017-06-30")
    assert (now, before) == (48684, 40678)
    table = ask(figures, "2018-06-30", metric="headcount", unit="tencent", growth=("yoy",))
    (found,) = table.rows
    assert found.figure.value == now
    assert found.yoy == pytest.approx(now / before - 1)
    assert found.figure.currency is None


def test_tencent_metrics_list_matches_the_csv(cli: Cli, figures: Ledger, tencent_db: str) -> None:
    rows = tencent_rows()
    listed = as_json(cli("metrics", "list", "-f", "json", "--db", tencent_db))
    assert [m["metric"] for m in listed] == sorted({r["metric"] for r in rows})
    for item in listed:
        mine = [r for r in rows if r["metric"] == item["metric"]]
        assert item["values"] == len(mine)
        assert item["units"] == len({r["unit"] for r in mine})
        assert sorted(item["periods"]) == sorted({r["period"] for r in mine})
    assert Counter(v.metric for v in figures.metric_values()) == Counter(r["metric"] for r in rows)


# -- properties ----------------------------------------------------------------------


PROPERTY = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
LEDGER_PROPERTY = settings(
    PROPERTY,
    # Each example records a whole history: report a failure as found, without shrinking.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
START, END = date(2000, 1, 1), date(2002, 12, 31)


def _quarter(index: int) -> Period:
    year, q = divmod(index, 4)
    first = date(START.year + year, 3 * q + 1, 1)
    after = date(first.year + (q == 3), (3 * q + 3) % 12 + 1, 1)
    return Period(first, after - timedelta(days=1))


def _synthetic(tmp: Path, seed: int) -> Ledger:
    """A small random history: 20 units founded on 2000-01-01, 8 reorganizations in 2 years."""
    ledger = Ledger.init(tmp / "synth.db")
    ledger.apply(*history(20, 2, 8, seed, ops_per_changeset=10, start=START))
    return ledger


def _load_values(ledger: Ledger, tmp: Path, period: Period, given: dict[str, int]) -> None:
    path = tmp / "values.csv"
    path.write_text(csv_text(*(row(u, v, period.label) for u, v in given.items())), "utf-8")
    ledger.load_metrics(path, "values.csv")


@LEDGER_PROPERTY
@given(
    seed=st.integers(0, 10_000),
    quarter=st.integers(0, 7),
    restate=st.one_of(st.just(END), st.dates(START, END)),
    data=st.data(),
)
def test_restating_to_any_date_conserves_the_total(
    seed: int, quarter: int, restate: date, data: st.DataObject
) -> None:
    """Every loaded value is placed (in shares) or listed as unallocated, never lost."""
    period = _quarter(quarter)
    with tempfile.TemporaryDirectory() as folder, _synthetic(Path(folder), seed) as ledger:
        active = sorted(set(ledger.at(period.start).units) | set(ledger.at(period.end).units))
        given = {u: data.draw(st.integers(1, 1000), label=u) for u in active}
        _load_values(ledger, Path(folder), period, given)
        table = ledger.metrics(MetricQuery("revenue", period, restate_to=restate))
        structure = ledger.at(restate)
        assert all(r.unit in structure for r in table.rows)
        placed = sum(r.figure.value for r in table.rows)
        lost = sum(u.value for u in table.unallocated)
        assert placed + lost == pytest.approx(sum(given.values()))


@LEDGER_PROPERTY
@given(
    seed=st.integers(0, 10_000),
    day=st.dates(START, END),
    data=st.data(),
)
def test_rollup_of_a_root_is_the_sum_of_its_leaves(
    seed: int, day: date, data: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as folder, _synthetic(Path(folder), seed) as ledger:
        structure = ledger.at(day)
        leaves = [u for u in sorted(structure.units) if not structure.children(u)]
        given = {u: data.draw(st.integers(1, 1000), label=u) for u in leaves}
        period = Period(day, day)
        _load_values(ledger, Path(folder), period, given)
        rolled = values(ledger.metrics(MetricQuery("revenue", period, rollup=True)))
        for root in structure.roots():
            below = [u.id for u, _ in structure.walk(root) if u.id in given]
            assert rolled[root] == pytest.approx(sum(given[u] for u in below))


def _month_end(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


@st.composite
def periods(draw: st.DrawFn) -> Period:
    """Arbitrary ranges, and runs of whole months (1, 3, 6 or 12, aligned or not)."""
    if draw(st.booleans()):
        first, last = sorted(draw(st.lists(st.dates(date(1000, 1, 1)), min_size=2, max_size=2)))
        return Period(first, last)
    year = draw(st.integers(1000, 9998))
    month = draw(st.integers(1, 12))
    length = draw(st.sampled_from([1, 3, 6, 12]))
    final = month + length - 2  # months after January of `year`, of the last month
    return Period(date(year, month, 1), _month_end(year + final // 12, final % 12 + 1))


@PROPERTY
@given(periods())
def test_a_period_label_reads_back_as_the_same_period(period: Period) -> None:
    assert parse_period(period.label) == period
    if period.is_quarter:
        assert period.quarter_before().end == period.start - timedelta(days=1)
