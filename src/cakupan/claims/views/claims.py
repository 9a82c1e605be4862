"""Pages of a claim: the list, filing, the detail with every fact and workflow step, an earlier
version, the family's printable view, and the hospital's first report of a work accident.

VIEW_CLAIM reads; FILE_CLAIM files and adds facts and the family; VERIFY_CLAIM verifies;
APPROVE_CLAIM approves (never the officer who submitted or verified, the service refuses);
VERIFY_CLAIM or APPROVE_CLAIM rejects; PAY_CLAIM sends a failed transfer again; RECORD_PROOF
records a proof of enrolment or stops a child's scholarship; REPORT_ACCIDENT (a hospital clerk)
only opens the first report. Each POST calls one service; a refusal comes back on the form
field it names with nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cakupan.accounts.roles import (
    APPROVE_CLAIM,
    FILE_CLAIM,
    PAY_CLAIM,
    RECORD_PROOF,
    REPORT_ACCIDENT,
    VERIFY_CLAIM,
    VIEW_CLAIM,
    require_any,
)
from cakupan.claims import claim_reads as reads
from cakupan.claims.models import Claim, Instalment, Instruction, Party
from cakupan.claims.scholarships import ScholarshipRefused, proof_record, scholarship_stop
from cakupan.claims.services import (
    ClaimRefused,
    assessment_add,
    claim_approve,
    claim_file,
    claim_outcome,
    claim_reject,
    claim_report_accident,
    claim_verify,
    cost_add,
    incapacity_add,
    instruction_reissue,
    latest,
    party_add,
    party_update,
)
from cakupan.claims.views.forms import (
    AssessmentForm,
    CostForm,
    FileForm,
    IncapacityForm,
    NoteForm,
    OutcomeForm,
    PartyForm,
    ProofForm,
    RejectForm,
    ReportForm,
    StopForm,
    party_initial,
    refused_on,
)
from cakupan.digits import ascii_digits
from cakupan.membership.models import Membership
from cakupan.registry.models import NikAccessLog
from cakupan.registry.nik import mask_nik, normalise_nik
from cakupan.registry.services import access_log_write, nik_display
from cakupan.throttle import Throttled, throttle


def _today():
    return timezone.localdate()


# -- the list ----------------------------------------------------------------------------------


@login_required
def claim_list_view(request: HttpRequest) -> HttpResponse:
    require_any(request.user, VIEW_CLAIM)
    filters = {
        "status": request.GET.get("status", "")[:12],
        "type": request.GET.get("type", "")[:4],
        "q": request.GET.get("q", "")[:80].strip(),
    }
    claims = reads.claims_search(
        status=filters["status"], claim_type=filters["type"], q=filters["q"]
    )
    page = Paginator(claims, reads.PER_PAGE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    totals = reads.latest_totals(items)
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v)
    return render(
        request,
        "claims/claim_list.html",
        {
            "rows": [(c, totals.get(c.pk)) for c in items],
            "page": page,
            "filters": filters,
            "query": query,
            "statuses": Claim.Status.choices,
            "types": Claim.Type.choices,
        },
    )


# -- finding a membership ----------------------------------------------------------------------


def _lookup(request: HttpRequest, form: FileForm | ReportForm) -> Membership | None:
    """The membership the form's number or NIK names; with several, the one chosen (the form
    offers them when none is). Errors land on the form."""
    raw = ascii_digits(form.cleaned_data["lookup"]).strip().upper()
    by_nik = not any(ch.isalpha() for ch in raw)
    if by_nik:
        nik = normalise_nik(raw)
        found = list(
            Membership.objects.filter(worker__nik=nik).select_related("worker").order_by("id")
        )
        access_log_write(
            user=request.user,
            action=NikAccessLog.Action.SEARCH,
            workers=[found[0].worker] if found else [None],
            path=request.path,
        )
    else:
        found = list(Membership.objects.filter(number=raw).select_related("worker"))
    if not found:
        form.add_error(
            "lookup",
            _(
                "No membership has the NIK or number %(v)s; check it against the ID card or the "
                "membership card."
            )
            % {"v": (mask_nik(raw) if by_nik and len(raw) == 16 else raw[:40])},
        )
        return None
    if len(found) == 1:
        return found[0]
    chosen = (form.cleaned_data.get("membership") or "").strip()
    choices = [
        (
            str(m.pk),
            f"{m.number} · {m.get_category_display()} · {_('from')} {m.start_month:%m/%Y}"
            + (f" – {m.end_month:%m/%Y}" if m.end_month else ""),
        )
        for m in found
    ]
    form.fields["membership"] = forms.ChoiceField(
        label=_("This worker has several memberships; choose the one for this claim"),
        choices=choices,
        widget=forms.RadioSelect,
        required=False,
    )
    form._bound_fields_cache.pop("membership", None)  # bound while the field was hidden
    membership = next((m for m in found if str(m.pk) == chosen), None)
    if membership is None:
        form.add_error("membership", _("Choose the membership."))
    return membership


# -- filing ------------------------------------------------------------------------------------


@login_required
def claim_file_view(request: HttpRequest) -> HttpResponse:
    require_any(request.user, FILE_CLAIM)
    form = FileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        membership = _lookup(request, form)
        if membership is not None:
            d = form.cleaned_data
            try:
                claim = claim_file(
                    claim_type=d["type"],
                    membership=membership,
                    event_date=d["event_date"],
                    user=request.user,
                    place=d["place"],
                    description=d["description"],
                    hospital=d["hospital"],
                    injuries=d["injuries"],
                    cause=d["cause"],
                )
            except ClaimRefused as e:
                refused_on(form, e)
            else:
                messages.success(
                    request,
                    _("Claim %(n)s filed. Add its facts and the family below.")
                    % {"n": claim.number},
                )
                return redirect("claims:detail", pk=claim.pk)
    return render(
        request,
        "claims/claim_file.html",
        {"form": form},
        status=422 if form.errors else 200,
    )


@login_required
def accident_report_view(request: HttpRequest) -> HttpResponse:
    """A hospital clerk's first report of a work accident at the desk."""
    require_any(request.user, REPORT_ACCIDENT)
    if request.method == "POST":
        form = ReportForm(request.POST)
    else:
        number = request.GET.get("nomor", "")[:40]
        day = request.GET.get("tanggal", "")[:10]
        form = ReportForm(
            initial={"lookup": number, "event_date": day or _today().strftime("%d/%m/%Y")}
        )
    claim = None
    if request.method == "POST" and form.is_valid():
        try:
            throttle(request, "verify")
        except Throttled as e:
            response = render(
                request, "web/error.html", {"code": 429, "message": str(e)}, status=429
            )
            response["Retry-After"] = str(e.retry_after)
            return response
        membership = _lookup(request, form)
        if membership is not None:
            d = form.cleaned_data
            try:
                claim = claim_report_accident(
                    membership=membership,
                    event_date=d["event_date"],
                    user=request.user,
                    place=d["place"],
                    description=d["description"],
                    injuries=d["injuries"],
                    hospital=d["hospital"],
                )
            except ClaimRefused as e:
                refused_on(form, e)
    return render(
        request,
        "claims/accident_report.html",
        {
            "form": form,
            "claim": claim,
            "masked": mask_nik(claim.worker.nik) if claim else "",
            "can_view": request.user.has_perm(VIEW_CLAIM),
        },
        status=422 if form.errors else 200,
    )


