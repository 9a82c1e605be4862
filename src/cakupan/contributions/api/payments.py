"""API: record a payment (idempotent on its reference), read one, reverse one, and import a
payment statement. Refusals are 422 naming the field; every operation needs RECORD_PAYMENT."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from cakupan.accounts.roles import RECORD_PAYMENT
from cakupan.apikit import Text, auth_for
from cakupan.contributions.models import Payment
from cakupan.contributions.payment_reads import payment_facts
from cakupan.contributions.services import PaymentRefused, payment_record, payment_reverse
from cakupan.contributions.statements import StatementRefused, statement_import
from cakupan.money import MAX_RUPIAH

router = Router(tags=["payments"])

MAX_STATEMENT_MB = 200


class PaymentIn(Schema):
    reference: Text = Field(
        ..., max_length=80, description="The transfer's reference: the idempotency key"
    )
    amount: int = Field(..., description="Whole Rupiah, more than 0 (at most 10^13)")
    paid_on: dt.date
    payer: Text = Field(
        "",
        max_length=200,
        description="A sponsor's name, or the membership number of a worker paying for himself",
    )
    invoice: Text = Field("", max_length=80, description="The invoice the payment settles")
    membership: Text = Field("", max_length=80, description="The membership the payment is for")
    prepay_months: Literal[0, 1, 3, 6, 12] = Field(0, description="Months paid ahead by a worker")
    note: Text = Field("", max_length=200)


class AllocationOut(Schema):
    month: dt.date
    membership: str
    amount: int
    shortfall: int = Field(..., description="What the month's bill still lacks (0: paid)")


class PaymentOut(Schema):
    reference: str
    amount: int
    paid_on: dt.date
    source: str
    payer: str = Field(..., description="The payer as given")
    target: str = Field(..., description="The invoice or membership as given")
    matched: bool
    account: str | None = Field(None, description="Whose account the money went to")
    invoice: str | None
    membership: str | None
    unmatched_reason: str = Field(
        ..., description="unknown_reference, unknown_payer, no_bill or empty"
    )
    unmatched_reason_text: str
    allocations: list[AllocationOut]
    allocated: int
    credit: int | None = Field(None, description="The payer account's credit now")
    reversed_by: str | None
    reverses: str | None
    already_recorded: bool = False


class ReversalIn(Schema):
    reason: Text = Field(..., max_length=200)


class StatementProblemOut(Schema):
    row: int
    column: str
    severity: str = Field(..., description="rejected: not saved; warning: saved, waits unmatched")
    code: str
    problem: str
    fix: str


class StatementOut(Schema):
    saved: bool
    statement_id: int | None
    message: str = Field(..., description="Why nothing was saved, when nothing was")
    counts: dict[str, int]
    problems: list[StatementProblemOut] = Field(..., description="The row report (the first 1000)")


def _out(payment: Payment, *, already: bool = False) -> dict:
    return {**payment_facts(payment), "already_recorded": already}


def _payment(reference: str) -> Payment:
    payment = (
        Payment.objects.select_related("account__sponsor", "account__membership", "invoice")
        .filter(reference=reference)
        .first()
    )
    if payment is None:
        raise Http404(_("No payment with the reference %(ref)s.") % {"ref": reference})
    return payment


@router.post(
    "/payments",
    response={201: PaymentOut, 200: PaymentOut},
    summary="Record a payment (a reference already recorded: 200, nothing credited again)",
    auth=auth_for(RECORD_PAYMENT),
)
def payment_create(request: HttpRequest, payload: PaymentIn) -> Status:
    if payload.invoice.strip() and payload.membership.strip():
        raise PaymentRefused(
            "two_targets",
            _("Give the invoice or the membership number, not both."),
            "membership",
        )
    if payload.amount <= 0:
        raise PaymentRefused("amount_not_positive", _("The amount must be more than 0."), "amount")
    if payload.amount > MAX_RUPIAH:
        raise PaymentRefused(
            "amount_too_large",
            _("The amount is larger than any payment can be; check it."),
            "amount",
        )
    recorded = payment_record(
        reference=payload.reference,
        amount=payload.amount,
        paid_on=payload.paid_on,
        source=Payment.Source.API,
        user=request.auth,
        payer=payload.payer,
        target=payload.invoice.strip() or payload.membership.strip(),
        prepay_months=payload.prepay_months,
        note=payload.note,
    )
    payment = _payment(recorded.payment.reference)
    return Status(201 if recorded.created else 200, _out(payment, already=not recorded.created))


@router.post(
    "/payments/{path:reference}/reversal",
    response={201: PaymentOut},
    summary="Reverse a payment: its months are unpaid again, never edited or deleted",
    auth=auth_for(RECORD_PAYMENT),
)
def payment_reversal(request: HttpRequest, reference: str, payload: ReversalIn) -> Status:
    payment = _payment(reference)
    reversal = payment_reverse(payment=payment, user=request.auth, reason=payload.reason)
    return Status(201, _out(_payment(reversal.reference)))


@router.get(
    "/payments/{path:reference}",
    response=PaymentOut,
    summary="A payment, how it was spent, and whether it was reversed",
    auth=auth_for(RECORD_PAYMENT),
)
def payment_get(request: HttpRequest, reference: str) -> dict:
    return _out(_payment(reference))


@router.post(
    "/statements",
    response={201: StatementOut, 200: StatementOut},
    summary="Import a payment statement (CSV or XLSX): 201 when saved, 200 when only checked",
    auth=auth_for(RECORD_PAYMENT),
)
def statement_create(
    request: HttpRequest,
    file: Annotated[
        UploadedFile, File(description="reference, payer, amount, date[, invoice, membership]")
    ],
    partial: Annotated[bool, Form(description="Save the good rows when some are refused")] = False,
    dry_run: Annotated[bool, Form(description="Check only; save nothing")] = False,
) -> Status:
    name = file.name or "statement.csv"
    if not name.lower().endswith((".csv", ".txt", ".tsv", ".xlsx", ".xlsm")):
        raise StatementRefused("file_type", _("Upload a .csv or .xlsx file."), "file")
    if file.size and file.size > MAX_STATEMENT_MB * 1024 * 1024:
        raise StatementRefused(
            "file_too_large",
            _("The file is larger than %(mb)s MB; split it.") % {"mb": MAX_STATEMENT_MB},
            "file",
        )
    with tempfile.TemporaryDirectory(prefix="cakupan-statement-") as folder:
        path = Path(folder) / ("statement" + Path(name).suffix.lower())
        with path.open("wb") as f:
            for chunk in file.chunks():
                f.write(chunk)
        result = statement_import(
            path, user=request.auth, partial=partial, dry_run=dry_run, original_name=name
        )
    body = {
        "saved": result.saved,
        "statement_id": result.statement.pk if result.statement else None,
        "message": result.refused_reason,
        "counts": result.counts,
        "problems": result.problems,
    }
    return Status(201 if result.saved else 200, body)
