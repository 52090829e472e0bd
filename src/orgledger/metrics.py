"""Numbers over structure: metric values of units per period, rolled up and restated.

A value belongs to a unit, a metric and a period, with a currency, a basis and
its sources. Values are read from CSV or JSON files (`read_metrics`), checked
against the ledger, and stored append-only; a later load of the same key
supersedes an earlier one. `MetricQuery` answers with the values of one period
in the structure of one date: as loaded, summed up the tree (`rollup`), or
carried through lineage to the units of a later structure (`restate`).
"""

from __future__ import annotations

import csv
import io
import os
import re
import reprlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ._yaml import decode, load
from .errors import (
    AmbiguousUnitError,
    CurrencyError,
    MetricsError,
    PlanError,
    Problem,
    UnknownUnitError,
    UsageError,
    shorten,
)
from .forest import Lifespan
from .lineage import EdgeIndex
from .model import SLUG, Json, Snapshot
from .periods import Period, PeriodError, parse_period

COLUMNS = ("unit", "metric", "period", "value", "currency", "basis", "source")
REQUIRED = ("unit", "metric", "period", "value")
BASES = ("reported", "derived", "restated", "approx")
"""From firmest to loosest: a combination takes the loosest basis of its parts."""
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_SHOWN = reprlib.Repr()
"""Shows a value of a row in a message: short, however long or deeply nested it is."""
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxother = 2, 80, 80


@dataclass(frozen=True)
class MetricValue:
    """One stored value, with where it came from."""

    unit: str
    metric: str
    period: Period
    value: float
    currency: str | None = None
    basis: str = "reported"
    sources: tuple[str, ...] = ()
    row: int = 0
    """Line of the file it was read from."""
    load: int = 0
    recorded_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str, Period]:
        return (self.unit, self.metric, self.period)


@dataclass(frozen=True)
class RawRow:
    """A row of a metrics file before the ledger is consulted: its fields and its line."""

    line: int
    fields: Mapping[str, Any]
    problem: Problem | None = None
    """What is wrong with the row's shape, found while reading (reported with the rest)."""


def read_metrics(path: str | os.PathLike[str], display: str | None = None) -> list[RawRow]:
    """The rows of a CSV or JSON metrics file; raises MetricsError on a malformed file."""
    name = display or str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        why = "no such file" if isinstance(exc, FileNotFoundError) else f"cannot read: {exc}"
        raise MetricsError([Problem("no-file", why, file=name, line=0)]) from None
    try:
        text = decode(data, name)
        if Path(path).suffix.lower() == ".json":
            return _json_rows(text, name)
    except PlanError as exc:
        raise MetricsError(exc.problems) from None
    return _csv_rows(text, name)


def _csv_rows(text: str, name: str) -> list[RawRow]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise MetricsError([Problem("empty", "the file is empty", file=name, line=1)])
        columns = [h.strip().lower() for h in header]
        _check_columns(columns, name, 1)
        rows: list[RawRow] = []
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(columns):
                message = f"{len(cells)} cells where the header has {len(columns)}"
                rows.append(RawRow(line, {}, Problem("columns", message, file=name, line=line)))
                continue
            values = {c: v.strip() for c, v in zip(columns, cells, strict=True)}
            rows.append(RawRow(line, {k: v for k, v in values.items() if v != ""}))
    except csv.Error as exc:
        raise MetricsError(
            [
                Problem(
                    "syntax", f"not valid CSV: {shorten(str(exc))}", file=name, line=reader.line_num
                )
            ]
        ) from None
    return rows


def _json_rows(text: str, name: str) -> list[RawRow]:
    value, lines = load(text, name, "json")
    items = value.get("metrics") if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise MetricsError(
            [
                Problem(
                    "type",
                    'expected a list of rows, or {"metrics": [rows]}',
                    file=name,
                    line=1,
                )
            ]
        )
    prefix: tuple[str | int, ...] = ("metrics",) if isinstance(value, dict) else ()
    rows: list[RawRow] = []
    for index, item in enumerate(items):
        line = lines.get((*prefix, index), 1)
        if not isinstance(item, dict):
            problem = Problem("type", f"row {index + 1} is not an object", file=name, line=line)
            rows.append(RawRow(line, {}, problem))
            continue
        unknown = sorted(set(item) - set(COLUMNS))
        if unknown:
            key = shorten(unknown[0], 100)
            problem = Problem("unknown-key", f"unknown key '{key}'", file=name, line=line)
            rows.append(RawRow(line, {}, problem))
            continue
        rows.append(RawRow(line, {k: v for k, v in item.items() if v is not None}))
    return rows


