"""API for claims at /api/v1/claims: the list and one claim (facts, family, the latest
entitlement with its eligibility and lines, versions, payment instructions, scholarship
instalments, the audit), filing (an officer, or a hospital clerk's first report), facts as they
arrive, the family, the workflow, proofs of enrolment, a child's scholarship stopped, and the
instalments due in a school year.

Thin: the schemas bound every value, the services decide; a ClaimRefused is a 422 naming the
field. Every operation's permission is checked with the token, before the body is read.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema
from ninja.responses import Status
from pydantic import AfterValidator

from cakupan.accounts.roles import (
    APPROVE_CLAIM,
    FILE_CLAIM,
    RECORD_PROOF,
    REPORT_ACCIDENT,
    VERIFY_CLAIM,
    VIEW_CLAIM,
    VIEW_FULL_NIK,
)
from cakupan.apikit import Text, auth_for
from cakupan.claims.banks import BANKS
from cakupan.claims.models import Claim, ClaimEvent, Entitlement, Instalment, Party
from cakupan.claims.scholarships import (
    STOP_REASONS,
    ScholarshipRefused,
    due_rows,
    proof_record,
    scholarship_stop,
    school_year_of,
)
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
    latest,
    line_payable,
    party_add,
    party_update,
)
from cakupan.membership.models import Membership
from cakupan.money import MAX_RUPIAH
from cakupan.registry.models import Heir, NikAccessLog
from cakupan.registry.nik import is_nik_shaped, mask_nik, normalise_nik
from cakupan.registry.services import personal_display
from cakupan.rules import default_rules

router = Router(tags=["claims"])

FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)
NUMBER = re.compile(r"[A-Z0-9-]{1,24}")
SMALL = 32_767  # the largest a small counter column holds


def _in_range(day: dt.date) -> dt.date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"Tanggal harus antara {FIRST_DAY} dan {LAST_DAY}.")
    return day


Day = Annotated[dt.date, AfterValidator(_in_range)]
Rupiah = Annotated[int, Field(ge=0, le=MAX_RUPIAH)]
# Wide bounds only keep a number inside its column; the services refuse what is out of place
# (a negative count, a percent above 100) with their own message naming the field.
Count = Annotated[int, Field(ge=-SMALL, le=SMALL)]
ClaimNumber = Path(..., max_length=40, description="The claim number, e.g. JKM-2026-000012")
PartyId = Path(..., ge=1, le=2**53, description="The party's id")
Level = Literal["", "not_in_school", "tk_sd", "smp", "sma", "s1", "not_enrolled", "finished"]
Working = Literal["no", "pu", "bpu", "intern", "other"]
Relation = Literal["spouse", "child", "parent", "sibling", "grandchild", "other"]


# -- schemas: answers --------------------------------------------------------------------------


class ClaimRow(Schema):
    id: int
    number: str
    type: Literal["jkk", "jkm"]
    type_label: str
    status: Literal["submitted", "verified", "approved", "paid", "rejected"]
    status_label: str
    event_date: dt.date
    membership: str = Field(..., description="Membership number")
    worker_name: str
    total_now: int = Field(..., description="The latest entitlement: payable now (Rupiah)")
    total_held: int = Field(..., description="Held until the arrears are paid")
    total_later: int = Field(..., description="Scholarship instalments of later school years")
    created_at: dt.datetime


class ClaimPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ClaimRow]


class WorkerRef(Schema):
    id: int
    full_name: str
    nik: str = Field(..., description="Whole for roles allowed to see it (logged), else masked")
    nik_masked: bool
    birth_date: dt.date


class IncapacityOut(Schema):
    id: int
    months: int
    days: int = Field(..., description="Days (counted from first to last day when given)")
    first_day: dt.date | None
    last_day: dt.date | None
    reported_on: dt.date


class AssessmentOut(Schema):
    id: int
    item: str
    percent: int | None
    units: int | None
    function_loss_percent: int | None
    assessed_on: dt.date
    doctor: str


class CostOut(Schema):
    id: int
    kind: Literal["medical", "transport"]
    mode: str
    amount: int
    incurred_on: dt.date
    document: str


class PartyOut(Schema):
    id: int
    role: Literal["worker", "heir"]
    full_name: str
    relation: str
    relation_label: str
    birth_date: dt.date | None
    share_percent: int
    heir_id: int | None
    heir_nik: str = Field(..., description="The registered heir's NIK, masked unless allowed")
    bank_code: str
    bank_name: str
    account_number: str = Field(
        ..., description="Whole for roles allowed to see personal data, else the last 4 digits"
    )
    account_masked: bool
    account_name: str
    level: str
    year_in_level: int | None
    school_start_year: int | None
    married: bool
    working: str
    pu_consecutive_months: int
    chosen: bool
    stopped_on: dt.date | None
    stop_reason: str


class EligibilityLineOut(Schema):
    code: str
    status: Literal["ok", "hold", "refused", "info"]
    text: str
    text_en: str
    rule_id: str
    months: list[str] = Field(..., description="Months (YYYY-MM) the line is about")


class EligibilityOut(Schema):
    outcome: Literal["payable", "hold", "refused"]
    state: str = Field(..., description="The membership's state on the event date")
    months_in_arrears: int
    arrears: list[str]
    contribution_months: int = Field(..., description="Months paid up to the event month")
    released_on: dt.date | None = Field(..., description="The day the arrears were all paid")
    lines: list[EligibilityLineOut]


class LineOut(Schema):
    code: str
    label_id: str
    label_en: str
    amount: int | None = Field(..., description="None: medical care as incurred")
    calculation: str
    payable: str = Field(..., description="The engine's: now, after_arrears, not_payable, later")
    state: Literal["now", "held", "no", "later"] = Field(
        ...,
        description="Today: now (payable), held (until the arrears are paid and, for a "
        "survivor, recovery), no (not payable), later (a later school year)",
    )
    rule_id: str
    basis: str
    note: str
    note_en: str
    child: int | None
    school_year: str | None


class ReasonOut(Schema):
    code: str
    message: str
    message_en: str


class ClaimChildScholarshipOut(Schema):
    index: int
    name: str
    eligible: bool = Field(..., description="Receives the scholarship")
    reasons: list[ReasonOut] = Field(..., description="Why not, when not")
    total: int


class EntitlementOut(Schema):
    version: int
    computed_on: dt.date
    computed_at: dt.datetime
    computed_by: str | None
    reason: str
    outcome: Literal["payable", "hold", "refused"]
    total_now: int
    total_held: int
    total_later: int
    approved: bool = Field(..., description="The version the claim was approved at")
    eligibility: EligibilityOut
    lines: list[LineOut] = Field(..., description="Due now, with this school year's instalments")
    schedule: list[LineOut] = Field(..., description="Later school years' instalments")
    scholarship_children: list[ClaimChildScholarshipOut]


class VersionOut(Schema):
    version: int
    computed_on: dt.date
    computed_at: dt.datetime
    reason: str
    outcome: Literal["payable", "hold", "refused"]
    total_now: int
    total_held: int
    total_later: int


class InstructionOut(Schema):
    reference: str
    party_id: int
    party: str
    line_code: str
    amount: int
    status: Literal["pending", "exported", "paid", "failed"]
    status_label: str
    batch: str | None
    bank_code: str
    account_number: str
    paid_on: dt.date | None
    failure: str


class ProofOut(Schema):
    school: str
    level: str
    year_in_level: int
    document: str
    recorded_at: dt.datetime


class InstalmentOut(Schema):
    id: int
    child_id: int
    child: str
    school_year: str
    start_year: int
    level: str
    year_in_level: int
    amount: int
    status: Literal["scheduled", "awaiting", "payable", "paid", "stopped"]
    status_label: str
    stop_reason: str
    proof: ProofOut | None


class ClaimOut(Schema):
    id: int
    number: str
    type: Literal["jkk", "jkm"]
    type_label: str
    status: Literal["submitted", "verified", "approved", "paid", "rejected"]
    status_label: str
    membership: str
    worker: WorkerRef
    event_date: dt.date
    place: str
    description: str
    hospital: str
    injuries: str
    cause: str
    death_date: dt.date | None
    total_disability: bool
    left_handed: bool
    recovered_on: dt.date | None
    home_care: int | None
    reject_code: str
    reject_reason: str
    reject_note: str
    released_on: dt.date | None = Field(..., description="Cash held for arrears released on")
    submitted_by: str | None
    verified_by: str | None
    approved_by: str | None
    approved_version: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    incapacities: list[IncapacityOut]
    assessments: list[AssessmentOut]
    costs: list[CostOut]
    parties: list[PartyOut]
    entitlement: EntitlementOut | None = Field(..., description="The latest version")
    versions: list[VersionOut] = Field(..., description="Every version, newest first")
    instructions: list[InstructionOut]
    instalments: list[InstalmentOut]


class ReportOut(Schema):
    number: str = Field(..., description="The claim number to give the family")


class EventOut(Schema):
    at: dt.datetime
    user: str | None
    action: str
    before: dict[str, Any]
    after: dict[str, Any]
    note: str


class StopOut(Schema):
    stopped: int = Field(..., description="Instalments stopped")
    child: PartyOut


class DueRow(Schema):
    instalment_id: int
    kecamatan: str
    kelurahan: str
    claim: str
    worker: str
    child: str
    school_year: str
    level: str
    year_in_level: int
    amount: int
    status: Literal["scheduled", "awaiting", "payable"]
    status_label: str
    missing: str = Field(..., description="What still stands before payment; empty: nothing")


class KecamatanCount(Schema):
    kecamatan: str
    count: int
    amount: int


class DueOut(Schema):
    school_year: str = Field(..., examples=["2026/2027"])
    count: int
    amount: int
    by_kecamatan: list[KecamatanCount]
    items: list[DueRow]


# -- schemas: input ----------------------------------------------------------------------------


class Who(Schema):
    membership: Text = Field("", max_length=40, description="The membership number, or …")
    nik: Text = Field("", max_length=40, description="… the worker's NIK (16 digits)")


class ClaimIn(Who):
    type: Literal["jkk", "jkm"]
    event_date: Day
    place: Text = Field("", max_length=200)
    description: Text = Field("", max_length=5000)
    hospital: Text = Field("", max_length=150)
    injuries: Text = Field("", max_length=5000)
    cause: Text = Field("", max_length=200, description="JKM: the cause of death")


class ReportIn(Who):
    event_date: Day
    place: Text = Field("", max_length=200)
    description: Text = Field(..., max_length=5000, description="What happened")
    injuries: Text = Field(..., max_length=5000)
    hospital: Text = Field(..., max_length=150, description="The treating hospital")


class ClaimIncapacityIn(Schema):
    months: Count = 0
    days: Count = 0
    first_day: Day | None = None
    last_day: Day | None = None


class AssessmentIn(Schema):
    item: Text = Field(..., max_length=40, description="A disability table entry's code")
    assessed_on: Day
    percent: Count | None = None
    units: Count | None = None
    function_loss_percent: Count | None = Field(None, description="0–100")
    doctor: Text = Field("", max_length=150)


class CostIn(Schema):
    kind: Literal["medical", "transport"]
    amount: int = Field(..., ge=-MAX_RUPIAH, le=MAX_RUPIAH, description="Whole Rupiah, above 0")
    incurred_on: Day
    mode: Literal["", "land", "sea", "air"] = Field("", description="Transport only")
    document: Text = Field("", max_length=80)


class OutcomeIn(Schema):
    death_date: Day | None = None
    total_disability: bool | None = None
    recovered_on: Day | None = None
    left_handed: bool | None = None
    home_care: int | None = Field(None, ge=-MAX_RUPIAH, le=MAX_RUPIAH, description="Rupiah")


class PartyIn(Schema):
    heir_id: int | None = Field(None, ge=1, le=2**53, description="A registered heir of the worker")
    full_name: Text = Field("", max_length=150, description="Default: the registered heir's")
    relation: Relation | None = Field(None, description="Default: the registered heir's")
    birth_date: Day | None = None
    share_percent: Count = Field(0, description="0–100; the heirs' shares add up to 100")
    bank_code: Text = Field("", max_length=3, description="The bank's clearing code, e.g. 014")
    account_number: Text = Field("", max_length=40)
    account_name: Text = Field("", max_length=150)
    level: Level = Field("", description="A child's school level at the event")
    year_in_level: Count | None = None
    school_start_year: int | None = Field(None, ge=1900, le=2100)
    married: bool = False
    working: Working = "no"
    pu_consecutive_months: Count = 0
    chosen: bool = False


class PartyPatch(Schema):
    full_name: Text | None = Field(None, max_length=150)
    relation: Relation | None = None
    birth_date: Day | None = None
    share_percent: Count | None = None
    bank_code: Text | None = Field(None, max_length=3)
    account_number: Text | None = Field(None, max_length=40)
    account_name: Text | None = Field(None, max_length=150)
    level: Level | None = None
    year_in_level: Count | None = None
    school_start_year: int | None = Field(None, ge=1900, le=2100)
    married: bool | None = None
    working: Working | None = None
    pu_consecutive_months: Count | None = None
    chosen: bool | None = None


class NoteIn(Schema):
    note: Text = Field("", max_length=2000)


class RejectIn(Schema):
    code: Text = Field(
        ..., max_length=20, description="The reason: " + ", ".join(Claim.RejectReason.values)
    )
    note: Text = Field("", max_length=2000)


class ProofIn(Schema):
    school: Text = Field(..., max_length=150)
    level: Literal["tk_sd", "smp", "sma", "s1"]
    year_in_level: int = Field(..., ge=1, le=20)
    document: Text = Field(..., max_length=80, description="Enrolment letter or report number")


class StopIn(Schema):
    reason: Literal["married", "working", "died"]
    stopped_on: Day
    work: Literal["", "pu", "bpu", "intern", "other"] = Field("", description="When working")
    pu_months: int = Field(0, ge=0, le=1200, description="Consecutive months as a wage earner")


class ClaimQuery(Schema):
    status: Literal["", "submitted", "verified", "approved", "paid", "rejected"] = ""
    type: Literal["", "jkk", "jkm"] = ""
    number: Text = Field("", max_length=40, description="Part of the claim number")
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)


class DueQuery(Schema):
    school_year: int | None = Field(
        None, ge=2000, le=2100, description="The year the school year starts; default: this one"
    )


# -- reads -------------------------------------------------------------------------------------


def _name(user: Any) -> str | None:
    return user.get_username() if user is not None else None


def mask_account(number: str) -> str:
    """'0123456789' → '••••••6789': the last four digits only."""
    if len(number) <= 4:
        return number
    return "•" * (len(number) - 4) + number[-4:]


def _claim(number: str) -> Claim:
    """The claim by its number (any case); 404 otherwise."""
    number = number.strip().upper()
    claim = None
    if NUMBER.fullmatch(number):
        claim = (
            Claim.objects.select_related(
                "membership", "worker", "submitted_by", "verified_by", "approved_by", "approved"
            )
            .filter(number=number)
            .first()
        )
    if claim is None:
        raise Http404(_("No claim with the number %(n)s.") % {"n": number[:40]})
    return claim


def _party(claim: Claim, party_id: int) -> Party:
    party = claim.parties.select_related("heir").filter(pk=party_id).first()
    if party is None:
        raise Http404(_("Claim %(n)s has no party with id %(id)s.") % {"n": claim, "id": party_id})
    return party


def _party_out(p: Party, whole: bool) -> dict[str, Any]:
    bank = BANKS.get(p.bank_code)
    heir_nik = p.heir.nik if p.heir_id and p.heir.nik else ""
    return {
        "id": p.pk,
        "role": p.role,
        "full_name": p.full_name,
        "relation": p.relation,
        "relation_label": str(p.get_relation_display()),
        "birth_date": p.birth_date,
        "share_percent": p.share_percent,
        "heir_id": p.heir_id,
        "heir_nik": heir_nik if whole or not heir_nik else mask_nik(heir_nik),
        "bank_code": p.bank_code,
        "bank_name": bank.name if bank else "",
        "account_number": p.account_number if whole else mask_account(p.account_number),
        "account_masked": not whole and len(p.account_number) > 4,
        "account_name": p.account_name,
        "level": p.level,
        "year_in_level": p.year_in_level,
        "school_start_year": p.school_start_year,
        "married": p.married,
        "working": p.working,
        "pu_consecutive_months": p.pu_consecutive_months,
        "chosen": p.chosen,
        "stopped_on": p.stopped_on,
        "stop_reason": p.stop_reason,
    }


def _line_out(claim: Claim, line: dict[str, Any], outcome: str, later: bool) -> dict[str, Any]:
    if later:
        state = "no" if outcome == "refused" or line["payable"] == "not_payable" else "later"
    else:
        state = line_payable(claim, line, outcome)
    return {
        "code": line["code"],
        "label_id": line["label_id"],
        "label_en": line["label_en"],
        "amount": line["amount"],
        "calculation": line["calculation"],
        "payable": line["payable"],
        "state": state,
        "rule_id": line["rule_id"],
        "basis": line["basis"],
        "note": line["note"],
        "note_en": line["note_en"],
        "child": line.get("child"),
        "school_year": line.get("school_year"),
    }


def _version_out(v: Entitlement) -> dict[str, Any]:
    return {
        "version": v.version,
        "computed_on": v.computed_on,
        "computed_at": v.computed_at,
        "reason": v.reason,
        "outcome": v.outcome,
        "total_now": v.total_now,
        "total_held": v.total_held,
        "total_later": v.total_later,
    }


def _entitlement_out(claim: Claim, v: Entitlement) -> dict[str, Any]:
    result = v.result
    children = (result.get("scholarships") or {}).get("children") or []
    return {
        **_version_out(v),
        "computed_by": _name(v.computed_by),
        "approved": claim.approved_id == v.pk,
        "eligibility": v.eligibility,
        "lines": [_line_out(claim, x, v.outcome, False) for x in result["lines"]],
        "schedule": [_line_out(claim, x, v.outcome, True) for x in result["schedule"]],
        "scholarship_children": [
            {
                "index": c["index"],
                "name": c.get("name") or "",
                "eligible": c["eligible"],
                "reasons": [
                    {
                        "code": r.get("code", ""),
                        "message": r.get("message", ""),
                        "message_en": r.get("message_en", ""),
                    }
                    for r in c.get("reasons", [])
                ],
                "total": c.get("total", 0),
            }
            for c in children
        ],
    }


def _instalment_out(i: Instalment) -> dict[str, Any]:
    proof = getattr(i, "proof", None)
    return {
        "id": i.pk,
        "child_id": i.child_id,
        "child": i.child.full_name,
        "school_year": i.school_year,
        "start_year": i.start_year,
        "level": i.level,
        "year_in_level": i.year_in_level,
        "amount": i.amount,
        "status": i.status,
        "status_label": str(i.get_status_display()),
        "stop_reason": i.stop_reason,
        "proof": None
        if proof is None
        else {
            "school": proof.school,
            "level": proof.level,
            "year_in_level": proof.year_in_level,
            "document": proof.document,
            "recorded_at": proof.recorded_at,
        },
    }


def _detail(request: HttpRequest, claim: Claim) -> dict[str, Any]:
    user = request.auth
    whole = user.has_perm(VIEW_FULL_NIK)
    worker = claim.worker
    shown = personal_display(
        user=user, workers=[worker], action=NikAccessLog.Action.API, path=request.path
    )[worker.pk]
    version = latest(claim)
    versions = list(claim.entitlements.order_by("-version"))
    instructions = claim.instructions.select_related("party", "batch").order_by("id")
    instalments = claim.instalments.select_related("child", "proof").order_by("child_id", "id")
    return {
        "id": claim.pk,
        "number": claim.number,
        "type": claim.type,
        "type_label": str(claim.get_type_display()),
        "status": claim.status,
        "status_label": str(claim.get_status_display()),
        "membership": claim.membership.number,
        "worker": {
            "id": worker.pk,
            "full_name": worker.full_name,
            "nik": shown.nik,
            "nik_masked": shown.nik != worker.nik,
            "birth_date": worker.birth_date,
        },
        "event_date": claim.event_date,
        "place": claim.place,
        "description": claim.description,
        "hospital": claim.hospital,
        "injuries": claim.injuries,
        "cause": claim.cause,
        "death_date": claim.death_date,
        "total_disability": claim.total_disability,
        "left_handed": claim.left_handed,
        "recovered_on": claim.recovered_on,
        "home_care": claim.home_care,
        "reject_code": claim.reject_code,
        "reject_reason": str(claim.get_reject_code_display()) if claim.reject_code else "",
        "reject_note": claim.reject_note,
        "released_on": claim.released_on,
        "submitted_by": _name(claim.submitted_by),
        "verified_by": _name(claim.verified_by),
        "approved_by": _name(claim.approved_by),
        "approved_version": claim.approved.version if claim.approved_id else None,
        "created_at": claim.created_at,
        "updated_at": claim.updated_at,
        "incapacities": [
            {
                "id": x.pk,
                "months": x.months,
                "days": x.total_days,
                "first_day": x.first_day,
                "last_day": x.last_day,
                "reported_on": x.reported_on,
            }
            for x in claim.incapacities.all()
        ],
        "assessments": list(
            claim.assessments.values(
                "id",
                "item",
                "percent",
                "units",
                "function_loss_percent",
                "assessed_on",
                "doctor",
            )
        ),
        "costs": list(
            claim.costs.values("id", "kind", "mode", "amount", "incurred_on", "document")
        ),
        "parties": [_party_out(p, whole) for p in claim.parties.select_related("heir")],
        "entitlement": _entitlement_out(claim, version) if version else None,
        "versions": [_version_out(v) for v in versions],
        "instructions": [
            {
                "reference": i.reference,
                "party_id": i.party_id,
                "party": i.party.full_name,
                "line_code": i.line_code,
                "amount": i.amount,
                "status": i.status,
                "status_label": str(i.get_status_display()),
                "batch": i.batch.number if i.batch_id else None,
                "bank_code": i.bank_code,
                "account_number": i.account_number if whole else mask_account(i.account_number),
                "paid_on": i.paid_on,
                "failure": i.failure,
            }
            for i in instructions
        ],
        "instalments": [_instalment_out(i) for i in instalments],
    }


def _fresh(request: HttpRequest, claim: Claim) -> dict[str, Any]:
    return _detail(request, _claim(claim.number))


def _membership(who: Who) -> Membership:
    """The membership a new claim is for: by its number, or the worker's NIK (the first of
    his memberships, as the hospital's check finds it)."""
    number = who.membership.strip().upper()
    nik = normalise_nik(who.nik)
    if bool(number) == bool(nik):
        raise ClaimRefused(
            "one_of_nik_membership",
            _("Give the membership number or the worker's NIK (one of the two)."),
            "membership",
        )
    if nik:
        if not is_nik_shaped(nik):
            raise ClaimRefused(
                "nik_invalid", _("The NIK must be 16 digits, as on the KTP or family card."), "nik"
            )
        found = Membership.objects.select_related("worker").filter(worker__nik=nik)
        membership = found.order_by("category", "id").first()
        if membership is None:
            raise ClaimRefused("not_found", _("No worker with this NIK has a membership."), "nik")
        return membership
    membership = Membership.objects.select_related("worker").filter(number=number).first()
    if membership is None:
        raise ClaimRefused("not_found", _("There is no membership with this number."), "membership")
    return membership


