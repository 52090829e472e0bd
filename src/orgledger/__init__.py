"""orgledger: an append-only, time-travelling ledger of organizational structure."""

from .changeset import ChangeSet, Record
from .diff import Diff
from .errors import (
    AmbiguousUnitError,
    CurrencyError,
    InactiveUnitError,
    IntegrityError,
    LedgerExistsError,
    LedgerMissingError,
    MetricsError,
    OrgLedgerError,
    PlanError,
    Problem,
    RefusedError,
    StoreError,
    UnknownMetricError,
    UnknownUnitError,
)
from .history import Event, History
from .ledger import Ledger, LogEntry, Preview, Report
from .lineage import Lineage
from .lookup import Match
from .magnitude import Counted, Explanation
from .metrics import MetricQuery, MetricRow, MetricTable, MetricValue
from .model import Edge, Link, Snapshot, Unit
from .periods import Period, parse_period
from .plan import dump_plan, parse_plan, read_plan
from .scenarios import Scenario, ScenarioError
from .stats import Stats

__version__ = "0.1.0"

__all__ = [
    "AmbiguousUnitError",
    "ChangeSet",
    "Counted",
    "CurrencyError",
    "Diff",
    "Edge",
    "Event",
    "Explanation",
    "History",
    "InactiveUnitError",
    "IntegrityError",
    "Ledger",
    "LedgerExistsError",
    "LedgerMissingError",
    "Lineage",
    "Link",
    "LogEntry",
    "Match",
    "MetricQuery",
    "MetricRow",
    "MetricTable",
    "MetricValue",
    "MetricsError",
    "OrgLedgerError",
    "Period",
    "PlanError",
    "Preview",
    "Problem",
    "Record",
    "RefusedError",
    "Report",
    "Scenario",
    "ScenarioError",
    "Snapshot",
    "Stats",
    "StoreError",
    "Unit",
    "UnknownMetricError",
    "UnknownUnitError",
    "__version__",
    "dump_plan",
    "parse_period",
    "parse_plan",
    "read_plan",
]
