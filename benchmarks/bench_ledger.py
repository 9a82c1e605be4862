"""Benchmark the contributions ledger at city scale, on SQLite and on PostgreSQL.

1,000,000 memberships (synthetic Kota Malang workers: a third CSR-funded, a third paid from
the city budget, a third paying themselves) are billed for one month; then the state of every
membership on a date is asked. Each figure is printed beside a naive per-row ORM loop timed
on a slice and scaled, as the ratio.

    make bench BENCH=ledger            # both databases (PostgreSQL when it answers)
    BENCH_QUICK=1 make bench BENCH=ledger   # 20,000 memberships
    BENCH_DB=sqlite|postgres           # one database only
    BENCH_LEDGER_N=200000              # another number of memberships
    BENCH_STAGES=1                     # billing's and the statement's seconds per stage (DEBUG log)
    BENCH_LEDGER_ONLY=billing          # the billing runs only (no state, statement, check)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = os.environ.get("BENCH_LEDGER_CHILD")
PG_URL = os.environ.get("CAKUPAN_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
SLICE = 2_000


def each_database(script: str, child_variable: str, label: str) -> int:
    """Run `script` once per database (BENCH_DB=sqlite|postgres|both), each in its own process
    with `child_variable` naming the database; PostgreSQL is skipped when it does not answer."""
    wanted = os.environ.get("BENCH_DB", "both")
    failed = 0
    for db in ("sqlite", "postgres"):
        if wanted not in ("both", db):
            continue
        if db == "postgres" and not _postgres_answers():
            print(f"{label} on PostgreSQL: skipped (no server at CAKUPAN_TEST_POSTGRES_URL)")
            continue
        env = {**os.environ, child_variable: db}
        failed += subprocess.run([sys.executable, script], env=env, cwd=ROOT).returncode != 0
    return 1 if failed else 0


def _parent() -> int:
    return each_database(__file__, "BENCH_LEDGER_CHILD", "ledger")


def _postgres_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_URL.replace("postgres://", "postgresql://"), connect_timeout=3):
            return True
    except Exception:
        return False


def _setup(db: str) -> None:
    from benchmarks.harness import throwaway_django, throwaway_postgres

    # BENCH_PREFIX names the throwaway database (cakupan_bench_<prefix>): runs side by side
    # on one server need their own
    prefix = os.environ.get("BENCH_PREFIX", "ledger")
    if db == "postgres":
        throwaway_postgres(prefix, PG_URL)
    else:
        throwaway_django(prefix)


def _memberships(n: int) -> None:
    """Workers from the demo generator, one membership each, and who pays: set-based SQL."""
    import datetime as dt

    from django.db import connection, transaction

    from cakupan.contributions.sql import T, day
    from cakupan.funding.services import programme_create, sponsor_create
    from cakupan.registry.demo import demo_load

    demo_load(workers=n, seed=2026, as_of=dt.date(2026, 1, 1))
    csr = programme_create(
        sponsor=sponsor_create(type="csr", name="RS Bench"),
        name="CSR bench",
        fiscal_year=2026,
        first_month=dt.date(2026, 1, 1),
        last_month=dt.date(2026, 12, 1),
        budget=10**13,
    )
    apbd = programme_create(
        sponsor=sponsor_create(type="apbd", name="Pemkot Bench"),
        name="APBD bench",
        fiscal_year=2026,
        first_month=dt.date(2026, 1, 1),
        last_month=dt.date(2026, 12, 1),
        budget=10**13,
    )
    first = day(dt.date(2026, 1, 1))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {T.membership} (worker_id, category, programmes, declared_income,
                bracket, start_month, end_month, number, created_at, created_by_id)
                SELECT id, 'bpu', '["jkk", "jkm"]', 1000000, 1, %s, NULL,
                       'B' || CAST(id AS varchar(20)), %s, NULL FROM {T.worker}""",
            [first, connection.ops.adapt_datetimefield_value(dt.datetime.now(dt.UTC))],
        )
        cursor.execute(
            f"""INSERT INTO {T.funding} (membership_id, programme_id, first_month, last_month,
                created_at, batch_id, committed)
                SELECT id, CASE id %% 3 WHEN 0 THEN {csr.pk} WHEN 1 THEN {apbd.pk} ELSE NULL END,
                       %s, NULL, %s, NULL, 12 * 16800 FROM {T.membership}""",
            [first, connection.ops.adapt_datetimefield_value(dt.datetime.now(dt.UTC))],
        )


