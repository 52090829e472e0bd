"""`orgledger import people` on a million people: wall time and peak memory.

Makes a synthetic ledger of 10,000 units (`orgledger synth`), writes a people CSV
assigning N employees to its active units with a reporting tree that follows the
units' tree (each unit's first person reports to the parent unit's first person,
the others to someone earlier in their unit), then times the import in a child
process under `/usr/bin/time -v` (or getrusage where that is missing).

    python -m benchmarks.people [--people 1000000] [--units 10000]
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from orgledger import Ledger

EFFECTIVE = date(2001, 1, 1)


def _orgledger(*args: str) -> list[str]:
    return [sys.executable, "-m", "orgledger", *args]


def make_ledger(folder: Path, units: int) -> str:
    db = str(folder / "people.db")
    subprocess.run(
        _orgledger(
            "synth", "--units", str(units), "--years", "1", "--changesets", "1",
            "--seed", "1", "--db", db,
        ),
        check=True,
        capture_output=True,
    )  # fmt: skip
    return db


def write_people(db: str, path: Path, people: int, seed: int = 1) -> None:
    """A people file over the units active on EFFECTIVE, with a few messy touches: a BOM,
    trailing spaces and repeated rows."""
    with Ledger.open(db) as ledger:
        snapshot = ledger.at(EFFECTIVE)
        units = {uid: snapshot[uid].parent for uid in snapshot.units}
    rng = random.Random(seed)
    order = sorted(units)
    first: dict[str, str] = {}
    members: dict[str, list[str]] = {}
    assigned = [order[i] if i < len(order) else rng.choice(order) for i in range(people)]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["employee_id", "manager_id", "unit", "name", "title"])
        # Parents' first people come first, so that every manager is known when written.
        depth: dict[str, int] = {}
        for uid in order:
            chain, node = [], uid
            while node is not None and node not in depth:
                chain.append(node)
                node = units.get(node)
            base = depth.get(node, -1) if node is not None else -1
            for offset, item in enumerate(reversed(chain), 1):
                depth[item] = base + offset
        heads = sorted(order, key=lambda u: (depth[u], u))
        assigned[: len(heads)] = heads
        for number, unit in enumerate(assigned, 1):
            employee = f"E{number:07d}"
            if unit not in first:
                first[unit] = employee
                parent = units[unit]
                manager = first.get(parent, "") if parent is not None else ""
                members[unit] = [employee]
            else:
                pool = members[unit]
                manager = pool[rng.randrange(len(pool))]
                if len(pool) < 50:
                    pool.append(employee)
            spaces = " " if number % 97 == 0 else ""
            row = [employee, manager, unit + spaces, f"Person {number}", "Engineer"]
            out.writerow(row)
            if number % 100_000 == 0:
                out.writerow(row)


def measure(db: str, path: Path) -> dict[str, float]:
    args = _orgledger("import", "people", str(path), "--effective", EFFECTIVE.isoformat())
    args += ["--db", db]
    timer = shutil.which("time") and Path("/usr/bin/time").exists()
    started = time.perf_counter()
    if timer:
        done = subprocess.run(["/usr/bin/time", "-v", *args], capture_output=True, text=True)
        wall = time.perf_counter() - started
        peak_kb = next(
            int(line.rsplit(":", 1)[1])
            for line in done.stderr.splitlines()
            if "Maximum resident set size" in line
        )
    else:
        done = subprocess.run(args, capture_output=True, text=True)
        wall = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        raise SystemExit(f"import failed:\n{done.stdout}\n{done.stderr}")
    print(done.stdout.strip())
    return {"seconds": wall, "peak_mb": peak_kb / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep the files")
    options = parser.parse_args()
    folder = Path(options.keep or tempfile.mkdtemp(prefix="orgledger-people-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        db = make_ledger(folder, options.units)
        path = folder / "people.csv"
        write_people(db, path, options.people)
        size = path.stat().st_size / 1e6
        print(
            f"made a ledger of {options.units} units and {path.name} ({options.people} people, "
            f"{size:.0f} MB) in {time.perf_counter() - started:.1f} s"
        )
        result = measure(db, path)
        print(
            f"import people: {options.people} rows in {result['seconds']:.1f} s, "
            f"peak memory {result['peak_mb']:.0f} MB"
        )
    finally:
        if not options.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