# -- routes: reads -----------------------------------------------------------------------------


@router.get(
    "",
    response=ClaimPage,
    summary="List claims (newest first), by status, type or part of the number",
    auth=auth_for(VIEW_CLAIM),
)
def claims(request: HttpRequest, query: Query[ClaimQuery]) -> dict[str, Any]:
    qs: QuerySet[Claim] = Claim.objects.select_related("membership", "worker").order_by("-id")
    if query.status:
        qs = qs.filter(status=query.status)
    if query.type:
        qs = qs.filter(type=query.type)
    number = query.number.strip().upper()
    if number:
        qs = qs.filter(number__contains=number) if NUMBER.fullmatch(number) else qs.none()
    page = list(qs[query.offset : query.offset + query.limit])
    versions: dict[int, Entitlement] = {}
    for v in Entitlement.objects.filter(claim__in=page).order_by("claim_id", "version"):
        versions[v.claim_id] = v  # the last one wins: the latest
    items = []
    for c in page:
        v = versions.get(c.pk)
        items.append(
            {
                "id": c.pk,
                "number": c.number,
                "type": c.type,
                "type_label": str(c.get_type_display()),
                "status": c.status,
                "status_label": str(c.get_status_display()),
                "event_date": c.event_date,
                "membership": c.membership.number,
                "worker_name": c.worker.full_name,
                "total_now": v.total_now if v else 0,
                "total_held": v.total_held if v else 0,
                "total_later": v.total_later if v else 0,
                "created_at": c.created_at,
            }
        )
    return {"count": qs.count(), "limit": query.limit, "offset": query.offset, "items": items}


