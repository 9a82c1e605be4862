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
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection

from cakupan.contributions.allocate import allocate
from cakupan.contributions.sql import T, copy_rows, day, drop_temp, execute, fetch, now, temp_table

SCOPE = "tmp_settle_accounts"


@dataclass(frozen=True)
class Settled:
    allocations: int
    amount: int
    bills_paid: int


def _scope(account_ids: list[int] | None, payments_of_statement: int | None) -> None:
    """The accounts to settle, in a temporary table: the ones given, or the payers of a
    statement's payments."""
    temp_table(SCOPE, "account_id bigint PRIMARY KEY")
    if payments_of_statement is not None:
        execute(
            f"INSERT INTO {SCOPE} (account_id) SELECT DISTINCT account_id FROM {T.payment} "
            "WHERE statement_id = %s AND account_id IS NOT NULL",
            [payments_of_statement],
        )
    if account_ids:
        copy_rows(SCOPE, ["account_id"], [(a,) for a in sorted(set(account_ids))])
    if connection.vendor == "postgresql":
        # a temporary table has no statistics until analysed: without them the planner
        # guesses it large and scans the whole ledger to join it
        execute(f"ANALYZE {SCOPE}")


# The scope drives every query (CROSS JOIN keeps it the outer loop on SQLite, whose planner
# knows nothing of a temporary table's size and would otherwise scan the whole ledger).


def _funds() -> list[tuple]:
    """Payments of the scoped accounts with money not yet spent: id, account, remaining,
    paid_on, invoice, membership; in spending order (oldest payment first). Only accounts with
    credit can have any, which keeps the scan to them."""
    return fetch(
        f"""
        SELECT p.id, p.account_id, p.amount - COALESCE(SUM(al.amount), 0) AS remaining,
               p.paid_on, p.invoice_id, p.membership_id
        FROM {SCOPE} s
        CROSS JOIN {T.account} a
        CROSS JOIN {T.payment} p
        LEFT JOIN {T.allocation} al ON al.payment_id = p.id
        WHERE a.id = s.account_id AND a.credit > 0 AND p.account_id = a.id
          AND p.reverses_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM {T.payment} r WHERE r.reverses_id = p.id)
        GROUP BY p.id, p.account_id, p.amount, p.paid_on, p.invoice_id, p.membership_id
        HAVING p.amount - COALESCE(SUM(al.amount), 0) > 0
        ORDER BY p.paid_on, p.id
        """
    )


def _bills() -> list[tuple]:
    """Unpaid (or partly paid) live bills of the scoped accounts: id, account, outstanding,
    invoice, membership; oldest month first."""
    return fetch(
        f"""
        SELECT b.id, b.account_id, b.amount - COALESCE(SUM(al.amount), 0) AS outstanding,
               b.invoice_id, b.membership_id
        FROM {SCOPE} s
        CROSS JOIN {T.bill} b
        LEFT JOIN {T.allocation} al ON al.bill_id = b.id
        WHERE b.account_id = s.account_id
          AND b.voided_at IS NULL AND (b.paid_on IS NULL OR b.unpaid_from IS NOT NULL)
        GROUP BY b.id, b.account_id, b.amount, b.invoice_id, b.membership_id, b.month
        HAVING b.amount - COALESCE(SUM(al.amount), 0) > 0
        ORDER BY b.month, b.membership_id, b.id
        """
    )


def _column(rows: list[tuple], i: int, dtype: Any = np.int64) -> np.ndarray:
    return np.array([r[i] if r[i] is not None else -1 for r in rows], dtype=dtype)


