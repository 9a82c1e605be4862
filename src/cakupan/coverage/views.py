"""Pages of coverage: the UCJ dashboard, the drill-down by region, the lists behind the figures
and their files, who is not covered, next month's lapse risk, building the snapshots, and a
sponsor's impact. Thin: parse, call a selector, shape the charts, render."""

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
from django.utils.formats import number_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cakupan.accounts.roles import (
    EXPORT_WORKER,
    REBUILD_SNAPSHOT,
    VIEW_COVERAGE,
    VIEW_FULL_PHONE,
    VIEW_IMPACT,
    require_any,
)
from cakupan.contributions.forecast import REASONS, lapse_rows
from cakupan.coverage import charts, selectors
from cakupan.coverage.models import Snapshot
from cakupan.coverage.snapshots import AGE_BAND_LABELS, snapshot_build
from cakupan.errors import Refused
from cakupan.exports import csv_writer, xlsx_stream_append
from cakupan.months import MonthInvalid, add_months, parse_month
from cakupan.regions.models import Level
from cakupan.regions.selectors import city_code
from cakupan.registry.models import NikAccessLog, Sex, Worker
from cakupan.registry.nik import mask_nik
from cakupan.registry.phones import mask_phone
from cakupan.registry.services import access_log_write, personal_display

# the chart pages: Plotly's own two stylesheets allowed by their hashes (see charts.py)
with_charts = csp_update({"style-src": charts.PLOTLY_STYLE_HASHES})
CODE = re.compile(r"^\d{2}\.\d{2}(\.\d{2}(\.\d{4})?)?$")


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{number_format(round(value, 2), 2)}%"


def _int(n: int) -> str:
    return number_format(n, 0, force_grouping=True)


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


def _list_url(snapshot: Snapshot, status: str, **filters: object) -> str:
    query = {"bulan": f"{snapshot.month:%Y-%m}", "status": status}
    query.update({k: str(v) for k, v in filters.items() if v not in (None, "")})
    return f"{reverse('coverage:workers')}?{urlencode(query)}"


def _as_of(snapshot: Snapshot) -> str:
    return _("cakupan ledger, as of %(date)s") % {"date": f"{snapshot.as_of:%d-%m-%Y}"}


def _status_word(snapshot: Snapshot) -> str:
    return str(snapshot.get_status_display())


# -- charts -----------------------------------------------------------------------------------


def _region_chart(snapshot: Snapshot, parent: str, key: str, title: str) -> charts.Chart:
    rows = selectors.area_rows(snapshot, parent)
    sources = sorted({r.employed_source for r in rows if r.employed_source})
    links = [
        reverse("coverage:region", args=[r.code]) + f"?bulan={snapshot.month:%Y-%m}"
        if r.level == Level.KECAMATAN
        else _list_url(snapshot, selectors.REGISTERED, wilayah=r.code)
        for r in rows
    ]
    ucj, share = _("UCJ"), _("active of registered")
    texts = [
        f"{_pct(r.ucj)} {ucj}" if r.ucj is not None else f"{_pct(r.share)} {share}" for r in rows
    ]
    note = "; ".join(
        [_("Denominator: %(sources)s") % {"sources": "; ".join(sources)}] if sources else []
    )
    note = (note + "; " if note else "") + _as_of(snapshot)
    return charts.bars(
        key,
        title,
        labels=[r.name for r in rows],
        values=[r.value for r in rows],
        texts=texts,
        links=links,
        colors=[charts.BRAND if r.ucj is not None else charts.PROVISIONAL for r in rows],
        axis=_("UCJ, or the share of registered workers who are active (%)"),
        headers=[
            _("Region"),
            _("UCJ (%)"),
            _("Active of registered (%)"),
            _("BPU active"),
            _("Registered"),
            _("Employed population"),
            _("Denominator source"),
        ],
        rows=[
            [
                r.name,
                round(r.ucj, 2) if r.ucj is not None else "",
                round(r.share, 2) if r.share is not None else "",
                r.active,
                r.registered,
                r.employed if r.employed is not None else "",
                r.employed_source,
            ]
            for r in rows
        ],
        note=note,
    )