@router.get(
    "/scholarships/due",
    response=DueOut,
    summary="Scholarship instalments of a school year not yet paid nor stopped, by kecamatan",
    auth=auth_for(VIEW_CLAIM),
)
def scholarships_due(request: HttpRequest, query: Query[DueQuery]) -> dict[str, Any]:
    rules = default_rules().scholarship(timezone.localdate())
    year = query.school_year or school_year_of(timezone.localdate(), rules.school_year_start_month)
    rows = due_rows(start_year=year)
    kecamatan: dict[str, dict[str, Any]] = {}
    for r in rows:
        k = kecamatan.setdefault(r["kecamatan"], {"kecamatan": r["kecamatan"], "count": 0})
        k["count"] += 1
        k["amount"] = k.get("amount", 0) + r["amount"]
    return {
        "school_year": f"{year}/{year + 1}",
        "count": len(rows),
        "amount": sum(r["amount"] for r in rows),
        "by_kecamatan": list(kecamatan.values()),
        "items": [
            {
                "instalment_id": r["id"],
                "kecamatan": r["kecamatan"],
                "kelurahan": r["kelurahan"],
                "claim": r["claim"],
                "worker": r["worker"],
                "child": r["child"],
                "school_year": r["school_year"],
                "level": r["level"],
                "year_in_level": r["year_in_level"],
                "amount": r["amount"],
                "status": r["status_code"],
                "status_label": r["status"],
                "missing": r["missing"],
            }
            for r in rows
        ],
    }


