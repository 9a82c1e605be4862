"""Benchmark coverage at city scale, on SQLite and on PostgreSQL, against DuckDB.

1,000,000 synthetic Kota Malang workers; 500,000 of them BPU members from January 2026 (a
third CSR-funded, a third paid from the city budget, a third paying themselves), with twelve
months of paid periods in the ledger (about 90% of the member-months paid). Timed:
- building a closed month's snapshot (goal ≤ 10 s), beside the same aggregation (who is a
  member, who is active, the cells by kelurahan, occupation, sex, age band, decile and
  programme) run by DuckDB in memory over the same rows, as the reference;
- the dashboard's pages, each asked 20 times by a logged-in officer (goal: p95 ≤ 200 ms);
- the budget planner choosing from the 500,000 workers not covered (goal ≤ 3 s), forward from
  a budget and inverse from a target;
- then, with a CSR programme's assignments ending in December for a sixth of the members and
  an eighth of the members paying themselves three months behind: counting and storing next
  month's lapse forecast (the daily job), and the lapse-risk page reading it (with the other
  pages' goal).

    make bench BENCH=coverage              # both databases (PostgreSQL when it answers)
    BENCH_QUICK=1 make bench BENCH=coverage   # 50,000 workers
    BENCH_DB=sqlite|postgres               # one database only
    BENCH_STAGES=1                         # the snapshot's seconds per stage
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = os.environ.get("BENCH_COVERAGE_CHILD")
PG_URL = os.environ.get("CAKUPAN_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
MONTH = dt.date(2026, 10, 1)
TODAY = dt.date(2026, 12, 2)


def _parent() -> int:
    from benchmarks.bench_ledger import each_database

    return each_database(__file__, "BENCH_COVERAGE_CHILD", "coverage")


def _setup(db: str) -> None:
    from benchmarks.harness import throwaway_django, throwaway_postgres

    if db == "postgres":
        throwaway_postgres("coverage", PG_URL)
    else:
        throwaway_django("coverage")


def _data(n: int) -> None:
    """Workers from the demo generator; members and their programmes; twelve paid months."""
    from django.db import connection, transaction

    from cakupan.contributions.sql import T, day
    from cakupan.funding.services import programme_create, sponsor_create
    from cakupan.months import add_months
    from cakupan.registry.demo import demo_load

    demo_load(workers=n, seed=2026, as_of=dt.date(2026, 1, 1))
    programmes = [
        programme_create(
            sponsor=sponsor_create(type=kind, name=f"Bench {kind}"),
            name=f"Bench {kind}",
            fiscal_year=2026,
            first_month=dt.date(2026, 1, 1),
            last_month=dt.date(2026, 12, 1),
            budget=10**13,
        )
        for kind in ("csr", "apbd")
    ]
    first = day(dt.date(2026, 1, 1))
    now = connection.ops.adapt_datetimefield_value(dt.datetime.now(dt.UTC))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {T.membership} (worker_id, category, programmes, declared_income,
                bracket, start_month, end_month, number, created_at, created_by_id)
                SELECT id, 'bpu', '["jkk", "jkm"]', 1000000, 1, %s, NULL,
                       'B' || CAST(id AS varchar(20)), %s, NULL FROM {T.worker}
                WHERE id %% 10 < 5""",
            [first, now],
        )
        cursor.execute(
            f"""INSERT INTO {T.funding} (membership_id, programme_id, first_month, last_month,
                created_at, batch_id, committed)
                SELECT id, CASE id %% 3 WHEN 0 THEN {programmes[0].pk}
                  WHEN 1 THEN {programmes[1].pk} ELSE NULL END, %s, NULL, %s, NULL, 12 * 16800
                FROM {T.membership}""",
            [first, now],
        )
        for i in range(12):
            month = add_months(dt.date(2026, 1, 1), i)
            cursor.execute(
                f"""INSERT INTO {T.paid} (bill_id, membership_id, month, paid_on)
                    SELECT id, id, %s, %s FROM {T.membership}
                    WHERE (id + {i}) %% 10 <> 0""",
                [day(month), day(month.replace(day=10))],
            )
    from cakupan.coverage.models import Denominator

    Denominator.objects.create(
        region_id="35.73",
        period=dt.date(2024, 8, 1),
        employed=2 * n,
        source="benchmark: twice the workers",
        source_date=dt.date(2024, 11, 5),
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")


def _duckdb_reference(expected: int) -> float:
    """The snapshot's aggregation in DuckDB (in memory) over the same rows, read out of the
    database first (not timed): seconds of the query alone."""
    import duckdb
    import polars as pl
    from django.db import connection

    from cakupan.contributions.sql import T

    def frame(sql: str) -> pl.DataFrame:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            names = [c[0] for c in cursor.description]
            return pl.DataFrame(cursor.fetchall(), schema=names, orient="row")

    worker = frame(
        f"SELECT id, kelurahan_id, occupation_id, sex, birth_date, welfare_decile FROM {T.worker}"
    ).with_columns(pl.col("birth_date").cast(pl.Date))
    membership = frame(f"SELECT id, worker_id, start_month, end_month FROM {T.membership}")
    membership = membership.with_columns(pl.col("start_month").cast(pl.Date))
    paid = frame(f"SELECT membership_id, month, paid_on, unpaid_from FROM {T.paid}").with_columns(
        pl.col("month").cast(pl.Date), pl.col("paid_on").cast(pl.Date)
    )
    funding = frame(
        f"SELECT membership_id, programme_id, first_month, last_month FROM {T.funding}"
    ).with_columns(pl.col("first_month").cast(pl.Date))
    con = duckdb.connect()
    for name, table in (
        ("worker", worker),
        ("membership", membership),
        ("paid", paid),
        ("funding", funding),
    ):
        con.register(name, table.to_arrow())
    sql = """
    WITH x AS (
      SELECT m.worker_id,
        MAX(CASE WHEN bp.membership_id IS NOT NULL THEN 1 ELSE 0 END) AS active,
        MAX(fa.programme_id) AS programme_id
      FROM membership m
      LEFT JOIN paid bp ON bp.membership_id = m.id AND bp.month = DATE '2026-10-01'
        AND bp.paid_on <= DATE '2026-11-16'
        AND (bp.unpaid_from IS NULL OR bp.unpaid_from > DATE '2026-11-16')
      LEFT JOIN funding fa ON fa.membership_id = m.id AND fa.first_month <= DATE '2026-10-01'
        AND (fa.last_month IS NULL OR fa.last_month >= DATE '2026-10-01')
      WHERE m.start_month <= DATE '2026-10-01'
        AND (m.end_month IS NULL OR m.end_month >= DATE '2026-10-01')
      GROUP BY m.worker_id)
    SELECT w.kelurahan_id, w.occupation_id, w.sex,
      LEAST(GREATEST(date_diff('year', w.birth_date, DATE '2026-10-01') // 10 - 1, 0), 5) AS band,
      COALESCE(w.welfare_decile, 0) AS decile, x.programme_id,
      COUNT(*) AS registered, COUNT(x.worker_id) AS members, COALESCE(SUM(x.active), 0) AS active
    FROM worker w LEFT JOIN x ON x.worker_id = w.id
    GROUP BY ALL
    """
    start = time.perf_counter()
    cells = con.execute(sql).fetchall()
    seconds = time.perf_counter() - start
    active = sum(row[-1] for row in cells)
    assert active == expected, (active, expected)
    return seconds


def _child(db: str) -> int:
    _setup(db)
    from benchmarks.harness import peak_rss_mib, report
    from cakupan.coverage.snapshots import snapshot_build

    if os.environ.get("BENCH_STAGES") == "1":
        import logging

        logging.basicConfig(level=logging.INFO, format="  %(message)s")
        logging.getLogger("cakupan.coverage").setLevel(logging.DEBUG)
    n = 50_000 if os.environ.get("BENCH_QUICK") == "1" else 1_000_000
    n = int(os.environ.get("BENCH_COVERAGE_N", n))
    t0 = time.perf_counter()
    _data(n)
    print(
        f"  ({db}: {n:,} workers, 12 months of paid periods set up in {time.perf_counter() - t0:.0f} s)"
    )

    start = time.perf_counter()
    snapshot = snapshot_build(MONTH, today=TODAY)
    seconds = time.perf_counter() - start
    assert snapshot.registered == n and snapshot.status == "closed", snapshot
    reference = _duckdb_reference(snapshot.active)
    report(
        f"snapshot of a closed month, {n:,} workers ({db})",
        f"{seconds:,.1f} s",
        f"DuckDB in memory, same aggregation {reference:,.2f} s (×{seconds / reference:,.1f})",
    )
    start = time.perf_counter()
    again = snapshot_build(MONTH, today=TODAY, rebuild=True, reason="benchmark")
    report(f"the same month rebuilt on purpose ({db})", f"{time.perf_counter() - start:,.1f} s")
    assert again.active == snapshot.active
    _planner(db)
    _forecast(db)
    _pages(db)
    report(f"peak memory ({db})", f"{peak_rss_mib():,.0f} MiB")
    return 0


PAGES = (
    ("dashboard", "/cakupan/"),
    ("a kecamatan", "/cakupan/wilayah/35.73.05/"),
    ("a kecamatan's workers not active", "/cakupan/pekerja/?wilayah=35.73.05&status=not_active"),
    ("the city's workers, page 200", "/cakupan/pekerja/?status=registered&page=200"),
    ("who is not covered", "/cakupan/belum-terlindungi/"),
    ("a chart's CSV", "/cakupan/grafik/kecamatan.csv?bulan=2026-10"),
    ("a sponsor's impact", "/cakupan/dampak/{sponsor}/"),
    ("lapse risk next month", "/cakupan/risiko-putus/"),
    (
        "lapse risk of a kecamatan, one reason, page 20",
        "/cakupan/risiko-putus/?wilayah=35.73.05&alasan=self_payer_behind&page=20",
    ),
)


def _forecast(db: str) -> None:
    """Who lapses next month (after the planner, which reads this month's coverage; the
    snapshots the pages read are frozen): CSR assignments of a sixth of the members end in
    December (programme ends), and an eighth of the members pay themselves and have not paid
    since August (lapsed on the check date); then the daily count, timed."""
    from django.db import connection, transaction

    from benchmarks.harness import report
    from cakupan.contributions.forecast import forecast_store
    from cakupan.contributions.sql import T, day

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {T.funding} SET last_month = %s WHERE membership_id %% 6 = 0",
            [day(dt.date(2026, 12, 1))],
        )
        cursor.execute(
            f"""DELETE FROM {T.paid} WHERE month >= %s AND membership_id IN (
                  SELECT membership_id FROM {T.funding}
                  WHERE programme_id IS NULL AND membership_id %% 8 = 1)""",
            [day(dt.date(2026, 9, 1))],
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    start = time.perf_counter()
    run = forecast_store(TODAY)
    report(
        f"lapse forecast counted and stored, {run.total:,} listed ({db})",
        f"{time.perf_counter() - start:,.1f} s",
        "the daily job's; pages read it",
    )


def _pages(db: str) -> None:
    """Each page 20 times in-process (Django's test client: no network, the whole view, its
    queries and its template), after two warm-up requests."""
    from django.test import Client
    from django.test.utils import setup_test_environment

    from benchmarks.harness import report
    from cakupan.accounts.services import user_create
    from cakupan.funding.models import Sponsor

    setup_test_environment()
    user, _ = user_create(
        username="bench_officer", role="bpjs_officer", password="Bench-2026-kuat!"
    )
    client = Client()
    client.force_login(user)
    sponsor = Sponsor.objects.order_by("pk").first()
    worst = 0.0
    for name, url in PAGES:
        url = url.format(sponsor=sponsor.pk)
        times = []
        for i in range(22):
            start = time.perf_counter()
            response = client.get(url)
            if i >= 2:
                times.append(time.perf_counter() - start)
            assert response.status_code == 200, (url, response.status_code)
        times.sort()
        p95 = times[int(0.95 * len(times)) - 1]
        worst = max(worst, p95)
        report(
            f"  {name} ({db})",
            f"p95 {p95 * 1000:,.0f} ms",
            f"median {times[len(times) // 2] * 1000:,.0f} ms",
        )
    report(f"dashboard pages, worst p95 ({db})", f"{worst * 1000:,.0f} ms", "goal ≤ 200 ms")


def _planner(db: str) -> None:
    from benchmarks.harness import report
    from cakupan.coverage import planner
    from cakupan.coverage.models import Target

    Target.objects.get_or_create(
        region_id="35.73",
        year=2027,
        kind="city",
        defaults={"percent": 60, "source": "benchmark", "source_date": dt.date(2026, 1, 1)},
    )
    first = dt.date(2027, 1, 1)
    for priority in ("vulnerability", "gap", "mix"):
        start = time.perf_counter()
        plan = planner.forward(
            budget=2_000_000_000,
            first_month=first,
            months=12,
            funder="apbd",
            priority=priority,
            weights={"vulnerability": 2, "risk": 1, "gap": 1} if priority == "mix" else None,
        )
        seconds = time.perf_counter() - start
        report(
            f"planner forward, {plan.candidates:,} uncovered, by {priority} ({db})",
            f"{seconds:,.2f} s",
            f"{len(plan.chosen):,} chosen; goal ≤ 3 s",
        )
    start = time.perf_counter()
    plan = planner.inverse(
        target="60",
        by_month=dt.date(2027, 12, 1),
        first_month=first,
        funder="csr",
        priority="vulnerability",
    )
    report(
        f"planner inverse, UCJ 60% ({db})",
        f"{time.perf_counter() - start:,.2f} s",
        f"{len(plan.chosen):,} chosen; goal ≤ 3 s",
    )


if __name__ == "__main__":
    if CHILD:
        from benchmarks.harness import run_and_clean

        run_and_clean(lambda: _child(CHILD))
    raise SystemExit(_parent())
