"""Pages for enrolment: upload and check a list, map its columns and values, watch it run, save
the whole list or its valid rows only, discard it, cancel a run, review matches.

Officers and sponsors upload lists (UPLOAD_LIST), a sponsor to its own programmes only: every
programme and batch is looked up within `programme_scope`, so another sponsor's is a 404.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cakupan.accounts.roles import ENROL, REVIEW_LINKS, UPLOAD_LIST, VIEW_PROGRAMME
from cakupan.exports import csv_writer
from cakupan.funding.forms import EnrolForm
from cakupan.funding.selectors import programme_scope
from cakupan.membership.forms import MappingForm, UploadForm
from cakupan.membership.imports import (
    IMPORTANT,
    MAPPABLE,
    FileProblem,
    HeaderProblem,
    column_label,
    column_report,
    map_columns,
    problem_label,
    read_table,
)
from cakupan.membership.models import AutoLink, ImportBatch, Membership, ReviewCase
from cakupan.membership.runs import import_runs_reap
from cakupan.membership.selectors import value_choices, value_groups
from cakupan.membership.services import (
    AutoLinkInvalid,
    EnrolmentRefused,
    ReviewInvalid,
    ValueMapInvalid,
    auto_link_reverse,
    import_batch_cancel,
    import_batch_create,
    import_batch_discard,
    import_batch_start,
    import_value_maps_set,
    membership_enrol,
    membership_to_self_payment,
    review_decide,
)
from cakupan.membership.template_file import template_csv, template_xlsx
from cakupan.money import format_rupiah
from cakupan.months import parse_month
from cakupan.registry.models import NikAccessLog
from cakupan.registry.selectors import worker_get, worker_scope
from cakupan.registry.services import nik_display

RUNNING = {ImportBatch.Status.VALIDATING, ImportBatch.Status.COMMITTING}
# A list whose columns can still be matched again (and then checked again).
REMAPPABLE = {
    ImportBatch.Status.UPLOADED,
    ImportBatch.Status.PREVIEWED,
    ImportBatch.Status.FAILED,
    ImportBatch.Status.CANCELLED,
}


def _batch(request: HttpRequest, pk: int) -> ImportBatch:
    batch = (
        ImportBatch.objects.select_related("programme__sponsor", "uploaded_by")
        .filter(pk=pk, programme__in=programme_scope(user=request.user))
        .first()
    )
    if batch is None:
        raise Http404
    # a run whose process is gone is told as such, never shown running
    if batch.status in RUNNING and import_runs_reap(batch_ids=[batch.pk]):
        batch.refresh_from_db()
    return batch


@login_required
@permission_required(UPLOAD_LIST, raise_exception=True)
@require_POST
def upload_view(request: HttpRequest, programme_pk: int) -> HttpResponse:
    programme = programme_scope(user=request.user).filter(pk=programme_pk).first()
    if programme is None:
        raise Http404
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        for e in form.errors.get("file", []):
            messages.error(request, e)
        return redirect("funding:programme_detail", pk=programme.pk)
    batch = import_batch_create(
        programme=programme, upload=form.cleaned_data["file"], user=request.user
    )
    try:
        map_columns(read_table(batch.file.path, original_name=batch.original_name))
    except HeaderProblem:
        return redirect("membership:batch_mapping", pk=batch.pk)
    except FileProblem as e:
        batch.status, batch.message = ImportBatch.Status.FAILED, str(e)
        batch.save(update_fields=["status", "message"])
        return redirect("membership:batch_detail", pk=batch.pk)
    import_batch_start(batch=batch, dry_run=True)
    return redirect("membership:batch_detail", pk=batch.pk)


@login_required
@permission_required(UPLOAD_LIST, raise_exception=True)
def mapping_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Each header of the file with what it was recognised as; the user chooses for the others
    and is warned when income or phone numbers would be ignored."""
    batch = _batch(request, pk)
    if batch.status not in REMAPPABLE or not batch.file:
        return redirect("membership:batch_detail", pk=batch.pk)
    try:
        frame = read_table(batch.file.path, original_name=batch.original_name)
    except FileProblem as e:
        messages.error(request, str(e))
        return redirect("membership:batch_detail", pk=batch.pk)
    headers = [c for c in frame.columns if c != "_row"]
    try:
        map_columns(frame.head(0), batch.column_map)
        problem = None
    except HeaderProblem as e:
        problem = e
    report = column_report(headers, batch.column_map)
    form = MappingForm(
        request.POST or None,
        headers=headers,
        recognised=report.recognised,
        guesses=problem.guesses if problem else {},
    )
    if request.method == "POST" and form.is_valid():
        column_map = form.column_map()
        try:
            map_columns(frame.head(0), column_map)
        except HeaderProblem as e:
            problem = e
            report = column_report(headers, column_map)
        else:
            batch.column_map = column_map
            batch.save(update_fields=["column_map"])
            import_batch_start(batch=batch, dry_run=True)
            return redirect("membership:batch_detail", pk=batch.pk)
    return render(
        request,
        "membership/mapping.html",
        {
            "batch": batch,
            "form": form,
            "problem": problem,
            "report_rows": [(h, column_label(c) if c else "") for h, c in report.rows],
            "ignored_important": _ignored_warnings(batch, report.missing_important),
        },
    )


