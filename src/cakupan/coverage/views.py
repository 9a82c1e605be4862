"""Pages of coverage: the UCJ dashboard, the drill-down by region, the lists behind the figures
and their files, who is not covered, next month's lapse risk, building the snapshots, and a
sponsor's impact. Thin: parse, call a selector
(the charts' figures: coverage.figures), render."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
from collections.abc import Iterable, Iterator

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cakupan.accounts.roles import (
    EXPORT_WORKER,
    REBUILD_SNAPSHOT,
    VIEW_COVERAGE,
    VIEW_IMPACT,
    require_any,
)
from cakupan.contributions.forecast import REASONS, forecast_latest, forecast_pending, stored_rows
from cakupan.contributions.models import ForecastRun
from cakupan.contributions.tasks import forecast_request
from cakupan.coverage import charts, figures, reports, selectors
from cakupan.coverage.models import Scenario, Snapshot
from cakupan.coverage.snapshots import snapshot_build
from cakupan.errors import Refused
from cakupan.exports import csv_lines, csv_writer, xlsx_stream_append
from cakupan.months import MonthInvalid, add_months, parse_month
from cakupan.regions.models import Level
from cakupan.registry.models import NikAccessLog, Sex, Worker
from cakupan.registry.nik import mask_nik
from cakupan.registry.phones import mask_phone
from cakupan.registry.services import personal_display

# the chart pages: Plotly's own two stylesheets allowed by their hashes (see charts.py)
with_charts = csp_update({"style-src": charts.PLOTLY_STYLE_HASHES})
CODE = re.compile(r"^\d{2}\.\d{2}(\.\d{2}(\.\d{4})?)?$")


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _month(request: HttpRequest) -> dt.date | None:
    text = request.GET.get("bulan", "")[:7]
    if not text:
        return None
    try:
        return parse_month(text)
    except MonthInvalid:
        return None


def _snapshot(request: HttpRequest) -> Snapshot:
    """The snapshot the page is about (?bulan=YYYY-MM; the latest closed month by default)."""
    snapshot = selectors.snapshot_of(_month(request))
    if snapshot is None:
        raise Http404
    return snapshot


def _int_param(request: HttpRequest, name: str) -> int | None:
    text = request.GET.get(name, "")[:9]
    return int(text) if text.isdigit() else None


def _filters(request: HttpRequest) -> selectors.Filters:
    g = request.GET
    region = g.get("wilayah", "")[:13]
    if region and not (CODE.match(region) and selectors.in_city(region)):
        region = ""
    sex = g.get("jk", "")[:1]
    return selectors.Filters(
        region=region,
        occupation=_int_param(request, "pekerjaan"),
        sex=sex if sex in dict(Sex.choices) else "",
        age_band=_int_param(request, "usia"),
        decile=_int_param(request, "desil"),
        programme=_int_param(request, "program"),
    )


def _status_word(snapshot: Snapshot) -> str:
    return str(snapshot.get_status_display())


def _chart_for(request: HttpRequest, key: str) -> charts.Chart:
    """One chart of a page, for its CSV (?bulan=, ?wilayah= as on the page)."""
    snapshot = _snapshot(request)
    region = request.GET.get("wilayah", "")[:13]
    if key == "kelurahan":
        if not (CODE.match(region) and selectors.in_city(region)):
            raise Http404
        return figures.region_chart(snapshot, region, "kelurahan", _("Coverage by kelurahan"))
    if key == "peserta":
        return figures.split_chart(selectors.headline(snapshot))
    if key in figures.GROUP_CHARTS:  # of the city, or of the region of the page
        return figures.group_charts(snapshot, _filters(request), (key,))[key]
    if key in ("belum-kelurahan", "belum-pekerjaan"):
        return figures.uncovered_charts(snapshot, _filters(request))[key.replace("-", "_")]
    found = figures.dashboard_charts(snapshot, None)
    if key not in found:
        raise Http404
    return found[key]


# -- the dashboard ----------------------------------------------------------------------------


def _no_snapshot(
    request: HttpRequest, build: dict | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "coverage/no_snapshot.html",
        {
            "can_build": request.user.has_perm(REBUILD_SNAPSHOT),
            "months": selectors.months_to_build(),
            **(build or {}),
        },
        status=status,
    )


def _dashboard(request: HttpRequest, build: dict | None = None, status: int = 200) -> HttpResponse:
    """The dashboard; `build`: the build form's error and reason, when it was refused."""
    month = _month(request)
    snapshot = selectors.snapshot_of(month)
    if snapshot is None:
        if month is not None and selectors.latest() is not None:
            raise Http404
        return _no_snapshot(request, build, status)
    head = selectors.headline(snapshot)
    return render(
        request,
        "coverage/dashboard.html",
        {
            "snapshot": snapshot,
            "snapshots": selectors.snapshot_months(),
            "head": head,
            "charts": figures.with_csv(
                figures.dashboard_charts(snapshot, head), {"bulan": snapshot.month}
            ),
            "can_build": request.user.has_perm(REBUILD_SNAPSHOT),
            "months": selectors.months_to_build(),
            "as_of": figures.as_of(snapshot),
            "lapse": forecast_latest(),
            **(build or {}),
        },
        status=status,
    )