def _check_columns(columns: Sequence[str], name: str, line: int) -> None:
    problems: list[Problem] = []
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        listing = ", ".join(missing)
        problems.append(
            Problem("missing-column", f"missing column(s): {listing}", file=name, line=line)
        )
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        problems.append(
            Problem(
                "unknown-column",
                shorten(f"unknown column(s): {', '.join(unknown)} (known: {', '.join(COLUMNS)})"),
                file=name,
                line=line,
            )
        )
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if twice:
        problems.append(
            Problem(
                "duplicate-column",
                shorten(f"column(s) given twice: {', '.join(twice)}"),
                file=name,
                line=line,
            )
        )
    if problems:
        raise MetricsError(problems)


def parse_row(row: RawRow) -> tuple[str, MetricValue] | str:
    """The unit reference and the value of a row, or what is wrong with it."""
    f = row.fields
    for column in REQUIRED:
        if column not in f:
            return f"'{column}' is empty"
    unit, metric = f["unit"], f["metric"]
    if not isinstance(unit, str) or not isinstance(metric, str):
        return "'unit' and 'metric' must be text"
    if not SLUG.fullmatch(metric):
        return f"metric '{metric}' is not a valid name (lowercase letters, digits, '_', '.', '-')"
    if not isinstance(f["period"], str | int) or isinstance(f["period"], bool):
        return f"period {_SHOWN.repr(f['period'])} is not a period"
    try:
        period = parse_period(str(f["period"]))
    except PeriodError as exc:
        return str(exc)
    value = _number(f["value"])
    if value is None:
        return f"value {_SHOWN.repr(f['value'])} is not a number"
    currency = f.get("currency")
    if currency is not None and (not isinstance(currency, str) or not currency.strip()):
        return "'currency' must be text"
    basis = f.get("basis", "reported")
    if basis not in BASES:
        return f"basis {_SHOWN.repr(basis)} is not one of {', '.join(BASES)}"
    source = f.get("source")
    if source is None:
        sources: tuple[str, ...] = ()
    elif isinstance(source, str):
        sources = tuple(source.split())
    elif isinstance(source, list) and all(isinstance(s, str) for s in source):
        sources = tuple(source)
    else:
        return "'source' must be text or a list of text"
    return unit, MetricValue(
        unit,
        metric,
        period,
        value,
        currency.strip() if currency else None,
        basis,
        sources,
        row.line,
    )


def _number(raw: Any) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        try:
            value = float(raw)
        except OverflowError:
            return None
    elif not isinstance(raw, str):
        return None
    else:
        text = raw.strip()
        if _GROUPED.fullmatch(text):
            text = text.replace(",", "")
        try:
            value = float(text)
        except ValueError:
            return None
    return value if value == value and abs(value) != float("inf") else None


def check_rows(
    rows: Sequence[RawRow],
    name: str,
    resolve: Callable[[str, date], str],
    span: Callable[[str], Lifespan | None],
) -> list[MetricValue]:
    """The rows as values of ledger units; raises MetricsError listing every bad row.

    A unit may be named by id, abbreviation or any name (resolved on the period's
    last day) and must be active on some day of the period.
    """
    problems: list[Problem] = []
    values: list[MetricValue] = []
    seen: dict[tuple[str, str, Period], int] = {}
    for row in rows:
        if row.problem is not None:
            problems.append(row.problem)
            continue
        parsed = parse_row(row)
        if isinstance(parsed, str):
            problems.append(Problem("bad-row", shorten(parsed), file=name, line=row.line))
            continue
        ref, value = parsed
        try:
            unit_id = resolve(ref, value.period.end)
        except (UnknownUnitError, AmbiguousUnitError) as exc:
            problems.append(Problem(exc.code, shorten(exc.message), file=name, line=row.line))
            continue
        life = span(unit_id)
        if life is None or not value.period.overlaps(life.start, life.end):
            when = ""
            if life is not None:
                ends = f", ends {life.end.isoformat()}" if life.end else ""
                when = f" (it starts {life.start.isoformat()}{ends})"
            problems.append(
                Problem(
                    "inactive",
                    f"unit '{unit_id}' is not active during {value.period.label}{when}",
                    file=name,
                    line=row.line,
                )
            )
            continue
        value = replace(value, unit=unit_id)
        if value.key in seen:
            problems.append(
                Problem(
                    "duplicate-row",
                    f"{value.metric} of '{unit_id}' for {value.period.label} is already given "
                    f"on line {seen[value.key]}",
                    file=name,
                    line=row.line,
                )
            )
            continue
        seen[value.key] = row.line
        values.append(value)
    if problems:
        raise MetricsError(problems)
    return values