def _ignored_warnings(batch: ImportBatch, missing: list[str]) -> list[str]:
    """What is lost when an important optional column is not in the list."""
    said = {
        "penghasilan": _(
            "No income column: every worker is recorded with the programme's declared income "
            "(%(amount)s)."
        )
        % {"amount": format_rupiah(batch.programme.declared_income)},
        "no_hp": _("No phone column: no phone number is saved, so nobody can be called."),
    }
    return [said[c] for c in IMPORTANT if c in missing]


def _save_state(batch: ImportBatch, counts: dict) -> dict:
    """Which save buttons can be used on the preview, and why not beside each that cannot."""
    refused = counts.get("rejected", 0) + counts.get("not_eligible", 0)
    saveable = counts.get("new", 0) + counts.get("existing", 0)
    state = {"refused": refused, "saveable": saveable, "all_why": "", "valid_why": ""}
    if "fits" in counts:  # the budget or the cap does not take the rows
        state["all_why"] = state["valid_why"] = batch.message
    elif saveable == 0:
        state["all_why"] = state["valid_why"] = _("No row of this list can be saved.")
    elif refused:
        state["all_why"] = ngettext(
            "%(n)s row cannot be saved: map its value above, or fix the file and upload it again, "
            "or save the valid rows only.",
            "%(n)s rows cannot be saved: map their values above, or fix the file and upload it "
            "again, or save the valid rows only.",
            refused,
        ) % {"n": refused}
    return state


@login_required
@permission_required(VIEW_PROGRAMME, raise_exception=True)
def batch_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    from cakupan.membership.tasks import cancel_flag

    batch = _batch(request, pk)
    running = batch.status in RUNNING
    counts = batch.counts or {}
    previewed = batch.status == ImportBatch.Status.PREVIEWED and bool(batch.file)
    can_upload = request.user.has_perm(UPLOAD_LIST)
    problems = [
        (p, column_label(p.column), problem_label(p.code, p.column))
        for p in batch.problems.all()[:200]
    ]
    groups = value_groups(batch=batch) if previewed and can_upload else []
    choices = value_choices() if groups else {}
    report = None
    if batch.file and batch.status not in RUNNING:
        try:
            frame = read_table(batch.file.path, original_name=batch.original_name).head(0)
            report = column_report(list(frame.columns), batch.column_map)
        except (FileProblem, OSError):
            report = None
    context = {
        "batch": batch,
        "running": running,
        "status_message": batch.status_message(),
        "cancel_asked": running and cancel_flag(batch.pk).exists(),
        # an upload whose check or save ended without saving can be checked again
        "can_restart": bool(batch.file)
        and batch.status in (ImportBatch.Status.FAILED, ImportBatch.Status.CANCELLED),
        "problems": problems,
        "problem_count": batch.problems.count(),
        "can_upload": can_upload,
        "previewed": previewed,
        "counts": counts,
        "save": _save_state(batch, counts),
        "groups": [
            (g, column_label(g.column), choices.get(g.column, []), f"v{i}")
            for i, g in enumerate(groups)
        ],
        "mapped": list(batch.value_maps.select_related("created_by")),
        "columns": [(h, column_label(c) if c else "") for h, c in report.rows] if report else [],
        "ignored_important": _ignored_warnings(batch, report.missing_important) if report else [],
        "remappable": can_upload and bool(batch.file) and batch.status in REMAPPABLE,
    }
    if request.htmx:
        return render(request, "membership/_batch_status.html", context)
    return render(request, "membership/batch_detail.html", context)