def _naive_billing(month) -> float:
    """Per membership: read who pays, price with the rules engine, save one Bill with the
    ORM: the loop a first version would write. Timed on SLICE memberships."""
    from django.db import transaction

    from cakupan.contributions.models import Bill, PayerAccount
    from cakupan.funding.models import RULES_FUNDING
    from cakupan.membership.models import FundingAssignment
    from cakupan.rules import contribution

    fundings = list(
        FundingAssignment.objects.select_related(
            "membership__worker__occupation", "programme__sponsor"
        ).order_by("id")[:SLICE]
    )
    start = time.perf_counter()
    with transaction.atomic():
        for fa in fundings:
            m = fa.membership
            if fa.programme is None:
                account, _ = PayerAccount.objects.get_or_create(membership=m)
                funding, income = "self", m.declared_income
            else:
                account, _ = PayerAccount.objects.get_or_create(sponsor=fa.programme.sponsor)
                funding = RULES_FUNDING.get(fa.programme.sponsor.type, fa.programme.sponsor.type)
                income = fa.programme.declared_income
            if Bill.objects.filter(membership=m, month=month, voided_at__isnull=True).exists():
                continue
            price = contribution(
                category="bpu",
                income=income,
                month=month,
                sector=m.worker.occupation.sector,
                funding=funding,
            )
            Bill.objects.create(
                membership=m,
                month=month,
                account=account,
                programme=fa.programme,
                gross=price.total_gross,
                discount=price.total_discount,
                amount=price.total,
                rule_ids=" ".join(price.rule_ids),
            )
        transaction.set_rollback(True)
    return time.perf_counter() - start


