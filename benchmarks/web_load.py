"""A bounded load run on localhost: `python -m benchmarks.web_load [--seconds 30] [--workers N]`.

Starts `orgledger serve` (optionally with several worker processes) on a copy of
the Tencent example (or of a synthetic ledger with `--units N`), adds a write token
limited to one subtree, and for `--seconds` runs reader threads (snapshot, unit,
find, diff) and writer threads (one small change set per request, each creating
one unit in that subtree) against it with httpx. Then it checks that every
acknowledged write is in the log exactly once, and prints and writes to
benchmarks/results/web_load.json the request counts, the errors (any answer but
the expected one, or no answer), the conflicts (409: other writers kept recording
first for every attempt the server makes; the writer then sends the same change
set again, which is safe because recording is idempotent by id and content), and
p50 and p99 latency for reads and for writes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx

from orgledger import Ledger
from orgledger.demo import example_plans

RESULTS = Path(__file__).resolve().parent / "results" / "web_load.json"
PREFIX = "load-"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(db: str, workers: int = 1, timeout: float = 60.0) -> Iterator[str]:
    """`orgledger serve` in a process of its own on a free port; its base URL while it runs."""
    port = _free_port()
    command = [sys.executable, "-m", "orgledger", "serve", "--db", db, "--port", str(port)]
    command += ["--workers", str(workers)]
    env = {k: v for k, v in os.environ.items() if k != "ORGLEDGER_TOKEN"}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                said = process.stderr.read() if process.stderr else ""
                raise RuntimeError(f"the server stopped: {said}")
            try:
                if httpx.get(f"{base}/api/v1/log", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer in time")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


@dataclass(frozen=True)
class Target:
    """What the load asks about and where it writes, read from the ledger before the run."""

    day: str
    write_day: str
    under: str
    unit: str
    query: str
    before: str


def prepare(db: str) -> tuple[Target, str]:
    """Where to read and write in the ledger at `db`, and a write token limited to `under`."""
    with Ledger.open(db) as ledger:
        records = ledger.timeline.records
        last = records[-1].effective
        snapshot = ledger.at(last)
        root = snapshot.roots()[0]
        under = max(snapshot.children(root), key=lambda u: len(snapshot.children(u)))
        unit = (snapshot.children(under) or (under,))[0]
        before = records[max(0, len(records) - 5)].effective - timedelta(days=1)
        token = f"{PREFIX}{os.getpid()}-{int(time.time())}"
        _, secret = ledger.add_token(token, "write", [under], actor="benchmarks.web_load")
        target = Target(
            last.isoformat(),
            (last + timedelta(days=1)).isoformat(),
            under,
            unit,
            snapshot[unit].name()[:4],
            before.isoformat(),
        )
    return target, secret


@dataclass
class Tally:
    """What one thread saw: latencies by kind, errors, conflicts, the writes acknowledged."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"read": [], "write": []})
    errors: list[str] = field(default_factory=list)
    conflicts: int = 0
    written: list[str] = field(default_factory=list)
    again: int = 0
    """Writes answered 200 with nothing recorded: a change set sent again after a conflict."""


def _read(client: httpx.Client, target: Target, pick: random.Random) -> httpx.Response:
    kind = pick.randrange(4)
    if kind == 0:
        return client.get("/api/v1/snapshot", params={"at": target.day, "depth": 2})
    if kind == 1:
        return client.get(f"/api/v1/units/{target.unit}", params={"at": target.day})
    if kind == 2:
        return client.get("/api/v1/find", params={"q": target.query, "limit": 20})
    return client.get("/api/v1/diff", params={"from": target.before, "to": target.day})


def reader(base: str, target: Target, until: float, seed: int, tally: Tally) -> None:
    pick = random.Random(seed)
    with httpx.Client(base_url=base, timeout=60) as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                answer = _read(client, target, pick)
            except httpx.HTTPError as exc:
                tally.errors.append(f"read: {type(exc).__name__}: {exc}")
                continue
            tally.latencies["read"].append(time.perf_counter() - started)
            if answer.status_code != 200:
                tally.errors.append(
                    f"read {answer.request.url}: {answer.status_code} {answer.text}"
                )


