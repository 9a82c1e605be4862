"""Reads on the registry: NIK checks against the region tree, scoped worker lists, counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cakupan.accounts.models import User
from cakupan.accounts.roles import VIEW_FULL_NIK, VIEW_WORKER, Role
from cakupan.errors import Refused
from cakupan.regions.models import Level, Region
from cakupan.registry.models import Occupation, Worker
from cakupan.registry.nik import (
    NikResult,
    RegionState,
    is_nik_shaped,
    normalise_nik,
    parse_nik,
    region_state,
)
from cakupan.registry.vulnerability import vulnerable_q


def _region_lookup(niks: Iterable[str]):
    """Two small queries for every kecamatan code the NIKs carry, and the regency/city codes;
    returns the lookup parse_nik wants."""
    codes = {f"{n[0:2]}.{n[2:4]}.{n[4:6]}" for n in niks if is_nik_shaped(n)}
    known = dict(Region.objects.filter(code__in=codes).values_list("code", "retired_on"))
    regencies = set(Region.objects.filter(level=Level.REGENCY).values_list("code", flat=True))
    loaded = set(
        Region.objects.filter(parent_id__in={c[:5] for c in codes}, level=Level.KECAMATAN)
        .values_list("parent_id", flat=True)
        .distinct()
    )
    retired = {code: retired_on is not None for code, retired_on in known.items()}

    def lookup(code: str) -> RegionState:
        return region_state(code, kecamatan=retired, loaded_regencies=loaded, regencies=regencies)

    return lookup


def nik_check(
    nik: str,
    *,
    sex: str | None = None,
    birth_date: dt.date | None = None,
    min_age: int = 15,
) -> NikResult:
    """Validate one NIK against the region tree and, if given, the recorded sex and birth date."""
    return nik_check_many([nik], sex=sex, birth_date=birth_date, min_age=min_age)[0]


def nik_check_many(
    niks: list[str],
    *,
    sex: str | None = None,
    birth_date: dt.date | None = None,
    min_age: int = 15,
) -> list[NikResult]:
    normalised = [normalise_nik(n) for n in niks]
    lookup = _region_lookup(normalised)
    today = timezone.localdate()
    return [
        parse_nik(
            raw, region_lookup=lookup, today=today, sex=sex, birth_date=birth_date, min_age=min_age
        )
        for raw in niks
    ]


def worker_scope(*, user: User) -> QuerySet[Worker]:
    """The workers a user may see at all. A sponsor sees only the workers its own programmes
    fund; a role without the view permission sees nothing."""
    if not user.is_authenticated or not user.has_perm(VIEW_WORKER):
        return Worker.objects.none()
    if user.role == Role.SPONSOR and not user.is_superuser:
        if not user.sponsor_id:
            return Worker.objects.none()
        return Worker.objects.filter(
            pk__in=Worker.objects.filter(
                memberships__fundings__programme__sponsor_id=user.sponsor_id
            ).values("pk")
        )
    return Worker.objects.all()


@dataclass(frozen=True)
class WorkerFilters:
    q: str = ""
    kecamatan: str = ""
    kelurahan: str = ""
    occupation: str = ""
    sector: str = ""
    sex: str = ""
    vulnerable: bool | None = None


class SearchRefused(Refused):
    """A search this user may not make (a NIK prefix without the right to whole NIKs)."""

    where = "query"


def nik_search_digits(q: str) -> str | None:
    """The digits of `q` when it is a NIK search (6 to 16 digits), else None (a name search)."""
    digits = normalise_nik(q.strip())  # ASCII, as stored: a full-width NIK finds its worker
    if digits.isascii() and digits.isdigit() and 6 <= len(digits) <= 16:
        return digits
    return None


def worker_list(*, user: User, filters: WorkerFilters | None = None) -> QuerySet[Worker]:
    """Workers the user may see, filtered. `q` is a NIK (whole or its start) or part of a name.

    Only roles that see whole NIKs may search by the first digits of one: for the others a
    prefix search would confirm a NIK digit by digit, so they search by the whole NIK."""
    f = filters or WorkerFilters()
    qs = worker_scope(user=user).select_related("kelurahan", "kelurahan__parent", "occupation")
    q = f.q.strip()
    digits = nik_search_digits(q) if q else None
    if digits and len(digits) == 16:
        qs = qs.filter(nik=digits)
    elif digits:
        if not user.has_perm(VIEW_FULL_NIK):
            raise SearchRefused(
                "nik_prefix_refused",
                _("Search by the whole 16-digit NIK, or by part of the name."),
                "q",
            )
        # A range instead of LIKE 'prefix%', which SQLite cannot answer from the index.
        upper = digits[:-1] + chr(ord(digits[-1]) + 1)
        qs = qs.filter(nik__gte=digits, nik__lt=upper)
    elif q:
        for word in q.split()[:5]:
            qs = qs.filter(full_name__icontains=word)
    if f.kelurahan:
        qs = qs.filter(kelurahan_id=f.kelurahan)
    elif f.kecamatan:
        qs = qs.filter(kelurahan__parent_id=f.kecamatan)
    if f.occupation:
        qs = qs.filter(occupation__code=f.occupation)
    if f.sector:
        qs = qs.filter(occupation__sector=f.sector)
    if f.sex:
        qs = qs.filter(sex=f.sex)
    if f.vulnerable is not None:
        qs = qs.filter(vulnerable_q() if f.vulnerable else ~vulnerable_q())
    return qs.order_by("full_name", "id")


def worker_get(*, user: User, pk: int) -> Worker | None:
    return (
        worker_scope(user=user)
        .select_related("kelurahan", "kelurahan__parent", "occupation", "created_by")
        .filter(pk=pk)
        .first()
    )


def occupation_list(*, active_only: bool = True) -> QuerySet[Occupation]:
    qs = Occupation.objects.all()
    return qs.filter(active=True) if active_only else qs


@dataclass(frozen=True)
class RegistryCounts:
    workers: int
    vulnerable: int
    women: int
    by_kecamatan: list[tuple[str, str, int]]
    by_sector: list[tuple[str, int]]


def registry_counts(*, user: User, city_code: str) -> RegistryCounts:
    """Dashboard counts over the workers the user may see."""
    qs = worker_scope(user=user)
    agg = qs.aggregate(
        workers=Count("id"),
        vulnerable=Count(
            "id",
            filter=vulnerable_q(),
        ),
        women=Count("id", filter=Q(sex="P")),
    )
    per_kec = dict(
        qs.values_list("kelurahan__parent_id")
        .annotate(n=Count("id"))
        .values_list("kelurahan__parent_id", "n")
    )
    kecamatan = Region.objects.filter(parent_id=city_code, level=Level.KECAMATAN).order_by("code")
    by_kec = [(k.code, k.name, per_kec.get(k.code, 0)) for k in kecamatan]
    by_sector = list(
        qs.values_list("occupation__sector")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("occupation__sector", "n")
    )
    return RegistryCounts(
        workers=agg["workers"],
        vulnerable=agg["vulnerable"],
        women=agg["women"],
        by_kecamatan=by_kec,
        by_sector=by_sector,
    )