def current(values: Iterable[MetricValue], known_at: datetime | None = None) -> list[MetricValue]:
    """The value in force for each key: the latest load recorded by `known_at`."""
    latest: dict[tuple[str, str, Period], MetricValue] = {}
    for value in values:
        if known_at is not None and value.recorded_at is not None and value.recorded_at > known_at:
            continue
        held = latest.get(value.key)
        if held is None or value.load >= held.load:
            latest[value.key] = value
    return list(latest.values())


def summary(values: Iterable[MetricValue]) -> list[dict[str, Json]]:
    """Per metric: how many values, units and periods (periods in time order)."""
    found: dict[str, tuple[list[MetricValue], set[str], set[Period]]] = {}
    for value in values:
        held = found.setdefault(value.metric, ([], set(), set()))
        held[0].append(value)
        held[1].add(value.unit)
        held[2].add(value.period)
    return [
        {
            "metric": metric,
            "values": len(items),
            "units": len(units),
            "periods": [p.label for p in sorted(periods)],
        }
        for metric, (items, units, periods) in sorted(found.items())
    ]


def series(values: Iterable[MetricValue], unit: str) -> dict[str, list[dict[str, Json]]]:
    """Every value of `unit`, by metric, in time order (for a chart)."""
    found: dict[str, list[dict[str, Json]]] = {}
    for v in sorted((v for v in values if v.unit == unit), key=lambda v: (v.metric, v.period)):
        found.setdefault(v.metric, []).append(
            {
                "period": v.period.label,
                "start": v.period.start.isoformat(),
                "end": v.period.end.isoformat(),
                "value": v.value,
                "currency": v.currency,
                "basis": v.basis,
                "sources": list(v.sources),
            }
        )
    return found


# -- answering ----------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A number with its currency, the loosest basis behind it, and its sources."""

    value: float
    currency: str | None
    basis: str
    sources: tuple[str, ...]
    parts: tuple[str, ...] = ()
    """Units whose loaded values make it up."""
    cover: frozenset[str] = frozenset()
    """Units of the structure asked about that hold those values: growth compares
    two periods only when the same units hold their figures."""

    @classmethod
    def of(cls, value: MetricValue) -> Figure:
        unit = value.unit
        return cls(
            value.value, value.currency, value.basis, value.sources, (unit,), frozenset([unit])
        )

    def carried(self, heir: str, share: float) -> Figure:
        """`share` of the figure, now held by `heir`."""
        return replace(
            self,
            value=self.value * share,
            basis=loosest(self.basis, "restated"),
            cover=frozenset([heir]),
        )


def loosest(*bases: str) -> str:
    return max(bases, key=BASES.index)


def combine(figures: Sequence[Figure], where: str, how: str = "derived") -> Figure:
    """The sum of several figures; refuses to add different currencies."""
    if len(figures) == 1:
        return figures[0]
    currencies = {f.currency for f in figures}
    if len(currencies) > 1:
        raise CurrencyError(_currency_message(figures, f"summing {where}"))
    sources: dict[str, None] = {}
    parts: dict[str, None] = {}
    for figure in figures:
        sources.update(dict.fromkeys(figure.sources))
        parts.update(dict.fromkeys(figure.parts))
    return Figure(
        sum(f.value for f in figures),
        figures[0].currency,
        loosest(how, *(f.basis for f in figures)),
        tuple(sources),
        tuple(parts),
        frozenset().union(*(f.cover for f in figures)),
    )


