"""The benchmark suite runs end to end at a tiny size, and both sides agree on every answer.

Timings are only checked to be positive: benchmarks never pass or fail on speed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
MEASURED = {
    "open ledger in-process and load it",
    "snapshot as of a date",
    "subtree as of a date (~1% of units)",
    "diff, dates a year apart",
    "diff, incl. building the bigtree trees",
    "lineage of a unit, with edges",
    "history of a unit",
    "apply a 200-operation change set",
    "cold open: new process, show --at as JSON",
    "cold open: peak memory (MiB)",
}
CHECKED = {
    "snapshot as of a date",
    "subtree as of a date (~1% of units)",
    "diff, dates a year apart",
    "lineage of a unit, with edges",
    "history of a unit",
    "apply a 200-operation change set",
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("bench")
    out = folder / "latest.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--smoke",
            "--cache",
            str(folder / "cache"),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    document: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return document


def test_every_operation_is_measured_with_positive_times(results: dict[str, Any]) -> None:
    rows = {row["name"]: row for row in results["results"]}
    assert set(rows) == MEASURED
    for row in rows.values():
        assert row["ours_s"] > 0
        if row["baseline"] is None:
            assert row["baseline_s"] is None
            assert row["ratio"] is None
        else:
            assert row["baseline_s"] > 0
            assert row["ratio"] == pytest.approx(row["baseline_s"] / row["ours_s"])


def test_machine_is_described(results: dict[str, Any]) -> None:
    assert set(results["machine"]) == {"cpu", "cores", "python"}


@pytest.mark.parametrize("name", sorted(CHECKED))
def test_ours_and_the_baseline_give_the_same_answer(results: dict[str, Any], name: str) -> None:
    (check,) = [c for c in results["checks"] if c["name"] == name]
    assert check["ours"] == check["baseline"]
    assert not check["ours"].startswith("0:"), "an empty answer proves nothing"