# -- routes: filing ----------------------------------------------------------------------------


@router.post(
    "",
    response={201: ClaimOut},
    summary="File a claim (JKK or JKM) by membership number or NIK; its first entitlement",
    auth=auth_for(FILE_CLAIM),
)
def claim_post(request: HttpRequest, payload: ClaimIn) -> Status:
    claim = claim_file(
        claim_type=payload.type,
        membership=_membership(payload),
        event_date=payload.event_date,
        user=request.auth,
        place=payload.place,
        description=payload.description,
        hospital=payload.hospital,
        injuries=payload.injuries,
        cause=payload.cause,
    )
    return Status(201, _fresh(request, claim))


@router.post(
    "/accident-reports",
    response={201: ReportOut},
    summary="A hospital's first report of a work accident (only for a worker protected then)",
    auth=auth_for(REPORT_ACCIDENT),
)
def report_post(request: HttpRequest, payload: ReportIn) -> Status:
    claim = claim_report_accident(
        membership=_membership(payload),
        event_date=payload.event_date,
        user=request.auth,
        place=payload.place,
        description=payload.description,
        injuries=payload.injuries,
        hospital=payload.hospital,
    )
    return Status(201, {"number": claim.number})


# -- routes: one claim ----------------------------------------------------------------------


@router.get(
    "/{number}",
    response=ClaimOut,
    summary="A claim: facts, family, latest entitlement, versions, payments, scholarships",
    auth=auth_for(VIEW_CLAIM),
)
def claim_get(request: HttpRequest, number: str = ClaimNumber) -> dict[str, Any]:
    return _detail(request, _claim(number))


