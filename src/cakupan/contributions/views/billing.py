"""Ledger pages: the overview, billing a month in the background, sponsor invoices and their
files, and the lapse forecast with its outreach list."""

from __future__ import annotations

import datetime as dt
import io

from django.contrib.auth.decorators import login_required, permission_required
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cakupan.accounts.models import User
from cakupan.accounts.roles import RUN_BILLING, VIEW_FULL_PHONE, VIEW_LEDGER, Role
from cakupan.contributions.billing import BillingInProgress
from cakupan.contributions.forecast import REASONS, lapse_forecast, lapse_rows
from cakupan.contributions.invoices import (
    file_name,
    invoice_csv,
    invoice_lines,
    invoice_pdf,
    invoice_scope,
    invoice_totals,
    invoice_xlsx,
)
from cakupan.contributions.models import BillingRun
from cakupan.contributions.selectors import STATE_LABELS
from cakupan.contributions.tasks import billing_runs_reap, billing_start
from cakupan.exports import csv_lines, xlsx_stream_append
from cakupan.funding.selectors import programme_scope, sponsor_scope
from cakupan.months import MonthInvalid, add_months, parse_month
from cakupan.registry.models import NikAccessLog, Worker
from cakupan.registry.phones import mask_phone
from cakupan.registry.services import access_log_write

INVOICE_PAGE_LINES = 200


def _english() -> bool:
    return (get_language() or "id").startswith("en")


def _month_error(e: MonthInvalid) -> str:
    return e.message_en if _english() else str(e)


def _sponsor_ids(user: User) -> list[int] | None:
    """The sponsors whose members a user may see in the forecast (None: everyone's)."""
    if user.role == Role.SPONSOR and not user.is_superuser:
        return list(sponsor_scope(user=user).values_list("pk", flat=True))
    return None


def _on_date(request: HttpRequest) -> tuple[dt.date, str]:
    """The forecast's date from ?on=YYYY-MM-DD (today when absent), and an error if unreadable."""
    text = request.GET.get("on", "")[:10]
    today = timezone.localdate()
    if not text:
        return today, ""
    try:
        return dt.date.fromisoformat(text), ""
    except ValueError:
        return today, _("The date %(value)s is not understood; write it as YYYY-MM-DD.") % {
            "value": text
        }


def _with_totals(invoices) -> list:
    invoices = list(invoices)
    totals = invoice_totals(i.pk for i in invoices)
    return [(i, totals[i.pk]) for i in invoices]


@login_required
@permission_required(VIEW_LEDGER, raise_exception=True)
def overview(request: HttpRequest) -> HttpResponse:
    """The ledger's front page: recent billing runs, recent invoices, next month's forecast."""
    can_bill = request.user.has_perm(RUN_BILLING)
    if can_bill:
        billing_runs_reap()
    return render(
        request,
        "contributions/billing_overview.html",
        {
            "can_bill": can_bill,
            "runs": BillingRun.objects.select_related("started_by")[:10] if can_bill else [],
            "invoices": _with_totals(invoice_scope(user=request.user)[:20]),
        },
    )


@login_required
@permission_required(VIEW_LEDGER, raise_exception=True)
def forecast_summary(request: HttpRequest) -> HttpResponse:
    """htmx: next month's forecast counts for the overview, fetched after the page shows (on a
    million memberships the forecast takes seconds)."""
    forecast = lapse_forecast(timezone.localdate(), sponsor_ids=_sponsor_ids(request.user))
    reasons = {k: str(v) for k, v in REASONS.items()}
    return render(
        request,
        "contributions/billing_forecast_summary.html",
        {
            "forecast": forecast,
            "by_reason": [(reasons[k], k, n) for k, n in sorted(forecast.by_reason.items())],
        },
    )


# -- billing -------------------------------------------------------------------------------


@login_required
@permission_required(RUN_BILLING, raise_exception=True)
def billing_start_view(request: HttpRequest) -> HttpResponse:
    """Choose a month and bill it in the background; past runs below."""
    billing_runs_reap()
    error = ""
    refused: BillingInProgress | None = None
    month_text = request.POST.get("month", "")[:20] if request.method == "POST" else ""
    if request.method == "POST":
        try:
            month = parse_month(month_text)
        except MonthInvalid as e:
            error = _month_error(e)
        else:
            try:
                run = billing_start(month=month, user=request.user)
            except BillingInProgress as e:
                refused = e
            else:
                return redirect("contributions:billing_run", pk=run.pk)
    running = BillingRun.objects.filter(lock=True).select_related("started_by").first()
    context = {
        "month": month_text or add_months(timezone.localdate().replace(day=1), 1).strftime("%Y-%m"),
        "error": error,
        "refused": refused.message if refused else "",
        "running": running,
        "runs": BillingRun.objects.select_related("started_by")[:50],
    }
    status = 409 if refused else (400 if error else 200)
    return render(request, "contributions/billing_start.html", context, status=status)


@login_required
@permission_required(RUN_BILLING, raise_exception=True)
def billing_run_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A run's stage while it runs (the page polls), then its result."""
    billing_runs_reap()
    run = BillingRun.objects.select_related("started_by").filter(pk=pk).first()
    if run is None:
        raise Http404
    invoices = (
        _with_totals(invoice_scope(user=request.user).filter(month=run.month))
        if run.status == BillingRun.Status.DONE
        else []
    )
    context = {"run": run, "running": run.lock is True, "invoices": invoices}
    if request.htmx:
        return render(request, "contributions/billing_run_status.html", context)
    return render(request, "contributions/billing_run.html", context)


# -- invoices ------------------------------------------------------------------------------


