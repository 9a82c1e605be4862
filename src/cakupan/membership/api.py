"""API for memberships: enrol one worker in a funding programme, read a worker's memberships."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest
from ninja import Field, Path, Router, Schema
from ninja.responses import Status

from cakupan.accounts.roles import ENROL, VIEW_WORKER, Role
from cakupan.apikit import FieldErrors, auth_for
from cakupan.funding.selectors import programme_scope
from cakupan.membership.models import Membership
from cakupan.membership.selectors import OTHER_SPONSOR, worker_memberships
from cakupan.membership.services import EnrolmentRefused, membership_enrol
from cakupan.registry.selectors import worker_get

router = Router(tags=["memberships"])


class FundingOut(Schema):
    first_month: dt.date
    last_month: dt.date | None
    programme_id: int | None = Field(None, description="Empty: self-paid")
    payer: str


class MembershipOut(Schema):
    id: int
    number: str
    worker_id: int
    category: str
    programmes: list[str]
    declared_income: int
    bracket: int
    start_month: dt.date
    fundings: list[FundingOut]


class EnrolIn(Schema):
    worker_id: int = Field(..., ge=1, le=2**53)
    programme_id: int = Field(..., ge=1, le=2**53)
    start_month: dt.date | None = Field(None, description="Default: this month")


def _payer(f, viewer) -> str:
    if f.programme is None:
        return "mandiri"
    if viewer.role == Role.SPONSOR and f.programme.sponsor_id != viewer.sponsor_id:
        return OTHER_SPONSOR  # a sponsor sees its own programmes only
    return f"{f.programme.sponsor.name} ({f.programme.name})"


def _out(m: Membership, viewer) -> dict:
    return {
        "id": m.pk,
        "number": m.number,
        "worker_id": m.worker_id,
        "category": m.category,
        "programmes": m.programmes,
        "declared_income": m.declared_income,
        "bracket": m.bracket,
        "start_month": m.start_month,
        "fundings": [
            {
                "first_month": f.first_month,
                "last_month": f.last_month,
                "programme_id": None if _payer(f, viewer) == OTHER_SPONSOR else f.programme_id,
                "payer": _payer(f, viewer),
            }
            for f in m.fundings.all()
        ],
    }


@router.post(
    "/enrolments",
    response={201: MembershipOut},
    summary="Enrol a worker in a funding programme",
    auth=auth_for(ENROL),
)
def enrol(request: HttpRequest, payload: EnrolIn) -> Status:
    user = request.auth
    worker = worker_get(user=user, pk=payload.worker_id)
    programme = programme_scope(user=user).filter(pk=payload.programme_id).first()
    errors = {}
    if worker is None:
        errors["worker_id"] = [f"Pekerja dengan id {payload.worker_id} tidak ditemukan."]
    if programme is None:
        errors["programme_id"] = [f"Program dengan id {payload.programme_id} tidak ditemukan."]
    if errors:
        raise FieldErrors(errors)
    try:
        membership = membership_enrol(
            worker=worker, programme=programme, start=payload.start_month, created_by=user
        )
    except EnrolmentRefused as e:
        raise FieldErrors({"programme_id": [str(e)]}) from None
    return Status(
        201, _out(next(m for m in worker_memberships(worker=worker) if m.pk == membership.pk), user)
    )


@router.get(
    "/workers/{worker_id}/memberships",
    response=list[MembershipOut],
    summary="A worker's memberships",
    auth=auth_for(VIEW_WORKER),
)
def memberships(request: HttpRequest, worker_id: int = Path(..., ge=1, le=2**53)) -> list[dict]:
    worker = worker_get(user=request.auth, pk=worker_id)
    if worker is None:
        raise Http404(f"Pekerja dengan id {worker_id} tidak ditemukan.")
    return [_out(m, request.auth) for m in worker_memberships(worker=worker)]
