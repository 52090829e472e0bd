"""orgledger: an append-only, time-travelling ledger of organizational structure."""

from .changeset import ChangeSet, Record
from .diff import Diff
from .errors import (
    AmbiguousUnitError,
    InactiveUnitError,
    IntegrityError,
    LedgerExistsError,
    LedgerMissingError,
    OrgLedgerError,
    PlanError,
    Problem,
    StoreError,
    UnknownUnitError,
)
from .history import Event, History
from .ledger import Ledger, LogEntry, Preview, Report
from .lineage import Lineage
from .lookup import Match
from .model import Edge, Snapshot, Unit
from .plan import dump_plan, parse_plan, read_plan

__version__ = "0.1.0"

__all__ = [
    "AmbiguousUnitError",
    "ChangeSet",
    "Diff",
    "Edge",
    "Event",
    "History",
    "InactiveUnitError",
    "IntegrityError",
    "Ledger",
    "LedgerExistsError",
    "LedgerMissingError",
    "Lineage",
    "LogEntry",
    "Match",
    "OrgLedgerError",
    "PlanError",
    "Preview",
    "Problem",
    "Record",
    "Report",
    "Snapshot",
    "StoreError",
    "Unit",
    "UnknownUnitError",
    "__version__",
    "dump_plan",
    "parse_plan",
    "read_plan",
]