def _naive_state(on, n: int) -> float:
    from cakupan.contributions.selectors import membership_state
    from cakupan.membership.models import Membership

    members = list(Membership.objects.order_by("id")[: SLICE // 4])
    start = time.perf_counter()
    for m in members:
        membership_state(m, on)
    return time.perf_counter() - start


def _child(db: str) -> int:
    _setup(db)
    import datetime as dt

    from benchmarks.harness import peak_rss_mib, report
    from cakupan.contributions.billing import billing_run
    from cakupan.contributions.models import Bill
    from cakupan.contributions.selectors import state_counts

    n = 20_000 if os.environ.get("BENCH_QUICK") == "1" else 1_000_000
    n = int(os.environ.get("BENCH_LEDGER_N", n))
    if os.environ.get("BENCH_STAGES") == "1":
        import logging

        logging.getLogger("cakupan.contributions").setLevel(logging.DEBUG)
    t0 = time.perf_counter()
    _memberships(n)
    print(f"  ({db}: {n:,} memberships set up in {time.perf_counter() - t0:.0f} s)")
    if db == "postgres":
        # A city's tables have long been vacuumed by autovacuum when a month is billed; just
        # after a bulk load, the first query to read a row also marks it (hint bits), writing
        # every page of the million-row tables once: that is the load's cost, not billing's.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    month = dt.date(2026, 11, 1)

    naive = _naive_billing(month) / SLICE * n
    start = time.perf_counter()
    result = billing_run(month=month)
    seconds = time.perf_counter() - start
    assert result.bills_added == n, result
    report(
        f"billing run, {n:,} memberships ({db})",
        f"{seconds:,.1f} s",
        f"naive ORM loop ≈ {naive:,.0f} s (×{naive / seconds:,.0f})",
    )
    start = time.perf_counter()
    again = billing_run(month=month)
    report(f"billing the same month again ({db})", f"{time.perf_counter() - start:,.1f} s")
    assert again.bills_added == 0 and Bill.objects.count() == n
    if os.environ.get("BENCH_LEDGER_ONLY") == "billing":
        report(f"peak memory ({db})", f"{peak_rss_mib():,.0f} MiB")
        return 0

    # two thirds of the month paid, so that the states differ (the state query reads the
    # bills' paid periods; payments and allocations are benchmarked with the statement import)
    from cakupan.contributions.sql import T, execute

    execute(
        f"INSERT INTO {T.paid} (bill_id, membership_id, month, paid_on) "
        f"SELECT id, membership_id, month, '2026-11-10' FROM {T.bill} "
        "WHERE membership_id %% 3 <> 2"
    )
    on = dt.date(2026, 11, 20)
    start = time.perf_counter()
    counts = state_counts(on)
    seconds = time.perf_counter() - start
    naive = _naive_state(on, n) / (SLICE // 4) * n
    assert sum(counts.values()) == n, counts
    report(
        f"state of all {n:,} memberships on a date ({db})",
        f"{seconds:,.2f} s",
        f"per-membership loop ≈ {naive:,.0f} s (×{naive / seconds:,.0f})",
    )
    _statement(db, n)
    report(f"peak memory ({db})", f"{peak_rss_mib():,.0f} MiB")
    return 0


def _statement(db: str, n: int) -> None:
    """December: every membership now pays for itself, is billed, and pays through one bank
    statement of n rows (reference, payer = membership number, amount, date); the statement
    is imported and allocated, then imported again (nothing credited), then the ledger is
    checked."""
    import csv
    import datetime as dt
    import tempfile

    from benchmarks.harness import report
    from cakupan.contributions.billing import billing_run
    from cakupan.contributions.check import ledger_check
    from cakupan.contributions.sql import T, execute, fetch
    from cakupan.contributions.statements import statement_import

    december = dt.date(2026, 12, 1)
    execute(f"DELETE FROM {T.paid}")  # undo the state phase's shortcut
    execute(f"UPDATE {T.funding} SET programme_id = NULL")
    billing_run(month=december)
    rows = fetch(
        f"SELECT m.number, b.amount FROM {T.bill} b JOIN {T.membership} m "
        "ON m.id = b.membership_id WHERE b.month = %s AND b.voided_at IS NULL ORDER BY b.id",
        [december.isoformat()],
    )
    folder = Path(tempfile.mkdtemp(prefix="cakupan-statement-"))
    path = folder / "mutasi.csv"
    from django.utils import timezone

    paid_on = min(timezone.localdate(), dt.date(2026, 12, 5)).strftime("%d/%m/%Y")
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["referensi", "pembayar", "jumlah", "tanggal"])
        for i, (number, amount) in enumerate(rows):
            w.writerow([f"BRI{i:09d}", number, amount, paid_on])
    start, cpu = time.perf_counter(), time.process_time()
    result = statement_import(path, user=None)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert result.saved and result.counts["bills_paid"] == len(rows), result.counts
    naive = _naive_payments(rows[:50]) / 50 * len(rows)
    # SQLite runs in this process: its CPU seconds say more than the wall clock on a busy machine
    report(
        f"payment statement, {len(rows):,} rows imported and allocated ({db})",
        f"{seconds:,.1f} s" + (f" (CPU {cpu:,.1f} s)" if db == "sqlite" else ""),
        f"payment_record per row ≈ {naive:,.0f} s (×{naive / seconds:,.0f})",
    )
    start = time.perf_counter()
    again = statement_import(path, user=None)
    assert again.counts["already_recorded"] == len(rows), again.counts
    report(
        f"the same statement again: nothing credited ({db})",
        f"{time.perf_counter() - start:,.1f} s",
    )
    start = time.perf_counter()
    breaches = ledger_check()
    assert not breaches, breaches
    report(f"cakupan ledger check after it ({db})", f"{time.perf_counter() - start:,.1f} s")
    path.unlink()
    folder.rmdir()


def _naive_payments(rows: list[tuple[str, int]]) -> float:
    """The per-row path: payment_record for each row (matching, recording, settling one by
    one), inside a transaction that is rolled back."""
    import datetime as dt

    from django.db import transaction

    from cakupan.contributions.services import payment_record

    start = time.perf_counter()
    with transaction.atomic():
        for i, (number, amount) in enumerate(rows):
            payment_record(
                reference=f"NAIVE{i}",
                amount=amount,
                paid_on=dt.date(2026, 11, 30),
                source="form",
                user=None,
                payer=number,
            )
        transaction.set_rollback(True)
    return time.perf_counter() - start


if __name__ == "__main__":
    if CHILD:
        from benchmarks.harness import run_and_clean

        run_and_clean(lambda: _child(CHILD))
    raise SystemExit(_parent())
