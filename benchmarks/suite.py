"""The operations measured, ours against a baseline on the same data in the same run."""

from __future__ import annotations

import hashlib
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from orgledger import Ledger

from . import baselines, cases
from .baselines import Relational
from .data import Dataset, intervals
from .measure import median_time, process_peak_mib, process_time

COLD_CTE = Path(__file__).resolve().parent / "cold_cte.py"


@dataclass(frozen=True)
class Row:
    """One measured operation; `measure` says whether the values are seconds or MiB."""

    name: str
    units: int
    ours: float
    baseline: str | None = None
    baseline_value: float | None = None
    measure: str = "s"

    @property
    def ratio(self) -> float | None:
        """How many times the baseline's value is ours (above 1: we are faster or smaller)."""
        if self.baseline_value is None or self.ours <= 0:
            return None
        return self.baseline_value / self.ours

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "units": self.units,
            "ours_s": self.ours,
            "baseline": self.baseline,
            "baseline_s": self.baseline_value,
            "ratio": self.ratio,
            "measure": self.measure,
        }


@dataclass(frozen=True)
class Check:
    """Fingerprints of the answers both sides gave to the same question; they must agree."""

    name: str
    units: int
    ours: str
    baseline: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "units": self.units,
            "ours": self.ours,
            "baseline": self.baseline,
        }


def fingerprint(items: Iterable[Any]) -> str:
    """Count and digest of a set of answers, independent of their order."""
    lines = sorted({repr(item) for item in items})
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
    return f"{len(lines)}:{digest}"


@dataclass
class Context:
    """One dataset opened on both sides, with what is asked of it."""

    dataset: Dataset
    ledger: Ledger
    sql: Relational
    repeats: int
    log: Callable[[str], None]
    day1: date
    day2: date
    rows: list[Row] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def units(self) -> int:
        return self.dataset.spec.units

    def row(self, name: str, ours: float, baseline: str | None = None, **rest: Any) -> None:
        self.rows.append(Row(name, self.units, ours, baseline, **rest))

    def check(self, name: str, ours: Iterable[Any], baseline: Iterable[Any]) -> None:
        self.checks.append(Check(name, self.units, fingerprint(ours), fingerprint(baseline)))

    def close(self) -> None:
        self.ledger.close()
        self.sql.close()


def open_context(dataset: Dataset, repeats: int, log: Callable[[str], None]) -> Context:
    """Open and load the ledger (timed, a row without baseline) and the relational table."""
    started = time.perf_counter()
    ledger = loaded(Ledger.open(dataset.ledger_path))
    opened = time.perf_counter() - started
    log(f"ledger opened and loaded in {opened:.1f} s: {len(ledger.timeline.versions):,} versions")
    if dataset.sql_path.exists():
        sql = Relational(dataset.sql_path)
    else:
        started = time.perf_counter()
        sql = Relational.create(dataset.sql_path, intervals(ledger))
        log(f"relational baseline table built in {time.perf_counter() - started:.1f} s")
    day1, day2 = cases.dates(ledger)
    context = Context(dataset, ledger, sql, repeats, log, day1, day2)
    context.row("open ledger in-process and load it", opened)
    return context


def loaded(ledger: Ledger) -> Ledger:
    """The ledger with its timeline read, which opening may leave until first use."""
    if not ledger.timeline.records:
        raise ValueError("the benchmark ledger is empty")
    return ledger


def snapshot(ctx: Context) -> None:
    day = ctx.day2
    ours, (ids, parents) = median_time(lambda: ctx.ledger.at(day).table(), ctx.repeats)
    theirs, rows = median_time(lambda: ctx.sql.snapshot(day.isoformat()), ctx.repeats)
    ctx.row("snapshot as of a date", ours, "SQLite recursive CTE", baseline_value=theirs)
    ctx.check("snapshot as of a date", zip(ids, parents, strict=True), rows)


