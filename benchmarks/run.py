"""Measure orgledger against its baselines: `python -m benchmarks.run [--sizes ...] [--smoke]`."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console

from . import report
from .data import CACHE, Spec, prepare
from .suite import Check, Row, open_context, run_all

RESULTS = Path(__file__).resolve().parent / "results"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000", help="units, comma separated")
    parser.add_argument("--changesets", type=int, default=1000)
    parser.add_argument("--ops-per-changeset", type=int, default=100)
    parser.add_argument("--years", type=int, default=10, help="years the change sets span")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs after a warm-up")
    parser.add_argument("--apply-ops", type=int, default=10_000, help="size of the change set")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where generated data is kept")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a few hundred units, 20 change sets, 1 repeat: checks that everything runs",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.changesets, args.ops_per_changeset, args.years = "300", 20, 10, 3
        args.repeats, args.apply_ops = 1, 200
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    console = Console(stderr=True)

    def log(message: str) -> None:
        console.log(message)

    rows: list[Row] = []
    checks: list[Check] = []
    setup: list[dict[str, object]] = []
    failed: list[str] = []
    for units in args.sizes:
        spec = Spec(units, args.changesets, args.seed, args.years, args.ops_per_changeset)
        started = time.perf_counter()
        dataset = prepare(spec, args.cache, log)
        context = open_context(dataset, args.repeats, log)
        ready = time.perf_counter() - started
        log(f"{units:,} units: data ready in {ready:.1f} s")
        try:
            failed += [f"{step} at {units:,} units" for step in run_all(context, args.apply_ops)]
        finally:
            context.close()
        rows += context.rows
        checks += context.checks
        setup.append({"units": units, "data_s": ready, **dataset.timings, "steps_s": context.steps})
    report.show(rows, report.console())
    disagree = [c for c in checks if c.ours != c.baseline]
    for check in disagree:
        console.print(f"[red]answers differ[/] for {check.name} at {check.units:,} units")
    report.write(args.out, rows, checks, setup)
    console.print(f"wrote {args.out}")
    for step in failed:
        console.print(f"[red]failed[/]: {step}")
    if failed or disagree:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