@router.get(
    "/{number}/versions",
    response=list[VersionOut],
    summary="Every computed entitlement of a claim, newest first (none is ever changed)",
    auth=auth_for(VIEW_CLAIM),
)
def versions(request: HttpRequest, number: str = ClaimNumber) -> list[dict[str, Any]]:
    claim = _claim(number)
    return [_version_out(v) for v in claim.entitlements.order_by("-version")]


@router.get(
    "/{number}/versions/{version}",
    response=EntitlementOut,
    summary="One entitlement version with its eligibility and itemised lines",
    auth=auth_for(VIEW_CLAIM),
)
def version_get(
    request: HttpRequest,
    number: str = ClaimNumber,
    version: int = Path(..., ge=1, le=2**31, description="The version number, from 1"),
) -> dict[str, Any]:
    claim = _claim(number)
    found = claim.entitlements.select_related("computed_by").filter(version=version).first()
    if found is None:
        raise Http404(_("Claim %(n)s has no version %(v)s.") % {"n": claim.number, "v": version})
    return _entitlement_out(claim, found)


@router.get(
    "/{number}/events",
    response=list[EventOut],
    summary="The claim's audit: every transition, fact and amount, with who and when",
    auth=auth_for(VIEW_CLAIM),
)
def events(request: HttpRequest, number: str = ClaimNumber) -> list[dict[str, Any]]:
    claim = _claim(number)
    return [
        {
            "at": e.at,
            "user": _name(e.user),
            "action": e.action,
            "before": e.before,
            "after": e.after,
            "note": e.note,
        }
        for e in ClaimEvent.objects.filter(claim=claim).select_related("user").order_by("id")
    ]


