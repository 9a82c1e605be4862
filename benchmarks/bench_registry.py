"""Benchmark the registry's reads at city scale: search and dashboard over 1,000,000 workers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import throwaway_django  # noqa: E402

throwaway_django("registry")


from benchmarks.harness import report, run_and_clean, timed  # noqa: E402
from cakupan.accounts.services import user_create  # noqa: E402
from cakupan.registry.demo import demo_load  # noqa: E402
from cakupan.registry.models import Worker  # noqa: E402
from cakupan.registry.selectors import WorkerFilters, registry_counts, worker_list  # noqa: E402


def page(user, filters: WorkerFilters) -> int:
    """What the worker list page does: count, then the first 50 rows."""
    qs = worker_list(user=user, filters=filters)
    qs.count()
    return len(list(qs[:50]))


def main() -> int:
    workers = 20_000 if os.environ.get("BENCH_QUICK") == "1" else 1_000_000
    demo_load(workers=workers, seed=2026)
    user, _ = user_create(username="bench", role="bpjs_officer")
    nik = Worker.objects.order_by("id").values_list("nik", flat=True)[workers // 2]
    cases = {
        "whole NIK": WorkerFilters(q=nik),
        "NIK first 10 digits": WorkerFilters(q=nik[:10]),
        "part of a name ('rizki')": WorkerFilters(q="rizki"),
        "kecamatan + occupation": WorkerFilters(kecamatan="35.73.05", occupation="ojol"),
    }
    for label, filters in cases.items():
        seconds, _ = timed(lambda f=filters: page(user, f))
        report(f"worker list over {workers:,}: {label}", f"{seconds * 1000:,.0f} ms")
    seconds, _ = timed(lambda: registry_counts(user=user, city_code="35.73"))
    report(f"dashboard counts over {workers:,} workers", f"{seconds * 1000:,.0f} ms")
    return 0


if __name__ == "__main__":
    run_and_clean(main)
