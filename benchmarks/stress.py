"""Many writers at once, and writers killed mid-write: `python -m benchmarks.stress [--db URL]`.

`concurrent_writers` starts processes that each record change sets in one ledger
at the same time; some of their change sets compete to create the same unit, so
exactly one of each contest may land and the others must be refused.
`killed_writers` kills a writer with SIGKILL at a random moment while it records
a large change set, again and again. Both are used by tests/test_reliability.py;
run from the command line they print the counts and the throughput.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from orgledger import Ledger
from orgledger.errors import OrgLedgerError

START = date(2020, 1, 1)
CONTEST_EVERY = 5
"""Every fifth change set of each writer competes with the other writers' for one unit."""

RESULTS = Path(__file__).resolve().parent / "results" / "stress.json"


def root_plan() -> dict[str, Any]:
    return {
        "id": "root",
        "effective": "2000-01-01",
        "title": "The root every writer builds under",
        "ops": [{"create": "org", "parent": None, "kind": "company", "names": {"en": "Org"}}],
    }


def writer_plan(writer: int, number: int) -> dict[str, Any]:
    """A writer's change set: a team of its own, or a contest for a shared unit."""
    day = (START + timedelta(days=number)).isoformat()
    unit = f"shared-{number}" if number % CONTEST_EVERY == 0 else f"w{writer}-{number}"
    return {
        "id": f"w{writer}-cs{number}",
        "effective": day,
        "title": f"Writer {writer}, change set {number}",
        "ops": [
            {
                "create": unit,
                "parent": "org",
                "kind": "team",
                "names": {"en": f"Team {unit} by writer {writer}"},
            }
        ],
    }


def _write_many(db: str, writer: int, count: int, barrier: Any, out: Any) -> None:
    outcome: Counter[str] = Counter()
    with Ledger.open(db) as ledger:
        barrier.wait()
        for number in range(count):
            try:
                ledger.apply(writer_plan(writer, number))
                outcome["recorded"] += 1
            except OrgLedgerError as exc:
                outcome[exc.code] += 1
    out.put((writer, dict(outcome)))


@dataclass(frozen=True)
class StressResult:
    writers: int
    per_writer: int
    recorded: int
    refused: int
    outcomes: dict[str, int]
    seconds: float

    @property
    def per_second(self) -> float:
        return (self.recorded + self.refused) / self.seconds


def concurrent_writers(db: str, writers: int = 8, per_writer: int = 50) -> StressResult:
    """Start `writers` processes recording `per_writer` change sets each into `db` at once."""
    with Ledger.open(db) as ledger:
        ledger.apply(root_plan())
    context = multiprocessing.get_context("spawn")
    barrier, out = context.Barrier(writers + 1), context.Queue()
    processes = [
        context.Process(target=_write_many, args=(db, w, per_writer, barrier, out))
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    barrier.wait()
    started = time.perf_counter()
    totals: Counter[str] = Counter()
    for _ in processes:
        _, outcome = out.get(timeout=600)
        totals.update(outcome)
    seconds = time.perf_counter() - started
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a writer process failed with exit code {process.exitcode}")
    recorded = totals.pop("recorded", 0)
    return StressResult(
        writers, per_writer, recorded, sum(totals.values()), dict(totals), round(seconds, 3)
    )


# -- killed writers ------------------------------------------------------------------


def big_plan(number: int, units: int, back_dated: bool) -> dict[str, Any]:
    """A large change set; a back-dated one makes the ledger rewrite its derived tables."""
    day = START + timedelta(days=number - 1_000 if back_dated else 10 * number)
    return {
        "id": f"big-{number}",
        "effective": day.isoformat(),
        "title": f"Large change set {number}",
        "ops": [
            {
                "create": f"big-{number}",
                "parent": "org",
                "kind": "division",
                "names": {"en": f"Division {number}"},
            },
            *(
                {
                    "create": f"big-{number}-{i}",
                    "parent": f"big-{number}",
                    "kind": "team",
                    "names": {"en": f"Team {number}.{i}", "zh": f"团队{number}.{i}"},
                }
                for i in range(units)
            ),
        ],
    }


_CHILD = """
import json, sys
from orgledger import Ledger
db, plan = sys.argv[1], json.loads(open(sys.argv[2], encoding="utf-8").read())
with Ledger.open(db) as ledger:
    print("ready", flush=True)
    ledger.apply(plan)
print("done", flush=True)
"""


@dataclass(frozen=True)
class KillResult:
    kills: int
    landed_whole: int
    absent: int
    verify_ok: int
    apply_seconds: float


def _start_child(db: str, plan: dict[str, Any], folder: Path) -> subprocess.Popen[str]:
    path = folder / f"{plan['id']}.json"
    path.write_text(json.dumps(plan), encoding="utf-8")
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, db, str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        raise RuntimeError(f"the writer did not start: {_finish(child)}")
    return child


def _finish(child: subprocess.Popen[str]) -> str:
    """Wait for a writer to end; what it wrote to stderr."""
    _, errors = child.communicate(timeout=600)
    for pipe in (child.stdout, child.stderr):
        if pipe is not None:
            pipe.close()
    return errors


def killed_writers(db: str, kills: int = 20, units: int = 1_500, seed: int = 0) -> KillResult:
    """Kill a writer at a random moment of recording a large change set, `kills` times.

    After each kill the ledger must open, verify, and hold the change set whole
    or not at all. The moments are drawn over the time one uninterrupted write
    takes (measured first, on the same ledger), so kills fall while the change
    set is checked and while it is written.
    """
    chance = random.Random(seed)
    with Ledger.open(db) as ledger:
        if not ledger.records:
            ledger.apply(root_plan())
    folder = Path(tempfile.mkdtemp(prefix="orgledger-kill-"))
    started = time.perf_counter()
    child = _start_child(db, big_plan(0, units, back_dated=False), folder)
    errors = _finish(child)
    took = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"the measuring write failed: {errors}")
    whole = absent = intact = 0
    for number in range(1, kills + 1):
        plan = big_plan(number, units, back_dated=number % 2 == 0)
        child = _start_child(db, plan, folder)
        time.sleep(chance.uniform(0, took))
        os.kill(child.pid, signal.SIGKILL)
        _finish(child)
        with Ledger.open(db) as ledger:
            report = ledger.verify()
            intact += report.ok
            if not report.ok:
                raise AssertionError(f"after kill {number}: {report.findings}")
            recorded = any(r.id == plan["id"] for r in ledger.records)
            day = date.fromisoformat(plan["effective"])
            present = {f"big-{number}", *(f"big-{number}-{i}" for i in range(units))}
            found = present & set(ledger.at(day + timedelta(days=1)).units)
            if recorded and found == present:
                whole += 1
            elif not recorded and not found:
                absent += 1
            else:
                raise AssertionError(
                    f"after kill {number}: change set recorded={recorded}, "
                    f"{len(found)} of its {len(present)} units present"
                )
    shutil.rmtree(folder, ignore_errors=True)
    return KillResult(kills, whole, absent, intact, round(took, 3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=50)
    parser.add_argument("--kills", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results: dict[str, Any] = {}
        for name, run in (
            ("writers", lambda db: asdict(concurrent_writers(db, args.writers, args.per_writer))),
            ("kills", lambda db: asdict(killed_writers(db, args.kills))),
        ):
            db = str(Path(tmp) / f"{name}.db")
            Ledger.init(db).close()
            results[name] = run(db)
            print(name, json.dumps(results[name]))
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
