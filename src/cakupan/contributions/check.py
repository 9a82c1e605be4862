"""`cakupan ledger check`: the ledger's invariants, each one SQL query that lists breaches.

Each check names what it found first, so that an officer (or CI) can go to the entry. The
checks read the entries, not the derived columns alone: a credit, a paid date or a bill's
total that drifted from the allocations is caught here.
"""

from __future__ import annotations

from dataclasses import dataclass

from cakupan.accounts.models import User
from cakupan.contributions.models import PaymentStatement
from cakupan.contributions.sql import T, fetch

# Links written without a foreign-key constraint in the database (models.Bill and
# models.Payment explain why): (check, table, column, table pointed at, what the column names).
LINKS = [
    ("bill_without_membership", T.bill, "membership_id", T.membership, "membership"),
    ("bill_without_account", T.bill, "account_id", T.account, "payer account"),
    ("bill_without_programme", T.bill, "programme_id", T.programme, "programme"),
    ("bill_without_invoice", T.bill, "invoice_id", T.invoice, "invoice"),
    ("bill_without_run", T.bill, "run_id", T.run, "billing run"),
    ("payment_without_account", T.payment, "account_id", T.account, "payer account"),
    ("payment_without_membership", T.payment, "membership_id", T.membership, "membership"),
    (
        "payment_without_statement",
        T.payment,
        "statement_id",
        PaymentStatement._meta.db_table,
        "statement",
    ),
    ("payment_without_recorder", T.payment, "recorded_by_id", User._meta.db_table, "user"),
    ("allocation_without_payment", T.allocation, "payment_id", T.payment, "payment"),
    ("allocation_without_bill", T.allocation, "bill_id", T.bill, "bill"),
    ("paid_without_bill", T.paid, "bill_id", T.bill, "bill"),
]


@dataclass(frozen=True)
class Breach:
    check: str
    message: str


def _first(sql: str) -> tuple | None:
    rows = fetch(sql + " LIMIT 1")
    return rows[0] if rows else None


def _checks() -> list[tuple[str, str, str]]:
    """(name, SQL listing breaches, message template filled with the first row)."""
    pay = f"""
        SELECT a.id, COALESCE(p.total, 0), COALESCE(al.total, 0), a.credit FROM {T.account} a
        LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM {T.payment}
                   GROUP BY account_id) p ON p.account_id = a.id
        LEFT JOIN (SELECT p2.account_id, SUM(x.amount) AS total FROM {T.allocation} x
                   JOIN {T.payment} p2 ON p2.id = x.payment_id
                   GROUP BY p2.account_id) al ON al.account_id = a.id
        WHERE COALESCE(p.total, 0) <> COALESCE(al.total, 0) + a.credit
    """
    return [
        (
            "payments_balance",
            pay,
            "payer account {0}: payments Rp {1} ≠ allocations Rp {2} + credit Rp {3}",
        ),
        *(
            (
                name,
                f"""SELECT x.id, x.{column} FROM {table} x
                    LEFT JOIN {target} t ON t.id = x.{column}
                    WHERE x.{column} IS NOT NULL AND t.id IS NULL""",
                f"{table.split('_', 1)[1]} {{0}} points at {what} {{1}}, which does not exist",
            )
            for name, table, column, target, what in LINKS
        ),
        (
            "allocation_other_payer",
            f"""SELECT x.id, x.payment_id, x.bill_id FROM {T.allocation} x
                JOIN {T.payment} p ON p.id = x.payment_id JOIN {T.bill} b ON b.id = x.bill_id
                WHERE p.account_id IS NULL OR p.account_id <> b.account_id""",
            "allocation {0} spends payment {1} on bill {2} of another payer",
        ),
        (
            "bill_overpaid",
            f"""SELECT b.id, b.amount, SUM(x.amount) FROM {T.bill} b
                JOIN {T.allocation} x ON x.bill_id = b.id
                GROUP BY b.id, b.amount HAVING SUM(x.amount) > b.amount""",
            "bill {0} of Rp {1} has Rp {2} allocated",
        ),
        (
            "payment_overspent",
            f"""SELECT p.id, p.amount, SUM(x.amount) FROM {T.payment} p
                JOIN {T.allocation} x ON x.payment_id = p.id WHERE p.amount > 0
                GROUP BY p.id, p.amount HAVING SUM(x.amount) > p.amount""",
            "payment {0} of Rp {1} has Rp {2} spent",
        ),
        (
            "month_paid_twice",
            f"""SELECT b.membership_id, b.month, COUNT(*) FROM {T.bill} b
                WHERE EXISTS (SELECT 1 FROM {T.allocation} x WHERE x.bill_id = b.id)
                  AND (SELECT SUM(x.amount) FROM {T.allocation} x WHERE x.bill_id = b.id) > 0
                GROUP BY b.membership_id, b.month HAVING COUNT(*) > 1""",
            "membership {0}: month {1} is paid on {2} bills",
        ),
        (
            "paid_date_drift",
            f"""SELECT b.id, COALESCE(t.total, 0), b.amount, CASE WHEN o.bill_id IS NULL
                       THEN 'no open paid period' ELSE 'an open paid period' END
                FROM {T.bill} b
                LEFT JOIN (SELECT bill_id, SUM(amount) AS total FROM {T.allocation}
                           GROUP BY bill_id) t ON t.bill_id = b.id
                LEFT JOIN (SELECT DISTINCT bill_id FROM {T.paid}
                           WHERE unpaid_from IS NULL) o ON o.bill_id = b.id
                WHERE b.voided_at IS NULL AND (
                    (o.bill_id IS NOT NULL AND COALESCE(t.total, 0) < b.amount)
                    OR (o.bill_id IS NULL AND b.amount > 0
                        AND COALESCE(t.total, 0) >= b.amount))""",
            "bill {0}: allocations Rp {1} against its amount Rp {2} disagree with {3}",
        ),
        (
            "paid_period_mismatch",
            f"""SELECT bp.id, bp.bill_id FROM {T.paid} bp
                JOIN {T.bill} b ON b.id = bp.bill_id
                WHERE b.voided_at IS NOT NULL OR b.membership_id <> bp.membership_id
                   OR b.month <> bp.month
                   OR (bp.unpaid_from IS NULL AND EXISTS (
                        SELECT 1 FROM {T.paid} o WHERE o.membership_id = bp.membership_id
                        AND o.month = bp.month AND o.unpaid_from IS NULL AND o.id <> bp.id))""",
            "paid period {0} does not belong to the live bill {1} of its membership and month "
            "alone",
        ),
        (
            "voided_bill_paid",
            f"""SELECT b.id FROM {T.bill} b WHERE b.voided_at IS NOT NULL
                AND COALESCE((SELECT SUM(x.amount) FROM {T.allocation} x
                              WHERE x.bill_id = b.id), 0) <> 0""",
            "bill {0} is voided but money is still allocated to it",
        ),
    ]


def ledger_check() -> list[Breach]:
    """Every invariant in turn; the first breach of each that is broken."""
    breaches = []
    for name, sql, template in _checks():
        row = _first(sql)
        if row is not None:
            breaches.append(Breach(name, template.format(*row)))
    return breaches