# -- one claim ---------------------------------------------------------------------------------


def _claim(pk: int) -> Claim:
    return get_object_or_404(
        Claim.objects.select_related(
            "worker", "membership", "submitted_by", "verified_by", "approved_by"
        ),
        pk=pk,
    )


def _can(request: HttpRequest, claim: Claim) -> dict[str, bool]:
    user = request.user
    open_ = claim.status != Claim.Status.REJECTED
    facts = user.has_perm(FILE_CLAIM) and open_
    return {
        "facts": facts,
        "jkk_facts": facts and claim.type == Claim.Type.JKK,
        "verify": user.has_perm(VERIFY_CLAIM) and claim.status == Claim.Status.SUBMITTED,
        "approve": user.has_perm(APPROVE_CLAIM) and claim.status == Claim.Status.VERIFIED,
        "reject": (user.has_perm(VERIFY_CLAIM) or user.has_perm(APPROVE_CLAIM))
        and claim.status in (Claim.Status.SUBMITTED, Claim.Status.VERIFIED),
        "reissue": user.has_perm(PAY_CLAIM),
        "proof": user.has_perm(RECORD_PROOF) and open_,
    }


def _party_form(party: Party, data: Any = None) -> PartyForm:
    form = PartyForm(data, prefix=f"party{party.pk}", initial=party_initial(party), on=_today())
    if party.role == Party.Role.WORKER:
        form.fields["relation"].choices = [(Party.Relation.SELF, Party.Relation.SELF.label)]
    return form


