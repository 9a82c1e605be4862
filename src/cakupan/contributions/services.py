"""Writes on the ledger for one payment at a time: record (idempotent on its reference), match
a payer, reverse, and the maker-checker assignment of an unmatched payment. Bulk statements go
through cakupan.contributions.statements; both spend money through ledger.settle."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cakupan.accounts.models import User
from cakupan.contributions.billing import PREPAY_MONTHS, prepay_bills
from cakupan.contributions.ledger import bills_refresh, credit_add, settle
from cakupan.contributions.models import (
    Allocation,
    Bill,
    BillPaid,
    Invoice,
    PayerAccount,
    Payment,
    PaymentAssignment,
)
from cakupan.errors import Refused
from cakupan.funding.models import Sponsor
from cakupan.membership.models import Membership
from cakupan.months import add_months
from cakupan.rules import contribution


class PaymentRefused(Refused):
    pass


@dataclass(frozen=True)
class Match:
    """Whose money a payment is, as far as the payer and target given tell: the account (None
    when unmatched, with the reason) and the invoice or membership it names."""

    account: PayerAccount | None
    invoice: Invoice | None
    membership: Membership | None
    reason: str  # a Payment.Unmatched value, or "" when matched


def account_of_sponsor(sponsor: Sponsor) -> PayerAccount:
    return PayerAccount.objects.get_or_create(sponsor=sponsor)[0]


def account_of_membership(membership: Membership) -> PayerAccount:
    return PayerAccount.objects.get_or_create(membership=membership)[0]


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def payer_match(*, payer: str = "", target: str = "") -> Match:
    """Match what a statement or form gives: `payer` is a sponsor's name or a membership
    number (a worker paying for himself); `target` an invoice number or a membership number.
    """
    payer, target = payer.strip(), target.strip()
    invoice = membership = None
    if target:
        invoice = Invoice.objects.select_related("programme__sponsor").filter(number=target).first()
        if invoice is None:
            membership = Membership.objects.filter(number=target).first()
        if invoice is None and membership is None:
            return Match(None, None, None, Payment.Unmatched.UNKNOWN_REFERENCE)
    sponsor = None
    if payer:
        sponsor = next((s for s in Sponsor.objects.all() if _norm(s.name) == _norm(payer)), None)
        if sponsor is None and invoice is None:
            # a worker paying for himself names his own membership as payer (and maybe target)
            own = Membership.objects.filter(number=payer).first()
            if own is not None and membership in (None, own):
                return Match(account_of_membership(own), None, own, "")
    if invoice is not None:
        owner = invoice.programme.sponsor
        if sponsor is not None and sponsor != owner:
            return Match(None, invoice, None, Payment.Unmatched.UNKNOWN_PAYER)
        return Match(account_of_sponsor(owner), invoice, None, "")
    if sponsor is not None:
        return Match(account_of_sponsor(sponsor), None, membership, "")
    if membership is not None and not payer:
        return Match(account_of_membership(membership), None, membership, "")
    return Match(None, None, membership, Payment.Unmatched.UNKNOWN_PAYER)


def outstanding(account: PayerAccount) -> int:
    """What the account's live bills still lack."""
    billed = (
        Bill.objects.filter(account=account, voided_at__isnull=True).aggregate(s=Sum("amount"))["s"]
        or 0
    )
    paid = (
        Allocation.objects.filter(bill__account=account, bill__voided_at__isnull=True).aggregate(
            s=Sum("amount")
        )["s"]
        or 0
    )
    return billed - paid


def _months_paid_ahead(match: Match, amount: int) -> int:
    """1, 3, 6 or 12 when `amount` is exactly what the membership's next that many months
    cost (each month priced by the rules engine, so a discount ending midway counts)."""
    member = match.membership or (match.account.membership if match.account else None)
    if member is None or match.account is None or match.account.membership_id is None:
        return 0
    last = (
        Bill.objects.filter(membership=member, voided_at__isnull=True)
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )
    first = add_months(last, 1) if last else timezone.localdate().replace(day=1)
    total = 0
    for n in range(1, max(PREPAY_MONTHS) + 1):
        total += contribution(
            category="bpu",
            income=member.declared_income,
            month=add_months(first, n - 1),
            programmes=[p for p in member.programmes if p == "jht"],
            sector=member.worker.occupation.sector,
            funding="self",
        ).total
        if total == amount and n in PREPAY_MONTHS:
            return n
        if total > amount:
            return 0
    return 0


