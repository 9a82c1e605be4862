"""SQL pieces the ledger's set-based writes share: table names, dates, temporary tables, and
bulk inserts (COPY on PostgreSQL, one executemany on SQLite)."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import polars as pl
from django.db import connection

from cakupan.contributions.models import (
    Allocation,
    Bill,
    BillingRun,
    BillPaid,
    Invoice,
    PayerAccount,
    Payment,
)
from cakupan.funding.models import FundingProgramme, Sponsor
from cakupan.membership.models import FundingAssignment, Membership
from cakupan.registry.models import Occupation, Worker


class T:
    """Quoted table names."""

    account = PayerAccount._meta.db_table
    bill = Bill._meta.db_table
    paid = BillPaid._meta.db_table
    payment = Payment._meta.db_table
    allocation = Allocation._meta.db_table
    invoice = Invoice._meta.db_table
    run = BillingRun._meta.db_table
    membership = Membership._meta.db_table
    funding = FundingAssignment._meta.db_table
    programme = FundingProgramme._meta.db_table
    sponsor = Sponsor._meta.db_table
    worker = Worker._meta.db_table
    occupation = Occupation._meta.db_table


def paid_as_of(alias: str = "bp") -> str:
    """SQL condition: paid period `alias` (BillPaid) counts its month as paid on %(on)s."""
    return (
        f"{alias}.paid_on <= %(on)s "
        f"AND ({alias}.unpaid_from IS NULL OR {alias}.unpaid_from > %(on)s)"
    )


def bill_paid_as_of(bill: str = "b") -> str:
    """SQL condition: bill `bill` counted as paid on %(on)s (a paid period of it: found
    through the paid periods' index by its membership and month, models.BillPaid)."""
    return (
        f"EXISTS (SELECT 1 FROM {T.paid} bp WHERE bp.membership_id = {bill}.membership_id "
        f"AND bp.month = {bill}.month AND bp.bill_id = {bill}.id AND {paid_as_of('bp')})"
    )


def bill_unpaid(bill: str = "b") -> str:
    """SQL condition: bill `bill` has no open paid period (never paid, or reopened)."""
    return (
        f"NOT EXISTS (SELECT 1 FROM {T.paid} bp WHERE bp.membership_id = {bill}.membership_id "
        f"AND bp.month = {bill}.month AND bp.bill_id = {bill}.id AND bp.unpaid_from IS NULL)"
    )


def day(value: dt.date) -> Any:
    """A date as the database driver takes it in a raw query."""
    return connection.ops.adapt_datefield_value(value)


def now() -> Any:
    from django.utils import timezone

    return connection.ops.adapt_datetimefield_value(timezone.now())


def json_has(column: str, value: str) -> str:
    """SQL true when a JSON list column holds the string `value` (a plain code)."""
    if connection.vendor == "postgresql":
        return f"({column})::jsonb ? '{value}'"
    # in a query with parameters, % is written %%
    return f"{column} LIKE '%%\"{value}\"%%'"


def temp_table(name: str, columns: str) -> None:
    """A fresh temporary table for this connection (dropped first if a failed run left one)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(f"CREATE TEMPORARY TABLE {name} ({columns})")


def drop_temp(*names: str) -> None:
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")


def copy_rows(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert rows: COPY on PostgreSQL, one executemany elsewhere."""
    if not rows:
        return
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def copy_frame(table: str, frame: pl.DataFrame) -> None:
    """Insert a frame's rows: COPY … FORMAT csv on PostgreSQL (Polars writes the text, no row
    passes through Python), sql.copy_rows (one executemany) elsewhere."""
    if not frame.height:
        return
    if connection.vendor != "postgresql":
        # dates as SQLite keeps them (ISO text), no adapter per value
        frame = frame.with_columns(pl.col(pl.Date).cast(pl.String))
        if frame.width == 1:
            # one column (a temporary table of keys): one JSON array, unpacked by SQLite
            execute(
                f"INSERT INTO {table} ({frame.columns[0]}) SELECT value FROM json_each(%s)",
                [json.dumps(frame.to_series().to_list())],
            )
        else:
            copy_rows(table, frame.columns, frame.rows())
        return
    names = ", ".join(frame.columns)
    # an empty text is '' (quoted or not), never NULL: only non-text columns can be null
    texts = [c for c, t in frame.schema.items() if t == pl.String]
    keep = f", FORCE_NOT_NULL ({', '.join(texts)})" if texts else ""
    with connection.cursor() as cursor:
        sql = f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv{keep})"
        with cursor.cursor.copy(sql) as copy:
            for chunk in frame.iter_slices(200_000):
                buffer = io.BytesIO()
                chunk.write_csv(buffer, include_header=False, null_value="")  # COPY input
                copy.write(buffer.getvalue())


