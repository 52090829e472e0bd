"""How snapshot and diff grow with size: `python -m benchmarks.scaling [--sizes ...]`.

Writes docs/performance-scaling.png and benchmarks/results/scaling.md.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from . import report, suite
from .data import CACHE, Spec, prepare
from .suite import Row

ROOT = Path(__file__).resolve().parent.parent
PICTURE = ROOT / "docs" / "performance-scaling.png"
TABLE = ROOT / "benchmarks" / "results" / "scaling.md"
SNAPSHOT, DIFF, DIFF_BUILT = (
    "snapshot as of a date",
    "diff, dates a year apart",
    "diff, incl. building the bigtree trees",
)


def spec(units: int, seed: int) -> Spec:
    """50 change sets over 10 years, each touching about 0.5% of the units."""
    return Spec(units, 50, seed, 10, max(1, units // 200))


def measure(sizes: Sequence[int], repeats: int, seed: int, cache: Path) -> list[Row]:
    console = Console(stderr=True)
    rows: list[Row] = []
    for units in sizes:
        started = time.perf_counter()
        dataset = prepare(spec(units, seed), cache, console.log)
        # Big sizes take minutes per bigtree run; one timed run after the warm-up is enough.
        ctx = suite.open_context(dataset, repeats if units < 1_000_000 else 1, console.log)
        console.log(f"{units:,} units: data ready in {time.perf_counter() - started:.1f} s")
        try:
            for step in (suite.snapshot, suite.diff):
                began = time.perf_counter()
                step(ctx)
                console.log(f"{step.__name__}: {time.perf_counter() - began:.1f} s")
        finally:
            ctx.close()
        for check in ctx.checks:
            if check.ours != check.baseline:
                console.print(f"[red]answers differ[/] for {check.name} at {units:,} units")
        rows += [r for r in ctx.rows if r.name in (SNAPSHOT, DIFF, DIFF_BUILT)]
    return rows


def markdown(rows: Sequence[Row]) -> str:
    by = {(r.name, r.units): r for r in rows}
    lines = [
        "| units | snapshot (ours) | snapshot (SQLite CTE) | ratio "
        "| diff (ours) | diff (bigtree) | ratio | bigtree build + diff | ratio |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for units in sorted({r.units for r in rows}):
        cells = [f"{units:,}"]
        for name in (SNAPSHOT, DIFF):
            row = by[name, units]
            cells += [
                report.value(row.ours),
                report.value(row.baseline_value),
                report.ratio(row.ratio),
            ]
        built = by[DIFF_BUILT, units]
        cells += [report.value(built.baseline_value), report.ratio(built.ratio)]
        lines.append("| " + " | ".join(cells) + " |")
    note = (
        "Median seconds (at 1,000,000 units: one timed run after the warm-up); "
        "ratio = baseline / ours (above 1: ours is faster)."
    )
    return "\n".join([*lines, "", note]) + "\n"


def draw(rows: Sequence[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no screen; chosen before pyplot is imported
    import matplotlib.pyplot as plt

    by = {(r.name, r.units): r for r in rows}
    sizes = sorted({r.units for r in rows})
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    panels = (
        (SNAPSHOT, "Whole snapshot as of a date", "SQLite recursive CTE", None),
        (DIFF, "Diff of two dates a year apart", "bigtree get_tree_diff", DIFF_BUILT),
    )
    for axis, (name, title, baseline, built) in zip(axes, panels, strict=True):
        axis.plot(sizes, [by[name, n].ours for n in sizes], "o-", label="orgledger")
        theirs = [by[name, n].baseline_value for n in sizes]
        axis.plot(sizes, theirs, "s--", label=baseline)
        if built is not None:
            total = [by[built, n].baseline_value for n in sizes]
            axis.plot(sizes, total, "^:", label="bigtree build + diff")
        axis.set(xscale="log", yscale="log", title=title, xlabel="units", ylabel="seconds")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    figure.suptitle("orgledger scaling: median seconds, same machine, same data, same run")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--picture", type=Path, default=PICTURE)
    parser.add_argument("--table", type=Path, default=TABLE)
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    rows = measure(sizes, args.repeats, args.seed, args.cache)
    text = markdown(rows)
    print(text)
    args.table.parent.mkdir(parents=True, exist_ok=True)
    args.table.write_text(text, encoding="utf-8")
    draw(rows, args.picture)
    Console(stderr=True).print(f"wrote {args.table} and {args.picture}")


if __name__ == "__main__":
    main()