@dataclass(frozen=True)
class Recorded:
    payment: Payment
    created: bool  # False: the reference was already recorded; nothing was credited again
    allocated: int  # Rupiah spent on bills now
    bills_paid: int


def payment_record(
    *,
    reference: str,
    amount: int,
    paid_on: dt.date,
    source: str,
    user: User | None,
    payer: str = "",
    target: str = "",
    account: PayerAccount | None = None,
    prepay_months: int = 0,
    note: str = "",
) -> Recorded:
    """Record one payment and spend it (ledger.settle). The reference is the idempotency key:
    a reference already recorded returns that payment, created=False, and credits nothing.
    A payment matching no payer waits in the unmatched queue with its reason."""
    reference = reference.strip()
    if not reference:
        raise PaymentRefused(
            "reference_missing",
            _("Give the payment's reference (the transfer number on the bank statement)."),
            "reference",
        )
    if amount <= 0:
        raise PaymentRefused("amount_not_positive", _("The amount must be more than 0."), "amount")
    if paid_on > timezone.localdate():
        raise PaymentRefused(
            "paid_in_future", _("The payment date is in the future; check the date."), "paid_on"
        )
    if prepay_months and prepay_months not in PREPAY_MONTHS:
        raise PaymentRefused(
            "prepay_months",
            _("Months paid ahead can be 1, 3, 6 or 12."),
            "prepay_months",
        )
    existing = Payment.objects.filter(reference=reference).first()
    if existing is not None:
        return Recorded(existing, False, 0, 0)
    match = (
        Match(account, None, None, "")
        if account is not None and not target
        else payer_match(payer=payer, target=target)
    )
    if account is not None and match.account is not None and match.account != account:
        match = Match(account, match.invoice, match.membership, "")
    if match.account is not None and not prepay_months and outstanding(match.account) <= 0:
        # nothing is owed: a worker's whole number of months is paid ahead; anything else
        # waits for an officer
        prepay_months = _months_paid_ahead(match, amount)
        if not prepay_months:
            match = Match(None, match.invoice, match.membership, Payment.Unmatched.NO_BILL)
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                reference=reference,
                account=match.account,
                amount=amount,
                paid_on=paid_on,
                source=source,
                payer_text=payer[:200],
                target_text=target[:80],
                invoice=match.invoice,
                membership=match.membership,
                unmatched_reason=match.reason,
                note=note[:200],
                recorded_by=user,
            )
            if match.account is None:
                return Recorded(payment, True, 0, 0)
            # credit first: billing the months ahead settles the account's unspent payments,
            # this one included, and the credit must already hold its money
            credit_add({match.account.pk: amount})
            if prepay_months:
                member = match.membership or match.account.membership
                if member is None:
                    raise PaymentRefused(
                        "prepay_needs_membership",
                        _("Paying months ahead needs the membership number."),
                        "target",
                    )
                last = (
                    Bill.objects.filter(membership=member, voided_at__isnull=True)
                    .order_by("-month")
                    .values_list("month", flat=True)
                    .first()
                )
                start = add_months(last, 1) if last else paid_on.replace(day=1)
                prepay_bills(membership_id=member.pk, first=start, months=prepay_months)
            settle(account_ids=[match.account.pk])
            # billing the months ahead may have spent it already: count this payment's share
            mine = Allocation.objects.filter(payment=payment)
            allocated = mine.aggregate(s=Sum("amount"))["s"] or 0
            now_paid = BillPaid.objects.filter(bill=OuterRef("bill"), unpaid_from__isnull=True)
            bills_paid = mine.filter(Exists(now_paid)).values("bill").distinct().count()
    except IntegrityError:
        # the same reference recorded by another request a moment ago
        existing = Payment.objects.filter(reference=reference).first()
        if existing is None:
            raise
        return Recorded(existing, False, 0, 0)
    return Recorded(payment, True, allocated, bills_paid)