@login_required
@with_charts
def dashboard(request: HttpRequest) -> HttpResponse:
    require_any(request.user, VIEW_COVERAGE)
    return _dashboard(request)


@login_required
@with_charts
def region(request: HttpRequest, code: str) -> HttpResponse:
    """A kecamatan: its kelurahan's bars, each opening its list of workers."""
    require_any(request.user, VIEW_COVERAGE)
    if not (CODE.match(code) and selectors.in_city(code)):
        raise Http404
    snapshot = _snapshot(request)
    path = selectors.region_path(code)
    if not path or path[-1].level != Level.KECAMATAN:
        if path and path[-1].level == Level.VILLAGE:
            return redirect(figures.list_url(snapshot, selectors.REGISTERED, wilayah=code))
        raise Http404
    filters = selectors.Filters(region=code)
    return render(
        request,
        "coverage/region.html",
        {
            "snapshot": snapshot,
            "region": path[-1],
            "path": path,
            "area": selectors.area_of(snapshot, code),
            "count": selectors.counts(snapshot, filters),
            **figures.with_csv(
                {
                    "chart": figures.region_chart(
                        snapshot, code, "kelurahan", _("Coverage by kelurahan")
                    ),
                    "occupations_chart": figures.group_charts(snapshot, filters, ("pekerjaan",))[
                        "pekerjaan"
                    ],
                },
                {"bulan": snapshot.month, "wilayah": code},
            ),
            "list_url": figures.list_url(snapshot, selectors.REGISTERED, wilayah=code),
            "as_of": figures.as_of(snapshot),
        },
    )


@login_required
def chart_csv(request: HttpRequest, key: str) -> HttpResponse:
    """The figures of one chart as CSV (the numbers behind its bars)."""
    require_any(request.user, VIEW_COVERAGE)
    chart = _chart_for(request, key)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv_writer(out)
    writer.writerow(chart.headers)
    writer.writerows(chart.rows)
    if chart.note:
        writer.writerow([])
        writer.writerow([_("Source"), chart.note])
    response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{chart.filename}.csv"'
    return response


# -- the list behind a figure -----------------------------------------------------------------


def _status(request: HttpRequest) -> str:
    status = request.GET.get("status", "")[:12]
    return status if status in selectors.STATUSES else selectors.REGISTERED


def _list_context(
    request: HttpRequest, snapshot: Snapshot, status: str, filters: selectors.Filters
) -> dict:
    ids = selectors.list_page_ids(snapshot, status, filters)
    page = Paginator(ids, settings.CAKUPAN_PAGE_SIZE).get_page(request.GET.get("page"))
    workers = selectors.workers_in_order(page.object_list)
    query = {"bulan": f"{snapshot.month:%Y-%m}", "status": status, **filters.query()}
    return {
        "snapshot": snapshot,
        "status": status,
        "status_label": selectors.STATUSES[status],
        "statuses": [(k, v) for k, v in selectors.STATUSES.items()],
        "filters": filters,
        "words": figures.filter_words(filters),
        "count": selectors.counts(snapshot, filters),
        "page": page,
        "rows": [(w, mask_nik(w.nik)) for w in workers],
        "query": urlencode(query),
        "can_export": request.user.has_perm(EXPORT_WORKER),
        "as_of": figures.as_of(snapshot),
    }


