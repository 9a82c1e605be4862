"""Benchmark `cakupan demo`: 20,000 and 1,000,000 synthetic workers into a throwaway SQLite."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

# A fresh database in a temporary var/ directory: settings read CAKUPAN_VAR at import time.
os.environ["CAKUPAN_VAR"] = tempfile.mkdtemp(prefix="cakupan-bench-demo-")
os.environ["DJANGO_SETTINGS_MODULE"] = "cakupan.settings"
os.environ.pop("DATABASE_URL", None)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from benchmarks.harness import peak_rss_mib, report  # noqa: E402
from cakupan.registry.demo import demo_load  # noqa: E402

TARGET_SECONDS = {20_000: 30.0, 1_000_000: 300.0}  # issue 2: demo data


def main() -> int:
    call_command("migrate", verbosity=0)
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
    try:
        code = main()
    finally:
        # A million workers take about a gigabyte of SQLite; do not leave it in /tmp.
        connection.close()
        shutil.rmtree(os.environ["CAKUPAN_VAR"], ignore_errors=True)
    raise SystemExit(code)
