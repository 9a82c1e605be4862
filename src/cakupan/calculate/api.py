"""API for the contribution and benefit calculators (the rules engine).

The handlers are thin: the schemas bound every value (so no input can reach the engine in a
shape it cannot handle), the engine computes, and a RuleInputError becomes a 422 whose
`loc` names the field the same way the engine does ("children[1].level").
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.responses import Status
from pydantic import AfterValidator, ConfigDict

from cakupan.accounts.roles import USE_CALCULATOR
from cakupan.apikit import Text, auth_for
from cakupan.calculate.forms import MAX_CHILDREN
from cakupan.rules import benefits_from_dict, contribution, load_rules

router = Router(tags=["calculate"])

MAX_RUPIAH = 10**12
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)


def _codes(kind: str) -> str:
    # The shipped vocabulary, for the documentation; an operator may add codes with a
    # supplement in CAKUPAN_RULES_DIR, so the schema does not restrict them to this list.
    vocabulary = load_rules().vocabulary(dt.date(2026, 1, 1))
    return ", ".join(getattr(vocabulary, kind))


def _in_range(day: dt.date) -> dt.date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"Tanggal harus antara {FIRST_DAY} dan {LAST_DAY}.")
    return day


Day = Annotated[dt.date, AfterValidator(_in_range)]
Rupiah = Annotated[int, Field(ge=0, le=MAX_RUPIAH)]


class Strict(Schema):
    """An input object that refuses unknown keys, as the engine does: a typo is never ignored."""

    model_config = ConfigDict(extra="forbid")


class ContributionIn(Strict):
    income: Rupiah = Field(..., description="Declared monthly income, whole Rupiah")
    month: Text | None = Field(
        None,
        max_length=7,
        pattern=r"^\d{4}-\d{2}$",
        description="Contribution month YYYY-MM; default: the current month (Asia/Jakarta)",
        examples=["2026-11"],
    )
    category: Text = Field(
        "bpu", max_length=20, description=f"Participant category: {_codes('categories')}"
    )
    jht: bool = Field(False, description="Opt into JHT (old-age savings)")
    business_owner: bool = Field(False, description="A business owner: JHT is mandatory")
    sector: Text = Field(
        "other", max_length=40, description=f"Occupation sector: {_codes('sectors')}"
    )
    funding: Text = Field(
        "self", max_length=40, description=f"Who pays the contribution: {_codes('funding')}"
    )


class NoteOut(Schema):
    code: str
    message: str
    message_en: str


class ContributionLineOut(Schema):
    programme: str
    label_id: str
    label_en: str
    mandatory: bool
    gross: int
    discount: int
    net: int
    rule_id: str
    basis: str = Field(..., description="Regulation behind the contribution rate")
    discount_rule_id: str | None
    discount_basis: str = Field(..., description="Regulation behind the discount, if any")


class ContributionOut(Schema):
    category: str
    month: str = Field(..., description="YYYY-MM")
    income: int
    sector: str
    funding: str
    business_owner: bool
    bracket: int = Field(..., description="Row of the BPU income table, 1–33")
    income_from: int
    income_to: int | None = Field(..., description="None on the top row")
    base: int = Field(..., description="The bracket's base wage the rates apply to")
    lines: list[ContributionLineOut]
    total_gross: int
    total_discount: int
    total: int = Field(..., description="To pay for the month")
    rule_ids: list[str]
    notes: list[NoteOut] = Field(..., description="E.g. why no discount applies")


class ErrorItem(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ErrorOut(Schema):
    detail: list[ErrorItem]


class ChildIn(Strict):
    name: Text = Field("", max_length=150)
    birth_date: Day
    level: Text = Field(..., max_length=20, description=f"Schooling: {_codes('education_levels')}")
    year_in_level: int | None = Field(
        None, ge=1, le=20, description="1-based; required for tk_sd, smp, sma, s1"
    )
    school_start_year: int | None = Field(
        None, ge=1900, le=2100, description="Only for not_in_school: year TK–SD year 1 starts"
    )
    married: bool = False
    working: Text = Field(
        "no", max_length=20, description=f"Work status: {_codes('working_statuses')}"
    )
    pu_consecutive_months: int = Field(0, ge=0, le=600)
    registered_heir: bool = True
    chosen: bool = Field(
        False,
        description="The heirs' choice of who receives the scholarship when more children "
        "qualify than allowed; unchosen places go to the eldest eligible",
    )


class IncapacityIn(Strict):
    """STMB: either months and days of incapacity, or the first and last day."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    months: int | None = Field(None, ge=0, le=600)
    days: int | None = Field(None, ge=0, le=18_300)
    from_: Day | None = Field(None, alias="from")
    to: Day | None = None


class DisabilityIn(Strict):
    item: Text = Field(..., max_length=60, description="Code of a row of the disability table")
    percent: int | None = Field(None, ge=0, le=100, description="Assessed percent (range items)")
    units: int | None = Field(None, ge=0, le=100, description="Units (per-unit items)")
    function_loss_percent: int | None = Field(None, ge=0, le=100)


class TransportIn(Strict):
    mode: Literal["land", "sea", "air"]
    amount: Rupiah


