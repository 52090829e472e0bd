"""Timing: the median of repeated runs after a warm-up, in this process or in new ones."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

# Runs a command with stdout to /dev/null and prints its peak RSS (KiB on Linux).
_PEAK = (
    "import resource, subprocess, sys;"
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True);"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def median_time(
    fn: Callable[..., T], repeats: int, setup: Callable[[], Any] | None = None
) -> tuple[float, T]:
    """Median seconds of `repeats` calls after one warm-up call, and the last call's result.

    With `setup`, each call gets its result as argument and the setup is not timed.
    """
    times: list[float] = []
    result: T
    for run in range(repeats + 1):
        args = (setup(),) if setup is not None else ()
        started = time.perf_counter()
        result = fn(*args)
        elapsed = time.perf_counter() - started
        if run:
            times.append(elapsed)
    return statistics.median(times), result


def process_time(command: Sequence[str], repeats: int) -> float:
    """Median wall seconds of a new process running `command`, stdout to /dev/null."""

    def once() -> None:
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)

    return median_time(once, repeats)[0]


def process_peak_mib(command: Sequence[str]) -> float:
    """Peak resident memory of a new process running `command`, in MiB."""
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, *command], capture_output=True, text=True, check=True
    )
    return int(out.stdout.split()[-1]) / 1024