def subtree(ctx: Context) -> None:
    day = ctx.day2
    root = cases.subtree_root(*ctx.ledger.at(day).table())
    ours, (ids, parents) = median_time(lambda: ctx.ledger.at(day).table(root), ctx.repeats)
    theirs, rows = median_time(lambda: ctx.sql.subtree(root, day.isoformat()), ctx.repeats)
    ctx.log(f"subtree of {root}: {len(ids)} units")
    ctx.row(
        "subtree as of a date (~1% of units)", ours, "SQLite recursive CTE", baseline_value=theirs
    )
    ctx.check("subtree as of a date (~1% of units)", zip(ids, parents, strict=True), rows)


def diff(ctx: Context) -> None:
    before, after = ctx.ledger.at(ctx.day1).table(), ctx.ledger.at(ctx.day2).table()
    builds: list[float] = []

    def build() -> tuple[Any, Any]:
        # bigtree's diff gets fresh trees each time; building them is timed on its own.
        started = time.perf_counter()
        trees = baselines.bigtree_tree(*before), baselines.bigtree_tree(*after)
        builds.append(time.perf_counter() - started)
        return trees

    ours, result = median_time(lambda: ctx.ledger.diff(ctx.day1, ctx.day2), ctx.repeats)
    theirs, tree = median_time(lambda trees: baselines.bigtree_diff(*trees), ctx.repeats, build)
    built = statistics.median(builds[1:])
    ctx.row("diff, dates a year apart", ours, "bigtree get_tree_diff", baseline_value=theirs)
    ctx.row(
        "diff, incl. building the bigtree trees",
        ours,
        "bigtree build + diff",
        baseline_value=built + theirs,
    )
    marks = baselines.bigtree_changes(tree)
    ctx.check(
        "diff, dates a year apart",
        [
            *(("added", u.id) for u in result.added),
            *(("removed", u.id) for u in result.removed),
            *(("moved", unit) for unit, _, _ in result.moved),
        ],
        [
            *(("added", u) for u in marks.get("added", ())),
            *(("removed", u) for u in marks.get("removed", ())),
            *(("moved", u) for u in marks.get("moved to", ())),
        ],
    )


def lineage(ctx: Context) -> None:
    graph = baselines.lineage_graph(ctx.ledger.timeline.edges)
    unit = cases.lineage_unit(graph)
    ours, result = median_time(lambda: ctx.ledger.lineage(unit), ctx.repeats)
    theirs, (up, down) = median_time(lambda: baselines.networkx_lineage(graph, unit), ctx.repeats)
    ctx.log(f"lineage of {unit}: {len(up)} edges back, {len(down)} forward")
    ctx.row("lineage of a unit, with edges", ours, "networkx DiGraph", baseline_value=theirs)
    ctx.check(
        "lineage of a unit, with edges",
        [
            *(("back", e.src, e.dst) for e in result.predecessors),
            *(("forward", e.src, e.dst) for e in result.successors),
        ],
        [*(("back", a, b) for a, b, _ in up), *(("forward", a, b) for a, b, _ in down)],
    )


def history(ctx: Context) -> None:
    unit = cases.history_unit(ctx.ledger)
    ours, result = median_time(lambda: ctx.ledger.history(unit), ctx.repeats)
    theirs, rows = median_time(lambda: ctx.sql.history(unit), ctx.repeats)
    ctx.log(f"history of {unit}: {len(result.events)} events, {len(rows)} rows")
    ctx.row("history of a unit", ours, "SQLite indexed SELECT", baseline_value=theirs)
    # Both must tell the same story of where the unit hung, and when it began and ended.
    parents: dict[str, str | None] = {}
    bounds: list[str] = []
    for event in result.events:
        day = event.date.isoformat()
        if event.action == "created":
            parents[day] = event.detail["parent"]
            bounds.append(f"start {day}")
        elif event.action == "moved":
            parents[day] = event.detail["to"]
        elif event.action == "ended":
            bounds.append(f"end {day}")
    sql_bounds = [f"start {rows[0][3]}"] + ([f"end {rows[-1][4]}"] if rows[-1][4] else [])
    ctx.check(
        "history of a unit",
        [*bounds, *_collapse(parents.get(d) for d in sorted(parents))],
        [*sql_bounds, *_collapse(row[1] for row in rows)],
    )


