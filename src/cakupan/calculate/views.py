"""The calculator pages: parse the form, call the engine, render the itemised result.

With htmx the form posts in place and only the result fragment comes back (with the form
re-rendered out of band, so field errors appear next to their fields); without JavaScript
the same view answers a normal POST with the whole page.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django_htmx.http import reswap

from cakupan.accounts.roles import USE_CALCULATOR
from cakupan.calculate.forms import (
    BenefitCalculator,
    ContributionForm,
    disability_items,
    vocabulary,
)
from cakupan.rules import RuleInputError, benefits_from_dict, contribution


def _render(
    request: HttpRequest, page: str, fragment: str, context: dict[str, Any]
) -> HttpResponse:
    if request.htmx:
        return render(request, fragment, {**context, "oob": True})
    return render(request, page, context)


@login_required
@permission_required(USE_CALCULATOR, raise_exception=True)
def contribution_view(request: HttpRequest) -> HttpResponse:
    # A link from a worker's page pre-fills what is known: ?occupation=ojol&funding=csr
    prefill = {
        k: request.GET[k][:40]
        for k in ("income", "occupation", "sector", "funding")
        if k in request.GET
    }
    form = ContributionForm(request.POST if request.method == "POST" else None, initial=prefill)
    result = None
    if form.is_bound and form.is_valid():
        try:
            result = contribution(**form.engine_input())
        except RuleInputError as e:
            form.attach_error(e)
    context = {"form": form, "result": result}
    if result is not None:
        context["terms"] = vocabulary(result.month)
    return _render(
        request, "calculate/contribution.html", "calculate/_contribution_result.html", context
    )


@login_required
@permission_required(USE_CALCULATOR, raise_exception=True)
def benefits_view(request: HttpRequest) -> HttpResponse:
    calculator = BenefitCalculator(request.POST if request.method == "POST" else None)
    result = None
    if request.method == "POST" and calculator.is_valid():
        try:
            # Today in the office's time zone: an event after it is refused, and only this
            # school year's scholarship instalment is paid now.
            result = benefits_from_dict(calculator.event(), as_of=timezone.localdate())
        except RuleInputError as e:
            calculator.attach_error(e)
    context: dict[str, Any] = {"calc": calculator, "result": result}
    if result is not None:
        context["levels"] = vocabulary(result.event_date).education_levels
    context["disability_items"] = disability_items()
    if calculator.adding_child and request.htmx:
        # Only the form changes (one more child row); the last result stays on the page.
        response = render(request, "calculate/_benefit_form.html", {**context, "oob": True})
        return reswap(response, "none")
    return _render(request, "calculate/benefits.html", "calculate/_benefit_result.html", context)
