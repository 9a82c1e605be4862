"""API: billing a month in the background, its runs, and the sponsors' invoices."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest
from ninja import Field, Path, Query, Router, Schema
from ninja.responses import Status

from cakupan.accounts.roles import RUN_BILLING, VIEW_LEDGER
from cakupan.apikit import Text, auth_for
from cakupan.contributions.invoices import invoice_scope, invoice_totals
from cakupan.contributions.models import BillingRun
from cakupan.contributions.tasks import billing_runs_reap, billing_start
from cakupan.errors import Refused
from cakupan.months import MonthInvalid, parse_month

router = Router(tags=["billing"])


class BillingRunIn(Schema):
    month: Text = Field(..., max_length=7, description="The contribution month, YYYY-MM")


class BillingRunOut(Schema):
    id: int
    month: str
    status: str = Field(..., description="queued, running, done or failed")
    stage: str
    started_by: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None
    bills_added: int
    amount_added: int
    bills_voided: int
    invoices_added: int
    credit_applied: int
    message: str


class InvoiceOut(Schema):
    id: int
    number: str
    programme_id: int
    programme: str
    sponsor: str
    month: str
    issued_on: dt.date
    due_on: dt.date
    lines: int
    gross: int
    discount: int
    amount: int
    paid: int
    outstanding: int


def _run_out(run: BillingRun) -> dict:
    return {
        "id": run.pk,
        "month": run.month.strftime("%Y-%m"),
        "status": run.status,
        "stage": run.stage,
        "started_by": run.started_by.get_username() if run.started_by else None,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "bills_added": run.bills_added,
        "amount_added": run.amount_added,
        "bills_voided": run.bills_voided,
        "invoices_added": run.invoices_added,
        "credit_applied": run.credit_applied,
        "message": run.message,
    }


def _month(text: str, field: str = "month"):
    try:
        return parse_month(text)
    except MonthInvalid as e:
        raise Refused("month_invalid", str(e), field) from None


@router.post(
    "/billing-runs",
    response={202: BillingRunOut},
    summary="Bill a month in the background (409 while another billing runs)",
    auth=auth_for(RUN_BILLING),
    openapi_extra={
        "responses": {
            "409": {
                "description": "Another billing is in progress: the message says which month, "
                "who started it and when",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/FieldProblems"}}
                },
            }
        }
    },
)
def billing_run_post(request: HttpRequest, payload: BillingRunIn) -> Status:
    billing_runs_reap()
    run = billing_start(month=_month(payload.month), user=request.auth)
    return Status(202, _run_out(run))


@router.get(
    "/billing-runs/{run_id}",
    response=BillingRunOut,
    summary="A billing run: its stage while it runs, then its result",
    auth=auth_for(RUN_BILLING),
)
def billing_run_get(request: HttpRequest, run_id: int = Path(..., ge=1, le=2**53)) -> dict:
    billing_runs_reap()
    run = BillingRun.objects.select_related("started_by").filter(pk=run_id).first()
    if run is None:
        raise Http404(f"Penagihan dengan id {run_id} tidak ditemukan.")
    return _run_out(run)


class InvoiceFilter(Schema):
    programme: int | None = Field(None, ge=1, le=2**53)
    month: Text | None = Field(None, max_length=7, description="YYYY-MM")


@router.get(
    "/invoices",
    response=list[InvoiceOut],
    summary="Sponsor invoices with totals, paid and outstanding (a sponsor sees its own)",
    auth=auth_for(VIEW_LEDGER),
)
def invoices(request: HttpRequest, filters: Query[InvoiceFilter]) -> list[dict]:
    qs = invoice_scope(user=request.auth)
    if filters.programme:
        qs = qs.filter(programme_id=filters.programme)
    if filters.month:
        qs = qs.filter(month=_month(filters.month))
    found = list(qs[:1000])
    totals = invoice_totals(i.pk for i in found)
    return [
        {
            "id": i.pk,
            "number": i.number,
            "programme_id": i.programme_id,
            "programme": i.programme.name,
            "sponsor": i.programme.sponsor.name,
            "month": i.month.strftime("%Y-%m"),
            "issued_on": i.issued_on,
            "due_on": i.due_on,
            "lines": totals[i.pk].lines,
            "gross": totals[i.pk].gross,
            "discount": totals[i.pk].discount,
            "amount": totals[i.pk].amount,
            "paid": totals[i.pk].paid,
            "outstanding": totals[i.pk].outstanding,
        }
        for i in found
    ]
