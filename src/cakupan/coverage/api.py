"""API for coverage at /api/v1/coverage: the monthly snapshots (list; one month with the UCJ
of every region and the source of every figure), and building a month (a closed month only
rebuilt with a reason, by a user allowed to).

Thin: the services decide; a Refused is a 422 naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import Http404, HttpRequest
from ninja import Field, Path, Router, Schema
from pydantic import AfterValidator

from cakupan.accounts.roles import REBUILD_SNAPSHOT, VIEW_COVERAGE
from cakupan.apikit import Text, auth_for
from cakupan.coverage.models import Area, Snapshot
from cakupan.coverage.snapshots import snapshot_build
from cakupan.errors import Refused
from cakupan.months import MonthInvalid, parse_month
from cakupan.regions.models import Level, Region

router = Router(tags=["coverage"])


def _month(value: str) -> dt.date:
    try:
        return parse_month(value)
    except MonthInvalid as e:
        raise ValueError(str(e)) from None


Month = Annotated[str, AfterValidator(_month)]


class SnapshotOut(Schema):
    month: dt.date
    status: str = Field(description="provisional (rebuilt freely) or closed (frozen)")
    as_of: dt.date = Field(description="The ledger as it stood on this day")
    registered: int
    members: int
    active: int
    city_ucj: float | None = Field(description="The city's UCJ (%); null without a denominator")
    built_at: dt.datetime


class CoverageAreaOut(Schema):
    region: str
    name: str
    level: int
    registered: int
    members: int
    bpu_active: int
    pu: int
    jakon: int
    pmi: int
    participants: int
    employed: int | None
    ucj: float | None = Field(description="UCJ (%); null where the region has no denominator")
    employed_source: str = Field(description="The denominator's source and date")
    employed_period: dt.date | None
    aggregates_source: str = Field(description="The PU/Jakon/PMI counts' sources and dates")


class SnapshotDetail(SnapshotOut):
    areas: list[CoverageAreaOut]


class SnapshotBuildIn(Schema):
    rebuild: bool = Field(False, description="Rebuild a closed month (needs a reason)")
    reason: Text = Field("", max_length=300)


def _city_ucj(snapshot: Snapshot) -> float | None:
    city = next((a for a in snapshot.areas.all() if a.level == Level.REGENCY), None)
    return round(city.ucj, 2) if city and city.ucj is not None else None


def _out(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "month": snapshot.month,
        "status": snapshot.status,
        "as_of": snapshot.as_of,
        "registered": snapshot.registered,
        "members": snapshot.members,
        "active": snapshot.active,
        "city_ucj": _city_ucj(snapshot),
        "built_at": snapshot.built_at,
    }


def _area(area: Area, names: dict[str, str]) -> dict[str, Any]:
    return {
        "region": area.region,
        "name": names.get(area.region, ""),
        "level": area.level,
        "registered": area.registered,
        "members": area.members,
        "bpu_active": area.bpu_active,
        "pu": area.pu,
        "jakon": area.jakon,
        "pmi": area.pmi,
        "participants": area.participants,
        "employed": area.employed,
        "ucj": round(area.ucj, 2) if area.ucj is not None else None,
        "employed_source": area.employed_source,
        "employed_period": area.employed_period,
        "aggregates_source": area.aggregates_source,
    }


@router.get(
    "/snapshots",
    response=list[SnapshotOut],
    summary="The monthly coverage snapshots, newest first",
    auth=auth_for(VIEW_COVERAGE),
)
def snapshots(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        _out(s)
        for s in Snapshot.objects.defer("active_ids", "member_ids").prefetch_related("areas")
    ]


def _detail(snapshot: Snapshot) -> dict[str, Any]:
    areas = list(snapshot.areas.all())
    names = dict(
        Region.objects.filter(code__in=[a.region for a in areas]).values_list("code", "name")
    )
    return {**_out(snapshot), "areas": [_area(a, names) for a in areas]}


@router.get(
    "/snapshots/{month}",
    response=SnapshotDetail,
    summary="One month: the UCJ of the city, each kecamatan and kelurahan, with its sources",
    auth=auth_for(VIEW_COVERAGE),
)
def snapshot(request: HttpRequest, month: Path[Month]) -> dict[str, Any]:
    found = (
        Snapshot.objects.defer("active_ids", "member_ids")
        .prefetch_related("areas")
        .filter(month=parse_month(month))
        .first()
    )
    if found is None:
        raise Http404
    return _detail(found)


@router.post(
    "/snapshots/{month}",
    response=SnapshotDetail,
    summary="Build a month's snapshot (a closed month: rebuild=true with a reason)",
    auth=auth_for(REBUILD_SNAPSHOT),
)
def build(request: HttpRequest, month: Path[Month], body: SnapshotBuildIn) -> dict[str, Any]:
    try:
        built = snapshot_build(
            parse_month(month), user=request.auth, rebuild=body.rebuild, reason=body.reason
        )
    except Refused as e:
        if e.field == "month" and e.code == "snapshot_closed":
            raise Refused(e.code, e._message, "rebuild") from None
        raise
    return _detail(built)
