"""Claims test data: a membership whose months are billed and paid through the ledger's own
services, so eligibility reads a real ledger."""

from __future__ import annotations

import datetime as dt
import itertools

from cakupan.contributions.billing import billing_run
from cakupan.contributions.models import Bill
from cakupan.contributions.services import account_of_membership, account_of_sponsor, payment_record
from cakupan.contributions.tests.factories import M, make_membership, make_programme
from cakupan.membership.models import Membership
from cakupan.months import month_range

_refs = itertools.count(1)


def csr_ojol(first: str, *, last: str | None = None, name: str = "Budi Santoso") -> Membership:
    """A CSR-funded ojol driver at the lowest bracket (income Rp 1,000,000), from `first`."""
    programme = make_programme(type="csr", first=first, last=last or "2027-12", budget=10**9)
    return make_membership(fundings=[(programme, first, None)], name=name)


def bill_and_pay(
    membership: Membership, first: str, last: str, *, unpaid: tuple[str, ...] = (), day: int = 5
) -> None:
    """Bill every month first..last; pay each on `day` of its own month, except `unpaid`."""
    funding = membership.fundings.first()
    account = (
        account_of_sponsor(funding.programme.sponsor)
        if funding and funding.programme_id
        else account_of_membership(membership)
    )
    for month in month_range(M(first), M(last)):
        billing_run(month=month)
        if month.strftime("%Y-%m") in unpaid:
            continue
        bill = Bill.objects.get(membership=membership, month=month, voided_at__isnull=True)
        pay_bill(account, bill, month.replace(day=day))


def pay_bill(account, bill: Bill, on: dt.date):
    return payment_record(
        reference=f"T{next(_refs):06d}",
        amount=bill.amount,
        paid_on=on,
        source="form",
        user=None,
        account=account,
    )