def payment_reverse(*, payment: Payment, user: User, reason: str) -> Payment:
    """Undo a payment with entries, never an edit: a negative payment pointing at it, a
    negative allocation for each of its allocations; the bills it paid are unpaid again from
    today, and the money it left as credit leaves the payer's credit."""
    if not reason.strip():
        raise PaymentRefused("reason_missing", _("Say why the payment is reversed."), "reason")
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.reverses_id is not None:
            raise PaymentRefused(
                "is_reversal", _("This entry is itself a reversal; it cannot be reversed.")
            )
        if Payment.objects.filter(reverses=payment).exists():
            raise PaymentRefused("already_reversed", _("This payment was already reversed."))
        today = timezone.localdate()
        reversal = Payment.objects.create(
            reference=f"{payment.reference}/BATAL"[:80],
            account=payment.account,
            amount=-payment.amount,
            paid_on=today,
            source=Payment.Source.REVERSAL,
            payer_text=payment.payer_text,
            unmatched_reason=payment.unmatched_reason,
            reverses=payment,
            note=reason[:200],
            recorded_by=user,
        )
        undo = [
            Allocation(
                payment=reversal,
                bill_id=al.bill_id,
                amount=-al.amount,
                effective_on=today,
                reverses=al,
            )
            for al in payment.allocations.filter(amount__gt=0, reversed_by__isnull=True)
        ]
        Allocation.objects.bulk_create(undo)
        if payment.account_id is not None:
            spent = sum(al.amount for al in payment.allocations.all())
            # the payment's money no longer counts: what it left unspent leaves the credit
            credit_add({payment.account_id: -(payment.amount - spent)})
        bills_refresh(sorted({a.bill_id for a in undo}), reopened_on=today)
    return reversal


# -- the unmatched queue: one officer proposes, another approves -------------------------------


def unmatched_queue() -> Q:
    return Q(account__isnull=True, reverses__isnull=True, reversed_by__isnull=True)


def assignment_propose(
    *,
    payment: Payment,
    user: User,
    account: PayerAccount,
    invoice: Invoice | None = None,
    membership: Membership | None = None,
    note: str = "",
) -> PaymentAssignment:
    if payment.account_id is not None:
        raise PaymentRefused("already_matched", _("This payment already has its payer."))
    try:
        with transaction.atomic():
            return PaymentAssignment.objects.create(
                payment=payment,
                account=account,
                invoice=invoice,
                membership=membership,
                note=note[:200],
                proposed_by=user,
            )
    except IntegrityError:
        raise PaymentRefused(
            "already_proposed",
            _("Another officer already proposed a payer for this payment; approve or reject it."),
        ) from None


def assignment_decide(*, assignment: PaymentAssignment, user: User, approve: bool) -> Payment:
    """The second officer's decision. Approving gives the payment its payer and spends it."""
    if assignment.proposed_by_id == user.pk:
        raise PaymentRefused(
            "four_eyes",
            _("Another officer must approve what you proposed (four-eyes rule)."),
        )
    with transaction.atomic():
        assignment = PaymentAssignment.objects.select_for_update().get(pk=assignment.pk)
        if assignment.status != PaymentAssignment.Status.PROPOSED:
            raise PaymentRefused("already_decided", _("This proposal was already decided."))
        payment = Payment.objects.select_for_update().get(pk=assignment.payment_id)
        assignment.status = (
            PaymentAssignment.Status.APPROVED if approve else PaymentAssignment.Status.REJECTED
        )
        assignment.decided_by = user
        assignment.decided_at = timezone.now()
        assignment.save(update_fields=["status", "decided_by", "decided_at"])
        if not approve:
            return payment
        if payment.account_id is not None:
            raise PaymentRefused("already_matched", _("This payment already has its payer."))
        Payment.objects.filter(pk=payment.pk, account__isnull=True).update(
            account=assignment.account,
            invoice=assignment.invoice,
            membership=assignment.membership,
        )
        credit_add({assignment.account_id: payment.amount})
        settle(account_ids=[assignment.account_id])
        payment.refresh_from_db()
    return payment
