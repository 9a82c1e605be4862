"""Demo ledger: the demo memberships billed from January to this month and paid the way a city
pays: the city budget and the tobacco-excise share pay every invoice on the 10th, the hospital's
CSR pays one month late, and of the workers paying themselves most pay monthly, some stopped
two months ago (in arrears) and some five months ago (lapsed). Set-based; deterministic by seed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Q, Sum

from cakupan.bulk import insert_rows
from cakupan.contributions.billing import billing_run
from cakupan.contributions.ledger import credit_add, settle
from cakupan.contributions.models import (
    Allocation,
    Bill,
    BillingRun,
    BillPaid,
    Card,
    ForecastRun,
    Invoice,
    PayerAccount,
    Payment,
    PaymentAssignment,
)
from cakupan.months import month_range

PAY_DAY = 10


@dataclass(frozen=True)
class DemoLedger:
    months: int
    bills: int
    payments: int


def _demo_accounts() -> Q:
    return Q(sponsor__is_demo=True) | Q(membership__worker__source="demo")


def demo_ledger_delete() -> None:
    """Remove every ledger entry of the demo sponsors and demo workers (before their
    memberships are removed: the ledger protects what it refers to)."""
    accounts = PayerAccount.objects.filter(_demo_accounts())
    payments = Payment.objects.filter(account__in=accounts)
    Allocation.objects.filter(Q(payment__in=payments) | Q(bill__account__in=accounts)).delete()
    PaymentAssignment.objects.filter(payment__in=payments).delete()
    payments.filter(reverses__isnull=False).delete()
    payments.delete()
    Card.objects.filter(membership__worker__source="demo").delete()
    bills = Bill.objects.filter(account__in=accounts)
    BillPaid.objects.filter(bill__in=bills).delete()
    invoices = Invoice.objects.filter(programme__sponsor__is_demo=True)
    bills.delete()
    invoices.delete()
    accounts.delete()
    BillingRun.objects.filter(bills__isnull=True, lock__isnull=True).delete()
    # a stored lapse forecast lists the demo's memberships: it is counted again after a reload
    ForecastRun.objects.all().delete()


def demo_ledger_load(*, seed: int, today: dt.date) -> DemoLedger:
    """Bill January..this month and record the demo payments (see the module docstring)."""
    months = list(month_range(today.replace(month=1, day=1), today.replace(day=1)))
    for month in months:
        billing_run(month=month)
    rng = np.random.default_rng(seed + 9)
    this_month = today.replace(day=1)
    refs: list[str] = []
    accounts: list[int] = []
    amounts: list[int] = []
    dates: list[dt.date] = []
    invoices: list[int | None] = []
    with transaction.atomic():
        totals = (
            Bill.objects.filter(invoice__isnull=False, voided_at__isnull=True)
            .values("invoice_id", "invoice__month", "invoice__number", "account_id")
            .annotate(total=Sum("amount"))
            .values_list("invoice_id", "invoice__month", "invoice__number", "account_id", "total")
        )
        late = set(PayerAccount.objects.filter(sponsor__type="csr").values_list("pk", flat=True))
        for invoice_id, month, number, account_id, total in totals:
            paid_on = month.replace(day=PAY_DAY)
            if account_id in late:
                paid_on = (month + dt.timedelta(days=32)).replace(day=PAY_DAY)
            if paid_on > today:
                continue
            refs.append(f"DEMO-{number}")
            accounts.append(account_id)
            amounts.append(int(total))
            dates.append(paid_on)
            invoices.append(invoice_id)
        selves = list(
            Bill.objects.filter(programme__isnull=True, voided_at__isnull=True)
            .order_by("account_id", "month")
            .values_list("account_id", "month", "amount")
        )
        habit: dict[int, int] = {}  # account → months before this one it stopped paying
        for account_id, month, amount in selves:
            if account_id not in habit:
                habit[account_id] = int(rng.choice([0, 2, 5], p=[0.75, 0.17, 0.08]))
            stopped = habit[account_id]
            if (this_month.year - month.year) * 12 + this_month.month - month.month < stopped:
                continue
            paid_on = month.replace(day=min(PAY_DAY + int(rng.integers(-5, 5)), 28))
            if paid_on > today:
                continue
            refs.append(f"DEMO-SELF-{account_id}-{month:%Y%m}")
            accounts.append(account_id)
            amounts.append(int(amount))
            dates.append(paid_on)
            invoices.append(None)
        if refs:
            insert_rows(
                Payment,
                {
                    "reference": refs,
                    "account_id": accounts,
                    "amount": amounts,
                    "paid_on": dates,
                    "invoice_id": invoices,
                },
                {"source": Payment.Source.STATEMENT, "note": "demo"},
            )
            by_account: dict[int, int] = {}
            for a, amount in zip(accounts, amounts, strict=True):
                by_account[a] = by_account.get(a, 0) + amount
            credit_add(by_account)
            settle(account_ids=sorted(by_account))
    return DemoLedger(len(months), Bill.objects.count(), len(refs))