@login_required
@permission_required(VIEW_LEDGER, raise_exception=True)
def invoice_list(request: HttpRequest) -> HttpResponse:
    invoices = invoice_scope(user=request.user)
    programme = request.GET.get("programme", "")[:12]
    month_text = request.GET.get("month", "")[:20]
    error = ""
    if programme.isdigit():
        invoices = invoices.filter(programme_id=int(programme))
    if month_text:
        try:
            invoices = invoices.filter(month=parse_month(month_text))
        except MonthInvalid as e:
            error = _month_error(e)
    return render(
        request,
        "contributions/billing_invoices.html",
        {
            "rows": _with_totals(invoices[:500]),
            "programmes": programme_scope(user=request.user),
            "programme": programme,
            "month": month_text,
            "error": error,
        },
    )


def _invoice_or_404(request: HttpRequest, pk: int):
    invoice = invoice_scope(user=request.user).filter(pk=pk).first()
    if invoice is None:
        raise Http404
    return invoice


@login_required
@permission_required(VIEW_LEDGER, raise_exception=True)
def invoice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    invoice = _invoice_or_404(request, pk)
    totals = invoice_totals([invoice.pk])[invoice.pk]
    return render(
        request,
        "contributions/billing_invoice.html",
        {
            "invoice": invoice,
            "totals": totals,
            "lines": list(invoice_lines(invoice, limit=INVOICE_PAGE_LINES)),
            "more": max(0, totals.lines - INVOICE_PAGE_LINES),
        },
    )


@login_required
@permission_required(VIEW_LEDGER, raise_exception=True)
def invoice_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The invoice as CSV (streamed), XLSX or PDF."""
    invoice = _invoice_or_404(request, pk)
    totals = invoice_totals([invoice.pk])[invoice.pk]
    if fmt == "csv":
        response = StreamingHttpResponse(
            invoice_csv(invoice, totals), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{file_name(invoice, "csv")}"'
        return response
    if fmt == "xlsx":
        return FileResponse(
            io.BytesIO(invoice_xlsx(invoice, totals)),
            as_attachment=True,
            filename=file_name(invoice, "xlsx"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    if fmt == "pdf":
        return FileResponse(
            io.BytesIO(invoice_pdf(invoice, totals)),
            as_attachment=True,
            filename=file_name(invoice, "pdf"),
            content_type="application/pdf",
        )
    raise Http404


# -- lapse forecast ------------------------------------------------------------------------


@login_required
@permission_required(VIEW_LEDGER, raise_exception=True)
def forecast_view(request: HttpRequest) -> HttpResponse:
    on, error = _on_date(request)
    forecast = lapse_forecast(on, sponsor_ids=_sponsor_ids(request.user))
    reasons = {k: str(v) for k, v in REASONS.items()}
    return render(
        request,
        "contributions/billing_forecast.html",
        {
            "forecast": forecast,
            "on": on,
            "error": error,
            "reasons": reasons,
            "by_reason": [(reasons[k], k, n) for k, n in sorted(forecast.by_reason.items())],
            "by_sponsor": [(s, reasons[r], n) for s, r, n in forecast.by_sponsor],
            "by_kelurahan": [(k, reasons[r], n) for k, r, n in forecast.by_kelurahan],
        },
        status=400 if error else 200,
    )


def _outreach_heading() -> list[str]:
    return [
        _("Name"),
        _("Phone"),
        _("Kelurahan"),
        _("Reason"),
        _("Months unpaid"),
        _("Membership number"),
        _("Sponsor"),
        _("State on the check date"),
    ]


def _outreach_rows(request: HttpRequest, on: dt.date):
    """The forecast's rows as exported: phones whole for users with the right, masked for the
    others (registry.services.personal_display's rule), every row written to the access log
    (action export) in one bulk insert per chunk."""
    whole = request.user.has_perm(VIEW_FULL_PHONE)
    reasons = {k: str(v) for k, v in REASONS.items()}
    states = {k: str(v) for k, v in STATE_LABELS.items()}
    chunk: list = []

    def flush():
        access_log_write(
            user=request.user,
            action=NikAccessLog.Action.EXPORT,
            workers=[Worker(pk=r.worker_id) for r in chunk],
            path=request.path,
        )
        for r in chunk:
            yield [
                r.name,
                (r.phone if whole else mask_phone(r.phone)) if r.phone else "",
                r.kelurahan,
                reasons[r.reason],
                r.months_unpaid,
                r.membership_number,
                r.sponsor or _("self-paid"),
                states[r.state_next],
            ]

    for row in lapse_rows(on, sponsor_ids=_sponsor_ids(request.user)):
        chunk += [row]
        if len(chunk) == 2000:
            yield from flush()
            chunk = []
    if chunk:
        yield from flush()


@login_required
@permission_required(VIEW_LEDGER, raise_exception=True)
def forecast_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The outreach list: who to call before next month, with why."""
    on, error = _on_date(request)
    if error:
        return render(request, "web/error.html", {"code": 400, "message": error}, status=400)
    month = add_months(on.replace(day=1), 1)
    name = f"prakiraan-putus-{month:%Y-%m}"
    if fmt == "csv":
        response = StreamingHttpResponse(
            csv_lines(_outreach_heading(), _outreach_rows(request, on)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(_("Outreach"))
        xlsx_stream_append(sheet, [_("Forecast for"), month], {1: "MM/YYYY"})
        xlsx_stream_append(sheet, [_("Made on"), on], {1: "DD/MM/YYYY"})
        xlsx_stream_append(sheet, [])
        xlsx_stream_append(sheet, _outreach_heading())
        for row in _outreach_rows(request, on):
            xlsx_stream_append(sheet, row)
        out = io.BytesIO()
        book.save(out)
        out.seek(0)
        return FileResponse(
            out,
            as_attachment=True,
            filename=f"{name}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    raise Http404