class EventIn(Strict):
    """A work accident (jkk) or a death not from work (jkm); the schema of docs/rules.md."""

    type: Literal["jkk", "jkm"]
    event_date: Day = Field(..., description="Chooses the rule sets")
    months_in_arrears: int = Field(
        0, ge=0, le=600, description="Consecutive unpaid months at the event"
    )
    contribution_months: int | None = Field(
        None, ge=0, le=1200, description="Months contributed; required for a JKM scholarship"
    )
    children: list[ChildIn] | None = Field(
        None,
        max_length=MAX_CHILDREN,
        description="Every child registered as an heir; at most 2 receive the scholarship (1 "
        "before 2019-12-02), the others get the reason max_children. Only for jkm, or jkk "
        "with death/total_disability",
    )
    wage: Rupiah | None = Field(
        None, description="jkk: the wage contributions were paid on (BPU: bracket base)"
    )
    income: Rupiah | None = Field(None, description="jkk: or the declared income")
    medical_bills: list[Rupiah] | None = Field(
        None, max_length=500, description="jkk: bills so far; omit for 'as incurred'"
    )
    stmb: IncapacityIn | None = None
    disability: list[DisabilityIn] | None = Field(None, max_length=50)
    left_handed: bool | None = None
    total_disability: bool | None = None
    death: bool | None = None
    home_care: Rupiah | None = Field(None, description="jkk: claimed home care, capped")
    transport: list[TransportIn] | None = Field(None, max_length=20)


class ScholarshipYearOut(Schema):
    school_year: str = Field(..., examples=["2026/2027"])
    level: str
    year_in_level: int
    amount: int
    when: Literal["past", "current", "later"] = Field(
        ...,
        description="Against today's school year: past and current are due now (in lines), "
        "later is paid in its own school year (in schedule)",
    )


class ChildScholarshipOut(Schema):
    index: int = Field(..., description="Position in the input children, from 0")
    name: str
    birth_date: dt.date
    chosen: bool
    eligible: bool = Field(..., description="Receives the scholarship")
    reasons: list[NoteOut] = Field(
        ..., description="Why not: age_limit, married, working, not_heir, max_children, …"
    )
    schedule: list[ScholarshipYearOut]
    total: int


class ScholarshipsOut(Schema):
    rule_id: str
    basis: str
    confidence: str
    max_children: int
    current_school_year: str = Field(..., examples=["2026/2027"])
    children: list[ChildScholarshipOut]
    total: int


class BenefitLineOut(Schema):
    code: str
    label_id: str
    label_en: str
    amount: int | None = Field(..., description="None: medical care as incurred (no ceiling)")
    calculation: str
    payable: Literal["now", "after_arrears", "not_payable", "later"] = Field(
        ...,
        description="In lines: now, after_arrears or not_payable; in schedule: later or "
        "not_payable",
    )
    rule_id: str
    basis: str
    confidence: Literal["H", "M", "L"]
    note: str
    note_en: str
    child: int | None = Field(..., description="A scholarship instalment: the child's index")
    school_year: str | None = Field(..., description="A scholarship instalment: its school year")


class BenefitsOut(Schema):
    event_type: str
    event_date: dt.date
    as_of: dt.date = Field(..., description="Today (Asia/Jakarta), the date the answer is for")
    wage: int | None
    months_in_arrears: int
    lines: list[BenefitLineOut] = Field(
        ..., description="Due now, with this school year's scholarship instalments"
    )
    schedule: list[BenefitLineOut] = Field(
        ..., description="Scholarship instalments of later school years, per child per year"
    )
    scholarships: ScholarshipsOut | None
    total: int = Field(..., description="total_now + total_after_arrears + total_later")
    total_now: int = Field(..., description="Sum of the lines payable now")
    total_after_arrears: int = Field(
        ..., description="Sum of the lines held until the arrears are paid"
    )
    total_later: int = Field(..., description="Sum of the later schedule")
    as_incurred: bool = Field(..., description="Medical care has no amount yet")
    rule_ids: list[str]


@router.post(
    "/calculate/contribution",
    response={200: ContributionOut, 422: ErrorOut},
    summary="Monthly contribution of one participant",
    description="Bracket and base, one line per programme (gross, PP 50/2025 discount, net) "
    "with the regulation behind it, the total, and the ids of every rule set used.",
    auth=auth_for(USE_CALCULATOR),
)
def contribution_post(request: HttpRequest, payload: ContributionIn) -> Status:
    # a RuleInputError is a Refused: the API's one handler answers 422 naming the field
    result = contribution(
        category=payload.category,
        income=payload.income,
        month=payload.month or timezone.localdate().strftime("%Y-%m"),
        programmes=["jht"] if payload.jht else None,
        sector=payload.sector,
        funding=payload.funding,
        business_owner=payload.business_owner,
    )
    return Status(200, result.to_dict())


@router.post(
    "/calculate/benefits",
    response={200: BenefitsOut, 422: ErrorOut},
    summary="Benefits after a work accident (JKK) or a death not from work (JKM)",
    description="Itemised benefit lines due now (with this school year's scholarship "
    "instalments) with amount, calculation, payable status under the arrears rules and the "
    "legal basis; the later scholarship schedule per child per school year; the amount paid "
    "now, held until the arrears are paid, scheduled later, and the total. An event after "
    "today (Asia/Jakarta) is refused.",
    auth=auth_for(USE_CALCULATOR),
)
def benefits_post(request: HttpRequest, payload: EventIn) -> Status:
    event = payload.model_dump(mode="json", by_alias=True, exclude_none=True)
    result = benefits_from_dict(event, as_of=timezone.localdate())
    return Status(200, result.to_dict())