@login_required
@permission_required(UPLOAD_LIST, raise_exception=True)
@require_POST
def batch_commit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the list: all of it, or (partial=1) its valid rows only."""
    batch = _batch(request, pk)
    partial = request.POST.get("partial") == "1"
    state = _save_state(batch, batch.counts or {})
    why = state["valid_why"] if partial else state["all_why"]
    if batch.status == ImportBatch.Status.PREVIEWED and why:
        messages.error(request, why)
    # a list checked by the command line has no upload here to save from
    elif not batch.file or not import_batch_start(batch=batch, dry_run=False, partial=partial):
        messages.error(request, _("Only a checked list waiting for confirmation can be saved."))
    return redirect("membership:batch_detail", pk=batch.pk)


@login_required
@permission_required(UPLOAD_LIST, raise_exception=True)
@require_POST
def batch_discard_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if import_batch_discard(batch=batch):
        messages.info(
            request, _("List discarded: nothing of it was saved, and its file is deleted.")
        )
    else:
        messages.error(request, _("Only a checked list waiting for confirmation can be discarded."))
    return redirect("membership:batch_detail", pk=batch.pk)


@login_required
@permission_required(UPLOAD_LIST, raise_exception=True)
@require_POST
def batch_values_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Map each chosen value for every row holding it, then check the list again."""
    batch = _batch(request, pk)
    if batch.status != ImportBatch.Status.PREVIEWED or not batch.file:
        messages.error(
            request, _("Values can be mapped on a checked list waiting for confirmation.")
        )
        return redirect("membership:batch_detail", pk=batch.pk)
    maps = []
    for i in range(min(int(request.POST.get("groups", "0") or 0), 500)):
        column = request.POST.get(f"v{i}-column", "")
        value = request.POST.get(f"v{i}-value", "")
        mapped_to = request.POST.get(f"v{i}-to", "")
        if column in MAPPABLE and value and mapped_to:
            maps.append((column, value, mapped_to))
    if not maps:
        messages.error(request, _("Choose what at least one value means."))
        return redirect("membership:batch_detail", pk=batch.pk)
    try:
        import_value_maps_set(batch=batch, maps=maps, user=request.user)
    except ValueMapInvalid as e:
        messages.error(request, str(e))
        return redirect("membership:batch_detail", pk=batch.pk)
    import_batch_start(batch=batch, dry_run=True)
    messages.success(
        request,
        ngettext(
            "%(n)s value mapped: the list is being checked again.",
            "%(n)s values mapped: the list is being checked again.",
            len(maps),
        )
        % {"n": len(maps)},
    )
    return redirect("membership:batch_detail", pk=batch.pk)


@login_required
@permission_required(UPLOAD_LIST, raise_exception=True)
@require_POST
def batch_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    if batch.status == ImportBatch.Status.VALIDATING:
        import_batch_cancel(batch=batch)
        messages.info(request, _("Cancelling: nothing of this list will be saved."))
    elif batch.status == ImportBatch.Status.COMMITTING:
        # a save that is about to commit cannot be stopped any more: do not promise it
        import_batch_cancel(batch=batch)
        messages.info(
            request,
            _(
                "Cancel requested. If it arrives before the save finishes, nothing of this list "
                "is saved; the status below says which happened."
            ),
        )
    return redirect("membership:batch_detail", pk=batch.pk)


@login_required
@permission_required(UPLOAD_LIST, raise_exception=True)
@require_POST
def batch_restart_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Check a list again after its run failed, stopped or was cancelled."""
    batch = _batch(request, pk)
    if not batch.file or not import_batch_start(batch=batch, dry_run=True):
        messages.error(request, _("This list cannot be checked again now."))
    return redirect("membership:batch_detail", pk=batch.pk)


@login_required
@permission_required(VIEW_PROGRAMME, raise_exception=True)
def batch_report_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Every rejected or flagged row: row number, column, problem, suggestion."""
    batch = _batch(request, pk)
    out = io.StringIO()
    writer = csv_writer(out)
    # the code stays for tools reading the report; people read the column's name and message
    writer.writerow(["baris", "kolom", "status", "kode", "masalah", "saran"])
    for p in batch.problems.all().iterator(chunk_size=5000):
        writer.writerow(
            [
                p.row,
                column_label(p.column),
                p.get_severity_display(),
                p.code,
                p.message,
                p.suggestion,
            ]
        )
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="laporan-impor-{batch.pk}.csv"'
    return response


