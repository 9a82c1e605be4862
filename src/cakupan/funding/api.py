"""API for sponsors and funding programmes."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest
from ninja import Field, Path, Router, Schema
from ninja.responses import Status

from cakupan.accounts.roles import MANAGE_PROGRAMME, VIEW_PROGRAMME
from cakupan.apikit import FieldErrors, Text, auth_for
from cakupan.funding.models import FundingProgramme, Sponsor
from cakupan.funding.selectors import programme_budget, programme_scope, sponsor_scope
from cakupan.funding.services import FundingInvalid, programme_create, sponsor_create

router = Router(tags=["funding"])


class SponsorIn(Schema):
    type: Text = Field(
        ..., max_length=10, description="apbd, apbn, apbdes, dbhcht, csr, bpjs, self, other"
    )
    name: Text = Field(..., max_length=150)
    contact_name: Text = Field("", max_length=150)
    contact_phone: Text = Field("", max_length=20)


class SponsorOut(Schema):
    id: int
    type: str
    name: str
    contact_name: str
    contact_phone: str


class Eligibility(Schema):
    occupations: list[Text] = Field(default_factory=list, max_length=100)
    sectors: list[Text] = Field(default_factory=list, max_length=20)
    kecamatan: list[Text] = Field(default_factory=list, max_length=100)
    kelurahan: list[Text] = Field(default_factory=list, max_length=1000)
    vulnerable_only: bool = False
    min_age: int | None = Field(None, ge=0, le=120)
    max_age: int | None = Field(None, ge=0, le=120)


class ProgrammeIn(Schema):
    sponsor_id: int = Field(..., ge=1, le=2**53)
    name: Text = Field(..., max_length=150)
    fiscal_year: int = Field(..., ge=2015, le=2100)
    first_month: dt.date = Field(..., description="Any day of the first month")
    last_month: dt.date = Field(..., description="Any day of the last month")
    budget: int = Field(..., ge=0, le=10**15)
    programmes: list[Text] = Field(["jkk", "jkm"], max_length=3)
    declared_income: int = Field(1_000_000, ge=0, le=10**12)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    cohort_cap: int | None = Field(None, ge=1, le=10**9)


class ProgrammeOut(Schema):
    id: int
    sponsor_id: int
    sponsor: str
    name: str
    fiscal_year: int
    first_month: dt.date
    last_month: dt.date
    budget: int
    committed: int
    members: int
    cohort_cap: int | None
    programmes: list[str]
    declared_income: int
    eligibility: dict


def _programme_out(p: FundingProgramme) -> dict:
    b = programme_budget(programme=p)
    return {
        "id": p.pk,
        "sponsor_id": p.sponsor_id,
        "sponsor": p.sponsor.name,
        "name": p.name,
        "fiscal_year": p.fiscal_year,
        "first_month": p.first_month,
        "last_month": p.last_month,
        "budget": p.budget,
        "committed": b.committed,
        "members": b.members,
        "cohort_cap": p.cohort_cap,
        "programmes": p.programmes,
        "declared_income": p.declared_income,
        "eligibility": p.eligibility,
    }


@router.get(
    "/sponsors", response=list[SponsorOut], summary="Sponsors", auth=auth_for(VIEW_PROGRAMME)
)
def sponsors(request: HttpRequest) -> list[Sponsor]:
    return list(sponsor_scope(user=request.auth))


@router.post(
    "/sponsors",
    response={201: SponsorOut},
    summary="Create a sponsor",
    auth=auth_for(MANAGE_PROGRAMME),
)
def sponsor_post(request: HttpRequest, payload: SponsorIn) -> Status:
    try:
        return Status(201, sponsor_create(**payload.dict()))
    except FundingInvalid as e:
        raise FieldErrors(e.errors) from None


@router.get(
    "/programmes",
    response=list[ProgrammeOut],
    summary="Funding programmes with budget use",
    auth=auth_for(VIEW_PROGRAMME),
)
def programmes(request: HttpRequest) -> list[dict]:
    return [_programme_out(p) for p in programme_scope(user=request.auth)]


@router.get(
    "/programmes/{programme_id}",
    response=ProgrammeOut,
    summary="A funding programme",
    auth=auth_for(VIEW_PROGRAMME),
)
def programme(request: HttpRequest, programme_id: int = Path(..., ge=1, le=2**53)) -> dict:
    found = programme_scope(user=request.auth).filter(pk=programme_id).first()
    if found is None:
        raise Http404(f"Program dengan id {programme_id} tidak ditemukan.")
    return _programme_out(found)


@router.post(
    "/programmes",
    response={201: ProgrammeOut},
    summary="Create a funding programme",
    auth=auth_for(MANAGE_PROGRAMME),
)
def programme_post(request: HttpRequest, payload: ProgrammeIn) -> Status:
    sponsor = sponsor_scope(user=request.auth).filter(pk=payload.sponsor_id).first()
    if sponsor is None:
        raise FieldErrors(
            {"sponsor_id": [f"Pemberi dana dengan id {payload.sponsor_id} tidak ada."]}
        )
    eligibility = {
        k: v for k, v in payload.eligibility.dict().items() if v not in (None, [], False)
    }
    try:
        created = programme_create(
            sponsor=sponsor,
            name=payload.name,
            fiscal_year=payload.fiscal_year,
            first_month=payload.first_month,
            last_month=payload.last_month,
            budget=payload.budget,
            programmes=payload.programmes,
            declared_income=payload.declared_income,
            eligibility=eligibility,
            cohort_cap=payload.cohort_cap,
            created_by=request.auth,
        )
    except FundingInvalid as e:
        raise FieldErrors(e.errors) from None
    return Status(201, _programme_out(created))
