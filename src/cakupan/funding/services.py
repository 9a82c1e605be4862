"""Writes on sponsors and funding programmes."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from cakupan.accounts.models import User
from cakupan.funding.eligibility import LISTS, validate_eligibility
from cakupan.funding.models import FundingProgramme, Sponsor, SponsorType
from cakupan.months import add_months, fmt_month, month_start, months_between
from cakupan.regions.models import Level, Region
from cakupan.registry.models import Occupation
from cakupan.registry.vocabulary import sector_codes
from cakupan.rules import RuleInputError, contribution

MAX_MONTHS = 60
MAX_COHORT_CAP = 10**9  # the form's bound; a PostgreSQL integer column ends at 2**31 - 1


class FundingInvalid(Exception):
    """Field errors in Indonesian; nothing was written."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


@transaction.atomic
def sponsor_create(
    *,
    type: str,
    name: str,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    notes: str = "",
) -> Sponsor:
    errors: dict[str, list[str]] = {}
    name = " ".join(name.split())
    if type not in SponsorType.values:
        errors["type"] = [
            f"Jenis pemberi dana '{type}' tidak dikenal; pilih: {', '.join(SponsorType.values)}."
        ]
    if not name:
        errors["name"] = ["Nama pemberi dana wajib diisi."]
    elif Sponsor.objects.filter(name__iexact=name).exists():
        errors["name"] = [f"Pemberi dana '{name}' sudah ada."]
    if errors:
        raise FundingInvalid(errors)
    return Sponsor.objects.create(
        type=type,
        name=name,
        contact_name=contact_name,
        contact_phone=contact_phone,
        contact_email=contact_email,
        notes=notes,
    )


@transaction.atomic
def programme_create(
    *,
    sponsor: Sponsor,
    name: str,
    fiscal_year: int,
    first_month: dt.date,
    last_month: dt.date,
    budget: int,
    programmes: list[str] | None = None,
    declared_income: int = 1_000_000,
    eligibility: dict | None = None,
    cohort_cap: int | None = None,
    created_by: User | None = None,
) -> FundingProgramme:
    """Create a programme; the package is priced by the rules engine to check it is sound."""
    errors: dict[str, list[str]] = {}
    programmes = sorted(set(programmes or ["jkk", "jkm"]))
    eligibility = eligibility or {}
    first_month, last_month = month_start(first_month), month_start(last_month)
    if not " ".join(name.split()):
        errors["name"] = ["Nama program wajib diisi."]
    if last_month < first_month:
        errors["last_month"] = ["Bulan terakhir harus sama dengan atau sesudah bulan pertama."]
    elif (months := months_between(first_month, last_month)) > MAX_MONTHS:
        errors["last_month"] = [
            f"Program paling lama {MAX_MONTHS} bulan; {fmt_month(first_month)} sampai "
            f"{fmt_month(last_month)} adalah {months} bulan. Pilih bulan terakhir paling lambat "
            f"{fmt_month(add_months(first_month, MAX_MONTHS - 1))}."
        ]
    if budget < 0:
        errors["budget"] = ["Anggaran tidak boleh negatif."]
    if cohort_cap is not None and cohort_cap < 1:
        errors["cohort_cap"] = ["Batas peserta minimal 1 (kosongkan bila tanpa batas)."]
    elif cohort_cap is not None and cohort_cap > MAX_COHORT_CAP:
        errors["cohort_cap"] = [
            "Batas peserta paling banyak 1.000.000.000 (kosongkan bila tanpa batas)."
        ]
    if problems := validate_eligibility(eligibility, known=_known_codes(eligibility)):
        errors["eligibility"] = problems
    unknown = [p for p in programmes if p not in {"jkk", "jkm", "jht"}]
    if unknown:
        errors["programmes"] = [
            f"Program {', '.join(unknown)} tidak terbuka untuk BPU; pilih dari jkk, jkm, jht."
        ]
    elif not {"jkk", "jkm"} <= set(programmes):
        errors["programmes"] = ["JKK dan JKM wajib untuk peserta BPU."]
    if not errors:
        try:
            contribution(
                category="bpu",
                income=declared_income,
                month=first_month,
                programmes=programmes,
                funding=sponsor.rules_funding,
            )
        except RuleInputError as e:
            errors.setdefault(_RULE_FIELDS.get(e.field, "declared_income"), []).append(e.message)
    if errors:
        raise FundingInvalid(errors)
    try:
        with transaction.atomic():
            return FundingProgramme.objects.create(
                sponsor=sponsor,
                name=" ".join(name.split()),
                fiscal_year=fiscal_year,
                first_month=first_month,
                last_month=last_month,
                budget=budget,
                programmes=programmes,
                declared_income=declared_income,
                eligibility=eligibility,
                cohort_cap=cohort_cap,
                created_by=created_by,
            )
    except IntegrityError:
        raise FundingInvalid(
            {"name": [f"Program '{name}' tahun {fiscal_year} sudah ada untuk pemberi dana ini."]}
        ) from None


_RULE_FIELDS = {"income": "declared_income", "month": "first_month"}


def _known_codes(eligibility: dict) -> dict[str, set[str]]:
    """Of the codes an eligibility rule names, those in the catalogues (active occupations,
    sectors, kecamatan and kelurahan regions)."""
    asked = {
        key: [c for c in eligibility[key] if isinstance(c, str)]
        for key in LISTS
        if isinstance(eligibility.get(key), list)
    }
    known: dict[str, set[str]] = {}
    if "occupations" in asked:
        known["occupations"] = set(
            Occupation.objects.filter(active=True, code__in=asked["occupations"]).values_list(
                "code", flat=True
            )
        )
    if "sectors" in asked:
        known["sectors"] = set(sector_codes())
    for key, level in (("kecamatan", Level.KECAMATAN), ("kelurahan", Level.VILLAGE)):
        if key in asked:
            known[key] = set(
                Region.objects.filter(level=level, code__in=asked[key]).values_list(
                    "code", flat=True
                )
            )
    return known