def _group_chart(
    snapshot: Snapshot,
    dimension: str,
    key: str,
    title: str,
    filters: selectors.Filters | None = None,
) -> charts.Chart:
    filters = filters or selectors.Filters()
    groups = selectors.breakdown(snapshot, dimension, filters)
    param = {"occupation": "pekerjaan", "sex": "jk", "age_band": "usia", "decile": "desil"}
    base = filters.query()
    links = [
        _list_url(snapshot, selectors.REGISTERED, **{**base, param[dimension]: g.key})
        for g in groups
    ]
    return charts.bars(
        key,
        title,
        labels=[g.label for g in groups],
        values=[g.count.share or 0 for g in groups],
        texts=[
            f"{_pct(g.count.share)} ({_int(g.count.active)}/{_int(g.count.registered)})"
            for g in groups
        ],
        links=links,
        axis=_("Active of registered BPU workers (%)"),
        headers=[
            _("Group"),
            _("Active of registered (%)"),
            _("Active"),
            _("Members"),
            _("Registered"),
        ],
        rows=[
            [
                g.label,
                round(g.count.share, 2) if g.count.share is not None else "",
                g.count.active,
                g.count.members,
                g.count.registered,
            ]
            for g in groups
        ],
        note=_as_of(snapshot),
    )


def _programme_chart(snapshot: Snapshot) -> charts.Chart:
    groups = selectors.programme_share(snapshot)
    total = sum(g.count.active for g in groups) or 1
    return charts.bars(
        "program",
        _("Who pays for the active workers"),
        labels=[g.label for g in groups],
        values=[100 * g.count.active / total for g in groups],
        texts=[f"{_pct(100 * g.count.active / total)} ({_int(g.count.active)})" for g in groups],
        links=[_list_url(snapshot, selectors.ACTIVE, program=g.key) for g in groups],
        axis=_("Share of the active workers (%)"),
        headers=[_("Programme (sponsor)"), _("Share of the active workers (%)"), _("Active")],
        rows=[[g.label, round(100 * g.count.active / total, 2), g.count.active] for g in groups],
        note=_as_of(snapshot),
    )


def _trend_chart() -> charts.Chart:
    points = selectors.trend()
    latest = points[-1].month.year if points else timezone.localdate().year
    targets = selectors.targets_of(latest)
    sources = sorted({p.employed_source for p in points if p.employed_source})
    note = "; ".join(
        ([_("Denominator: %(sources)s") % {"sources": "; ".join(sources)}] if sources else [])
        + [_("Target: %(source)s") % {"source": t.source} for t in targets]
        + ([_as_of_text(points[-1].as_of)] if points else [])
    )
    return charts.trend(
        "tren",
        _("UCJ month by month"),
        months=[f"{p.month:%m/%Y}" for p in points],
        values=[round(p.ucj, 2) if p.ucj is not None else None for p in points],
        provisional=[p.status == Snapshot.Status.PROVISIONAL for p in points],
        targets=[(t.label, t.percent) for t in targets],
        labels=(_("Closed month"), _("Provisional")),
        axis="UCJ (%)",
        headers=[_("Month"), _("Status"), _("UCJ (%)"), _("BPU active"), _("Ledger as of")],
        rows=[
            [
                f"{p.month:%Y-%m}",
                str(dict(Snapshot.Status.choices)[p.status]),
                round(p.ucj, 2) if p.ucj is not None else "",
                p.bpu_active,
                f"{p.as_of:%Y-%m-%d}",
            ]
            for p in points
        ],
        note=note,
    )


def _as_of_text(day: dt.date) -> str:
    return _("cakupan ledger, as of %(date)s") % {"date": f"{day:%d-%m-%Y}"}


