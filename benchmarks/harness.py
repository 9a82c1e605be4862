"""Shared helpers for benchmarks: one printed line per figure, peak memory, timing."""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from typing import Any


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any], *, repeat: int = 3) -> tuple[float, Any]:
    """Best wall time of `repeat` calls of fn, and the last result."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def report(name: str, figure: str, ratio: str = "") -> None:
    """Print one benchmark line: name, figure, and the ratio against a peer if measured."""
    print(f"{name:<52} {figure:>28}  {ratio}".rstrip())
    sys.stdout.flush()
