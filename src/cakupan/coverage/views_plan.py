"""Pages of the budget planner (/cakupan/rencana/) and of scenarios."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cakupan.accounts import roles
from cakupan.coverage import planner
from cakupan.coverage.forms import (
    ForwardForm,
    InverseForm,
    MakeProgrammeForm,
    PlanForm,
    SaveForm,
)
from cakupan.coverage.models import Scenario
from cakupan.coverage.scenarios import (
    as_json,
    chosen_csv,
    chosen_rows,
    key_figures,
    scenario_list,
    scenario_pdf,
    scenario_save,
    scenario_to_programme,
    scenario_xlsx,
    scenarios_for_compare,
)
from cakupan.coverage.snapshots import unpack_ids
from cakupan.errors import Refused
from cakupan.months import add_months, month_start
from cakupan.regions.selectors import city_code


def _forms(data) -> tuple[ForwardForm, InverseForm, str]:
    kind = data.get("kind") if data else None
    today = month_start(timezone.localdate())
    start = add_months(today, 1)
    forward_form = ForwardForm(
        data if kind == "forward" else None,
        initial={
            "kind": "forward",
            "first_month": start,
            "months": 12,
            "priority": "vulnerability",
        },
    )
    inverse_form = InverseForm(
        data if kind == "inverse" else None,
        initial={
            "kind": "inverse",
            "first_month": start,
            "by_month": add_months(start, 11),
            "region": city_code(),
            "priority": "vulnerability",
        },
    )
    tab = kind or (data.get("tab") if data else None)
    return forward_form, inverse_form, "inverse" if tab == "inverse" else "forward"


def _run(form: PlanForm, kind: str) -> planner.Plan:
    if kind == "forward":
        return planner.forward(**form.arguments())
    return planner.inverse(**form.arguments())


def _add_refusal(form: PlanForm, refused: Refused) -> None:
    form.add_error(refused.field if refused.field in form.fields else None, str(refused.message))


def _as_scenario(plan: planner.Plan) -> Scenario:
    """An unsaved scenario of a plan, to show it as a saved one is shown."""
    return Scenario(
        kind=plan.kind,
        parameters=as_json(plan.parameters),
        summary=plan.summary(),
        chosen=len(plan.chosen),
        total=plan.total,
    )


@login_required
def planner_view(request: HttpRequest) -> HttpResponse:
    """The two plans' forms; with a plan's parameters in the query, its result."""
    roles.require_any(request.user, roles.PLAN_BUDGET)
    forward_form, inverse_form, kind = _forms(request.GET)
    form = forward_form if kind == "forward" else inverse_form
    context = {"forward_form": forward_form, "inverse_form": inverse_form, "kind": kind}
    if form.is_bound and form.is_valid():
        try:
            plan = _run(form, kind)
        except Refused as e:
            _add_refusal(form, e)
        else:
            scenario = _as_scenario(plan)
            context.update(
                _result_context(scenario, plan.chosen.ids[:100].tolist()),
                query=request.GET.urlencode(),
                save_form=SaveForm(),
            )
    return render(request, "coverage/planner.html", context)


def _result_context(scenario: Scenario, first_ids: list[int]) -> dict:
    return {
        "scenario": scenario,
        "figures": key_figures(scenario),
        "monthly": scenario.summary["monthly"],
        "top": max((rp for _m, _n, rp in scenario.summary["monthly"]), default=0) or 1,
        "by_year": scenario.summary["by_year"],
        "regions": scenario.summary["regions"],
        "workers": list(chosen_rows(first_ids)),
    }


def _bound_plan(request: HttpRequest) -> tuple[PlanForm, planner.Plan | None]:
    forward_form, inverse_form, kind = _forms(request.GET)
    form = forward_form if kind == "forward" else inverse_form
    if not form.is_bound or not form.is_valid():
        return form, None
    try:
        return form, _run(form, kind)
    except Refused as e:
        _add_refusal(form, e)
        return form, None


@login_required
def planner_csv_view(request: HttpRequest) -> HttpResponse:
    """Every chosen worker of the plan in the query, in priority order (masked NIK)."""
    roles.require_any(request.user, roles.PLAN_BUDGET)
    _form, plan = _bound_plan(request)
    if plan is None:
        raise Http404
    return _csv_response(plan.chosen.ids, "rencana-pekerja.csv")


def _csv_response(ids, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(chosen_csv(ids), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def planner_save_view(request: HttpRequest) -> HttpResponse:
    """Save the plan of the query (run again, so what is saved is what the rules say now)."""
    roles.require_any(request.user, roles.PLAN_BUDGET)
    _form, plan = _bound_plan(request)
    save = SaveForm(request.POST)
    if plan is None:
        messages.error(request, _("The plan's parameters are not valid any more; plan again."))
        return redirect("coverage_plan:planner")
    if not save.is_valid():
        messages.error(request, _("Give the scenario a name."))
        return redirect(f"{reverse('coverage_plan:planner')}?{request.GET.urlencode()}")
    try:
        scenario = scenario_save(plan=plan, name=save.cleaned_data["name"], user=request.user)
    except Refused as e:
        messages.error(request, str(e.message))
        return redirect("coverage_plan:planner")
    messages.success(request, _("Scenario %(name)s saved.") % {"name": scenario.name})
    return redirect("coverage_plan:scenario_detail", pk=scenario.pk)


@login_required
def scenario_list_view(request: HttpRequest) -> HttpResponse:
    roles.require_any(request.user, roles.PLAN_BUDGET)
    return render(
        request,
        "coverage/scenario_list.html",
        {"scenarios": scenario_list()[:200]},
    )


@login_required
def scenario_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    roles.require_any(request.user, roles.PLAN_BUDGET)
    scenario = get_object_or_404(scenario_list(), pk=pk)
    context = _result_context(scenario, scenario.summary.get("first_ids", []))
    if request.user.has_perm(roles.MANAGE_PROGRAMME) and scenario.programme_id is None:
        context["programme_form"] = MakeProgrammeForm(
            funder=scenario.parameters["funder"],
            initial={"name": scenario.name},
        )
    return render(request, "coverage/scenario_detail.html", context)


@login_required
def scenario_export_view(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    roles.require_any(request.user, roles.PLAN_BUDGET)
    scenario = get_object_or_404(Scenario, pk=pk)
    stem = f"skenario-{scenario.pk}"
    if fmt == "csv":
        return _csv_response(unpack_ids(scenario.chosen_ids), f"{stem}-pekerja.csv")
    if fmt == "xlsx":
        body, content_type = scenario_xlsx([scenario]), XLSX
    elif fmt == "pdf":
        body, content_type = scenario_pdf(scenario), "application/pdf"
    else:
        raise Http404
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _compare_ids(request: HttpRequest) -> list[int]:
    return [int(i) for i in request.GET.getlist("ids") if i.isascii() and i.isdigit()][:10]


@login_required
def scenario_compare_view(request: HttpRequest) -> HttpResponse:
    roles.require_any(request.user, roles.PLAN_BUDGET)
    try:
        scenarios = scenarios_for_compare(_compare_ids(request))
    except Refused as e:
        messages.error(request, str(e.message))
        return redirect("coverage_plan:scenario_list")
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(scenario_xlsx(scenarios), content_type=XLSX)
        response["Content-Disposition"] = 'attachment; filename="skenario-banding.xlsx"'
        return response
    figures = [dict(key_figures(s)) for s in scenarios]
    labels: list[str] = []
    for f in figures:
        labels += [k for k in f if k not in labels]
    rows = [(label, [f.get(label, "—") for f in figures]) for label in labels]
    top = max(max((rp for _m, _n, rp in s.summary["monthly"]), default=0) for s in scenarios)
    bars = [
        (
            s,
            [
                (m[:7], rp, round(100 * rp / top) if top else 0)
                for m, _n, rp in s.summary["monthly"]
            ],
        )
        for s in scenarios
    ]
    return render(
        request,
        "coverage/scenario_compare.html",
        {
            "scenarios": scenarios,
            "rows": rows,
            "bars": bars,
            "query": urlencode([("ids", s.pk) for s in scenarios]),
        },
    )


@login_required
@require_POST
def scenario_programme_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Make the scenario a funding programme with its cohort (confirmed, once)."""
    roles.require_any(request.user, roles.PLAN_BUDGET)
    roles.require_any(request.user, roles.MANAGE_PROGRAMME)
    scenario = get_object_or_404(Scenario, pk=pk)
    form = MakeProgrammeForm(request.POST, funder=scenario.parameters["funder"])
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("coverage_plan:scenario_detail", pk=pk)
    try:
        made = scenario_to_programme(
            scenario=scenario,
            sponsor=form.cleaned_data["sponsor"],
            name=form.cleaned_data["name"],
            user=request.user,
        )
    except Refused as e:
        messages.error(request, str(e.message))
        return redirect("coverage_plan:scenario_detail", pk=pk)
    messages.success(
        request,
        _("Programme %(name)s created with %(n)s workers enrolled.")
        % {"name": made.programme.name, "n": made.enrolled},
    )
    if made.became_members:
        messages.warning(
            request,
            _(
                "%(n)s chosen workers were left out: they became members since the plan "
                "(another payer already covers those months)."
            )
            % {"n": made.became_members},
        )
    if made.earlier_members:
        messages.warning(
            request,
            _(
                "%(n)s chosen workers were left out: they have an earlier membership; enrol "
                "them one by one on the programme's page."
            )
            % {"n": made.earlier_members},
        )
    if made.gone:
        messages.warning(
            request,
            _("%(n)s chosen workers are no longer in the registry.") % {"n": made.gone},
        )
    return redirect("funding:programme_detail", pk=made.programme.pk)
