"""Pages for sponsors and funding programmes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from cakupan.accounts.roles import MANAGE_PROGRAMME, UPLOAD_LIST, VIEW_LEDGER, VIEW_PROGRAMME
from cakupan.contributions.invoices import ProgrammeMoney, invoice_totals, programme_money
from cakupan.formkit import apply_errors
from cakupan.funding.forms import ProgrammeForm, SponsorForm
from cakupan.funding.selectors import (
    eligibility_summary,
    programme_budget,
    programme_list,
    programme_scope,
    sponsor_scope,
)
from cakupan.funding.services import FundingInvalid, programme_create, sponsor_create
from cakupan.membership.forms import UploadForm
from cakupan.membership.selectors import programme_imports


@login_required
@permission_required(VIEW_PROGRAMME, raise_exception=True)
def programme_list_view(request: HttpRequest) -> HttpResponse:
    programmes = list(programme_list(user=request.user))
    money = programme_money(p.pk for p in programmes)
    rows = [
        (p, programme_budget(programme=p), money.get(p.pk, ProgrammeMoney())) for p in programmes
    ]
    return render(
        request,
        "funding/programme_list.html",
        {"rows": rows, "sponsors": sponsor_scope(user=request.user)},
    )


@login_required
@permission_required(MANAGE_PROGRAMME, raise_exception=True)
def programme_create_view(request: HttpRequest) -> HttpResponse:
    form = ProgrammeForm(
        request.POST or None,
        sponsors=sponsor_scope(user=request.user),
        initial={"sponsor": request.GET.get("sponsor", "")[:18]},
    )
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        try:
            programme = programme_create(
                sponsor=c["sponsor"],
                name=c["name"],
                fiscal_year=c["fiscal_year"],
                first_month=c["first_month"],
                last_month=c["last_month"],
                budget=c["budget"],
                programmes=["jkk", "jkm", *(["jht"] if c["jht"] else [])],
                declared_income=c["declared_income"],
                eligibility=form.eligibility(),
                cohort_cap=c["cohort_cap"],
                created_by=request.user,
            )
        except FundingInvalid as e:
            apply_errors(form, e.errors)
        else:
            messages.success(request, _("Programme %(name)s created.") % {"name": programme.name})
            return redirect("funding:programme_detail", pk=programme.pk)
    return render(request, "funding/programme_form.html", {"form": form})


@login_required
@permission_required(MANAGE_PROGRAMME, raise_exception=True)
def sponsor_create_view(request: HttpRequest) -> HttpResponse:
    form = SponsorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sponsor = sponsor_create(**form.cleaned_data)
        except FundingInvalid as e:
            apply_errors(form, e.errors)
        else:
            messages.success(request, _("Sponsor %(name)s created.") % {"name": sponsor.name})
            return redirect(f"{reverse('funding:programme_create')}?sponsor={sponsor.pk}")
    return render(request, "funding/sponsor_form.html", {"form": form})


def can_see_ledger(request: HttpRequest) -> bool:
    return request.user.has_perm(VIEW_LEDGER)


@login_required
@permission_required(VIEW_PROGRAMME, raise_exception=True)
def programme_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    programme = programme_scope(user=request.user).filter(pk=pk).first()
    if programme is None:
        raise Http404
    invoices = list(programme.invoices.order_by("-month")[:60]) if can_see_ledger(request) else []
    totals = invoice_totals(i.pk for i in invoices)
    return render(
        request,
        "funding/programme_detail.html",
        {
            "programme": programme,
            "money": programme_money([programme.pk]).get(programme.pk, ProgrammeMoney()),
            "invoices": [(i, totals[i.pk]) for i in invoices],
            "budget": programme_budget(programme=programme),
            "eligibility": eligibility_summary(programme.eligibility or {}),
            "imports": programme_imports(programme=programme),
            "upload_form": UploadForm(),
            # officers and the programme's own sponsor upload lists (the scope above)
            "can_upload": request.user.has_perm(UPLOAD_LIST),
        },
    )
