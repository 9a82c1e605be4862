"""The ledger's core: billing golden cases, allocation order, prepayment, credit, partial
payment, reversal, state through arrears to lapsed, and the ledger check."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cakupan.contributions.allocate import allocate
from cakupan.contributions.billing import BillingInProgress, billing_run, run_start
from cakupan.contributions.check import ledger_check
from cakupan.contributions.models import Allocation, Bill, BillingRun, Invoice, Payment
from cakupan.contributions.selectors import (
    ACTIVE,
    ARREARS,
    LAPSED,
    PENDING,
    membership_state,
    month_grid,
    state_counts,
    states_of,
)
from cakupan.contributions.services import (
    account_of_membership,
    account_of_sponsor,
    payment_record,
    payment_reverse,
)
from cakupan.contributions.sql import execute
from cakupan.contributions.tests.factories import M, make_membership, make_programme

pytestmark = pytest.mark.django_db

D = dt.date


def bill_of(membership, month: str) -> Bill:
    return Bill.objects.get(membership=membership, month=M(month), voided_at__isnull=True)


def pay(account, amount: int, on: D, ref: str, **kw):
    return payment_record(
        reference=ref, amount=amount, paid_on=on, source="form", user=None, account=account, **kw
    )


# -- billing -------------------------------------------------------------------------------


def test_csr_ojol_is_billed_8400_and_apbd_ojol_16800_citing_the_rules(malang):
    """docs/regulations.md §3: the PP 50/2025 discount halves JKK+JKM for a CSR-funded ojol
    driver in 2026-11, not for one paid from the city budget (APBD)."""
    csr, apbd = make_programme(type="csr"), make_programme(type="apbd")
    a = make_membership(fundings=[(csr, "2026-01", "2026-12")])
    b = make_membership(fundings=[(apbd, "2026-01", "2026-12")])
    result = billing_run(month="2026-11")
    assert (result.bills_added, result.amount_added) == (2, 8_400 + 16_800)
    assert bill_of(a, "2026-11").amount == 8_400
    assert (
        bill_of(a, "2026-11").rule_ids.split()
        == [
            "contribution-bpu-pp44-2015",
            "discount-pp50-2025",
        ]
        or "discount" in bill_of(a, "2026-11").rule_ids
    )
    assert bill_of(b, "2026-11").amount == 16_800
    assert "discount" not in bill_of(b, "2026-11").rule_ids
    assert bill_of(a, "2026-11").gross == 16_800
    # one invoice per programme and month, holding its lines
    invoice = Invoice.objects.get(programme=csr, month=M("2026-11"))
    assert list(invoice.bills.values_list("membership", flat=True)) == [a.pk]
    assert invoice.due_on >= D(2026, 11, 15)


def test_jht_and_a_higher_income_are_priced_by_the_rules(malang):
    """A self-payer with JHT on 2,000,000: bracket base 2,000,000 → JKK 20,000 + JKM 6,800 +
    JHT 40,000, discounted 50% on JKK and JKM for a transport worker in 2026-11."""
    m = make_membership(
        fundings=[(None, "2026-01", None)], income=2_000_000, programmes=["jkk", "jkm", "jht"]
    )
    billing_run(month="2026-11")
    bill = bill_of(m, "2026-11")
    assert bill.gross == 20_000 + 6_800 + 40_000
    assert bill.amount == 10_000 + 3_400 + 40_000


def test_billing_twice_adds_nothing(malang):
    csr = make_programme()
    make_membership(fundings=[(csr, "2026-01", "2026-12")])
    first = billing_run(month="2026-11")
    again = billing_run(month="2026-11")
    assert (first.bills_added, again.bills_added, again.invoices_added) == (1, 0, 0)
    assert Bill.objects.count() == 1 and Invoice.objects.count() == 1
    assert BillingRun.objects.filter(status="done").count() == 2
    assert not BillingRun.objects.filter(lock=True).exists()


def test_start_end_and_payer_change_mid_year_bill_exactly_the_months(malang):
    csr, apbd = make_programme(type="csr"), make_programme(type="apbd")
    starts_may = make_membership(fundings=[(csr, "2026-05", "2026-12")])
    ends_march = make_membership(fundings=[(csr, "2026-01", "2026-12")], end="2026-03")
    switches = make_membership(fundings=[(apbd, "2026-01", "2026-06"), (None, "2026-07", None)])
    for month in range(1, 13):
        billing_run(month=f"2026-{month:02d}")

    def months(m):
        return [b.month.month for b in Bill.objects.filter(membership=m).order_by("month")]

    assert months(starts_may) == list(range(5, 13))
    assert months(ends_march) == [1, 2, 3]
    assert months(switches) == list(range(1, 13))
    payers = {b.month.month: b.programme_id for b in Bill.objects.filter(membership=switches)}
    assert {payers[m] for m in range(1, 7)} == {apbd.pk}
    assert {payers[m] for m in range(7, 13)} == {None}
    # the self-paid months go to the worker's own account, not a sponsor's
    assert {
        b.account for b in Bill.objects.filter(membership=switches, month__gte=M("2026-07"))
    } == {account_of_membership(switches)}


def test_an_unpaid_bill_whose_payer_changed_is_voided_and_billed_again(malang):
    csr, apbd = make_programme(type="csr"), make_programme(type="apbd")
    m = make_membership(fundings=[(csr, "2026-11", "2026-11")])
    billing_run(month="2026-11")
    assert bill_of(m, "2026-11").amount == 8_400
    m.fundings.update(programme=apbd)
    result = billing_run(month="2026-11")
    assert (result.bills_voided, result.bills_added) == (1, 1)
    assert bill_of(m, "2026-11").amount == 16_800
    assert Bill.objects.filter(membership=m, voided_at__isnull=False).count() == 1


def test_a_second_run_while_one_holds_the_lock_is_told_who_runs(malang, make_user):
    officer = make_user("bpjs_officer", "petugas1")
    held = run_start(month=M("2026-11"), user=officer)
    with pytest.raises(BillingInProgress) as refused:
        billing_run(month="2026-11")
    assert "2026" in refused.value.message or "11" in refused.value.message
    assert refused.value.status == 409
    assert Bill.objects.count() == 0
    # the holder finishes: the next run proceeds
    billing_run(month="2026-11", run=held)
    assert not BillingRun.objects.filter(lock=True).exists()
    billing_run(month="2026-12")


def test_a_dead_runs_lock_is_taken_over(malang):
    BillingRun.objects.create(
        month=M("2026-11"),
        status="running",
        lock=True,
        run_host=__import__("socket").gethostname(),
        run_pid=2**22 - 3,
        run_started=1.0,
    )
    billing_run(month="2026-11")
    assert BillingRun.objects.filter(status="failed").count() == 1


# -- allocation ------------------------------------------------------------------------------


def test_a_payment_pays_the_oldest_month_first_and_a_partial_one_leaves_a_shortfall(malang):
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    for month in ("2026-09", "2026-10", "2026-11"):
        billing_run(month=month)
    account = account_of_membership(m)
    # petani (agriculture) in 2026-09..11 is in the "other sectors" window: 8,400
    assert bill_of(m, "2026-09").amount == 8_400
    recorded = pay(account, 8_400 + 5_000, D(2026, 11, 20), "TRX-1")
    assert recorded.created and recorded.allocated == 13_400
    assert bill_of(m, "2026-09").paid_on == D(2026, 11, 20)
    october = bill_of(m, "2026-10")
    assert october.paid_on is None
    grid = {
        c.month: c for c in month_grid(m, first=M("2026-09"), last=M("2026-11"), on=D(2026, 11, 20))
    }
    assert grid[M("2026-10")].status == "partial" and grid[M("2026-10")].shortfall == 3_400
    assert grid[M("2026-11")].status == "unpaid"
    account.refresh_from_db()
    assert account.credit == 0
    assert ledger_check() == []


def test_an_overpayment_becomes_credit_spent_by_the_next_billing(malang):
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    billing_run(month="2026-10")
    account = account_of_membership(m)
    pay(account, 20_000, D(2026, 10, 5), "TRX-2")
    account.refresh_from_db()
    assert account.credit == 20_000 - 8_400
    result = billing_run(month="2026-11")
    assert result.credit_applied == 8_400
    assert bill_of(m, "2026-11").paid_on == D(2026, 10, 5)
    account.refresh_from_db()
    assert account.credit == 20_000 - 2 * 8_400
    assert ledger_check() == []


def test_prepaying_three_months_bills_and_pays_them_ahead(malang):
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="ojol")
    billing_run(month="2026-10")
    account = account_of_membership(m)
    pay(account, 8_400, D(2026, 10, 3), "TRX-3")
    recorded = pay(account, 3 * 8_400, D(2026, 10, 4), "TRX-4", prepay_months=3)
    assert recorded.bills_paid == 3
    assert [b.month for b in Bill.objects.filter(membership=m, paid_periods__isnull=False)] == [
        M("2026-10"),
        M("2026-11"),
        M("2026-12"),
        M("2027-01"),
    ]
    state = membership_state(m, D(2026, 11, 20))
    assert state.state == ACTIVE and state.through == D(2027, 1, 31)


def test_a_whole_number_of_months_with_nothing_owed_is_a_prepayment(malang):
    """Six months from 2026-11 for an ojol driver paying himself: the transport discount ends
    after 2027-03, so April costs the full 16,800 (docs/regulations.md §3)."""
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="ojol")
    billing_run(month="2026-10")
    account = account_of_membership(m)
    pay(account, 8_400, D(2026, 10, 3), "TRX-5")
    assert pay(account, 6 * 8_400, D(2026, 10, 9), "TRX-6a").payment.account is None
    recorded = pay(account, 5 * 8_400 + 16_800, D(2026, 10, 9), "TRX-6")
    assert recorded.bills_paid == 6
    assert Bill.objects.get(membership=m, month=M("2027-04")).amount == 16_800
    odd = pay(account, 1_234, D(2026, 10, 9), "TRX-7")
    assert odd.payment.account is None and odd.payment.unmatched_reason == "no_bill"


def test_the_same_reference_twice_credits_nothing_the_second_time(malang):
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    billing_run(month="2026-11")
    account = account_of_membership(m)
    first = pay(account, 8_400, D(2026, 11, 2), "BRI-001")
    again = pay(account, 8_400, D(2026, 11, 2), "BRI-001")
    assert first.created and not again.created and again.payment == first.payment
    assert Payment.objects.count() == 1 and Allocation.objects.count() == 1


def test_a_sponsor_payment_naming_its_invoice_settles_that_invoice(malang):
    csr = make_programme(type="csr")
    other = make_programme(sponsor=csr.sponsor)
    members = [make_membership(fundings=[(csr, "2026-01", "2026-12")]) for _ in range(3)]
    make_membership(fundings=[(other, "2026-01", "2026-12")])
    billing_run(month="2026-10")
    billing_run(month="2026-11")
    november = Invoice.objects.get(programme=csr, month=M("2026-11"))
    recorded = payment_record(
        reference="CSR-NOV",
        amount=3 * 8_400,
        paid_on=D(2026, 11, 10),
        source="form",
        user=None,
        payer=csr.sponsor.name,
        target=november.number,
    )
    assert recorded.payment.invoice == november
    assert all(bill_of(m, "2026-11").paid_on for m in members)
    # the older October invoice stays unpaid: the payment named November's
    assert not any(bill_of(m, "2026-10").paid_on for m in members)
    assert ledger_check() == []


def test_an_unnamed_payer_or_invoice_waits_unmatched_with_its_reason(malang):
    stranger = payment_record(
        reference="X-1",
        amount=50_000,
        paid_on=D(2026, 11, 1),
        source="form",
        user=None,
        payer="PT Tidak Dikenal",
    )
    assert stranger.payment.account is None
    assert stranger.payment.unmatched_reason == "unknown_payer"
    unknown = payment_record(
        reference="X-2",
        amount=50_000,
        paid_on=D(2026, 11, 1),
        source="form",
        user=None,
        target="INV/209911/99999",
    )
    assert unknown.payment.unmatched_reason == "unknown_reference"


def test_a_reversal_undoes_the_payment_with_entries_and_reopens_the_months(malang, make_user):
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    billing_run(month="2026-11")
    account = account_of_membership(m)
    recorded = pay(account, 10_000, D(2026, 11, 3), "TRX-9")
    officer = make_user("bpjs_officer")
    reversal = payment_reverse(payment=recorded.payment, user=officer, reason="Salah input")
    assert reversal.amount == -10_000 and reversal.reverses == recorded.payment
    bill = bill_of(m, "2026-11")
    assert bill.paid_on == D(2026, 11, 3) and bill.unpaid_from is not None
    assert Allocation.objects.filter(amount__lt=0).count() == 1
    account.refresh_from_db()
    assert account.credit == 0
    assert Payment.objects.count() == 2  # nothing deleted
    assert ledger_check() == []
    # what the ledger said before the reversal can still be asked
    assert states_of([m.pk], D(2026, 11, 20))[m.pk][0] in (ACTIVE, ARREARS)


# -- state on a date -------------------------------------------------------------------------


def test_state_moves_from_active_through_arrears_to_lapsed(malang):
    """docs/regulations.md §3: due by the 15th; 1-3 unpaid months are arrears, more lapse."""
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    for month in range(1, 13):
        billing_run(month=f"2026-{month:02d}")
    account = account_of_membership(m)
    assert states_of([m.pk], D(2026, 1, 20))[m.pk] == (PENDING, 0)
    # petani (agriculture): 16,800 until March, 8,400 in the 2026-04..12 discount window
    pay(account, 16_800 * 3, D(2026, 1, 10), "T-1")  # January to March
    assert states_of([m.pk], D(2026, 3, 31))[m.pk] == (ACTIVE, 0)
    assert states_of([m.pk], D(2026, 4, 15))[m.pk] == (ACTIVE, 0)  # April not due yet
    assert states_of([m.pk], D(2026, 4, 16))[m.pk] == (ARREARS, 1)
    assert states_of([m.pk], D(2026, 6, 20))[m.pk] == (ARREARS, 3)
    assert states_of([m.pk], D(2026, 7, 16))[m.pk] == (LAPSED, 4)
    state = membership_state(m, D(2026, 5, 20))
    assert state.state == ARREARS and state.covers["jkk_care"] == "yes"
    assert state.covers["jkm_cash"] == "after_arrears"
    assert state.since == M("2026-01") and state.through == D(2026, 6, 30)
    # paying later does not rewrite what the ledger said on an earlier date
    pay(account, 8_400 * 4, D(2026, 7, 20), "T-2")
    assert states_of([m.pk], D(2026, 7, 16))[m.pk] == (LAPSED, 4)
    assert states_of([m.pk], D(2026, 7, 21))[m.pk] == (ACTIVE, 0)
    counts = state_counts(D(2026, 7, 16))
    assert counts == {LAPSED: 1}


def test_grid_marks_the_arrears_months(malang):
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    for month in range(1, 6):
        billing_run(month=f"2026-{month:02d}")
    pay(account_of_membership(m), 16_800 * 2, D(2026, 1, 10), "G-1")
    cells = month_grid(m, first=M("2026-01"), last=M("2026-06"), on=D(2026, 5, 20))
    assert [c.status for c in cells] == ["paid", "paid", "unpaid", "unpaid", "unpaid", "not_billed"]
    assert [c.arrears for c in cells] == [False, False, True, True, True, False]


# -- the ledger check ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "plant, check",
    [
        ("UPDATE contributions_payeraccount SET credit = credit + 1", "payments_balance"),
        ("DELETE FROM contributions_billpaid", "paid_date_drift"),
        ("UPDATE contributions_billpaid SET month = '2026-10-01'", "paid_period_mismatch"),
        ("UPDATE contributions_billpaid SET bill_id = 987654", "paid_without_bill"),
        ("UPDATE contributions_allocation SET amount = amount + 100", "payments_balance"),
        # the bills' references are not database constraints (models.Bill): the check is
        ("UPDATE contributions_bill SET membership_id = 987654", "bill_without_membership"),
        ("UPDATE contributions_bill SET account_id = 987654", "bill_without_account"),
        ("UPDATE contributions_bill SET invoice_id = 987654", "bill_without_invoice"),
        ("UPDATE contributions_bill SET run_id = 987654", "bill_without_run"),
        # links without a foreign-key constraint in the database (models.Payment)
        ("UPDATE contributions_payment SET account_id = 999999", "payment_without_account"),
        ("UPDATE contributions_payment SET membership_id = 999999", "payment_without_membership"),
        ("UPDATE contributions_payment SET statement_id = 999999", "payment_without_statement"),
        ("UPDATE contributions_payment SET recorded_by_id = 999999", "payment_without_recorder"),
        ("UPDATE contributions_allocation SET payment_id = 999999", "allocation_without_payment"),
        ("UPDATE contributions_allocation SET bill_id = 999999", "allocation_without_bill"),
    ],
)
def test_the_ledger_check_names_a_planted_breach(malang, plant, check):
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    billing_run(month="2026-11")
    pay(account_of_membership(m), 10_000, D(2026, 11, 3), "P-1")
    assert ledger_check() == []
    execute(plant)
    breaches = ledger_check()
    assert check in [b.check for b in breaches]


def test_the_ledger_check_names_the_missing_reference_of_a_bill(malang):
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    billing_run(month="2026-11")
    bill = bill_of(m, "2026-11")
    execute(f"UPDATE contributions_bill SET programme_id = 424242 WHERE id = {bill.pk}")
    [breach] = [b for b in ledger_check() if b.check == "bill_without_programme"]
    assert breach.message == f"bill {bill.pk} points at programme 424242, which does not exist"


def test_the_ledger_check_catches_a_month_paid_twice(malang):
    csr = make_programme(type="csr")
    m = make_membership(fundings=[(csr, "2026-01", "2026-12")])
    billing_run(month="2026-11")
    sponsor = account_of_sponsor(csr.sponsor)
    pay(sponsor, 8_400, D(2026, 11, 3), "P-2")
    first = bill_of(m, "2026-11")
    execute(f"UPDATE contributions_bill SET voided_at = '2026-11-04' WHERE id = {first.pk}")
    billing_run(month="2026-11")
    pay(sponsor, 8_400, D(2026, 11, 5), "P-3")
    assert {"month_paid_twice", "voided_bill_paid"} <= {b.check for b in ledger_check()}


# -- the allocation engine, against a plain loop ---------------------------------------------


def _loop(funds, bills):
    out = []
    bills = [[k, a, i] for i, (k, a) in enumerate(bills)]
    for fi, (key, money) in enumerate(funds):
        for b in bills:
            if money == 0:
                break
            if b[0] == key and b[1] > 0:
                spent = min(money, b[1])
                out.append((fi, b[2], spent))
                b[1] -= spent
                money -= spent
    return sorted(out)


@settings(max_examples=200, deadline=None)
@given(
    funds=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 50)), max_size=12),
    bills=st.lists(st.tuples(st.integers(0, 3), st.integers(1, 30)), max_size=12),
)
def test_allocate_equals_a_plain_loop(funds, bills):
    spent = allocate(
        [k for k, _ in funds], [a for _, a in funds], [k for k, _ in bills], [a for _, a in bills]
    )
    got = sorted(zip(spent.fund.tolist(), spent.bill.tolist(), spent.amount.tolist(), strict=True))
    assert got == _loop(funds, bills)
    assert (np.asarray(spent.amount) > 0).all()


def test_a_worker_naming_his_own_membership_as_payer_and_target_is_matched(malang):
    m = make_membership(fundings=[(None, "2026-01", None)], occupation="petani")
    billing_run(month="2026-11")
    recorded = payment_record(
        reference="OWN-1",
        amount=8_400,
        paid_on=D(2026, 11, 3),
        source="form",
        user=None,
        payer=m.number,
        target=m.number,
    )
    assert recorded.payment.account == account_of_membership(m)
    assert recorded.bills_paid == 1
