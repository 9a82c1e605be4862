"""Spending payers' money on their bills, set-based: `settle` is the one place allocations are
written (billing applies credit through it, every payment path settles through it).

Order (docs/contributions.md): a payment that names an invoice or a membership is spent on that
invoice's (membership's) unpaid bills first; then every payer's remaining money goes to its
oldest unpaid month first (month, then membership number). A bill reached with too little
money gets what there is and stays unpaid, showing the shortfall; money left over is the
payer's credit, carried to the next bills.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from django.db import connection

from cakupan.contributions.allocate import allocate
from cakupan.contributions.signals import ledger_changed
from cakupan.contributions.sql import (
    T,
    bill_unpaid,
    copy_frame,
    copy_rows,
    day,
    drop_temp,
    execute,
    fetch,
    now,
    temp_table,
    timed,
)

log = logging.getLogger(__name__)

SCOPE = "tmp_settle_accounts"


@dataclass(frozen=True)
class Settled:
    allocations: int
    amount: int
    bills_paid: int


def _scope(account_ids: list[int]) -> None:
    """The accounts to settle, in a temporary table: one COPY (PostgreSQL) or one JSON array
    (SQLite) of the distinct ids, in key order."""
    temp_table(SCOPE, "account_id bigint PRIMARY KEY")
    ids = pl.Series("account_id", account_ids, dtype=pl.Int64).drop_nulls().unique().sort()
    copy_frame(SCOPE, ids.to_frame())
    if connection.vendor == "postgresql":
        # a temporary table has no statistics until analysed: without them the planner
        # guesses it large and scans the whole ledger to join it
        execute(f"ANALYZE {SCOPE}")


# The scope drives every query (CROSS JOIN keeps it the outer loop on SQLite, whose planner
# knows nothing of a temporary table's size and would otherwise scan the whole ledger).


def _read(sql: str, params: Any, schema: dict[str, Any]) -> pl.DataFrame:
    """A query's rows as a frame (SQLite may give a date as text)."""
    rows = fetch(sql, params)
    texts = (
        [
            c
            for i, (c, t) in enumerate(schema.items())
            if t == pl.Date and isinstance(rows[0][i], str)
        ]
        if rows
        else []
    )
    frame = pl.DataFrame(
        rows, schema={c: pl.String if c in texts else t for c, t in schema.items()}, orient="row"
    )
    return frame.with_columns(pl.col(c).str.slice(0, 10).str.to_date("%Y-%m-%d") for c in texts)


FUNDS = {
    "id": pl.Int64,
    "account": pl.Int64,
    "left": pl.Int64,
    "day": pl.Date,
    "invoice": pl.Int64,
    "membership": pl.Int64,
}
BILLS = {
    "id": pl.Int64,
    "account": pl.Int64,
    "left": pl.Int64,
    "invoice": pl.Int64,
    "membership": pl.Int64,
    "month": pl.Date,
}


