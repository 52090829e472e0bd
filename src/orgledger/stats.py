"""Org health: units by kind, layers, span of control, headcount, and shares by attribute."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from .model import WEIGHT_ATTR, Json, Scalar, Snapshot

NONE = "(none)"
"""The group of units that have no value of the attribute, themselves or above."""


@dataclass(frozen=True)
class Share:
    """The units with one value of an attribute."""

    value: str
    units: int
    unit_share: float
    headcount: float | None
    headcount_share: float | None

    def to_json(self) -> dict[str, Json]:
        return {
            "value": self.value,
            "units": self.units,
            "unit_share": round(self.unit_share, 6),
            "headcount": self.headcount,
            "headcount_share": None
            if self.headcount_share is None
            else round(self.headcount_share, 6),
        }


@dataclass(frozen=True)
class Stats:
    """The health figures of one structure (a whole forest or one subtree)."""

    at: date
    units: int
    kinds: dict[str, int]
    layers: int
    """Levels from the root down to the deepest unit (a lone root is 1)."""
    mean_depth: float
    managers: int
    """Units with at least one child: span of control is measured over them."""
    span_mean: float | None
    span_median: float | None
    span_p90: float | None
    span_max: int | None
    headcount: float | None
    """Summed `headcount` attributes, None when no unit has one."""
    headcount_units: int
    by: str | None = None
    shares: tuple[Share, ...] = ()
    changeset: str | None = None
    """In a range: the change set after which these figures hold."""
    root: str | None = field(default=None)

    def to_json(self) -> dict[str, Json]:
        return {
            "at": self.at.isoformat(),
            "changeset": self.changeset,
            "root": self.root,
            "units": self.units,
            "kinds": self.kinds,
            "layers": self.layers,
            "mean_depth": round(self.mean_depth, 6),
            "span": {
                "managers": self.managers,
                "mean": None if self.span_mean is None else round(self.span_mean, 6),
                "median": None if self.span_median is None else round(self.span_median, 6),
                "p90": None if self.span_p90 is None else round(self.span_p90, 6),
                "max": self.span_max,
            },
            "headcount": self.headcount,
            "headcount_units": self.headcount_units,
            "by": self.by,
            "shares": [s.to_json() for s in self.shares],
        }


def measure(
    snapshot: Snapshot, root: str | None = None, by: str | None = None, changeset: str | None = None
) -> Stats:
    """The figures of `snapshot` (or of `root`'s subtree).

    With `by`, each unit counts under its own value of that attribute, else the
    value of its nearest ancestor that has one (a department of a To-B group is
    To B), else under "(none)".
    """
    kinds: Counter[str] = Counter()
    depths: list[int] = []
    spans: list[int] = []
    headcount, counted = 0.0, 0
    inherited: dict[str, str] = {}
    groups: Counter[str] = Counter()
    group_heads: dict[str, float] = {}
    units = snapshot.walk(root) if root is None or root in snapshot else iter(())
    for unit, level in units:
        kinds[unit.kind] += 1
        depths.append(level)
        kids = len(snapshot.children(unit.id))
        if kids:
            spans.append(kids)
        people = _headcount(unit.attrs.get(WEIGHT_ATTR))
        if people is not None:
            headcount += people
            counted += 1
        if by is not None:
            own = unit.attrs.get(by)
            above = (
                inherited[unit.parent]
                if level and unit.parent is not None
                else _ancestors_value(snapshot, unit.id, by)
            )
            value = _text(own) if own is not None else above
            inherited[unit.id] = value
            groups[value] += 1
            if people is not None:
                group_heads[value] = group_heads.get(value, 0.0) + people
    total = len(depths)
    spread = np.array(spans, dtype=np.float64)
    shares = tuple(
        Share(
            value,
            count,
            count / total,
            group_heads.get(value) if counted else None,
            group_heads.get(value, 0.0) / headcount if counted and headcount > 0 else None,
        )
        for value, count in sorted(groups.items(), key=lambda item: (-item[1], item[0]))
    )
    return Stats(
        at=snapshot.at,
        units=total,
        kinds=dict(sorted(kinds.items())),
        layers=max(depths) + 1 if depths else 0,
        mean_depth=float(np.mean(depths)) if depths else 0.0,
        managers=len(spans),
        span_mean=float(spread.mean()) if spans else None,
        span_median=float(np.median(spread)) if spans else None,
        span_p90=float(np.percentile(spread, 90)) if spans else None,
        span_max=max(spans) if spans else None,
        headcount=headcount if counted else None,
        headcount_units=counted,
        by=by,
        shares=shares,
        changeset=changeset,
        root=root,
    )


def _ancestors_value(snapshot: Snapshot, unit_id: str, attr: str) -> str:
    """The value of `attr` on the nearest ancestor of `unit_id` that has one."""
    for ancestor in reversed(snapshot.path(unit_id)[:-1]):
        value = snapshot[ancestor].attrs.get(attr)
        if value is not None:
            return _text(value)
    return NONE


def _headcount(value: Scalar | None) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def plot(series: Sequence[Stats], path: str, until: date | None = None) -> None:
    """A PNG line chart of the figures after each change set (shares when grouped by).

    The lines run on to `until` (the end of the range) after the last change set.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if until is not None and series and until > series[-1].at:
        series = [*series, replace(series[-1], at=until)]
    days = [s.at for s in series]
    grouped = series[0].by is not None if series else False
    rows = 2 if grouped else 1
    figure, axes = plt.subplots(rows, 1, figsize=(9, 3.6 * rows), squeeze=False)
    top = axes[0][0]
    top.step(days, [s.units for s in series], where="post", label="units")
    top.step(days, [s.layers for s in series], where="post", label="layers")
    top.step(days, [s.span_mean or 0 for s in series], where="post", label="mean span")
    top.step(days, [s.span_max or 0 for s in series], where="post", label="max span")
    top.set_title("structure after each change set")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    if grouped:
        bottom = axes[1][0]
        values = sorted({share.value for s in series for share in s.shares})
        use_heads = all(s.headcount for s in series)
        for value in values:
            points = []
            for s in series:
                found = next((x for x in s.shares if x.value == value), None)
                share = (found.headcount_share if use_heads else found.unit_share) if found else 0
                points.append(share or 0.0)
            bottom.step(days, points, where="post", label=value)
        measure_name = "headcount share" if use_heads else "share of units"
        bottom.set_title(f"{measure_name} by {series[0].by}")
        bottom.set_ylim(-0.02, 1.05)
        bottom.legend(loc="upper left")
        bottom.grid(alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
