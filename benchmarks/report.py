"""The results as a Rich table and as JSON."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .suite import Check, Row


def machine() -> dict[str, Any]:
    return {"cpu": _cpu(), "cores": os.cpu_count(), "python": platform.python_version()}


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def value(amount: float | None, measure: str = "s") -> str:
    if amount is None:
        return "—"
    if measure != "s":
        return f"{amount:,.0f} {measure}"
    if amount < 1e-3:
        return f"{amount * 1e6:,.0f} µs"
    if amount < 1:
        return f"{amount * 1e3:,.1f} ms"
    return f"{amount:,.2f} s"


def ratio(amount: float | None) -> str:
    if amount is None:
        return "—"
    return f"{amount:,.1f}×" if amount >= 1 else f"1/{1 / amount:,.1f}×"


def table(rows: Sequence[Row]) -> Table:
    out = Table(title="orgledger vs baselines (ratio = baseline / ours; above 1: ours is better)")
    for header in ("operation", "units", "ours median", "baseline", "baseline median"):
        out.add_column(
            header, justify="right" if "median" in header or header == "units" else "left"
        )
    out.add_column("ratio", justify="right")
    for row in rows:
        out.add_row(
            row.name,
            f"{row.units:,}",
            value(row.ours, row.measure),
            row.baseline or "—",
            value(row.baseline_value, row.measure),
            ratio(row.ratio),
        )
    return out


def console() -> Console:
    """Stdout, wide enough for the table when it is not a terminal."""
    return Console() if sys.stdout.isatty() else Console(width=150)


def show(rows: Sequence[Row], console: Console) -> None:
    console.print(table(rows))


def write(
    path: Path, rows: Sequence[Row], checks: Sequence[Check], setup: Sequence[dict[str, Any]]
) -> None:
    document = {
        "machine": machine(),
        "results": [row.to_json() for row in rows],
        "checks": [check.to_json() for check in checks],
        "setup": list(setup),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