@login_required
def workers(request: HttpRequest) -> HttpResponse:
    """The workers behind a figure: a month's registered, member, active or not-active
    workers under the filters, from the month's bitmaps."""
    require_any(request.user, VIEW_COVERAGE)
    context = _list_context(request, _snapshot(request), _status(request), _filters(request))
    return render(request, "coverage/workers.html", context)


def _export_heading() -> list[str]:
    return [
        _("Name"),
        "NIK",
        _("Phone"),
        _("Sex"),
        _("Birth date"),
        _("Kelurahan"),
        _("Kecamatan"),
        _("Occupation"),
        _("Status in the month"),
    ]


def _export_rows(request: HttpRequest, ids: Iterable[int], status_label: str) -> Iterator[list]:
    """The list's rows for a file: NIK masked always (an outreach list needs the phone, not
    the NIK), phone whole for users with the right; every whole phone shown is written to the
    access log (registry.services.personal_display), a chunk at a time."""
    for chunk in _chunks(ids, 2000):
        batch = selectors.workers_in_order(chunk)
        shown = personal_display(
            user=request.user,
            workers=batch,
            action=NikAccessLog.Action.EXPORT,
            path=request.path,
            nik_masked=True,
        )
        for w in batch:
            yield [
                w.full_name,
                shown[w.pk].nik,
                shown[w.pk].phone,
                w.sex,
                w.birth_date,
                w.kelurahan.name,
                w.kelurahan.parent.name if w.kelurahan.parent else "",
                w.occupation.name,
                status_label,
            ]


