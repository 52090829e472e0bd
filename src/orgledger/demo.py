"""The built-in example: Tencent's structure from 2005 on, from sourced facts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

from .errors import LedgerExistsError, LedgerMissingError
from .ledger import Ledger
from .metrics import MetricQuery
from .periods import parse_period
from .plan import read_plan

DEMO_DB = "orgledger-demo.db"
BEFORE, AFTER = date(2018, 9, 29), date(2018, 9, 30)
DISSOLVED = ("sng", "mig", "omg")
UPGRADE = "tencent-2018-09-30"
CLAIM = MetricQuery("revenue", parse_period("2018Q2"), "others", growth=("yoy", "qoq"))
"""Others grew 81% year on year and 10% quarter on quarter in 2Q2018."""


def _folder() -> Path:
    return Path(str(resources.files("orgledger") / "examples" / "tencent"))


def example_plans() -> list[Path]:
    """The Tencent plan files shipped inside the package, in date order."""
    return sorted(item for item in _folder().iterdir() if item.name.endswith(".yaml"))


def example_metrics() -> Path:
    """The Tencent figures (segment revenue, headcount), each with its basis and source."""
    return _folder() / "metrics.csv"


@dataclass(frozen=True)
class Built:
    ledger: Ledger
    path: str
    reused: bool


def build(db: str | os.PathLike[str] | None = None) -> Built:
    """A ledger holding the example; an existing one is reused only if it holds just that."""
    path = str(db or DEMO_DB)
    plans = [read_plan(p, p.name) for p in example_plans()]
    try:
        ledger = Ledger.open(path)
    except LedgerMissingError:
        ledger = Ledger.init(path)
    fresh = not ledger.records
    recorded = {(r.id, r.digest) for r in ledger.records}
    wanted = {(p.id, p.digest()) for p in plans}
    if not recorded <= wanted:
        ledger.close()
        raise LedgerExistsError(
            f"{path} holds something other than the demo; give the demo another --db"
        )
    # A demo built by an earlier version gets the example's newer change sets and figures.
    ledger.apply(*plans)
    if not ledger.metric_values():
        ledger.load_metrics(example_metrics(), "metrics.csv")
    return Built(ledger, path, not fresh)
