"""Pages for enrolment: upload and check a list, watch it run, save or cancel, review matches."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cakupan.accounts.roles import ENROL, REVIEW_LINKS, VIEW_PROGRAMME
from cakupan.exports import csv_writer
from cakupan.funding.forms import EnrolForm
from cakupan.funding.selectors import programme_scope
from cakupan.membership.forms import MappingForm, UploadForm
from cakupan.membership.importing import FileProblem, HeaderProblem, map_columns, read_table
from cakupan.membership.models import AutoLink, ImportBatch, Membership, ReviewCase
from cakupan.membership.runs import import_runs_reap
from cakupan.membership.services import (
    AutoLinkInvalid,
    EnrolmentRefused,
    ReviewInvalid,
    auto_link_reverse,
    import_batch_cancel,
    import_batch_create,
    import_batch_start,
    membership_enrol,
    membership_to_self_payment,
    review_decide,
)
from cakupan.membership.template_file import template_csv, template_xlsx
from cakupan.months import parse_month
from cakupan.registry.models import NikAccessLog
from cakupan.registry.selectors import worker_get, worker_scope
from cakupan.registry.services import nik_display

RUNNING = {ImportBatch.Status.VALIDATING, ImportBatch.Status.COMMITTING}


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
@permission_required(ENROL, raise_exception=True)
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
        programme=programme,
        upload=form.cleaned_data["file"],
        user=request.user,
        partial=form.cleaned_data["partial"],
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
@permission_required(ENROL, raise_exception=True)
def mapping_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    try:
        map_columns(
            read_table(batch.file.path, original_name=batch.original_name), batch.column_map
        )
        problem = None
    except HeaderProblem as e:
        problem = e
    except FileProblem as e:
        messages.error(request, str(e))
        return redirect("membership:batch_detail", pk=batch.pk)
    if problem is None and request.method == "GET":
        return redirect("membership:batch_detail", pk=batch.pk)
    headers = problem.headers if problem else list(batch.column_map)
    form = MappingForm(
        request.POST or None, headers=headers, guesses=problem.guesses if problem else {}
    )
    if request.method == "POST" and form.is_valid():
        batch.column_map = form.column_map()
        batch.save(update_fields=["column_map"])
        try:
            map_columns(
                read_table(batch.file.path, original_name=batch.original_name), batch.column_map
            )
        except HeaderProblem as e:
            messages.error(request, str(e))
        else:
            import_batch_start(batch=batch, dry_run=True)
            return redirect("membership:batch_detail", pk=batch.pk)
    return render(
        request, "membership/mapping.html", {"batch": batch, "form": form, "problem": problem}
    )


@login_required
@permission_required(VIEW_PROGRAMME, raise_exception=True)
def batch_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    from cakupan.membership.tasks import cancel_flag

    batch = _batch(request, pk)
    running = batch.status in RUNNING
    context = {
        "batch": batch,
        "running": running,
        "status_message": batch.status_message(),
        "cancel_asked": running and cancel_flag(batch.pk).exists(),
        # an upload whose check or save ended without saving can be checked again
        "can_restart": bool(batch.file)
        and batch.status in (ImportBatch.Status.FAILED, ImportBatch.Status.CANCELLED),
        "problems": batch.problems.all()[:200],
        "problem_count": batch.problems.count(),
        "can_enrol": request.user.has_perm(ENROL),
        "counts": batch.counts or {},
    }
    if request.htmx:
        return render(request, "membership/_batch_status.html", context)
    return render(request, "membership/batch_detail.html", context)


@login_required
@permission_required(ENROL, raise_exception=True)
@require_POST
def batch_commit_view(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch(request, pk)
    # a list checked by the command line has no upload here to save from
    if not batch.file or not import_batch_start(batch=batch, dry_run=False):
        messages.error(request, _("Only a checked list waiting for confirmation can be saved."))
    return redirect("membership:batch_detail", pk=batch.pk)


@login_required
@permission_required(ENROL, raise_exception=True)
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
@permission_required(ENROL, raise_exception=True)
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
    writer.writerow(["baris", "kolom", "status", "kode", "masalah", "saran"])
    for p in batch.problems.all().iterator(chunk_size=5000):
        writer.writerow(
            [p.row, p.column, p.get_severity_display(), p.code, p.message, p.suggestion]
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
