"""Reads on the region tree."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from cakupan.regions.models import Level, Region


def city_code() -> str:
    """The regency/city this installation serves (Kota Malang, 35.73, unless configured)."""
    return getattr(settings, "CAKUPAN_CITY_CODE", "35.73")


def region_list(
    *,
    parent: str | None = None,
    level: int | None = None,
    q: str = "",
    include_retired: bool = False,
) -> QuerySet[Region]:
    qs = Region.objects.all()
    if parent:
        qs = qs.filter(parent_id=parent)
    if level:
        qs = qs.filter(level=level)
    if q:
        qs = qs.filter(name__icontains=q)
    if not include_retired:
        qs = qs.filter(retired_on__isnull=True)
    return qs.order_by("code")


def city_kecamatan() -> QuerySet[Region]:
    return region_list(parent=city_code(), level=Level.KECAMATAN)


def city_kelurahan(*, kecamatan: str | None = None) -> QuerySet[Region]:
    qs = Region.objects.filter(level=Level.VILLAGE, retired_on__isnull=True)
    if kecamatan:
        return qs.filter(parent_id=kecamatan).order_by("code")
    return qs.filter(code__startswith=city_code() + ".").order_by("code")


def region_status(codes: set[str]) -> dict[str, str]:
    """For each code: 'active', 'retired' or absent from the result when unknown."""
    found = Region.objects.filter(code__in=codes).values_list("code", "retired_on")
    return {code: ("retired" if retired else "active") for code, retired in found}


def regency_loaded(regency_code: str) -> bool:
    """True when the kecamatan of this regency/city are in the database, so an unknown
    kecamatan code under it is really unknown rather than not yet imported."""
    return Region.objects.filter(parent_id=regency_code, level=Level.KECAMATAN).exists()