def _collapse(parents: Iterable[str | None]) -> list[tuple[int, str | None]]:
    """The parents in order with repeats in a row dropped, numbered so order is kept."""
    out: list[str | None] = []
    for parent in parents:
        if not out or out[-1] != parent:
            out.append(parent)
    return list(enumerate(out))


def apply(ctx: Context, size: int) -> None:
    """Both sides apply the same edits to a fresh, opened copy; only applying is timed."""
    changeset, edits = cases.reorganization(ctx.ledger, size)
    day = changeset.effective.isoformat()
    repeats = min(ctx.repeats, 3)
    held: list[Ledger | Relational] = []

    def fresh(source: Path, opener: Callable[[Path], Any]) -> Callable[[], Any]:
        def setup() -> Any:
            for previous in held:
                previous.close()
            held.clear()
            copy = folder / source.name
            for stale in folder.glob(f"{source.name}*"):
                stale.unlink()
            shutil.copy(source, copy)
            held.append(opener(copy))
            return held[-1]

        return setup

    def ours_apply(ledger: Ledger) -> Ledger:
        ledger.apply(changeset)
        return ledger

    def sql_apply(sql: Relational) -> Relational:
        sql.apply(edits, day)
        return sql

    with tempfile.TemporaryDirectory(prefix="orgledger-bench-") as scratch:
        folder = Path(scratch)
        try:
            ours, ledger = median_time(
                ours_apply,
                repeats,
                fresh(ctx.dataset.ledger_path, lambda p: loaded(Ledger.open(p))),
            )
            after = _current(ledger)
            theirs, sql = median_time(sql_apply, repeats, fresh(ctx.dataset.sql_path, Relational))
            rows = sql.snapshot(day)
        finally:
            for previous in held:
                previous.close()
    name = f"apply a {size:,}-operation change set"
    ctx.row(name, ours, "SQLite UPDATE + INSERT", baseline_value=theirs)
    ctx.check(name, after.items(), rows)


def _current(ledger: Ledger) -> dict[str, str | None]:
    ids, parents = ledger.at(ledger.timeline.records[-1].effective).table()
    return dict(zip(ids, parents, strict=True))


def cold(ctx: Context) -> None:
    """A new process answering `show --at DATE --format json`, end to end, and its memory."""
    day = ctx.day2.isoformat()
    cli = Path(sys.executable).parent / "orgledger"
    ours_cmd = [
        str(cli),
        "show",
        "--at",
        day,
        "--format",
        "json",
        "--db",
        str(ctx.dataset.ledger_path),
    ]
    sql_cmd = [sys.executable, str(COLD_CTE), str(ctx.dataset.sql_path), day]
    repeats = min(ctx.repeats, 3)
    ours, theirs = process_time(ours_cmd, repeats), process_time(sql_cmd, repeats)
    ctx.row(
        "cold open: new process, show --at as JSON",
        ours,
        "python + sqlite3 CTE",
        baseline_value=theirs,
    )
    ctx.row(
        "cold open: peak memory (MiB)",
        process_peak_mib(ours_cmd),
        "python + sqlite3 CTE",
        baseline_value=process_peak_mib(sql_cmd),
        measure="MiB",
    )


# Run in this order; each is a step whose duration is logged.
STEPS: dict[str, Callable[[Context], None]] = {
    "snapshot": snapshot,
    "subtree": subtree,
    "diff": diff,
    "lineage": lineage,
    "history": history,
    "cold": cold,
}


def run_all(ctx: Context, apply_size: int) -> list[str]:
    """Every step in turn; a step that fails is logged and named, and the others still run."""
    steps: dict[str, Callable[[Context], None]] = {
        **STEPS,
        "apply": lambda c: apply(c, apply_size),
    }
    failed: list[str] = []
    for label, step in steps.items():
        started = time.perf_counter()
        try:
            step(ctx)
        except Exception as exc:
            ctx.log(f"[red]{label} failed[/]: {type(exc).__name__}: {exc}")
            failed.append(label)
            continue
        ctx.steps[label] = time.perf_counter() - started
        ctx.log(f"{label}: {ctx.steps[label]:.1f} s")
    return failed