def fetch(sql: str, params: Any = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_prepared(sql: str, params: Any = ()) -> list[tuple]:
    """`fetch` for a hot query of constant text: on PostgreSQL its plan is prepared once per
    connection and reused. Django binds parameters into the text on the client, so the server
    would plan every call afresh: for the hospital's look-up (five tables) planning took
    0.4–0.6 ms against 0.1 ms to run it. Elsewhere, `fetch`."""
    if connection.vendor != "postgresql":
        return fetch(sql, params)
    import psycopg
    from django.db.backends.utils import CursorDebugWrapper

    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django turns psycopg's preparing off (prepare_threshold None); a threshold no query
        # reaches lets only the queries asked with prepare=True be prepared
        raw.prepare_threshold = 2**31 - 1
    # a cursor that sends the parameters apart from the text, so that the plan can be kept;
    # logged and counted as Django's own cursors are when queries are logged (tests, DEBUG)
    with psycopg.Cursor(raw) as cursor, connection.wrap_database_errors:
        if connection.queries_logged:
            with CursorDebugWrapper(cursor, connection).debug_sql(sql, params):
                cursor.execute(sql, params, prepare=True)
        else:
            cursor.execute(sql, params, prepare=True)
        return cursor.fetchall()


def execute(sql: str, params: Any = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@contextmanager
def foreign_key_checks_off() -> Iterator[None]:
    """On SQLite, foreign-key checks cost about a third of a million-row insert (billing, a
    payment statement): every key these bulk paths write comes from a join on rows that exist
    in the same transaction, and `cakupan ledger check` verifies the ledger's links, so a bulk
    run outside any transaction turns them off for its own transaction. Inside an outer
    transaction (tests, a caller's atomic block) SQLite cannot switch them, and they stay on.
    PostgreSQL keeps the constraints it has (a bill's references are none: models.Bill)."""
    off = connection.vendor == "sqlite" and not connection.in_atomic_block
    if off:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        if off:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA foreign_keys = ON")


def analyze_stale(*tables: str) -> None:
    """PostgreSQL: refresh the planner's statistics of `tables` where more than a tenth of the
    rows changed since they were last gathered. A city that enrols a million workers and bills
    the month at once would otherwise be planned as if the tables were still small (nested
    loops over a million rows: three times slower); autovacuum gets there, but minutes later.
    A sampled ANALYZE costs a fraction of a second. SQLite plans from its indexes alone."""
    if connection.vendor != "postgresql":
        return
    stale = fetch(
        "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY(%s) "
        "AND n_mod_since_analyze > 0.1 * GREATEST(n_live_tup, 1000)",
        [list(tables)],
    )
    with connection.cursor() as cursor:
        for (name,) in stale:
            cursor.execute(f'ANALYZE "{name}"')


@contextmanager
def bulk_cache(mib: int = 512) -> Iterator[None]:
    """On SQLite, a larger page cache for this connection while a bulk path runs. A million-row
    statement walks B-trees (bills, payments, allocations and their indexes) far larger than
    the 64 MiB every connection keeps (settings), and each page that falls out is read from
    the file again (docs/benchmarks.md: matching and the allocations insert took about half as
    long with it, for some 400 MiB more at the peak). Pages are held only once read, and the
    cache is cut back afterwards. PostgreSQL's cache is the server's."""
    if connection.vendor != "sqlite":
        yield
        return
    ((previous,),) = fetch("PRAGMA cache_size")
    execute(f"PRAGMA cache_size = -{mib * 1024}")
    try:
        yield
    finally:
        execute(f"PRAGMA cache_size = {int(previous)}")


@contextmanager
def timed(log: logging.Logger, what: str) -> Iterator[None]:
    """Log at DEBUG how many seconds the block took (the bulk paths' stages, for benchmarks:
    `logging.getLogger("cakupan.contributions").setLevel(logging.DEBUG)`)."""
    if not log.isEnabledFor(logging.DEBUG):
        yield
        return
    start, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        log.debug("%s: %.2f s (this process's CPU %.2f s)", what, wall, cpu)