@login_required
def template_view(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in ("csv", "xlsx"):
        raise Http404
    if kind == "xlsx":
        response = HttpResponse(
            template_xlsx(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="templat-peserta.{kind}"'
    return response


@login_required
@permission_required(REVIEW_LINKS, raise_exception=True)
def review_list_view(request: HttpRequest) -> HttpResponse:
    cases = ReviewCase.objects.filter(
        status=ReviewCase.Status.OPEN, batch__programme__in=programme_scope(user=request.user)
    ).select_related("candidate__kelurahan", "candidate__occupation", "batch__programme")[:100]
    candidates = [c.candidate for c in cases if c.candidate is not None]
    shown = nik_display(
        user=request.user, workers=candidates, action=NikAccessLog.Action.VIEW, path=request.path
    )
    rows = [(c, shown.get(c.candidate_id, "")) for c in cases]
    return render(request, "membership/review_list.html", {"rows": rows})


@login_required
@permission_required(REVIEW_LINKS, raise_exception=True)
@require_POST
def review_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(
        ReviewCase, pk=pk, batch__programme__in=programme_scope(user=request.user)
    )
    decision = request.POST.get("decision", "")
    try:
        review_decide(case=case, decision=decision, user=request.user)
    except ReviewInvalid as e:
        messages.error(request, str(e))
    else:
        messages.success(
            request,
            {
                "same": _("Merged with the registered worker."),
                "different": _("Kept apart: a new worker was registered."),
                "reject": _("Row rejected: nothing was enrolled."),
            }[decision],
        )
    return redirect("membership:review_list")


@login_required
@permission_required(REVIEW_LINKS, raise_exception=True)
@require_POST
def auto_link_reverse_view(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Batalkan tautan otomatis" on the worker page: the row goes back to the review queue."""
    link = get_object_or_404(
        AutoLink, pk=pk, batch__programme__in=programme_scope(user=request.user)
    )
    try:
        case = auto_link_reverse(link=link, user=request.user)
    except AutoLinkInvalid as e:
        messages.error(request, str(e))
    else:
        messages.success(
            request,
            _(
                "Automatic link undone: the funding from that list was removed and row "
                "%(row)s waits in the review queue."
            )
            % {"row": case.row},
        )
    return redirect("web:worker_detail", pk=link.worker_id)


@login_required
@permission_required(ENROL, raise_exception=True)
@require_POST
def enrol_worker_view(request: HttpRequest, worker_pk: int) -> HttpResponse:
    worker = worker_get(user=request.user, pk=worker_pk)
    if worker is None:
        raise Http404
    form = EnrolForm(request.POST, programmes=programme_scope(user=request.user))
    if form.is_valid():
        try:
            membership = membership_enrol(
                worker=worker, programme=form.cleaned_data["programme"], created_by=request.user
            )
        except EnrolmentRefused as e:
            messages.error(request, str(e))
        else:
            messages.success(request, _("Enrolled: membership %(n)s.") % {"n": membership.number})
    else:
        messages.error(request, _("Choose a funding programme."))
    return redirect("web:worker_detail", pk=worker.pk)


@login_required
@permission_required(ENROL, raise_exception=True)
@require_POST
def self_payment_view(request: HttpRequest, pk: int) -> HttpResponse:
    """From a month on, the worker pays for themself (after a sponsor's programme ends)."""
    membership = Membership.objects.filter(
        pk=pk, worker__in=worker_scope(user=request.user)
    ).first()
    if membership is None:
        raise Http404
    try:
        month = parse_month(request.POST.get("from_month", "")[:7])
        membership_to_self_payment(membership=membership, from_month=month)
    except (ValueError, EnrolmentRefused) as e:
        messages.error(request, str(e))
    else:
        messages.success(
            request,
            _("From %(m)s the worker pays the contributions himself or herself.")
            % {"m": f"{month:%Y-%m}"},
        )
    return redirect("web:worker_detail", pk=membership.worker_id)