@login_required
def workers_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The list as CSV or XLSX, for outreach."""
    require_any(request.user, VIEW_COVERAGE)
    require_any(request.user, EXPORT_WORKER)
    snapshot = _snapshot(request)
    status = _status(request)
    ids = selectors.list_ids(snapshot, status, _filters(request))
    label = str(selectors.STATUSES[status])
    name = f"cakupan-{status}-{snapshot.month:%Y-%m}"
    if fmt == "csv":

        def rows() -> Iterator[list]:
            for row in _export_rows(request, ids, label):
                row[4] = row[4].isoformat()
                yield row

        response = StreamingHttpResponse(
            csv_lines(_export_heading(), rows()), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(f"{snapshot.month:%Y-%m}")
        xlsx_stream_append(sheet, [_("Month"), snapshot.month, label], {1: "MM/YYYY"})
        xlsx_stream_append(sheet, [_("Source"), figures.as_of(snapshot)])
        xlsx_stream_append(sheet, _export_heading())
        for row in _export_rows(request, ids, label):
            xlsx_stream_append(sheet, row, {4: "DD/MM/YYYY"})
        out = io.BytesIO()
        book.save(out)
        response = HttpResponse(
            out.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    raise Http404


# -- who is not covered -----------------------------------------------------------------------


@login_required
@with_charts
def uncovered(request: HttpRequest) -> HttpResponse:
    """Registered workers without protection in the latest month, by kelurahan and
    occupation, with the list to call."""
    require_any(request.user, VIEW_COVERAGE)
    month = _month(request)
    snapshot = selectors.snapshot_of(month) if month else selectors.latest()
    if snapshot is None:
        return _no_snapshot(request)
    filters = _filters(request)
    kecamatan = filters.region[:8] if filters.region else ""
    context = _list_context(request, snapshot, selectors.NOT_ACTIVE, filters)
    context.update(
        {
            "charts": figures.with_csv(
                figures.uncovered_charts(snapshot, filters),
                {"bulan": snapshot.month, **filters.query()},
            ),
            "kecamatan": selectors.kecamatan_of_city(),
            "kelurahan": selectors.kelurahan_of(kecamatan) if kecamatan else [],
            "chosen_kecamatan": kecamatan,
            "occupations": selectors.occupations(),
        }
    )
    return render(request, "coverage/uncovered.html", context)


# -- lapse risk next month --------------------------------------------------------------------


def _lapse_region(request: HttpRequest) -> str:
    code = request.GET.get("wilayah", "")[:13]
    return code if code and CODE.match(code) and selectors.in_city(code) else ""


def _lapse_reason(request: HttpRequest) -> str:
    reason = request.GET.get("alasan", "")[:20]
    return reason if reason in REASONS else ""


@login_required
def lapse(request: HttpRequest) -> HttpResponse:
    """Who stops being protected next month and why (the ledger's forecast, its stored count),
    by kecamatan and kelurahan, with its list; while a recount runs the page asks again every
    few seconds (htmx)."""
    require_any(request.user, VIEW_COVERAGE)
    today = timezone.localdate()
    code = _lapse_region(request)
    reason = _lapse_reason(request)
    # a kecamatan (or a kelurahan: its kecamatan) is counted by kelurahan, the city by kecamatan
    level_code = code[:8] if code and len(code) >= 8 else ""
    query = {k: v for k, v in (("wilayah", code), ("alasan", reason)) if v}
    run, pending = forecast_latest(), forecast_pending()
    context = {
        "month": run.month if run else add_months(today.replace(day=1), 1),
        "run": run,
        "pending": pending,
        "failed": ForecastRun.objects.filter(
            status=ForecastRun.Status.FAILED, pk__gt=run.pk if run else 0
        ).exists(),
        "stale": run is not None and run.on < today,
        "reasons": [(k, str(v)) for k, v in REASONS.items()],
        "reason": reason,
        "code": code,
        "path": selectors.region_path(code) if code else [],
        "level_code": level_code,
        "query": urlencode(query),
        "can_export": request.user.has_perm(EXPORT_WORKER),
    }
    if run is not None:
        page_no = _int_param(request, "page") or 1
        size = settings.CAKUPAN_PAGE_SIZE
        shown = list(
            stored_rows(
                run, region=code, reason=reason, offset=(page_no - 1) * size, limit=size + 1
            )
        )
        context |= {
            "risk": selectors.lapse_risk(run, level_code),
            # a list masks phones, as the registry's lists do
            "rows": [(r, mask_phone(r.phone) if r.phone else "") for r in shown[:size]],
            "page_no": page_no,
            "has_next": len(shown) > size,
        }
    template = "coverage/_lapse_result.html" if request.htmx else "coverage/lapse.html"
    return render(request, template, context)


@login_required
@require_POST
def lapse_recount(request: HttpRequest) -> HttpResponse:
    """Ask the task worker to count the forecast again now (one recount at a time)."""
    require_any(request.user, VIEW_COVERAGE)
    forecast_request(user=request.user)
    messages.success(
        request,
        _(
            "The forecast is being counted again from the ledger as it stands now; this page "
            "shows the new count when it is ready."
        ),
    )
    target = reverse("coverage:lapse")
    code, reason = _lapse_region(request), _lapse_reason(request)
    query = urlencode({k: v for k, v in (("wilayah", code), ("alasan", reason)) if v})
    return redirect(f"{target}?{query}" if query else target)


@login_required
def lapse_export(request: HttpRequest) -> HttpResponse:
    """The lapse-risk list as CSV, to call: phones whole for users with the right, each whole
    phone written to the access log (registry.services.personal_display)."""
    require_any(request.user, VIEW_COVERAGE)
    require_any(request.user, EXPORT_WORKER)
    run = forecast_latest()
    if run is None:
        raise Http404
    code, reason = _lapse_region(request), _lapse_reason(request)

    heading = [
        _("Name"),
        _("Phone"),
        _("Kelurahan"),
        _("Reason"),
        _("Months unpaid"),
        _("Membership number"),
        _("Sponsor"),
    ]

    def rows() -> Iterator[list]:
        for chunk in _chunks(stored_rows(run, region=code, reason=reason), 2000):
            shown = personal_display(
                user=request.user,
                workers=[Worker(pk=r.worker_id, phone=r.phone, nik="") for r in chunk],
                action=NikAccessLog.Action.EXPORT,
                path=request.path,
                nik_masked=True,
            )
            for r in chunk:
                yield [
                    r.name,
                    shown[r.worker_id].phone if r.phone else "",
                    r.kelurahan,
                    r.reason_label,
                    r.months_unpaid,
                    r.membership_number,
                    r.sponsor or _("self-paid"),
                ]

    response = StreamingHttpResponse(
        csv_lines(heading, rows()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="risiko-putus-{run.month:%Y-%m}.csv"'
    return response


# -- building the snapshots -------------------------------------------------------------------


@login_required
@require_POST
def build(request: HttpRequest) -> HttpResponse:
    """Build the previous and this month's snapshots (a closed month only with a reason);
    both or neither."""
    require_any(request.user, REBUILD_SNAPSHOT)
    reason = request.POST.get("reason", "")[:300].strip()
    months = selectors.months_to_build()
    try:
        with transaction.atomic():
            built = [
                snapshot_build(m, user=request.user, rebuild=bool(reason), reason=reason)
                for m in months
            ]
    except Refused as e:
        # the form again, with the message on it (the field it names) and what was typed
        return with_charts(_dashboard)(
            request, {"build_error": str(e), "build_field": e.field, "reason": reason}, 422
        )
    for s in built:
        messages.success(
            request,
            _("The snapshot of %(month)s is built (%(status)s).")
            % {"month": f"{s.month:%m/%Y}", "status": _status_word(s)},
        )
    return redirect("coverage:dashboard")


# -- a sponsor's impact -----------------------------------------------------------------------


@login_required
def impact_index(request: HttpRequest) -> HttpResponse:
    require_any(request.user, VIEW_IMPACT)
    sponsors = list(selectors.impact_sponsors(user=request.user))
    if request.user.sponsor_id and len(sponsors) == 1:
        return redirect("coverage:impact", pk=sponsors[0].pk)
    return render(request, "coverage/impact_index.html", {"sponsors": sponsors})


@login_required
@with_charts
def impact(request: HttpRequest, pk: int) -> HttpResponse:
    """A sponsor's programmes: workers covered per month, months protected, contributions
    paid, claims paid to its workers' families, scholarships running. A sponsor user sees its
    own only (another's is a 404)."""
    sponsor = _impact_sponsor(request, pk)
    rows = selectors.impact(sponsor)
    chart = figures.impact_chart(rows)
    if chart is not None:
        chart.csv_url = reverse("coverage:impact_csv", args=[sponsor.pk])
    return render(
        request,
        "coverage/impact.html",
        {"sponsor": sponsor, "rows": rows, "chart": chart, "today": timezone.localdate()},
    )


def _impact_sponsor(request: HttpRequest, pk: int):
    require_any(request.user, VIEW_IMPACT)
    sponsor = selectors.impact_sponsors(user=request.user).filter(pk=pk).first()
    if sponsor is None:
        raise Http404
    return sponsor


@login_required
def impact_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """A sponsor's impact as CSV: per programme, then the active workers month by month."""
    sponsor = _impact_sponsor(request, pk)
    rows = selectors.impact(sponsor)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv_writer(out)
    writer.writerow(
        [
            _("Programme"),
            _("Active workers (latest closed month)"),
            _("Worker-months protected"),
            _("Contributions paid (Rp)"),
            _("Claims paid"),
            _("Paid to families (Rp)"),
            _("Scholarships running"),
            _("Scholarship instalments still to pay (Rp)"),
        ]
    )
    for r in rows:
        writer.writerow(
            [
                r.programme.name,
                r.active_latest,
                r.months_protected,
                r.contributions_paid,
                r.claims_paid,
                r.claims_paid_amount,
                r.scholarships_running,
                r.scholarships_to_pay,
            ]
        )
    chart = figures.impact_chart(rows)
    if chart is not None:
        writer.writerow([])
        writer.writerow(chart.headers)
        writer.writerows(chart.rows)
    response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="dampak-{sponsor.pk}.csv"'
    return response


@login_required
def city_report(request: HttpRequest) -> HttpResponse:
    """The city's UCJ report (PDF) of the month asked (?bulan=YYYY-MM), else of the latest
    closed month, with the plan asked (?rencana=<scenario id>), else the latest saved."""
    require_any(request.user, VIEW_COVERAGE)
    plan = _int_param(request, "rencana")
    try:
        report = reports.city_report_data(
            _month(request),
            scenario=Scenario.objects.filter(pk=plan).first() if plan else None,
        )
    except Refused as e:
        messages.error(request, e.message)
        return redirect("coverage:dashboard")
    response = HttpResponse(reports.city_report_pdf(report), content_type="application/pdf")
    name = f"laporan-ucj-{report.snapshot.month:%Y-%m}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def impact_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """A sponsor's impact report (PDF); a sponsor user its own only (another's is a 404)."""
    sponsor = _impact_sponsor(request, pk)
    response = HttpResponse(
        reports.impact_pdf(sponsor, selectors.impact(sponsor)), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="dampak-{sponsor.pk}.pdf"'
    return response
