"""The built-in example: Tencent's structure from 2005 on, from sourced facts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

from .errors import LedgerExistsError, LedgerMissingError
from .ledger import Ledger
from .plan import read_plan

DEMO_DB = "orgledger-demo.db"
BEFORE, AFTER = date(2018, 9, 29), date(2018, 9, 30)
DISSOLVED = ("sng", "mig", "omg")


def example_plans() -> list[Path]:
    """The Tencent plan files shipped inside the package, in date order."""
    folder = resources.files("orgledger") / "examples" / "tencent"
    return sorted(Path(str(item)) for item in folder.iterdir() if item.name.endswith(".yaml"))


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
    if not ledger.records:
        ledger.apply(*plans)
        return Built(ledger, path, False)
    recorded = {(r.id, r.digest) for r in ledger.records}
    wanted = {(p.id, p.digest()) for p in plans}
    if recorded != wanted:
        ledger.close()
        raise LedgerExistsError(
            f"{path} holds something other than the demo; give the demo another --db"
        )
    return Built(ledger, path, True)