def _detail(
    request: HttpRequest,
    claim: Claim,
    bound: dict[str, forms.Form] | None = None,
) -> HttpResponse:
    """The claim's page; `bound` holds a form sent back with its errors (status 422)."""
    bound = bound or {}
    today = _today()
    can = _can(request, claim)
    version = latest(claim)
    children = reads.scholarship_children(claim, version, _today())
    parties = list(claim.parties.order_by("id"))
    shown = nik_display(user=request.user, workers=[claim.worker], action="view", path=request.path)
    for child in children:
        for row in child.instalments:
            key = f"proof{row['obj'].pk}"
            row["form"] = bound.get(key) or (
                ProofForm(
                    prefix=key,
                    initial={"level": row["obj"].level, "year_in_level": row["obj"].year_in_level},
                    on=today,
                )
                if can["proof"] and row["open_for_proof"]
                else None
            )
        key = f"stop{child.party.pk}"
        child.stop_form = bound.get(key) or (
            StopForm(prefix=key, on=today)
            if can["proof"] and child.receiving and not child.party.stopped_on
            else None
        )
    party_rows = [
        {
            "party": p,
            "form": bound.get(f"party{p.pk}") or (_party_form(p) if can["facts"] else None),
        }
        for p in parties
    ]
    context = {
        "claim": claim,
        "nik": shown.get(claim.worker.pk, mask_nik(claim.worker.nik)),
        "version": version,
        "eligibility": reads.eligibility_lines(version) if version else [],
        "lines": reads.entitlement_lines(claim, version) if version else [],
        "children": children,
        "parties": party_rows,
        "versions": [(v, reads.version_reason(v)) for v in reads.versions(claim)],
        "audit": reads.audit_rows(claim),
        "instructions": reads.instructions(claim),
        "incapacities": list(claim.incapacities.all()),
        "assessments": list(claim.assessments.all()),
        "costs": list(claim.costs.all()),
        "can": can,
        "forms": {
            "incapacity": bound.get("incapacity") or IncapacityForm(prefix="incapacity"),
            "assessment": bound.get("assessment")
            or AssessmentForm(prefix="assessment", on=claim.event_date),
            "cost": bound.get("cost") or CostForm(prefix="cost"),
            "outcome": bound.get("outcome")
            or OutcomeForm(
                prefix="outcome",
                initial={
                    "death_date": claim.death_date,
                    "total_disability": claim.total_disability,
                    "recovered_on": claim.recovered_on,
                    "left_handed": claim.left_handed,
                    "home_care": claim.home_care or "",
                },
            ),
            "party": bound.get("party") or PartyForm(prefix="party", on=today),
            "verify": bound.get("verify") or NoteForm(prefix="verify"),
            "approve": bound.get("approve") or NoteForm(prefix="approve"),
            "reject": bound.get("reject") or RejectForm(prefix="reject"),
        },
        "open": next(iter(bound), ""),
        "failed": Instruction.Status.FAILED,
    }
    return render(request, "claims/claim_detail.html", context, status=422 if bound else 200)


@login_required
def claim_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_any(request.user, VIEW_CLAIM)
    return _detail(request, _claim(pk))


