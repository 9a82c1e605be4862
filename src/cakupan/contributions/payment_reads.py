"""Reads for the payment pages and API: one payment as facts (how it was spent, what its months
still lack, the payer's credit), recent payments, the unmatched queue."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet, Sum

from cakupan.contributions.models import Allocation, Payment, PaymentAssignment
from cakupan.contributions.services import unmatched_queue


def account_name(account) -> str:
    """A payer account as a person reads it: the sponsor's name, or the worker's membership."""
    if account is None:
        return ""
    if account.sponsor_id:
        return account.sponsor.name
    return f"{account.membership.number} (mandiri)"


def payment_allocations(payment: Payment) -> list[dict]:
    """The payment's allocations, oldest month first: month, membership, amount, and what the
    bill still lacks now (its shortfall; 0 when paid)."""
    rows = list(
        Allocation.objects.filter(payment=payment)
        .select_related("bill__membership")
        .order_by("bill__month", "bill__membership__number", "id")
    )
    bill_ids = {a.bill_id for a in rows}
    paid = dict(
        Allocation.objects.filter(bill_id__in=bill_ids)
        .values("bill_id")
        .annotate(s=Sum("amount"))
        .values_list("bill_id", "s")
    )
    return [
        {
            "month": a.bill.month,
            "membership": a.bill.membership.number,
            "amount": a.amount,
            "shortfall": max(a.bill.amount - (paid.get(a.bill_id) or 0), 0),
        }
        for a in rows
    ]


def payment_facts(payment: Payment) -> dict:
    allocations = payment_allocations(payment)
    reversal = Payment.objects.filter(reverses=payment).values_list("reference", flat=True).first()
    return {
        "reference": payment.reference,
        "amount": payment.amount,
        "paid_on": payment.paid_on,
        "source": payment.source,
        "payer": payment.payer_text,
        "target": payment.target_text,
        "matched": payment.account_id is not None,
        "account": account_name(payment.account) or None,
        "invoice": payment.invoice.number if payment.invoice_id else None,
        "membership": payment.membership.number if payment.membership_id else None,
        "unmatched_reason": payment.unmatched_reason if payment.account_id is None else "",
        "unmatched_reason_text": (
            str(payment.get_unmatched_reason_display()) if payment.account_id is None else ""
        ),
        "allocations": allocations,
        "allocated": sum(a["amount"] for a in allocations),
        "credit": payment.account.credit if payment.account_id else None,
        "reversed_by": reversal,
        "reverses": payment.reverses.reference if payment.reverses_id else None,
    }


def payments_recent(*, search: str = "", limit: int = 100) -> QuerySet[Payment]:
    """The latest payments, optionally those whose reference, payer, sponsor or membership
    holds `search`."""
    qs = Payment.objects.select_related(
        "account__sponsor", "account__membership", "invoice", "membership"
    ).order_by("-recorded_at", "-id")
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(reference__icontains=search)
            | Q(payer_text__icontains=search)
            | Q(account__sponsor__name__icontains=search)
            | Q(account__membership__number__icontains=search)
            | Q(target_text__icontains=search)
        )
    return qs[:limit]


def unmatched_waiting() -> QuerySet[Payment]:
    """Payments waiting for their payer, oldest first, each with its open proposal if any."""
    proposals = PaymentAssignment.objects.select_related(
        "account__sponsor", "account__membership", "invoice", "membership", "proposed_by"
    )
    return (
        Payment.objects.filter(unmatched_queue())
        .order_by("paid_on", "id")
        .prefetch_related(Prefetch("assignments", queryset=proposals))
    )


def open_proposal(payment: Payment) -> PaymentAssignment | None:
    return next(
        (a for a in payment.assignments.all() if a.status == PaymentAssignment.Status.PROPOSED),
        None,
    )