@router.post(
    "/{number}/incapacities",
    response={201: ClaimOut},
    summary="A period of temporary incapacity (STMB): months and days, or first and last day",
    auth=auth_for(FILE_CLAIM),
)
def incapacity_post(request: HttpRequest, payload: ClaimIncapacityIn, number: str = ClaimNumber):
    claim = _claim(number)
    incapacity_add(
        claim=claim,
        user=request.auth,
        months=payload.months,
        days=payload.days,
        first_day=payload.first_day,
        last_day=payload.last_day,
    )
    return Status(201, _fresh(request, claim))


@router.post(
    "/{number}/assessments",
    response={201: ClaimOut},
    summary="A disability assessment against the disability table",
    auth=auth_for(FILE_CLAIM),
)
def assessment_post(request: HttpRequest, payload: AssessmentIn, number: str = ClaimNumber):
    claim = _claim(number)
    assessment_add(
        claim=claim,
        user=request.auth,
        item=payload.item,
        assessed_on=payload.assessed_on,
        percent=payload.percent,
        units=payload.units,
        function_loss_percent=payload.function_loss_percent,
        doctor=payload.doctor,
    )
    return Status(201, _fresh(request, claim))


@router.post(
    "/{number}/costs",
    response={201: ClaimOut},
    summary="A medical or transport cost (transport summed per mode and capped by the rule set)",
    auth=auth_for(FILE_CLAIM),
)
def cost_post(request: HttpRequest, payload: CostIn, number: str = ClaimNumber):
    claim = _claim(number)
    cost_add(
        claim=claim,
        user=request.auth,
        kind=payload.kind,
        amount=payload.amount,
        incurred_on=payload.incurred_on,
        mode=payload.mode,
        document=payload.document,
    )
    return Status(201, _fresh(request, claim))


