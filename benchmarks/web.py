"""Latency of the web API on a large ledger: `python -m benchmarks.web [--units N]`.

Serves a synthetic ledger with uvicorn on localhost and times real HTTP requests
(the chart's first load, one level below a unit, a search, a unit's page data).
Prints p50 and p95 per request and writes benchmarks/results/web.json.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import uvicorn
from rich.console import Console
from rich.table import Table

from orgledger import Ledger
from orgledger.web import create_app

from .data import CACHE, Spec, prepare
from .report import machine

RESULTS = Path(__file__).resolve().parent / "results" / "web.json"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(db: Path) -> tuple[uvicorn.Server, str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def _time(client: httpx.Client, url: str, params: dict[str, Any], repeats: int) -> list[float]:
    client.get(url, params=params).raise_for_status()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url, params=params)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    console = Console(stderr=True)
    dataset = prepare(Spec(args.units, 50, 1, 10, max(1, args.units // 200)), CACHE, console.log)
    with Ledger.open(dataset.ledger_path) as ledger:
        day = ledger.timeline.records[-1].effective
        snapshot = ledger.at(day)
        root = snapshot.roots()[0]
        middle = snapshot.children(snapshot.children(root)[0])[0]
        name = snapshot[middle].name()
    server, base = _serve(dataset.ledger_path)
    cases = [
        ("chart: first two levels", "/api/v1/snapshot", {"at": day.isoformat(), "depth": 2}),
        (
            "chart: one level below a unit",
            "/api/v1/snapshot",
            {"at": day.isoformat(), "root": middle, "depth": 1},
        ),
        ("search by part of a name", "/api/v1/find", {"q": name[: max(3, len(name) // 2)]}),
        ("unit: state and path", f"/api/v1/units/{middle}", {"at": day.isoformat()}),
        ("unit: history", f"/api/v1/units/{middle}/history", {}),
        ("log", "/api/v1/log", {}),
    ]
    rows = []
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            for label, url, params in cases:
                times = sorted(_time(client, url, params, args.repeats))
                rows.append(
                    {
                        "request": label,
                        "url": url,
                        "p50_ms": statistics.median(times) * 1000,
                        "p95_ms": times[int(0.95 * (len(times) - 1))] * 1000,
                    }
                )
                console.log(f"{label}: p50 {rows[-1]['p50_ms']:.1f} ms")
    finally:
        server.should_exit = True
    table = Table(title=f"web API latency, {args.units:,} units, {args.repeats} requests each")
    for column in ("request", "p50", "p95"):
        table.add_column(column, justify="left" if column == "request" else "right")
    for row in rows:
        table.add_row(row["request"], f"{row['p50_ms']:.1f} ms", f"{row['p95_ms']:.1f} ms")
    Console().print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {"machine": machine(), "units": args.units, "results": rows}
    RESULTS.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
