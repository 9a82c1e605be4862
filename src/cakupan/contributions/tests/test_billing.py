"""Billing's set-based paths: the price keys read off the membership table or from the month's
join give the same bills, and a month billed before bills only what joined since."""

from __future__ import annotations

import pytest

from cakupan.contributions import billing
from cakupan.contributions.billing import billing_run, prepay_bills
from cakupan.contributions.models import Bill, Invoice, PayerAccount
from cakupan.contributions.tests.factories import M, make_membership, make_programme

pytestmark = pytest.mark.django_db


def _city() -> None:
    """Workers of several sectors, paid by a CSR and an APBD programme or by themselves (one
    with JHT on a higher income, one who left before the month)."""
    csr, apbd = make_programme(type="csr"), make_programme(type="apbd")
    make_membership(fundings=[(csr, "2026-01", None)], occupation="ojol")
    make_membership(fundings=[(csr, "2026-01", None)], occupation="petani")
    make_membership(fundings=[(apbd, "2026-01", None)], occupation="ojol")
    make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    make_membership(
        fundings=[(None, "2026-01", None)], income=2_000_000, programmes=["jkk", "jkm", "jht"]
    )
    make_membership(fundings=[(None, "2026-01", None)], end="2026-10")


def _bills() -> list[tuple]:
    return sorted(
        (
            b.membership_id,
            b.month,
            b.programme_id,
            b.invoice.programme_id if b.invoice else None,
            b.account.sponsor_id or -b.account.membership_id,
            b.gross,
            b.discount,
            b.amount,
            b.rule_ids,
        )
        for b in Bill.objects.select_related("invoice", "account")
    )


def test_keys_from_the_membership_table_or_the_months_join_bill_alike(malang, monkeypatch):
    _city()
    first = billing_run(month="2026-11")
    bills = _bills()
    assert first.bills_added == len(bills) == 5
    assert first.amount_added == sum(b[7] for b in bills)
    Bill.objects.all().delete()
    Invoice.objects.all().delete()
    # too many incomes for the superset: the keys come from the month's assignments
    monkeypatch.setattr(billing, "SUPERSET_KEYS", 0)
    again = billing_run(month="2026-11")
    assert _bills() == bills
    assert (again.bills_added, again.amount_added, again.invoices_added) == (
        5,
        first.amount_added,
        2,
    )


def test_a_month_billed_before_bills_only_the_memberships_that_joined_since(malang):
    csr = make_programme(type="csr")
    make_membership(fundings=[(csr, "2026-01", None)])
    make_membership(fundings=[(None, "2026-01", None)])
    assert billing_run(month="2026-11").bills_added == 2
    accounts = PayerAccount.objects.count()
    joined = make_membership(fundings=[(csr, "2026-11", None)])
    pays_himself = make_membership(fundings=[(None, "2026-11", None)], occupation="petani")
    again = billing_run(month="2026-11")
    assert (again.bills_added, again.invoices_added) == (2, 0)
    assert again.amount_added == 8_400 + 8_400  # both discounted in 2026-11
    assert PayerAccount.objects.count() == accounts + 1  # the new self-payer's
    assert {b.membership for b in Bill.objects.filter(run_id=again.run_id)} == {
        joined,
        pays_himself,
    }
    assert Invoice.objects.get().bills.count() == 2
    assert billing_run(month="2026-11").bills_added == 0


def test_prepaying_bills_one_membership_only(malang):
    make_membership(fundings=[(None, "2026-01", None)])
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    assert prepay_bills(membership_id=m.pk, first=M("2026-11"), months=3) == 3
    assert {b.membership_id for b in Bill.objects.all()} == {m.pk}
    # each month priced for itself: a farmer's discount ends after 2026-12
    assert [b.amount for b in Bill.objects.order_by("month")] == [8_400, 8_400, 16_800]