def writer(base: str, target: Target, secret: str, until: float, number: int, tally: Tally) -> None:
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    run = f"{PREFIX}{os.getpid()}-w{number}"
    count = 0
    pending: str | None = None
    with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
        while time.monotonic() < until or pending is not None:
            if pending is None:
                count += 1
                pending = f"{run}-{count}"
            body = {
                "id": pending,
                "title": "load run",
                "effective": target.write_day,
                "ops": [
                    {
                        "create": pending,
                        "parent": target.under,
                        "kind": "team",
                        "names": {"en": f"Load {pending}"},
                    }
                ],
            }
            started = time.perf_counter()
            try:
                answer = client.post("/api/v1/changesets", content=json.dumps(body))
            except httpx.HTTPError as exc:
                tally.errors.append(f"write {pending}: {type(exc).__name__}: {exc}")
                pending = None
                continue
            tally.latencies["write"].append(time.perf_counter() - started)
            if answer.status_code == 409:
                tally.conflicts += 1
                continue  # the same change set again: recording is idempotent
            if answer.status_code == 201:
                tally.written.append(pending)
            elif answer.status_code == 200 and answer.json()["recorded"] == []:
                tally.again += 1
                tally.written.append(pending)
            else:
                tally.errors.append(f"write {pending}: {answer.status_code} {answer.text}")
            pending = None


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] * 1000, 1)


def run(
    db: str, seconds: float, readers: int = 4, writers: int = 2, workers: int = 1
) -> dict[str, Any]:
    """Load the ledger at `db` (it is written to) and return what happened."""
    target, secret = prepare(db)
    with serving(db, workers) as base:
        until = time.monotonic() + seconds
        tallies = [Tally() for _ in range(readers + writers)]
        threads = [
            threading.Thread(target=reader, args=(base, target, until, i, tallies[i]))
            for i in range(readers)
        ]
        threads += [
            threading.Thread(
                target=writer, args=(base, target, secret, until, i, tallies[readers + i])
            )
            for i in range(writers)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        log = httpx.get(f"{base}/api/v1/log", timeout=60).json()
    reads = [t for tally in tallies for t in tally.latencies["read"]]
    writes = [t for tally in tallies for t in tally.latencies["write"]]
    acknowledged = [w for tally in tallies for w in tally.written]
    recorded = [e["id"] for e in log if e["id"].startswith(f"{PREFIX}{os.getpid()}-")]
    errors = [e for tally in tallies for e in tally.errors]
    return {
        "seconds": round(elapsed, 2),
        "workers": workers,
        "readers": readers,
        "writers": writers,
        "requests": len(reads) + len(writes),
        "reads": len(reads),
        "writes": len(writes),
        "requests_per_second": round((len(reads) + len(writes)) / elapsed, 1),
        "errors": len(errors),
        "error_samples": errors[:5],
        "conflicts": sum(t.conflicts for t in tallies),
        "sent_again": sum(t.again for t in tallies),
        "writes_acknowledged": len(acknowledged),
        "writes_recorded": len(recorded),
        "every_write_once": sorted(acknowledged) == sorted(recorded)
        and len(set(recorded)) == len(recorded),
        "read_p50_ms": _percentile(reads, 0.5),
        "read_p99_ms": _percentile(reads, 0.99),
        "write_p50_ms": _percentile(writes, 0.5),
        "write_p99_ms": _percentile(writes, 0.99),
    }


def _ledger(units: int | None, folder: Path) -> str:
    """A fresh copy of the ledger to load: the Tencent example, or a synthetic one."""
    path = folder / "ledger.db"
    if units is None:
        with Ledger.init(path) as ledger:
            ledger.apply(*example_plans())
        return str(path)
    from .data import CACHE, Spec
    from .data import prepare as generate

    dataset = generate(Spec(units, 50, 1, 10, max(1, units // 200)), CACHE)
    Ledger.open(dataset.ledger_path).close()
    shutil.copyfile(dataset.ledger_path, path)
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--units", type=int, default=None, help="a synthetic ledger this big")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    from .report import machine

    with tempfile.TemporaryDirectory() as folder:
        db = _ledger(args.units, Path(folder))
        result = run(db, args.seconds, args.readers, args.writers, args.workers)
    ledger = f"synthetic, {args.units} units" if args.units else "the Tencent example"
    result = {"machine": machine(), "ledger": ledger, **result}
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if result["errors"] or not result["every_write_once"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