def _split_chart(head: selectors.Headline) -> charts.Chart:
    split = head.split
    city = head.city
    note = "; ".join(
        s
        for s in (
            _as_of(head.snapshot),
            (_("PU, Jakon, PMI: %(sources)s") % {"sources": city.aggregates_source})
            if city and city.aggregates_source
            else "",
        )
        if s
    )
    return charts.split(
        "peserta",
        _("Participants by kind"),
        labels=[label for _k, label, _n in split],
        values=[n for _k, _l, n in split],
        headers=[_("Kind"), _("Participants")],
        rows=[[label, n] for _k, label, n in split],
        note=note,
    )


def _dashboard_charts(snapshot: Snapshot, head: selectors.Headline | None) -> dict:
    out = {
        "tren": _trend_chart(),
        "kecamatan": _region_chart(snapshot, city_code(), "kecamatan", _("Coverage by kecamatan")),
        "pekerjaan": _group_chart(
            snapshot, "occupation", "pekerjaan", _("BPU coverage by occupation")
        ),
        "jk": _group_chart(snapshot, "sex", "jk", _("BPU coverage by sex")),
        "usia": _group_chart(snapshot, "age_band", "usia", _("BPU coverage by age")),
        "desil": _group_chart(snapshot, "decile", "desil", _("BPU coverage by welfare decile")),
        "program": _programme_chart(snapshot),
    }
    if head is not None:
        out["peserta"] = _split_chart(head)
    return out


def _with_csv(found: dict, query: dict) -> dict:
    """The charts with the link to each one's CSV (the page's month and region)."""
    q = {k: f"{v:%Y-%m}" if isinstance(v, dt.date) else v for k, v in query.items()}
    for chart in found.values():
        chart.csv_url = f"{reverse('coverage:chart_csv', args=[chart.key])}?{urlencode(q)}"
    return found


def _chart_for(request: HttpRequest, key: str) -> charts.Chart:
    """One chart of a page, for its CSV (?bulan=, ?wilayah= as on the page)."""
    snapshot = _snapshot(request)
    region = request.GET.get("wilayah", "")[:13]
    if key == "kelurahan":
        if not (CODE.match(region) and selectors.in_city(region)):
            raise Http404
        return _region_chart(snapshot, region, "kelurahan", _("Coverage by kelurahan"))
    if key == "peserta":
        return _split_chart(selectors.headline(snapshot))
    if key in ("belum-kelurahan", "belum-pekerjaan"):
        return _uncovered_charts(snapshot, _filters(request))[key.replace("-", "_")]
    found = _dashboard_charts(snapshot, None)
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
            "charts": _with_csv(_dashboard_charts(snapshot, head), {"bulan": snapshot.month}),
            "can_build": request.user.has_perm(REBUILD_SNAPSHOT),
            "months": selectors.months_to_build(),
            "as_of": _as_of(snapshot),
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
            return redirect(_list_url(snapshot, selectors.REGISTERED, wilayah=code))
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
            **_with_csv(
                {
                    "chart": _region_chart(snapshot, code, "kelurahan", _("Coverage by kelurahan")),
                    "occupations_chart": _group_chart(
                        snapshot,
                        "occupation",
                        "pekerjaan",
                        _("BPU coverage by occupation"),
                        filters,
                    ),
                },
                {"bulan": snapshot.month, "wilayah": code},
            ),
            "list_url": _list_url(snapshot, selectors.REGISTERED, wilayah=code),
            "as_of": _as_of(snapshot),
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


def _filter_words(filters: selectors.Filters) -> list[str]:
    """The filters in words, for the list's title and file."""
    words = []
    if filters.region:
        path = selectors.region_path(filters.region)
        if path:
            words.append(path[-1].name)
    if filters.occupation is not None:
        words.append(dict(selectors.occupations()).get(filters.occupation, ""))
    if filters.sex:
        words.append(str(dict(Sex.choices).get(filters.sex, "")))
    if filters.age_band is not None and 0 <= filters.age_band < len(AGE_BAND_LABELS):
        words.append(_("age %(band)s") % {"band": AGE_BAND_LABELS[filters.age_band]})
    if filters.decile is not None:
        words.append(
            _("decile %(d)s") % {"d": filters.decile}
            if filters.decile
            else _("decile not recorded")
        )
    if filters.programme is not None:
        words.append(
            dict(selectors.programmes()).get(filters.programme, "")
            if filters.programme
            else _("Self-paid or no programme")
        )
    return [w for w in words if w]


