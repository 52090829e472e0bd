"""Reporting periods: a quarter, a half, a year, a month, a day, or an explicit range."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_FORMS = (
    (re.compile(r"(\d{4})Q([1-4])"), "quarter"),
    (re.compile(r"(\d{4})H([12])"), "half"),
    (re.compile(r"(\d{4})"), "year"),
    (re.compile(r"(\d{4})-(\d{2})"), "month"),
)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
FORMS_HELP = "2018Q2, 2018H1, 2018, 2018-06, 2018-06-30 or 2018-04-01..2018-06-30"


class PeriodError(ValueError):
    """Text that is not a period; the message says which forms are."""


@dataclass(frozen=True, order=True)
class Period:
    """The days from `start` to `end`, both included."""

    start: date
    end: date

    @property
    def label(self) -> str:
        """The shortest name of the period (2018Q2 rather than 2018-04-01..2018-06-30)."""
        s, e = self.start, self.end
        if s == e:
            return s.isoformat()
        if s.day == 1 and e == _month_end(e.year, e.month) and s.year == e.year:
            months = e.month - s.month + 1
            if months == 12:
                return f"{s.year:04d}"
            if months == 6 and s.month in (1, 7):
                return f"{s.year:04d}H{1 if s.month == 1 else 2}"
            if months == 3 and s.month % 3 == 1:
                return f"{s.year:04d}Q{(s.month - 1) // 3 + 1}"
            if months == 1:
                return f"{s.year:04d}-{s.month:02d}"
        return f"{s.isoformat()}..{e.isoformat()}"

    def __str__(self) -> str:
        return self.label

    @property
    def is_quarter(self) -> bool:
        return "Q" in self.label

    def year_before(self) -> Period:
        """The same period one year earlier (a month end stays a month end)."""
        if self.start == self.end:
            day = _shift(self.end, -12, True)
            return Period(day, day)
        return Period(_shift(self.start, -12, False), _shift(self.end, -12, True))

    def quarter_before(self) -> Period:
        """The previous quarter; only a quarter has one."""
        if not self.is_quarter:
            raise PeriodError(f"{self.label} is not a quarter, so it has no previous quarter")
        return Period(_shift(self.start, -3, False), _shift(self.end, -3, True))

    def overlaps(self, start: date, end: date | None) -> bool:
        """True if some day of the period lies in [start, end) (end None: open)."""
        return start <= self.end and (end is None or end > self.start)


def parse_period(text: str) -> Period:
    """The period `text` names; raises PeriodError when it names none."""
    value = text.strip()
    if ".." in value:
        first, _, last = value.partition("..")
        start, end = _day(first.strip(), text), _day(last.strip(), text)
        if end < start:
            raise PeriodError(f"'{text}' ends before it starts")
        return Period(start, end)
    if _DAY.fullmatch(value):
        day = _day(value, text)
        return Period(day, day)
    for pattern, form in _FORMS:
        match = pattern.fullmatch(value)
        if match is None:
            continue
        year = int(match.group(1))
        if year < 1:
            break
        if form == "year":
            return Period(date(year, 1, 1), date(year, 12, 31))
        number = int(match.group(2))
        if form == "quarter":
            first_month, months = 3 * number - 2, 3
        elif form == "half":
            first_month, months = 6 * number - 5, 6
        else:
            if not 1 <= number <= 12:
                break
            first_month, months = number, 1
        last_month = first_month + months - 1
        return Period(date(year, first_month, 1), _month_end(year, last_month))
    raise PeriodError(f"'{text}' is not a period (use {FORMS_HELP})")


def _day(value: str, text: str) -> date:
    try:
        if not _DAY.fullmatch(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise PeriodError(f"'{text}' is not a period (use {FORMS_HELP})") from None


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _shift(day: date, months: int, keep_end: bool) -> date:
    """`day` moved by whole months; a month's last day stays its last day when `keep_end`."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    if keep_end and day == _month_end(day.year, day.month):
        return date(year, month, last)
    return date(year, month, min(day.day, last))
