"""Benchmark `cakupan demo`: 20,000 and 1,000,000 synthetic workers into a throwaway SQLite."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import throwaway_django  # noqa: E402

throwaway_django("demo")


from benchmarks.harness import peak_rss_mib, report, run_and_clean  # noqa: E402
from cakupan.registry.demo import demo_load  # noqa: E402

TARGET_SECONDS = {20_000: 30.0, 1_000_000: 300.0}  # issue 2: demo data


def main() -> int:
    sizes = [20_000] if os.environ.get("BENCH_QUICK") == "1" else [20_000, 1_000_000]
    slow = 0
    for i, workers in enumerate(sizes):
        result = demo_load(workers=workers, seed=2026, replace=i > 0)
        rows = result.workers + result.heirs
        target = TARGET_SECONDS[workers]
        verdict = "ok" if result.seconds < target else "TOO SLOW"
        slow += result.seconds >= target
        report(
            f"demo_load {workers:,} workers (+{result.heirs:,} heirs), SQLite",
            f"{result.seconds:.1f} s",
            f"target < {target:.0f} s: {verdict}",
        )
        report(f"demo_load {workers:,} workers, rows/s", f"{rows / result.seconds:,.0f} rows/s")
        report(f"demo_load {workers:,} workers, peak RSS", f"{peak_rss_mib():,.0f} MiB")
    return 1 if slow else 0


if __name__ == "__main__":
    run_and_clean(main)