def _funds(statement_id: int | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(funds, received). Funds: payments of the scoped accounts with money not yet spent (id,
    account, left, day paid, invoice, membership), in spending order (oldest payment first).
    Money already received is in the accounts' credit, which keeps that scan to accounts with
    credit. The payments of statement `statement_id` are new (nothing spent, not yet credited):
    read apart, by the statement's index, and `received` sums them per account."""
    other = "AND (p.statement_id IS NULL OR p.statement_id <> %s)" if statement_id else ""
    funds = _read(
        f"""
        SELECT p.id, p.account_id, p.amount - COALESCE(SUM(al.amount), 0) AS remaining,
               p.paid_on, p.invoice_id, p.membership_id
        FROM {SCOPE} s
        CROSS JOIN {T.account} a
        CROSS JOIN {T.payment} p
        LEFT JOIN {T.allocation} al ON al.payment_id = p.id
        WHERE a.id = s.account_id AND a.credit > 0 AND p.account_id = a.id
          AND p.reverses_id IS NULL {other}
          AND NOT EXISTS (SELECT 1 FROM {T.payment} r WHERE r.reverses_id = p.id)
        GROUP BY p.id, p.account_id, p.amount, p.paid_on, p.invoice_id, p.membership_id
        HAVING p.amount - COALESCE(SUM(al.amount), 0) > 0
        """,
        [statement_id] if statement_id else [],
        FUNDS,
    )
    received = pl.DataFrame(schema={"account": pl.Int64, "received": pl.Int64})
    if statement_id:
        new = _read(
            f"""SELECT p.id, p.account_id, p.amount, p.paid_on, p.invoice_id, p.membership_id
                FROM {T.payment} p WHERE p.statement_id = %s AND p.account_id IS NOT NULL""",
            [statement_id],
            FUNDS,
        )
        received = new.group_by("account").agg(pl.col("left").sum().alias("received"))
        funds = pl.concat([funds, new])
    return funds.sort("day", "id"), received


def _bills() -> pl.DataFrame:
    """Unpaid (or partly paid) live bills of the scoped accounts: id, account, outstanding
    (left), invoice, membership, month; oldest month first. What each bill lacks is read by
    its allocations' index, bill by bill, and the order is Polars': a GROUP BY and ORDER BY
    over a million bills made SQLite sort them twice on disk-backed B-trees."""
    bills = _read(
        f"""
        SELECT b.id, b.account_id, b.amount - COALESCE(
                   (SELECT SUM(al.amount) FROM {T.allocation} al WHERE al.bill_id = b.id), 0),
               b.invoice_id, b.membership_id, b.month
        FROM {SCOPE} s
        CROSS JOIN {T.bill} b
        WHERE b.account_id = s.account_id
          AND b.voided_at IS NULL AND {bill_unpaid("b")}
        """,
        (),
        BILLS,
    )
    return bills.filter(pl.col("left") > 0).sort("month", "membership", "id")


def _spend(funds: pl.DataFrame, bills: pl.DataFrame) -> tuple[np.ndarray, ...]:
    """(fund rows, bill rows, amounts, what each bill has left) in the order of the module
    docstring."""

    def column(frame: pl.DataFrame, name: str) -> np.ndarray:
        return frame[name].fill_null(-1).to_numpy().astype(np.int64)

    f_acc, f_left = column(funds, "account"), column(funds, "left")
    b_acc, b_left = column(bills, "account"), column(bills, "left")
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def spend(f_key: np.ndarray, b_key: np.ndarray, fsel: np.ndarray, bsel: np.ndarray):
        if len(fsel) and len(bsel):
            spent = allocate(f_key[fsel], f_left[fsel], b_key[bsel], b_left[bsel])
            fr, br = fsel[spent.fund], bsel[spent.bill]
            np.subtract.at(f_left, fr, spent.amount)
            np.subtract.at(b_left, br, spent.amount)
            parts.append((fr, br, spent.amount))

    # 1. payments naming an invoice, then a membership: their own bills first
    for name in ("invoice", "membership"):
        f_target, b_target = column(funds, name), column(bills, name)
        fsel = np.flatnonzero((f_target >= 0) & (f_left > 0))
        bsel = np.flatnonzero(np.isin(b_target, f_target[fsel]) & (b_left > 0))
        spend(f_target, b_target, fsel, bsel)
    # 2. everything left: the payer's oldest unpaid month first
    spend(f_acc, b_acc, np.flatnonzero(f_left > 0), np.flatnonzero(b_left > 0))
    empty = np.zeros(0, dtype=np.int64)
    fr, br, amounts = (np.concatenate([p[i] for p in parts]) if parts else empty for i in range(3))
    return fr, br, amounts, b_left


def settle(*, account_ids: list[int], statement_id: int | None = None) -> Settled:
    """Spend the scoped payers' unspent money on their unpaid bills (module docstring), then
    bring each touched bill's paid state and each account's credit up to date. Runs inside the
    caller's transaction. With `statement_id`, the statement's payments are new and their money
    not yet in credit: each account's credit changes by what it received less what was spent,
    so a payer whose money all went on bills keeps his credit row untouched. The scope is
    `account_ids` (a statement's caller passes its payers: reading them back from a million
    payments took 6 s on PostgreSQL)."""
    with timed(log, "settle scope"):
        _scope(account_ids)
    try:
        with timed(log, "settle funds"):
            funds, received = _funds(statement_id)
        with timed(log, "settle bills"):
            bills = _bills()
        fr, br, amounts, b_left = _spend(funds, bills)
        paid = 0
        if len(fr):
            days = funds["day"].gather(fr)
            with timed(log, "settle allocations insert"):
                copy_frame(
                    T.allocation,
                    pl.DataFrame(
                        {
                            "payment_id": funds["id"].to_numpy()[fr],
                            "bill_id": bills["id"].to_numpy()[br],
                            "amount": amounts,
                            "effective_on": days,
                        }
                    ).with_columns(created_at=pl.lit(now())),
                )
            # bills the allocations completed: paid on the day of the latest money reaching them
            reached = pl.DataFrame({"row": br, "day": days}).group_by("row").agg(pl.max("day"))
            done = reached.filter(pl.Series(b_left[reached["row"].to_numpy()] == 0))
            with timed(log, "settle bills paid"):
                rows = done["row"]
                paid = _bills_paid(
                    pl.DataFrame(
                        {
                            "bill_id": bills["id"].gather(rows),
                            "membership_id": bills["membership"].gather(rows),
                            "month": bills["month"].gather(rows),
                            "paid_on": done["day"],
                        }
                    )
                )
        spent = pl.DataFrame({"account": funds["account"].to_numpy()[fr], "spent": amounts})
        deltas = (
            received.join(
                spent.group_by("account").agg(pl.col("spent").sum()),
                on="account",
                how="full",
                coalesce=True,
            )
            .select("account", delta=pl.col("received").fill_null(0) - pl.col("spent").fill_null(0))
            .filter(pl.col("delta") != 0)
        )
        with timed(log, "settle credit"):
            credit_add(dict(deltas.iter_rows()))
        if paid:
            ledger_changed.send(sender=settle)
        return Settled(len(fr), int(amounts.sum()), paid)
    finally:
        drop_temp(SCOPE)


def _bills_paid(paid: pl.DataFrame) -> int:
    """Open a paid period (models.BillPaid) for each bill completed (bill_id, membership_id,
    month, paid_on): appended, the bills themselves untouched."""
    if not paid.height:
        return 0
    copy_frame(T.paid, paid.sort("membership_id", "month"))
    return paid.height


def bills_refresh(bill_ids: list[int], *, reopened_on: dt.date | None = None) -> int:
    """Bring bills' paid periods up to date with their allocations: a bill whose allocations
    now reach its amount and that has no open period gets one from the day of its latest
    allocation; an open period of a bill they no longer reach (a reversal) is closed on
    `reopened_on`. Returns the bills now paid."""
    if not bill_ids:
        return 0
    temp_table("tmp_bills", "bill_id bigint PRIMARY KEY")
    try:
        copy_rows("tmp_bills", ["bill_id"], [(b,) for b in bill_ids])
        totals = f"""
            SELECT al.bill_id, SUM(al.amount) AS total, MAX(al.effective_on) AS last_on
            FROM {T.allocation} al JOIN tmp_bills t ON t.bill_id = al.bill_id
            GROUP BY al.bill_id
        """
        paid = execute(
            f"""
            INSERT INTO {T.paid} (bill_id, membership_id, month, paid_on)
            SELECT b.id, b.membership_id, b.month, x.last_on
            FROM {T.bill} b JOIN ({totals}) x ON x.bill_id = b.id
            WHERE b.voided_at IS NULL AND b.amount <= x.total AND {bill_unpaid("b")}
            """
        )
        if reopened_on is not None:
            reopened = fetch(
                f"""
                SELECT b.membership_id, b.month FROM {T.bill} b
                JOIN tmp_bills t ON t.bill_id = b.id
                LEFT JOIN ({totals}) x ON x.bill_id = b.id
                WHERE b.amount > COALESCE(x.total, 0)
                """
            )
            # a few bills (one payment's): each closed through the paid periods' index
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {T.paid} SET unpaid_from = %s WHERE membership_id = %s "
                    "AND month = %s AND unpaid_from IS NULL",
                    [(day(reopened_on), m, month) for m, month in reopened],
                )
        if paid:
            ledger_changed.send(sender=bills_refresh)
        return paid
    finally:
        drop_temp("tmp_bills")


def credit_add(deltas: dict[int, int]) -> None:
    """Add to each account's credit (negative: money spent on bills), set-based."""
    deltas = {a: d for a, d in deltas.items() if d}
    if not deltas:
        return
    temp_table("tmp_credit", "account_id bigint PRIMARY KEY, delta bigint NOT NULL")
    try:
        copy_rows("tmp_credit", ["account_id", "delta"], sorted(deltas.items()))
        execute(
            f"UPDATE {T.account} SET credit = credit + t.delta "
            f"FROM tmp_credit t WHERE {T.account}.id = t.account_id"
        )
    finally:
        drop_temp("tmp_credit")
