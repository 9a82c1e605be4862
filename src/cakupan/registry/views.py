"""Pages of the worker registry: search, detail, register and edit, heirs, export, the NIK
check and the hospital desk's protection check. Thin: parse, call a selector or service, render."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cakupan.accounts.roles import (
    ADD_WORKER,
    CHANGE_WORKER,
    CHECK_NIK,
    ENROL,
    EXPORT_WORKER,
    REVIEW_LINKS,
    VERIFY_MEMBERSHIP,
    VIEW_LEDGER,
    VIEW_WORKER,
)
from cakupan.contributions.selectors import membership_state, month_grid
from cakupan.contributions.verify import NotFound as VerifyNotFound
from cakupan.contributions.verify import parse_date as verify_parse_date
from cakupan.contributions.verify import parse_lookup as verify_parse_lookup
from cakupan.contributions.verify import verify as verify_membership
from cakupan.errors import Refused
from cakupan.exports import csv_lines
from cakupan.formkit import apply_errors
from cakupan.funding.forms import EnrolForm
from cakupan.funding.selectors import programme_scope
from cakupan.membership.selectors import worker_auto_links, worker_memberships
from cakupan.regions.selectors import city_kecamatan, city_kelurahan
from cakupan.registry.forms import HeirForm, NikCheckForm, WorkerForm
from cakupan.registry.models import Heir, NikAccessLog, Worker
from cakupan.registry.nik import mask_nik, normalise_nik
from cakupan.registry.selectors import (
    SearchRefused,
    WorkerFilters,
    nik_check_many,
    nik_search_digits,
    occupation_list,
    worker_get,
    worker_list,
)
from cakupan.registry.services import (
    HeirData,
    WorkerData,
    WorkerInvalid,
    access_log_write,
    heir_add,
    heir_remove,
    nik_search_log,
    personal_display,
    worker_create,
    worker_update,
)
from cakupan.registry.vocabulary import sector_choices
from cakupan.throttle import Throttled, throttle


def _filters(request: HttpRequest) -> WorkerFilters:
    g = request.GET
    vulnerable = {"1": True, "0": False}.get(g.get("vulnerable", ""))
    return WorkerFilters(
        q=g.get("q", "")[:100],
        kecamatan=g.get("kecamatan", "")[:13],
        kelurahan=g.get("kelurahan", "")[:13],
        occupation=g.get("occupation", "")[:40],
        sector=g.get("sector", "")[:20],
        sex=g.get("sex", "")[:1],
        vulnerable=vulnerable,
    )


def _searched(request: HttpRequest, filters: WorkerFilters) -> QuerySet[Worker]:
    """The filtered workers; a NIK search counts against the user's rate and may be refused."""
    if filters.q and nik_search_digits(filters.q):
        throttle(request, "nik-search")
    return worker_list(user=request.user, filters=filters)


def _throttled(request: HttpRequest, e: Throttled) -> HttpResponse:
    response = render(request, "web/error.html", {"code": 429, "message": str(e)}, status=429)
    response["Retry-After"] = str(e.retry_after)
    return response


