"""Benchmark: one month's BPU contributions for 1,000,000 memberships, vectorised vs a loop."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

# Run as a script from the repository root, so make the `benchmarks` package importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.harness import peak_rss_mib, report, timed
from cakupan.rules import codes, contribution, contributions_for_month

ROWS = 1_000_000
SAMPLE = 20_000
MONTH = "2026-11"  # inside the PP 50/2025 windows, so the discount logic is exercised
GOAL_SECONDS = 2.0


def memberships(n: int, seed: int = 2026) -> dict[str, np.ndarray]:
    """Deterministic synthetic memberships spread over all brackets, sectors and funders."""
    rng = np.random.default_rng(seed)
    sectors, funders = codes(month=MONTH)
    # Most vulnerable workers declare little income; a log-normal tail reaches the top row.
    income = np.minimum(rng.lognormal(np.log(1_800_000), 0.9, n), 60_000_000).astype(np.int64)
    income[rng.random(n) < 0.1] = 0
    funder_weights = np.array([0.25, 0.02, 0.03, 0.15, 0.05, 0.45, 0.05])
    return {
        "income": income,
        "sector": rng.integers(0, len(sectors), n),
        "funding": rng.choice(len(funders), n, p=funder_weights / funder_weights.sum()),
        "jht": rng.random(n) < 0.15,
        "business_owner": rng.random(n) < 0.05,
    }


def vectorised(columns: dict[str, np.ndarray]) -> np.ndarray:
    return contributions_for_month(
        month=MONTH,
        income=columns["income"],
        sector=columns["sector"],
        funding=columns["funding"],
        jht=columns["jht"],
        business_owner=columns["business_owner"],
    ).total


def scalar_loop(columns: dict[str, np.ndarray], n: int) -> list[int]:
    sectors, funders = codes(month=MONTH)
    totals = []
    for income, sector, funding, jht, owner in zip(
        columns["income"][:n].tolist(),
        columns["sector"][:n].tolist(),
        columns["funding"][:n].tolist(),
        columns["jht"][:n].tolist(),
        columns["business_owner"][:n].tolist(),
        strict=True,
    ):
        result = contribution(
            category="bpu",
            income=income,
            month=MONTH,
            sector=sectors[sector],
            funding=funders[funding],
            programmes=["jht"] if jht else None,
            business_owner=owner,
        )
        totals.append(result.total)
    return totals


def main() -> int:
    columns = memberships(ROWS)
    vector_seconds, totals = timed(lambda: vectorised(columns), repeat=3)
    report(
        "rules: month contributions, 1,000,000 memberships",
        f"{vector_seconds:.3f} s",
        f"{ROWS / vector_seconds:,.0f} rows/s; goal < {GOAL_SECONDS:.0f} s "
        f"{'met' if vector_seconds < GOAL_SECONDS else 'MISSED'}",
    )

    start = time.perf_counter()
    expected = scalar_loop(columns, SAMPLE)
    loop_seconds = (time.perf_counter() - start) * ROWS / SAMPLE
    report(
        "rules: contribution() loop, 20,000 rows scaled to 1M",
        f"{loop_seconds:.1f} s",
        f"{ROWS / loop_seconds:,.0f} rows/s",
    )
    report(
        "rules: vectorised vs per-membership loop",
        f"{vector_seconds:.3f} s",
        f"{loop_seconds / vector_seconds:,.0f}× faster than per-membership loop",
    )
    report("rules: peak memory", f"{peak_rss_mib():.0f} MiB")

    mismatches = np.flatnonzero(np.asarray(expected) != totals[:SAMPLE])
    if mismatches.size:
        row = int(mismatches[0])
        print(
            f"MISMATCH in {mismatches.size} of {SAMPLE} rows; first row {row}: "
            f"scalar {expected[row]} vs vectorised {int(totals[row])}"
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
