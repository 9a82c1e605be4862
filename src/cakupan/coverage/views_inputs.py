"""Pages of the coverage inputs (/cakupan/masukan/): lists with their sources, a form per
kind, a file upload with its problems shown before anything is written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cakupan.accounts import roles
from cakupan.coverage.forms import INPUT_FORMS, InputUploadForm
from cakupan.coverage.services import (
    KINDS,
    InputKind,
    InputRefused,
    input_delete,
    input_import,
    input_save,
)

SHOWN = 200  # rows per list and problems per upload shown


def _kind(slug: str) -> InputKind:
    if slug not in KINDS:
        raise Http404
    return KINDS[slug]


def _title(slug: str) -> str:
    return {
        "penyebut": _("Employed population (denominators)"),
        "peserta": _("Participant counts from the agency"),
        "target": _("Targets"),
    }[slug]


@login_required
def inputs_view(request: HttpRequest) -> HttpResponse:
    roles.require_any(request.user, roles.MANAGE_COVERAGE_INPUTS)
    sections = [
        (slug, _title(slug), kind.model.objects.select_related("region")[:SHOWN])
        for slug, kind in KINDS.items()
    ]
    return render(request, "coverage/inputs.html", {"sections": sections})


@login_required
def input_form_view(request: HttpRequest, slug: str, pk: int | None = None) -> HttpResponse:
    roles.require_any(request.user, roles.MANAGE_COVERAGE_INPUTS)
    kind = _kind(slug)
    row = get_object_or_404(kind.model, pk=pk) if pk is not None else None
    initial = {}
    if row is not None:
        initial = {f: getattr(row, f) for f in INPUT_FORMS[slug].base_fields if hasattr(row, f)}
        initial["region"] = row.region_id
    form = INPUT_FORMS[slug](request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            input_save(kind, data=form.data_for_service(), user=request.user, pk=pk)
        except InputRefused as e:
            form.add_error(e.field if e.field in form.fields else None, str(e.message))
        else:
            messages.success(request, _("Saved."))
            return redirect("coverage_plan:inputs")
    return render(
        request,
        "coverage/input_form.html",
        {"form": form, "slug": slug, "title": _title(slug), "row": row},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def input_delete_view(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    roles.require_any(request.user, roles.MANAGE_COVERAGE_INPUTS)
    input_delete(_kind(slug), pk=pk)
    messages.success(request, _("Deleted."))
    return redirect("coverage_plan:inputs")


@login_required
def input_upload_view(request: HttpRequest, slug: str) -> HttpResponse:
    roles.require_any(request.user, roles.MANAGE_COVERAGE_INPUTS)
    kind = _kind(slug)
    form = InputUploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        handle, name = tempfile.mkstemp(prefix="masukan-", suffix=Path(upload.name).suffix.lower())
        try:
            with os.fdopen(handle, "wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            result = input_import(
                kind,
                name,
                original_name=upload.name,
                user=request.user,
                check_only=form.cleaned_data["check_only"],
            )
        except InputRefused as e:
            form.add_error("file", str(e.message))
        finally:
            Path(name).unlink(missing_ok=True)
        if result is not None and result.saved:
            messages.success(
                request,
                _("%(created)s added, %(updated)s updated, %(unchanged)s unchanged.")
                % {
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                },
            )
            return redirect("coverage_plan:inputs")
    problems = result.problems if result else []
    return render(
        request,
        "coverage/input_upload.html",
        {
            "form": form,
            "slug": slug,
            "title": _title(slug),
            "kind": kind,
            "result": result,
            "problems": problems[:SHOWN],
            "more": max(len(problems) - SHOWN, 0),
        },
        status=422 if form.errors or problems else 200,
    )