@login_required
@permission_required(VIEW_WORKER, raise_exception=True)
def worker_list_view(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    refusal, retry_after = "", 0
    try:
        qs = _searched(request, filters)
    except SearchRefused as e:
        refusal, qs = str(e), Worker.objects.none()
    except Throttled as e:
        refusal, retry_after, qs = str(e), e.retry_after, Worker.objects.none()
    page = Paginator(qs, settings.CAKUPAN_PAGE_SIZE).get_page(request.GET.get("page"))
    nik_search_log(user=request.user, q=filters.q, workers=page.object_list, path=request.path)
    rows = [(w, mask_nik(w.nik)) for w in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "rows": rows,
        "refusal": refusal,
        "filters": filters,
        "query": query.urlencode(),
        "kecamatan": city_kecamatan(),
        "kelurahan": city_kelurahan(kecamatan=filters.kecamatan) if filters.kecamatan else [],
        "occupations": occupation_list(),
        "sectors": sector_choices(),
    }
    partial = request.htmx and request.htmx.target == "results"
    # htmx does not swap an error answer in: the refusal is shown in the results instead
    response = render(
        request,
        "registry/_worker_rows.html" if partial else "registry/worker_list.html",
        context,
        status=429 if retry_after and not partial else 200,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


@login_required
@permission_required(VIEW_WORKER, raise_exception=True)
def kelurahan_options(request: HttpRequest) -> HttpResponse:
    """htmx: the kelurahan <option>s of the chosen kecamatan."""
    kec = request.GET.get("kecamatan", "")[:13]
    return render(
        request,
        "registry/_kelurahan_options.html",
        {"kelurahan": city_kelurahan(kecamatan=kec) if kec else []},
    )


@login_required
@permission_required(EXPORT_WORKER, raise_exception=True)
def worker_export(request: HttpRequest) -> StreamingHttpResponse:
    """CSV of the filtered list; whole NIKs and phones only for roles with the right, each one
    logged."""
    filters = _filters(request)
    try:
        qs = _searched(request, filters)
    except Throttled as e:
        return _throttled(request, e)
    except SearchRefused as e:
        return render(request, "web/error.html", {"code": 400, "message": str(e)}, status=400)

    heading = [
        "nik",
        "nama",
        "tanggal_lahir",
        "jenis_kelamin",
        "kode_kelurahan",
        "kelurahan",
        "kecamatan",
        "pekerjaan",
        "sektor",
        "no_hp",
        "desil",
        "disabilitas",
    ]

    def rows() -> Iterator[list]:
        chunk: list[Worker] = []
        for w in qs.iterator(chunk_size=2000):
            chunk.append(w)
            if len(chunk) == 2000:
                yield from _export_lines(chunk)
                chunk = []
        yield from _export_lines(chunk)

    def _export_lines(chunk: list[Worker]) -> Iterator[list]:
        # the path, not the query: a NIK typed in the search must not be stored
        shown = personal_display(
            user=request.user, workers=chunk, action=NikAccessLog.Action.EXPORT, path=request.path
        )
        nik_search_log(user=request.user, q=filters.q, workers=chunk, path=request.path)
        for w in chunk:
            yield (
                [
                    shown[w.pk].nik,
                    w.full_name,
                    w.birth_date.isoformat(),
                    w.sex,
                    w.kelurahan_id,
                    w.kelurahan.name,
                    w.kelurahan.parent.name if w.kelurahan.parent else "",
                    w.occupation.code,
                    w.occupation.sector,
                    shown[w.pk].phone,
                    w.welfare_decile or "",
                    w.disability,
                ]
            )

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        csv_lines(heading, rows()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="pekerja-{stamp}.csv"'
    return response


def _worker_or_404(request: HttpRequest, pk: int) -> Worker:
    worker = worker_get(user=request.user, pk=pk)
    if worker is None:
        raise Http404
    return worker


@login_required
@permission_required(VIEW_WORKER, raise_exception=True)
def worker_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _worker_or_404(request, pk), HeirForm())


def _render_detail(
    request: HttpRequest, worker: Worker, heir_form: HeirForm, status: int = 200
) -> HttpResponse:
    shown = personal_display(
        user=request.user, workers=[worker], action=NikAccessLog.Action.VIEW, path=request.path
    )[worker.pk]
    whole = shown.nik == worker.nik
    heirs = [(h, h.nik if whole or not h.nik else mask_nik(h.nik)) for h in worker.heirs.all()]
    # NIK typos corrected onto this worker: the typed NIK is nearly the worker's, so it is
    # masked whenever the worker's is
    auto_links = [
        (a, a.incoming_nik if whole else mask_nik(a.incoming_nik))
        for a in worker_auto_links(worker=worker, user=request.user)
    ]
    context = {
        "worker": worker,
        "nik": shown.nik,
        "phone": shown.phone,
        "heirs": heirs,
        "heir_form": heir_form,
        "can_change": request.user.has_perm(CHANGE_WORKER),
        "memberships": worker_memberships(worker=worker),
        "auto_links": auto_links,
        "can_review": request.user.has_perm(REVIEW_LINKS),
        "enrol_form": EnrolForm(programmes=programme_scope(user=request.user))
        if request.user.has_perm(ENROL)
        else None,
    }
    context["ledger"] = _ledger_grids(request, context["memberships"])
    return render(request, "registry/worker_detail.html", context, status=status)


def _ledger_grids(request: HttpRequest, memberships) -> dict | None:
    """The months grid of each membership for the year asked (?tahun=, this year by default)
    and its state today, for users who may see the ledger."""
    if not request.user.has_perm(VIEW_LEDGER):
        return None
    today = timezone.localdate()
    text = request.GET.get("tahun", "")[:4]
    year = int(text) if text.isdigit() and 2000 <= int(text) <= 2100 else today.year
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 1)
    grids = [
        (m, membership_state(m, today), month_grid(m, first=first, last=last, on=today))
        for m in memberships
    ]
    return {"year": year, "prev": year - 1, "next": year + 1, "today": today, "grids": grids}


def _form_to_data(form: WorkerForm) -> WorkerData:
    c = form.cleaned_data
    return WorkerData(
        nik=c["nik"],
        full_name=c["full_name"],
        birth_date=c["birth_date"],
        sex=c["sex"],
        kelurahan=c["kelurahan"],
        occupation=c["occupation"],
        phone=c.get("phone", ""),
        welfare_decile=c.get("welfare_decile"),
        disability=c.get("disability", ""),
    )


@login_required
@permission_required(ADD_WORKER, raise_exception=True)
def worker_create_view(request: HttpRequest) -> HttpResponse:
    form = WorkerForm(request.POST or None)
    existing = None
    if request.method == "POST" and form.is_valid():
        data = _form_to_data(form)
        try:
            worker = worker_create(data=data, created_by=request.user)
        except WorkerInvalid as e:
            apply_errors(form, e.errors)
            existing = e.existing
        else:
            for w in data.warnings:
                messages.warning(request, w.message)
            messages.success(request, _("Worker %(name)s registered.") % {"name": worker.full_name})
            return redirect("web:worker_detail", pk=worker.pk)
    return render(
        request, "registry/worker_form.html", {"form": form, "existing": existing, "worker": None}
    )


@login_required
@permission_required(CHANGE_WORKER, raise_exception=True)
def worker_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _worker_or_404(request, pk)
    initial = dataclasses.asdict(WorkerData.from_worker(worker))
    form = WorkerForm(request.POST or None, initial=initial)
    existing = None
    if request.method == "POST" and form.is_valid():
        data = _form_to_data(form)
        try:
            worker_update(worker=worker, data=data)
        except WorkerInvalid as e:
            apply_errors(form, e.errors)
            existing = e.existing
        else:
            for w in data.warnings:
                messages.warning(request, w.message)
            messages.success(request, _("Changes saved."))
            return redirect("web:worker_detail", pk=worker.pk)
    elif request.method == "GET":
        personal_display(
            user=request.user, workers=[worker], action=NikAccessLog.Action.VIEW, path=request.path
        )
    return render(
        request, "registry/worker_form.html", {"form": form, "existing": existing, "worker": worker}
    )


@login_required
@permission_required(CHANGE_WORKER, raise_exception=True)
@require_POST
def heir_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    worker = _worker_or_404(request, pk)
    form = HeirForm(request.POST)
    if form.is_valid():
        c = form.cleaned_data
        try:
            heir_add(
                worker=worker,
                data=HeirData(
                    full_name=c["full_name"],
                    birth_date=c["birth_date"],
                    relation=c["relation"],
                    nik=c.get("nik", ""),
                    sex=c.get("sex", ""),
                ),
            )
        except WorkerInvalid as e:
            apply_errors(form, e.errors)
        else:
            messages.success(request, _("Heir added."))
            return redirect("web:worker_detail", pk=worker.pk)
    return _render_detail(request, worker, form, status=422)


@login_required
@permission_required(CHANGE_WORKER, raise_exception=True)
@require_POST
def heir_remove_view(request: HttpRequest, pk: int, heir_pk: int) -> HttpResponse:
    worker = _worker_or_404(request, pk)
    heir = get_object_or_404(Heir, pk=heir_pk, worker=worker)
    heir_remove(heir=heir)
    messages.success(request, _("Heir removed."))
    return redirect("web:worker_detail", pk=worker.pk)


@login_required
@permission_required(CHECK_NIK, raise_exception=True)
def nik_check_view(request: HttpRequest) -> HttpResponse:
    form = NikCheckForm(request.POST or None)
    results = None
    if request.method == "POST" and form.is_valid():
        niks = [line.strip() for line in form.cleaned_data["niks"].splitlines() if line.strip()][
            :500
        ]
        results = nik_check_many(niks)
    return render(request, "registry/nik_check.html", {"form": form, "results": results})


@login_required
@permission_required(VERIFY_MEMBERSHIP, raise_exception=True)
def verify_view(request: HttpRequest) -> HttpResponse:
    """A hospital clerk types a NIK, or the membership number on the card: is this person
    protected today (or on the date chosen), answered from the contributions ledger? The NIK is shown masked and the form posts, so it
    never lands in a URL."""
    # POST, so that a NIK never lands in a URL, a browser history or a server log.
    raw = request.POST.get("nik", "").strip()[:40] if request.method == "POST" else ""
    raw_date = request.POST.get("date", "").strip()[:20] if request.method == "POST" else ""
    empty = request.method == "POST" and not raw
    today = timezone.localdate()
    result = worker = verdict = None
    on, date_error, problem = today, "", ""
    try:
        on = verify_parse_date(raw_date, today)
    except Refused as e:
        date_error = e.message
    if raw and not date_error:
        try:
            throttle(request, "verify")
        except Throttled as e:
            return _throttled(request, e)
        if any(ch.isalpha() for ch in raw):
            # letters: the membership number printed on the card (BPU-000001234)
            try:
                _kind, number = verify_parse_lookup(None, raw.upper())
                verdict = verify_membership("membership", number, on)
                worker = verdict.worker
            except Refused as e:
                problem = e.message
            except VerifyNotFound:
                problem = _(
                    "No membership has the number %(number)s. Check it against the card, "
                    "or type the patient's NIK."
                ) % {"number": raw.upper()}
        else:
            nik = normalise_nik(raw)
            result = nik_check_many([nik])[0]
            if result.valid:
                try:
                    verdict = verify_membership("nik", nik, on)
                    worker = verdict.worker
                except VerifyNotFound as e:
                    worker = e.worker
        # every check is logged, also one that found nobody: enumeration leaves a trace
        access_log_write(
            user=request.user,
            action=NikAccessLog.Action.VERIFY,
            workers=[worker],
            path=request.path,
        )
    return render(
        request,
        "registry/verify.html",
        {
            "raw": raw,
            "raw_date": raw_date or on.isoformat(),
            "date_error": date_error,
            "empty": empty,
            "result": result,
            "problem": problem,
            "worker": worker,
            "masked": mask_nik(worker.nik) if worker else "",
            "verdict": verdict,
            "state": verdict.state if verdict else None,
            "on": on,
            "is_today": on == today,
        },
    )