@router.post(
    "/{number}/outcome",
    response=ClaimOut,
    summary="What followed a work accident: death, total disability, recovery, home care",
    auth=auth_for(FILE_CLAIM),
)
def outcome_post(request: HttpRequest, payload: OutcomeIn, number: str = ClaimNumber):
    claim = _claim(number)
    claim_outcome(
        claim=claim,
        user=request.auth,
        death_date=payload.death_date,
        total_disability=payload.total_disability,
        recovered_on=payload.recovered_on,
        left_handed=payload.left_handed,
        home_care=payload.home_care,
    )
    return _fresh(request, claim)


@router.post(
    "/{number}/parties",
    response={201: PartyOut},
    summary="Add an heir (or a child for the scholarship) with share and bank account",
    auth=auth_for(FILE_CLAIM),
)
def party_post(request: HttpRequest, payload: PartyIn, number: str = ClaimNumber) -> Status:
    claim = _claim(number)
    fields = payload.dict(exclude={"heir_id"})
    heir = None
    if payload.heir_id is not None:
        heir = Heir.objects.filter(pk=payload.heir_id, worker_id=claim.worker_id).first()
        if heir is None:
            raise ClaimRefused(
                "unknown_heir",
                _("The worker has no registered heir with id %(id)s.") % {"id": payload.heir_id},
                "heir_id",
            )
    fields["relation"] = fields["relation"] or ""  # a registered heir's own, or refused
    party = party_add(claim=claim, user=request.auth, heir=heir, **fields)
    return Status(201, _party_out(_party(claim, party.pk), request.auth.has_perm(VIEW_FULL_NIK)))


