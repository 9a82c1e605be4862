"""Pages for paying claims (PAY_CLAIM): the instructions waiting for a bank batch, the failed
transfers and the batches, with their CSV/XLSX files; and the bank's return file, read all or
nothing with a row report (claims.payments does the work)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cakupan.accounts.roles import PAY_CLAIM, require_any
from cakupan.claims.models import Batch
from cakupan.claims.pay_reads import (
    SHOWN_BATCHES,
    SHOWN_INSTRUCTIONS,
    bank_name,
    batches_recent,
    instructions_failed,
    instructions_waiting,
    instructions_waiting_total,
)
from cakupan.claims.payments import PaymentRefused, batch_export, batch_file, batch_return

# as the payment statement upload (contributions.views.payments)
MAX_UPLOAD_MB = 200
SHOWN_PROBLEMS = 200
UPLOAD_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ReturnForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("The bank's return file (CSV or XLSX)"),
        help_text=gettext_lazy(
            "Columns: referensi, status (berhasil or gagal), tanggal, and optionally jumlah, "
            "no_transaksi and alasan. Every row is checked first: one bad row and nothing is "
            "changed."
        ),
        error_messages={"required": gettext_lazy("Choose the bank's return file to upload.")},
    )

    def clean_file(self):
        f = self.cleaned_data["file"]
        if not f.name.lower().endswith(UPLOAD_SUFFIXES):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        if f.size > MAX_UPLOAD_MB * 1024 * 1024:
            raise forms.ValidationError(
                _("The file is larger than %(mb)s MB; split it.") % {"mb": MAX_UPLOAD_MB}
            )
        return f


@login_required
def pay_overview_view(request: HttpRequest) -> HttpResponse:
    require_any(request.user, PAY_CLAIM)
    waiting = list(instructions_waiting()[:SHOWN_INSTRUCTIONS])
    failed = list(instructions_failed()[:SHOWN_INSTRUCTIONS])
    count, total = instructions_waiting_total()
    return render(
        request,
        "claims/pay_overview.html",
        {
            "waiting": [(i, bank_name(i.bank_code)) for i in waiting],
            "waiting_count": count,
            "waiting_total": total,
            "failed": [(i, bank_name(i.bank_code)) for i in failed],
            "batches": list(batches_recent()[:SHOWN_BATCHES]),
        },
    )


@login_required
@require_POST
def batch_create_view(request: HttpRequest) -> HttpResponse:
    require_any(request.user, PAY_CLAIM)
    try:
        batch = batch_export(user=request.user)
    except PaymentRefused as e:
        messages.error(request, e.message)
    else:
        messages.success(
            request,
            _(
                "Batch %(n)s made: %(count)s transfers. Download its file and send it to the "
                "bank; when the bank answers, upload its return file."
            )
            % {"n": batch.number, "count": batch.count},
        )
    return redirect("claims:pay_overview")


@login_required
def batch_download_view(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    require_any(request.user, PAY_CLAIM)
    if fmt not in CONTENT_TYPES:
        raise Http404
    batch = get_object_or_404(Batch, pk=pk)
    response = HttpResponse(batch_file(batch, fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{batch.number}.{fmt}"'
    return response


@login_required
def return_upload_view(request: HttpRequest) -> HttpResponse:
    require_any(request.user, PAY_CLAIM)
    form = ReturnForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = _read_return(request, form.cleaned_data["file"])
            except PaymentRefused as e:
                form.add_error("file", e.message)
        if not form.is_valid() or (result is not None and not result.saved):
            status = 422
    problems = result.problems if result else []
    return render(
        request,
        "claims/pay_return.html",
        {
            "form": form,
            "result": result,
            "problems": problems[:SHOWN_PROBLEMS],
            "more_problems": max(len(problems) - SHOWN_PROBLEMS, 0),
        },
        status=status,
    )


def _read_return(request: HttpRequest, upload):
    """The upload written to a temporary file (the reader takes a path), read, then removed."""
    suffix = Path(upload.name).suffix.lower()
    handle, name = tempfile.mkstemp(prefix="retur-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        return batch_return(path=name, user=request.user, original_name=upload.name)
    finally:
        Path(name).unlink(missing_ok=True)
