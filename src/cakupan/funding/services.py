"""Writes on sponsors and funding programmes."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction

from cakupan.accounts.models import User
from cakupan.funding.eligibility import validate_eligibility
from cakupan.funding.models import FundingProgramme, Sponsor, SponsorType
from cakupan.funding.months import month_start
from cakupan.rules import RuleInputError, contribution


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
    if budget < 0:
        errors["budget"] = ["Anggaran tidak boleh negatif."]
    if cohort_cap is not None and cohort_cap < 1:
        errors["cohort_cap"] = ["Batas peserta minimal 1 (kosongkan bila tanpa batas)."]
    if problems := validate_eligibility(eligibility):
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
