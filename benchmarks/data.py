"""Synthetic ledgers for the benchmarks, generated with `orgledger.synth` and cached on disk."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from orgledger import Ledger
from orgledger.synth import history

CACHE = Path(__file__).resolve().parent / ".cache"


@dataclass(frozen=True)
class Spec:
    """What to generate: a founding structure of `units` units and `changesets` reorganizations."""

    units: int
    changesets: int
    seed: int = 1
    years: int = 10
    ops_per_changeset: int = 100

    @property
    def key(self) -> str:
        return (
            f"u{self.units}-c{self.changesets}-o{self.ops_per_changeset}-y{self.years}-s{self.seed}"
        )


@dataclass(frozen=True)
class Dataset:
    """A generated ledger on disk, and how long making it took (zeros when it was cached)."""

    spec: Spec
    folder: Path
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ledger_path(self) -> Path:
        return self.folder / "ledger.db"

    @property
    def sql_path(self) -> Path:
        """Where the relational baseline's table lives, derived from the same ledger."""
        return self.folder / "org.sqlite"


def prepare(spec: Spec, cache: Path = CACHE, log: Callable[[str], None] = print) -> Dataset:
    """The dataset for `spec`, generated and stored under `cache` unless it is there already."""
    folder = cache / spec.key
    folder.mkdir(parents=True, exist_ok=True)
    ignore = cache / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    dataset = Dataset(spec, folder)
    if dataset.ledger_path.exists():
        log(f"using cached ledger {dataset.ledger_path}")
        return dataset
    dataset.timings.update(_generate(spec, dataset.ledger_path, log))
    return dataset


def _generate(spec: Spec, path: Path, log: Callable[[str], None]) -> dict[str, float]:
    # Written under a temporary name and renamed, so an interrupted run leaves no half ledger.
    partial = path.with_name("ledger.partial.db")
    for leftover in path.parent.glob("ledger.partial.db*"):
        leftover.unlink()
    started = time.perf_counter()
    changesets = list(
        history(spec.units, spec.years, spec.changesets, spec.seed, spec.ops_per_changeset)
    )
    generated = time.perf_counter()
    ops = sum(len(cs.ops) for cs in changesets)
    log(f"synth: {len(changesets)} change sets, {ops} operations in {generated - started:.1f} s")
    with Ledger.init(partial) as ledger:
        ledger.apply(*changesets)
    applied = time.perf_counter()
    log(f"Ledger.apply of all of them in {applied - generated:.1f} s")
    os.replace(partial, path)
    return {"synth_s": generated - started, "apply_all_s": applied - generated}


def intervals(ledger: Ledger) -> Iterator[tuple[str, str | None, str, str, str | None]]:
    """The ledger's versions as effective-dated rows (unit, parent, name, from, to).

    Each version holds from its day until the next version of the same unit;
    zero-length intervals and the markers of ended units give no row.
    """
    versions = ledger.timeline.versions
    following: dict[str, int] = {}
    nexts = [0] * len(versions)
    for index in range(len(versions) - 1, -1, -1):
        unit_id = versions[index].unit_id
        nexts[index] = following.get(unit_id, -1)
        following[unit_id] = index
    for index, version in enumerate(versions):
        if version.unit is None:
            continue
        later = nexts[index]
        valid_to = versions[later].day if later >= 0 else None
        if valid_to == version.day:
            continue
        yield (
            version.unit_id,
            version.unit.parent,
            version.unit.name(),
            version.day.isoformat(),
            None if valid_to is None else valid_to.isoformat(),
        )
