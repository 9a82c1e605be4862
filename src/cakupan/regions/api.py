"""API for the region tree."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema

from cakupan.accounts.roles import VIEW_REGION
from cakupan.apikit import Text, auth_for
from cakupan.regions.models import Region
from cakupan.regions.selectors import region_list

router = Router(tags=["regions"])


class RegionOut(Schema):
    code: str
    name: str
    level: int
    parent: str | None = Field(None, alias="parent_id")
    retired_on: str | None = None

    @staticmethod
    def resolve_retired_on(obj: Region) -> str | None:
        return obj.retired_on.isoformat() if obj.retired_on else None


class RegionPage(Schema):
    count: int
    items: list[RegionOut]


class RegionFilters(Schema):
    parent: Text | None = Field(None, max_length=13, description="Parent code, e.g. 35.73")
    level: int | None = Field(None, ge=1, le=4, description="1 province … 4 kelurahan/desa")
    q: Text = Field("", max_length=100, description="Part of the name")
    include_retired: bool = False
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=1_000_000)


@router.get("/regions", response=RegionPage, summary="List regions", auth=auth_for(VIEW_REGION))
def regions(request: HttpRequest, filters: Query[RegionFilters]) -> dict:
    qs = region_list(
        parent=filters.parent,
        level=filters.level,
        q=filters.q,
        include_retired=filters.include_retired,
    )
    return {"count": qs.count(), "items": list(qs[filters.offset : filters.offset + filters.limit])}


@router.get(
    "/regions/{code}",
    response=RegionOut,
    summary="Get a region by its Kemendagri code",
    auth=auth_for(VIEW_REGION),
)
def region(request: HttpRequest, code: str) -> Region:
    found = Region.objects.filter(code=code[:13]).first()
    if found is None:
        raise Http404(f"Kode wilayah {code[:13]} tidak ditemukan.")
    return found
