"""API: the hospital desk's protection check, answered from the ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from cakupan.accounts.roles import VERIFY_MEMBERSHIP
from cakupan.apikit import auth_for
from cakupan.contributions.verify import NotFound, parse_date, parse_lookup, verify
from cakupan.registry.models import NikAccessLog
from cakupan.registry.nik import mask_nik
from cakupan.registry.services import access_log_write
from cakupan.throttle import throttle

router = Router(tags=["verify"])

Cover = Literal["yes", "after_arrears", "no"]


class Covers(Schema):
    jkk_care: Cover = Field(..., description="JKK medical care for a work accident")
    jkm_funeral: Cover = Field(..., description="JKM funeral cost")
    jkk_cash: Cover = Field(..., description="JKK cash benefits (after_arrears: once paid up)")
    jkm_cash: Cover = Field(..., description="JKM death benefit in cash")


class VerifyOut(Schema):
    protected: bool = Field(..., description="Protected on `date`: active or in arrears")
    date: dt.date
    state: Literal["active", "arrears", "lapsed", "pending", "not_started", "ended"]
    state_label: str
    months_unpaid: int
    since: dt.date | None = Field(None, description="First day of the paid run it rests on")
    through: dt.date | None = Field(None, description="Last day it lasts without a payment")
    covers: Covers
    payer_type: str = Field(..., description='"csr", "apbd", … or "self"; "" if nobody')
    membership: str = Field(..., description="Membership number")
    nik: str = Field(..., description="Masked NIK")
    name: str


@router.get(
    "/verify",
    response=VerifyOut,
    auth=auth_for(VERIFY_MEMBERSHIP),
    url_name="verify",
    summary="Is this person protected on a date?",
    openapi_extra={
        "responses": {
            429: {"description": "Too many checks: the Retry-After header says when to retry"}
        }
    },
)
def verify_get(
    request: HttpRequest,
    nik: str | None = None,
    membership: str | None = None,
    date: str | None = None,
):
    """Give exactly one of `nik` or `membership`; `date` (YYYY-MM-DD) defaults to today.
    Rate-limited per user; every call is logged in the personal data access log."""
    try:
        return verify_answer(request, nik, membership, date, log=access_log_write)
    except NotFound as e:
        raise Http404(e.message) from None


def verify_answer(
    request: HttpRequest,
    nik: str | None,
    membership: str | None,
    date: str | None,
    *,
    log: Callable[..., None],
) -> dict[str, Any]:
    """The check for `request.user`, as the route answers it (before VerifyOut shapes it), with
    every call written to the access log by `log` (as `access_log_write`): Throttled past the
    rate, Refused for bad input, NotFound for nobody. Shared with the lean path in front of
    Django (`cakupan.apifast`), which answers the same request with the same body."""
    throttle(request, "verify")
    kind, value = parse_lookup(nik, membership)
    on = parse_date(date, timezone.localdate())
    try:
        verdict = verify(kind, value, on)
    except NotFound as e:
        log(
            user=request.user,
            action=NikAccessLog.Action.VERIFY,
            workers=[e.worker],
            path=request.path,
        )
        raise
    log(
        user=request.user,
        action=NikAccessLog.Action.VERIFY,
        workers=[verdict.worker],
        path=request.path,
    )
    s = verdict.state
    return {
        "protected": s.protected,
        "date": on,
        "state": s.state,
        "state_label": s.label,
        "months_unpaid": s.months_unpaid,
        "since": s.since,
        "through": s.through,
        "covers": s.covers,
        "payer_type": s.payer_type,
        "membership": verdict.membership.number,
        "nik": mask_nik(verdict.worker.nik),
        "name": verdict.worker.full_name,
    }