def _list_context(
    request: HttpRequest, snapshot: Snapshot, status: str, filters: selectors.Filters
) -> dict:
    ids = selectors.list_ids(snapshot, status, filters)
    page = Paginator(ids, settings.CAKUPAN_PAGE_SIZE).get_page(request.GET.get("page"))
    workers = selectors.workers_in_order(page.object_list)
    query = {"bulan": f"{snapshot.month:%Y-%m}", "status": status, **filters.query()}
    return {
        "snapshot": snapshot,
        "status": status,
        "status_label": selectors.STATUSES[status],
        "statuses": [(k, v) for k, v in selectors.STATUSES.items()],
        "filters": filters,
        "words": _filter_words(filters),
        "count": selectors.counts(snapshot, filters),
        "page": page,
        "rows": [(w, mask_nik(w.nik)) for w in workers],
        "query": urlencode(query),
        "can_export": request.user.has_perm(EXPORT_WORKER),
        "as_of": _as_of(snapshot),
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

        class Echo:
            def write(self, value: str) -> str:
                return value

        writer = csv_writer(Echo())

        def lines() -> Iterator[str]:
            yield "\ufeff" + writer.writerow(_export_heading())
            for row in _export_rows(request, ids, label):
                row[4] = row[4].isoformat()
                yield writer.writerow(row)

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(f"{snapshot.month:%Y-%m}")
        xlsx_stream_append(sheet, [_("Month"), snapshot.month, label], {1: "MM/YYYY"})
        xlsx_stream_append(sheet, [_("Source"), _as_of(snapshot)])
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


def _uncovered_charts(snapshot: Snapshot, filters: selectors.Filters) -> dict:
    out = {}
    for dimension, key, title in (
        ("kelurahan", "belum-kelurahan", _("Not protected, by kelurahan")),
        ("occupation", "belum-pekerjaan", _("Not protected, by occupation")),
    ):
        groups = selectors.uncovered_by(snapshot, dimension, filters)
        param = "wilayah" if dimension == "kelurahan" else "pekerjaan"
        labels = [f"{g.label} ({g.parent})" if g.parent else g.label for g in groups]
        out[key.replace("-", "_")] = charts.bars(
            key,
            title,
            labels=labels,
            values=[g.count.not_active for g in groups],
            texts=[_int(g.count.not_active) for g in groups],
            links=[
                _list_url(snapshot, selectors.NOT_ACTIVE, **{**filters.query(), param: g.key})
                for g in groups
            ],
            axis=_("Registered workers not active"),
            headers=[_("Group"), _("Not active"), _("Registered")],
            rows=[
                [label, g.count.not_active, g.count.registered]
                for label, g in zip(labels, groups, strict=True)
            ],
            note=_as_of(snapshot),
            percent=False,
        )
    return out


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
            "charts": _with_csv(
                _uncovered_charts(snapshot, filters), {"bulan": snapshot.month, **filters.query()}
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
    """Who stops being protected next month and why (the ledger's forecast), by kecamatan and
    kelurahan, with its list."""
    require_any(request.user, VIEW_COVERAGE)
    today = timezone.localdate()
    code = _lapse_region(request)
    reason = _lapse_reason(request)
    level_code = code if code and len(code) == 8 else ""
    risk = selectors.lapse_risk(today, level_code)
    rows = lapse_rows(today, region=code, reason=reason)
    page_no = _int_param(request, "page") or 1
    size = settings.CAKUPAN_PAGE_SIZE
    shown = list(itertools.islice(rows, (page_no - 1) * size, page_no * size + 1))
    rows.close()
    whole = request.user.has_perm(VIEW_FULL_PHONE)
    listed = shown[:size]
    if whole:
        access_log_write(
            user=request.user,
            action=NikAccessLog.Action.VIEW,
            workers=[Worker(pk=r.worker_id) for r in listed if r.phone],
            path=request.path,
        )
    query = {k: v for k, v in (("wilayah", code), ("alasan", reason)) if v}
    path = selectors.region_path(code) if code else []
    return render(
        request,
        "coverage/lapse.html",
        {
            "risk": risk,
            "reasons": [(k, str(v)) for k, v in REASONS.items()],
            "reason": reason,
            "code": code,
            "path": path,
            "level_code": level_code,
            "rows": [
                (r, (r.phone if whole else mask_phone(r.phone)) if r.phone else "") for r in listed
            ],
            "page_no": page_no,
            "has_next": len(shown) > size,
            "query": urlencode(query),
            "can_export": request.user.has_perm(EXPORT_WORKER),
        },
    )


@login_required
def lapse_export(request: HttpRequest) -> HttpResponse:
    """The lapse-risk list as CSV: phones whole for users with the right (each row written to
    the access log, as the ledger's outreach list does)."""
    require_any(request.user, VIEW_COVERAGE)
    require_any(request.user, EXPORT_WORKER)
    today = timezone.localdate()
    code, reason = _lapse_region(request), _lapse_reason(request)
    whole = request.user.has_perm(VIEW_FULL_PHONE)

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv_writer(Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow(
            [
                _("Name"),
                _("Phone"),
                _("Kelurahan"),
                _("Reason"),
                _("Months unpaid"),
                _("Membership number"),
                _("Sponsor"),
            ]
        )
        for chunk in _chunks(lapse_rows(today, region=code, reason=reason), 2000):
            access_log_write(
                user=request.user,
                action=NikAccessLog.Action.EXPORT,
                workers=[Worker(pk=r.worker_id) for r in chunk],
                path=request.path,
            )
            for r in chunk:
                yield writer.writerow(
                    [
                        r.name,
                        (r.phone if whole else mask_phone(r.phone)) if r.phone else "",
                        r.kelurahan,
                        r.reason_label,
                        r.months_unpaid,
                        r.membership_number,
                        r.sponsor or _("self-paid"),
                    ]
                )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    month = add_months(today.replace(day=1), 1)
    response["Content-Disposition"] = f'attachment; filename="risiko-putus-{month:%Y-%m}.csv"'
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
    chart = _impact_chart(rows)
    if chart is not None:
        chart.csv_url = reverse("coverage:impact_csv", args=[sponsor.pk])
    return render(
        request,
        "coverage/impact.html",
        {"sponsor": sponsor, "rows": rows, "chart": chart, "today": timezone.localdate()},
    )


def _impact_chart(rows: list[selectors.ProgrammeImpact]) -> charts.Chart | None:
    months = sorted({m for r in rows for m, _s, _n in r.active_by_month})
    if not months:
        return None
    status = {m: s for r in rows for m, s, _n in r.active_by_month}
    per = {r.programme.pk: {m: n for m, _s, n in r.active_by_month} for r in rows}
    return charts.lines(
        "dampak",
        _("Workers covered (active) per month"),
        months=[f"{m:%m/%Y}" for m in months],
        series=[(r.programme.name, [per[r.programme.pk].get(m, 0) for m in months]) for r in rows],
        provisional=[status[m] == Snapshot.Status.PROVISIONAL for m in months],
        axis=_("Active workers"),
        headers=[_("Month"), _("Status"), *[r.programme.name for r in rows]],
        rows=[
            [
                f"{m:%Y-%m}",
                str(dict(Snapshot.Status.choices)[status[m]]),
                *[per[r.programme.pk].get(m, 0) for r in rows],
            ]
            for m in months
        ],
        note=_("Coverage snapshots of the cakupan ledger"),
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
            _("Active workers (latest month)"),
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
    chart = _impact_chart(rows)
    if chart is not None:
        writer.writerow([])
        writer.writerow(chart.headers)
        writer.writerows(chart.rows)
    response = HttpResponse(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="dampak-{sponsor.pk}.csv"'
    return response