@login_required
def claim_version_view(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    require_any(request.user, VIEW_CLAIM)
    claim = _claim(pk)
    version = claim.entitlements.filter(version=number).first()
    if version is None:
        raise Http404
    return render(
        request,
        "claims/claim_version.html",
        {
            "claim": claim,
            "version": version,
            "eligibility": reads.eligibility_lines(version),
            "lines": reads.entitlement_lines(claim, version),
            "reason": reads.version_reason(version),
            "is_latest": version.pk == getattr(latest(claim), "pk", None),
        },
    )


@login_required
def claim_family_view(request: HttpRequest, pk: int) -> HttpResponse:
    """What the family is told: plain words, printable, masked NIK, no audit or notes."""
    require_any(request.user, VIEW_CLAIM)
    claim = _claim(pk)
    version = latest(claim)
    children = reads.scholarship_children(claim, version, _today())
    lines = reads.entitlement_lines(claim, version) if version else []
    instructions = reads.instructions(claim)
    return render(
        request,
        "claims/claim_family.html",
        {
            "claim": claim,
            "nik": mask_nik(claim.worker.nik),
            "version": version,
            "now_lines": [x for x in lines if x.state == "now" and x.amount],
            "now_total": sum(x.amount for x in lines if x.state == "now" and x.amount),
            "held_lines": [x for x in lines if x.state == "held" and x.amount],
            "no_lines": [x for x in lines if x.state == "no" and x.amount],
            "children": children,
            "needs": reads.family_needs(claim, version, children),
            "instructions": [i for i in instructions if i.status != Instruction.Status.FAILED],
            "arrears": reads.months_words(version.eligibility.get("arrears") or [])
            if version
            else "",
            "today": _today(),
        },
    )


# -- the steps on a claim ----------------------------------------------------------------------


def _step(
    request: HttpRequest,
    pk: int,
    perm: str,
    key: str,
    make: Callable[..., forms.Form],
    act: Callable[[Claim, Any], str],
    names: dict[str, str] | None = None,
) -> HttpResponse:
    """Bind the form, call the service, redirect with its message; a refusal re-renders the
    claim with the form and the message on its field."""
    require_any(request.user, perm)
    claim = _claim(pk)
    form = make(request.POST, prefix=key)
    if form.is_valid():
        try:
            message = act(claim, form)
        except (ClaimRefused, ScholarshipRefused) as e:
            refused_on(form, e, names)
        else:
            messages.success(request, message)
            return redirect("claims:detail", pk=claim.pk)
    return _detail(request, _claim(pk), {key: form})


@login_required
@require_POST
def incapacity_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    def act(claim: Claim, form: Any) -> str:
        d = form.cleaned_data
        incapacity_add(
            claim=claim,
            user=request.user,
            months=d.get("months") or 0,
            days=d.get("days") or 0,
            first_day=d.get("first_day"),
            last_day=d.get("last_day"),
        )
        return _("The incapacity to work was recorded; the entitlement was recomputed.")

    return _step(request, pk, FILE_CLAIM, "incapacity", IncapacityForm, act)


@login_required
@require_POST
def assessment_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    claim = _claim(pk)

    def make(data, prefix):
        return AssessmentForm(data, prefix=prefix, on=claim.event_date)

    def act(claim: Claim, form: Any) -> str:
        d = form.cleaned_data
        assessment_add(
            claim=claim,
            user=request.user,
            item=d["item"],
            assessed_on=d["assessed_on"],
            percent=d.get("percent"),
            units=d.get("units"),
            function_loss_percent=d.get("function_loss_percent"),
            doctor=d.get("doctor") or "",
        )
        return _("The disability assessment was recorded; the entitlement was recomputed.")

    return _step(request, pk, FILE_CLAIM, "assessment", make, act)


@login_required
@require_POST
def cost_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    def act(claim: Claim, form: Any) -> str:
        d = form.cleaned_data
        cost_add(
            claim=claim,
            user=request.user,
            kind=d["kind"],
            amount=d["amount"],
            incurred_on=d["incurred_on"],
            mode=d.get("mode") or "",
            document=d.get("document") or "",
        )
        return _("The cost was recorded; the entitlement was recomputed.")

    return _step(request, pk, FILE_CLAIM, "cost", CostForm, act)


@login_required
@require_POST
def outcome_view(request: HttpRequest, pk: int) -> HttpResponse:
    def act(claim: Claim, form: Any) -> str:
        d = form.cleaned_data
        claim_outcome(
            claim=claim,
            user=request.user,
            death_date=d.get("death_date"),
            total_disability=bool(d.get("total_disability")),
            recovered_on=d.get("recovered_on"),
            left_handed=bool(d.get("left_handed")),
            home_care=d.get("home_care"),
        )
        return _("The outcome was recorded; the entitlement was recomputed.")

    return _step(request, pk, FILE_CLAIM, "outcome", OutcomeForm, act)


@login_required
@require_POST
def party_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    def make(data, prefix):
        return PartyForm(data, prefix=prefix, on=_today())

    def act(claim: Claim, form: Any) -> str:
        party = party_add(claim=claim, user=request.user, **form.values())
        return _("%(name)s was added.") % {"name": party.full_name}

    return _step(request, pk, FILE_CLAIM, "party", make, act)


@login_required
@require_POST
def party_edit_view(request: HttpRequest, pk: int, party_pk: int) -> HttpResponse:
    require_any(request.user, FILE_CLAIM)
    claim = _claim(pk)
    party = get_object_or_404(Party, pk=party_pk, claim=claim)
    form = _party_form(party, request.POST)
    if form.is_valid():
        values = form.values()
        changed = {k: v for k, v in values.items() if getattr(party, k) != v}
        if not changed:
            messages.info(request, _("Nothing was changed."))
            return redirect("claims:detail", pk=claim.pk)
        try:
            party_update(party=party, user=request.user, **changed)
        except ClaimRefused as e:
            refused_on(form, e)
        else:
            messages.success(
                request, _("The details of %(name)s were changed.") % {"name": party.full_name}
            )
            return redirect("claims:detail", pk=claim.pk)
    return _detail(request, _claim(pk), {f"party{party_pk}": form})


@login_required
@require_POST
def verify_view(request: HttpRequest, pk: int) -> HttpResponse:
    def act(claim: Claim, form: Any) -> str:
        d = form.cleaned_data
        claim_verify(claim=claim, user=request.user, note=d.get("note") or "")
        return _("Claim %(n)s was verified; another officer approves it.") % {"n": claim.number}

    return _step(request, pk, VERIFY_CLAIM, "verify", NoteForm, act)


@login_required
@require_POST
def approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    def act(claim: Claim, form: Any) -> str:
        d = form.cleaned_data
        claim_approve(claim=claim, user=request.user, note=d.get("note") or "")
        return _("Claim %(n)s was approved; what is payable now goes to the next bank batch.") % {
            "n": claim.number
        }

    return _step(request, pk, APPROVE_CLAIM, "approve", NoteForm, act)


@login_required
@require_POST
def reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    require_any(request.user, VERIFY_CLAIM, APPROVE_CLAIM)

    def act(claim: Claim, form: Any) -> str:
        d = form.cleaned_data
        claim_reject(claim=claim, user=request.user, code=d["code"], note=d.get("note") or "")
        return _("Claim %(n)s was rejected.") % {"n": claim.number}

    perm = VERIFY_CLAIM if request.user.has_perm(VERIFY_CLAIM) else APPROVE_CLAIM
    return _step(request, pk, perm, "reject", RejectForm, act)


@login_required
@require_POST
def reissue_view(request: HttpRequest, pk: int, instruction_pk: int) -> HttpResponse:
    require_any(request.user, PAY_CLAIM)
    claim = _claim(pk)
    instruction = get_object_or_404(Instruction, pk=instruction_pk, claim=claim)
    try:
        new = instruction_reissue(instruction=instruction, user=request.user)
    except ClaimRefused as e:
        messages.error(request, e.message)
    else:
        messages.success(
            request,
            _("The transfer was sent again as %(ref)s to account %(acc)s.")
            % {"ref": new.reference, "acc": new.account_number},
        )
    return redirect("claims:detail", pk=claim.pk)


@login_required
@require_POST
def proof_view(request: HttpRequest, pk: int, instalment_pk: int) -> HttpResponse:
    require_any(request.user, RECORD_PROOF)
    claim = _claim(pk)
    instalment = get_object_or_404(Instalment, pk=instalment_pk, claim=claim)
    key = f"proof{instalment.pk}"
    form = ProofForm(request.POST, prefix=key, on=_today())
    if form.is_valid():
        d = form.cleaned_data
        try:
            proof_record(
                instalment=instalment,
                user=request.user,
                school=d["school"],
                level=d["level"],
                year_in_level=d["year_in_level"],
                document=d["document"],
                on=_today(),
            )
        except ScholarshipRefused as e:
            refused_on(form, e)
        else:
            messages.success(
                request,
                _("The proof of enrolment for %(year)s was recorded.")
                % {"year": instalment.school_year},
            )
            return redirect("claims:detail", pk=claim.pk)
    return _detail(request, _claim(pk), {key: form})


@login_required
@require_POST
def scholarship_stop_view(request: HttpRequest, pk: int, party_pk: int) -> HttpResponse:
    require_any(request.user, RECORD_PROOF)
    claim = _claim(pk)
    child = get_object_or_404(Party, pk=party_pk, claim=claim, relation=Party.Relation.CHILD)
    key = f"stop{child.pk}"
    form = StopForm(request.POST, prefix=key, on=_today())
    if form.is_valid():
        d = form.cleaned_data
        try:
            count = scholarship_stop(
                child=child,
                user=request.user,
                reason=d["reason"],
                stopped_on=d["stopped_on"],
                today=_today(),
                work=d.get("work") or "",
                pu_months=d.get("pu_months") or 0,
            )
        except ScholarshipRefused as e:
            refused_on(form, e)
        else:
            messages.success(
                request,
                _("The scholarship of %(name)s stopped: %(n)s instalments will not be paid.")
                % {"name": child.full_name, "n": count},
            )
            return redirect("claims:detail", pk=claim.pk)
    return _detail(request, _claim(pk), {key: form})