@router.patch(
    "/{number}/parties/{party_id}",
    response=PartyOut,
    summary="Change a party (a bank account, a school level): audited before and after",
    auth=auth_for(FILE_CLAIM),
)
def party_patch(
    request: HttpRequest, payload: PartyPatch, number: str = ClaimNumber, party_id: int = PartyId
) -> dict[str, Any]:
    claim = _claim(number)
    party = _party(claim, party_id)
    nullable = {"birth_date", "year_in_level", "school_start_year"}
    fields = {
        k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None or k in nullable
    }
    if fields:
        party_update(party=party, user=request.auth, **fields)
    return _party_out(_party(claim, party_id), request.auth.has_perm(VIEW_FULL_NIK))


# -- routes: workflow --------------------------------------------------------------------------


@router.post(
    "/{number}/verification",
    response=ClaimOut,
    summary="Verified: the documents and facts were checked; the claim goes to approval",
    auth=auth_for(VERIFY_CLAIM),
)
def verify_post(request: HttpRequest, payload: NoteIn, number: str = ClaimNumber):
    claim = claim_verify(claim=_claim(number), user=request.auth, note=payload.note)
    return _fresh(request, claim)


@router.post(
    "/{number}/approval",
    response=ClaimOut,
    summary="Approve the latest entitlement (never by who submitted or verified it)",
    auth=auth_for(APPROVE_CLAIM),
)
def approve_post(request: HttpRequest, payload: NoteIn, number: str = ClaimNumber):
    claim = claim_approve(claim=_claim(number), user=request.auth, note=payload.note)
    return _fresh(request, claim)


@router.post(
    "/{number}/rejection",
    response=ClaimOut,
    summary="Reject with a coded reason (a submitted or verified claim)",
    auth=auth_for(VERIFY_CLAIM),
)
def reject_post(request: HttpRequest, payload: RejectIn, number: str = ClaimNumber):
    claim = claim_reject(
        claim=_claim(number), user=request.auth, code=payload.code, note=payload.note
    )
    return _fresh(request, claim)


# -- routes: scholarships ----------------------------------------------------------------------


@router.post(
    "/{number}/instalments/{instalment_id}/proof",
    response={201: InstalmentOut},
    summary="Record a child's proof of enrolment for one school year's instalment",
    auth=auth_for(RECORD_PROOF),
)
def proof_post(
    request: HttpRequest,
    payload: ProofIn,
    number: str = ClaimNumber,
    instalment_id: int = Path(..., ge=1, le=2**53),
) -> Status:
    claim = _claim(number)
    instalment = claim.instalments.filter(pk=instalment_id).first()
    if instalment is None:
        raise Http404(
            _("Claim %(n)s has no instalment with id %(id)s.")
            % {"n": claim.number, "id": instalment_id}
        )
    proof_record(
        instalment=instalment,
        user=request.auth,
        school=payload.school,
        level=payload.level,
        year_in_level=payload.year_in_level,
        document=payload.document,
        on=timezone.localdate(),
    )
    fresh = Instalment.objects.select_related("child", "proof").get(pk=instalment.pk)
    return Status(201, _instalment_out(fresh))


@router.post(
    "/{number}/parties/{party_id}/scholarship-stop",
    response=StopOut,
    summary="Stop a child's scholarship after marriage, work or death (later school years)",
    auth=auth_for(RECORD_PROOF),
)
def stop_post(
    request: HttpRequest, payload: StopIn, number: str = ClaimNumber, party_id: int = PartyId
) -> dict[str, Any]:
    claim = _claim(number)
    child = _party(claim, party_id)
    if not child.is_child:
        raise ScholarshipRefused(
            "not_child", _("Only a child's scholarship can be stopped."), "party_id"
        )
    if child.stopped_on:
        raise ScholarshipRefused(
            "already_stopped",
            _("This child's scholarship already stopped on %(d)s (%(why)s).")
            % {
                "d": child.stopped_on.strftime("%d/%m/%Y"),
                "why": STOP_REASONS.get(child.stop_reason, child.stop_reason),
            },
            "reason",
        )
    stopped = scholarship_stop(
        child=child,
        user=request.auth,
        reason=payload.reason,
        stopped_on=payload.stopped_on,
        today=timezone.localdate(),
        work=payload.work,
        pu_months=payload.pu_months,
    )
    return {
        "stopped": stopped,
        "child": _party_out(_party(claim, party_id), request.auth.has_perm(VIEW_FULL_NIK)),
    }