def _currency_message(figures: Sequence[Figure], doing: str) -> str:
    by_currency: dict[str, list[str]] = {}
    for figure in figures:
        by_currency.setdefault(figure.currency or "no currency", []).extend(figure.parts)
    listing = "; ".join(f"{c}: {', '.join(sorted(set(u)))}" for c, u in sorted(by_currency.items()))
    return f"cannot mix currencies {doing} ({listing}); load them in one currency"


@dataclass(frozen=True)
class MetricRow:
    unit: str
    figure: Figure
    yoy: float | None = None
    qoq: float | None = None

    def to_json(self) -> dict[str, Json]:
        f = self.figure
        return {
            "unit": self.unit,
            "value": f.value,
            "currency": f.currency,
            "yoy": _rounded(self.yoy),
            "qoq": _rounded(self.qoq),
            "basis": f.basis,
            "sources": list(f.sources),
            "from": list(f.parts),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


@dataclass(frozen=True)
class Unallocated:
    """A loaded value that has no place in the structure asked for, and why."""

    unit: str
    value: float
    reason: str

    def to_json(self) -> dict[str, Json]:
        return {"unit": self.unit, "value": self.value, "reason": self.reason}


@dataclass(frozen=True)
class MetricTable:
    """The answer to `metrics show`: one row per unit, in the structure of `at`."""

    metric: str
    period: Period
    at: date
    rollup: bool
    restated_to: date | None
    rows: tuple[MetricRow, ...]
    unallocated: tuple[Unallocated, ...] = ()
    growth: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Display names of the units in the rows (for renderers)."""

    def to_json(self) -> dict[str, Json]:
        return {
            "metric": self.metric,
            "period": self.period.label,
            "at": self.at.isoformat(),
            "rollup": self.rollup,
            "restated_to": self.restated_to.isoformat() if self.restated_to else None,
            "rows": [r.to_json() for r in self.rows],
            "unallocated": [u.to_json() for u in self.unallocated],
        }


@dataclass(frozen=True)
class MetricQuery:
    """One question about a metric; `answer` computes it from values and structure."""

    metric: str
    period: Period
    unit: str | None = None
    at: date | None = None
    rollup: bool = False
    restate_to: date | None = None
    growth: tuple[str, ...] = ()

    @property
    def structure_date(self) -> date:
        """The date whose structure the rows are expressed in."""
        return self.restate_to or self.at or self.period.end

    def answer(
        self,
        values: Sequence[MetricValue],
        structure: Snapshot,
        lineage: EdgeIndex,
    ) -> MetricTable:
        """The rows for the period, with growth against earlier periods on the same basis."""
        if self.at is not None and self.restate_to is not None and self.at != self.restate_to:
            raise UsageError(
                "give --at or --restate-to, not both: restated values are in the structure "
                "of the restatement date"
            )
        for kind in self.growth:
            if kind not in GROWTH:
                raise UsageError(f"unknown growth '{kind}' (use {', '.join(GROWTH)})")
        if "qoq" in self.growth and not self.period.is_quarter:
            raise UsageError(f"qoq needs a quarter period, and {self.period.label} is not one")
        main, unallocated = self._figures(self.period, values, structure, lineage)
        earlier = {
            kind: self._figures(GROWTH[kind](self.period), values, structure, lineage)[0]
            for kind in self.growth
        }
        rows = []
        for unit_id in _order(main, structure, self.unit):
            figure = main[unit_id]
            change = {
                kind: _growth(figure, before.get(unit_id), kind) for kind, before in earlier.items()
            }
            rows.append(MetricRow(unit_id, figure, change.get("yoy"), change.get("qoq")))
        return MetricTable(
            self.metric,
            self.period,
            self.structure_date,
            self.rollup,
            self.restate_to,
            tuple(rows),
            tuple(unallocated),
            self.growth,
        )

    def _figures(
        self, period: Period, values: Sequence[MetricValue], structure: Snapshot, lineage: EdgeIndex
    ) -> tuple[dict[str, Figure], list[Unallocated]]:
        """Each unit's figure for `period`: as loaded, then carried (restate), then rolled up.

        Carried values add to what their heirs hold; they are not a reported total,
        so in a roll-up they come on top of the heir's own value or its children's sum.
        """
        own: dict[str, Figure] = {}
        carried: dict[str, list[Figure]] = {}
        unallocated: list[Unallocated] = []
        day = structure.at
        for value in values:
            if value.period != period or value.metric != self.metric:
                continue
            if self.restate_to is None or value.unit in structure:
                own[value.unit] = Figure.of(value)
                continue
            heirs, lost = _carry(value.unit, 1.0, day, structure, lineage)
            if lost:
                unallocated.append(
                    Unallocated(
                        value.unit,
                        value.value * lost,
                        f"no successor active on {day.isoformat()}",
                    )
                )
            for heir, share in heirs.items():
                carried.setdefault(heir, []).append(Figure.of(value).carried(heir, share))
        added = {
            u: combine(f, f"the values carried into '{u}'", "restated") for u, f in carried.items()
        }
        if not self.rollup:
            merged = {u: [f] for u, f in own.items()}
            for unit_id, figure in added.items():
                merged.setdefault(unit_id, []).append(figure)
            return {u: combine(f, f"the values of '{u}'", "restated") for u, f in merged.items()}, (
                unallocated
            )
        for unit_id, figure in own.items():
            if unit_id not in structure:
                unallocated.append(
                    Unallocated(
                        unit_id,
                        figure.value,
                        f"not in the structure on {day.isoformat()}; restate it with --restate-to",
                    )
                )
        return _rolled(own, added, structure), unallocated


GROWTH = {"yoy": Period.year_before, "qoq": Period.quarter_before}


def _growth(now: Figure, before: Figure | None, kind: str) -> float | None:
    """Growth from `before` to `now`, only when the same units hold both figures."""
    if before is None or before.value == 0 or before.cover != now.cover:
        return None
    if now.currency != before.currency:
        raise CurrencyError(_currency_message([before, now], f"computing {kind} growth"))
    return now.value / before.value - 1.0


def _carry(
    unit: str, share: float, day: date, structure: Snapshot, lineage: EdgeIndex
) -> tuple[dict[str, float], float]:
    """Shares of `unit`'s content held on `day` by active units, following lineage forward.

    Also returns the share that went nowhere (a unit that ended without successors).
    """
    found: dict[str, float] = {}
    lost = 0.0
    todo = [(unit, share)]
    while todo:
        current, part = todo.pop()
        if current in structure:
            found[current] = found.get(current, 0.0) + part
            continue
        edges = [e for e in lineage.outgoing.get(current, ()) if e.date <= day and e.share > 0]
        for edge in edges:
            todo.append((edge.dst, part * edge.share))
        lost += part * max(0.0, 1.0 - sum(e.share for e in edges))
    return found, (lost if lost > 1e-12 else 0.0)


def _rolled(
    own: Mapping[str, Figure], added: Mapping[str, Figure], structure: Snapshot
) -> dict[str, Figure]:
    """Each unit's own value if it has one (a subtree total), else the sum of its children's,
    plus whatever was carried into it. A sum of children is derived, even from one child."""
    rolled: dict[str, Figure] = {}
    order = [unit.id for unit, _ in structure.walk()]
    for unit_id in reversed(order):
        parts: list[Figure] = []
        if unit_id in own:
            parts.append(own[unit_id])
        else:
            below = [rolled[c] for c in structure.children(unit_id) if c in rolled]
            if below:
                summed = combine(below, f"the children of '{unit_id}'")
                parts.append(replace(summed, basis=loosest("derived", summed.basis)))
        if unit_id in added:
            parts.append(added[unit_id])
        if parts:
            rolled[unit_id] = combine(parts, f"the values of '{unit_id}'", "restated")
    return rolled


def _order(figures: Mapping[str, Figure], structure: Snapshot, unit: str | None) -> list[str]:
    if unit is not None:
        return [unit] if unit in figures else []
    placed = [u.id for u, _ in structure.walk() if u.id in figures]
    seen = set(placed)
    return placed + sorted(u for u in figures if u not in seen)