def settle(*, account_ids: list[int] | None = None, statement_id: int | None = None) -> Settled:
    """Spend the scoped payers' unspent money on their unpaid bills (module docstring), then
    bring each touched bill's paid state and each account's credit up to date. Runs inside the
    caller's transaction."""
    _scope(account_ids, statement_id)
    try:
        funds, bills = _funds(), _bills()
        if not funds or not bills:
            return Settled(0, 0, 0)
        f_id, f_acc, f_left = _column(funds, 0), _column(funds, 1), _column(funds, 2)
        f_inv, f_mem = _column(funds, 4), _column(funds, 5)
        paid_on = [r[3] for r in funds]
        b_id, b_acc, b_left = _column(bills, 0), _column(bills, 1), _column(bills, 2)
        b_inv, b_mem = _column(bills, 3), _column(bills, 4)

        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        # 1. payments naming an invoice, then a membership: their own bills first
        for f_target, b_target in ((f_inv, b_inv), (f_mem, b_mem)):
            fsel = np.flatnonzero((f_target >= 0) & (f_left > 0))
            bsel = np.flatnonzero(np.isin(b_target, f_target[fsel]) & (b_left > 0))
            if len(fsel) and len(bsel):
                spent = allocate(f_target[fsel], f_left[fsel], b_target[bsel], b_left[bsel])
                fr, br = fsel[spent.fund], bsel[spent.bill]
                np.subtract.at(f_left, fr, spent.amount)
                np.subtract.at(b_left, br, spent.amount)
                parts.append((fr, br, spent.amount))
        # 2. everything left: the payer's oldest unpaid month first
        fsel, bsel = np.flatnonzero(f_left > 0), np.flatnonzero(b_left > 0)
        if len(fsel) and len(bsel):
            spent = allocate(f_acc[fsel], f_left[fsel], b_acc[bsel], b_left[bsel])
            fr, br = fsel[spent.fund], bsel[spent.bill]
            np.subtract.at(f_left, fr, spent.amount)
            np.subtract.at(b_left, br, spent.amount)
            parts.append((fr, br, spent.amount))
        if not parts:
            return Settled(0, 0, 0)
        fr = np.concatenate([p[0] for p in parts])
        br = np.concatenate([p[1] for p in parts])
        amounts = np.concatenate([p[2] for p in parts])
        created = now()
        # the day each fund counts from, converted once per distinct day
        f_day = np.array(
            [d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in paid_on]
        )
        days = {d: day(d) for d in set(f_day.tolist())}
        rows = [
            (int(f_id[f]), int(b_id[b]), int(a), days[f_day[f]], created)
            for f, b, a in zip(fr.tolist(), br.tolist(), amounts.tolist(), strict=True)
        ]
        copy_rows(
            T.allocation,
            ["payment_id", "bill_id", "amount", "effective_on", "created_at"],
            rows,
        )
        # bills the allocations completed: paid on the day of the latest money that reached them
        ordinal = np.array([d.toordinal() for d in f_day], dtype=np.int64)[fr]
        last = np.zeros(len(b_id), dtype=np.int64)
        np.maximum.at(last, br, ordinal)
        done = np.flatnonzero((b_left == 0) & (last > 0))
        paid = _bills_paid(
            [(int(b_id[b]), day(dt.date.fromordinal(int(last[b])))) for b in done.tolist()]
        )
        spent_by = np.bincount(f_acc[fr], weights=amounts) if len(fr) else np.zeros(0)
        accounts = np.flatnonzero(spent_by)
        credit_add({int(a): -int(spent_by[a]) for a in accounts})
        return Settled(len(rows), int(amounts.sum()), paid)
    finally:
        drop_temp(SCOPE)


def _bills_paid(paid: list[tuple[int, Any]]) -> int:
    """Mark bills paid on the given days (and no longer reopened), set-based."""
    if not paid:
        return 0
    temp_table("tmp_paid", "bill_id bigint PRIMARY KEY, paid_on date NOT NULL")
    try:
        copy_rows("tmp_paid", ["bill_id", "paid_on"], paid)
        return execute(
            f"UPDATE {T.bill} SET paid_on = t.paid_on, unpaid_from = NULL "
            f"FROM tmp_paid t WHERE {T.bill}.id = t.bill_id"
        )
    finally:
        drop_temp("tmp_paid")


def bills_refresh(bill_ids: list[int], *, reopened_on: dt.date | None = None) -> int:
    """Bring bills' paid_on / unpaid_from up to date with their allocations: a bill whose
    allocations now reach its amount is paid on the day of its latest allocation; a paid bill
    they no longer reach (a reversal) is unpaid from `reopened_on`. Returns bills now paid."""
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
            UPDATE {T.bill} SET paid_on = (
                SELECT x.last_on FROM ({totals}) x WHERE x.bill_id = {T.bill}.id
            ), unpaid_from = NULL
            WHERE id IN (SELECT bill_id FROM tmp_bills)
              AND (paid_on IS NULL OR unpaid_from IS NOT NULL)
              AND amount <= (SELECT x.total FROM ({totals}) x WHERE x.bill_id = {T.bill}.id)
            """
        )
        if reopened_on is not None:
            execute(
                f"""
                UPDATE {T.bill} SET unpaid_from = %s
                WHERE id IN (SELECT bill_id FROM tmp_bills)
                  AND paid_on IS NOT NULL AND unpaid_from IS NULL
                  AND amount > COALESCE((SELECT x.total FROM ({totals}) x
                                         WHERE x.bill_id = {T.bill}.id), 0)
                """,
                [day(reopened_on)],
            )
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
