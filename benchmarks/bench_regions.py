"""Benchmark `cakupan regions import` of the national list (91,599 codes) into a fresh SQLite."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.harness import throwaway_django  # noqa: E402

throwaway_django("regions")

from django.db import transaction  # noqa: E402

from benchmarks.harness import peak_rss_mib, report, run_and_clean  # noqa: E402
from cakupan.regions.codes import level_of, parent_of  # noqa: E402
from cakupan.regions.models import Region  # noqa: E402
from cakupan.regions.services import parse_region_csv, regions_import_file  # noqa: E402

DATA = Path(os.environ.get("CAKUPAN_SHARED_DATA", ROOT.parent / "shared" / "data"))
TARGET = 10.0  # issue 2: the national list in under 10 s
SLICE = 5_000


def per_row_baseline(rows: list[tuple[int, str, str]]) -> float:
    """What a naive importer does: one update_or_create per row (seconds for the slice)."""
    start = time.perf_counter()
    with transaction.atomic():
        for _n, code, name in rows:
            Region.objects.update_or_create(
                code=code,
                defaults={"name": name, "level": level_of(code), "parent_id": parent_of(code)},
            )
        transaction.set_rollback(True)
    return time.perf_counter() - start


def main() -> int:
    path = DATA / "wilayah_kepmendagri_2025.csv"
    if not path.exists():
        print(f"regions: skipped, {path} not found (set CAKUPAN_SHARED_DATA)")
        return 0
    rows = parse_region_csv(path.read_text(encoding="utf-8"))
    naive = per_row_baseline(rows[:SLICE]) * len(rows) / SLICE  # rolled back: the table stays empty
    start = time.perf_counter()
    result = regions_import_file(path=path)
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = regions_import_file(path=path)
    second = time.perf_counter() - start
    assert result.created == 91_599 and not again.changed

    verdict = "ok" if first < TARGET else "TOO SLOW"
    report(
        "regions import, 91,599 codes, fresh SQLite",
        f"{first:.2f} s",
        f"target < {TARGET:.0f} s: {verdict}",
    )
    report("regions re-import, nothing changes", f"{second:.2f} s")
    report(
        "per-row update_or_create, 5,000 scaled to 91,599",
        f"{naive:.1f} s",
        f"set-based import {naive / first:.0f}× faster",
    )
    report("regions import, peak RSS", f"{peak_rss_mib():,.0f} MiB")
    return 0 if first < TARGET else 1


if __name__ == "__main__":
    run_and_clean(main)
