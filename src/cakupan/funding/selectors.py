"""Reads on funding: the programmes a user may see, and what a programme costs and has committed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, QuerySet, Sum

from cakupan.accounts.models import User
from cakupan.accounts.roles import Role
from cakupan.funding.models import FundingProgramme, Sponsor
from cakupan.months import month_range, month_start
from cakupan.rules import contributions_for_month


def sponsor_scope(*, user: User) -> QuerySet[Sponsor]:
    """A sponsor user sees only its own sponsor; officers see all."""
    if user.role == Role.SPONSOR and not user.is_superuser:
        return (
            Sponsor.objects.filter(pk=user.sponsor_id)
            if user.sponsor_id
            else Sponsor.objects.none()
        )
    return Sponsor.objects.all()


def programme_scope(*, user: User) -> QuerySet[FundingProgramme]:
    return FundingProgramme.objects.filter(sponsor__in=sponsor_scope(user=user)).select_related(
        "sponsor"
    )


def programme_list(*, user: User) -> QuerySet[FundingProgramme]:
    return programme_scope(user=user).annotate(
        members=Count("assignments__membership", distinct=True)
    )


def enrolment_months(programme: FundingProgramme, *, start: dt.date) -> tuple[dt.date, dt.date]:
    """The months a worker enrolled at `start` is funded: from the later of the programme's
    first month and the start month, to the programme's last month."""
    return max(programme.first_month, month_start(start)), programme.last_month


def cost_of(
    *,
    programme: FundingProgramme,
    incomes: Sequence[int] | np.ndarray,
    sectors: Sequence[str] | np.ndarray,
    first_months: Sequence[dt.date],
    last_months: Sequence[dt.date],
) -> np.ndarray:
    """Expected contributions (Rp) of each membership over its funded months, priced by the
    rules engine month by month (the PP 50/2025 discount depends on month, sector and funder)."""
    n = len(incomes)
    total = np.zeros(n, dtype=np.int64)
    if n == 0:
        return total
    firsts = np.array([d.toordinal() for d in first_months])
    lasts = np.array([d.toordinal() for d in last_months])
    incomes = np.asarray(incomes, dtype=np.int64)
    sectors = np.asarray(sectors, dtype=object)
    funding = np.full(n, programme.sponsor.rules_funding, dtype=object)
    jht = np.full(n, "jht" in (programme.programmes or []), dtype=bool)
    for month in month_range(min(first_months), max(last_months)):
        active = (firsts <= month.toordinal()) & (lasts >= month.toordinal())
        if not active.any():
            continue
        result = contributions_for_month(
            month=month,
            income=incomes[active],
            sector=sectors[active],
            funding=funding[active],
            jht=jht[active],
        )
        total[active] += result.total
    return total


@dataclass(frozen=True)
class ProgrammeBudget:
    budget: int
    committed: int
    members: int
    cap: int | None

    @property
    def remaining(self) -> int:
        return self.budget - self.committed


def programme_budget(*, programme: FundingProgramme) -> ProgrammeBudget:
    """What the enrolled cohort is expected to cost over its funded months: the sum of the
    `committed` amounts stored on its funding assignments when they were written (one
    aggregate; nothing is re-priced here).

    A sponsor pays its package: every member is priced at the programme's declared income
    (its bracket), whatever the worker declared; enrolment checks price the same way.
    """
    totals = programme.assignments.aggregate(
        committed=Sum("committed"), members=Count("membership_id", distinct=True)
    )
    return ProgrammeBudget(
        programme.budget, int(totals["committed"] or 0), totals["members"], programme.cohort_cap
    )


def _eligibility_names(eligibility: dict) -> dict[str, dict[str, str]]:
    """code → name for the codes an eligibility rule lists, per list key."""
    from cakupan.regions.models import Region
    from cakupan.registry.models import Occupation
    from cakupan.registry.vocabulary import sector_choices

    names: dict[str, dict[str, str]] = {}
    if codes := eligibility.get("occupations"):
        names["occupations"] = dict(
            Occupation.objects.filter(code__in=codes).values_list("code", "name")
        )
    if eligibility.get("sectors"):
        names["sectors"] = {k: str(v) for k, v in sector_choices()}
    for key in ("kecamatan", "kelurahan"):
        if codes := eligibility.get(key):
            names[key] = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return names


def eligibility_summary(eligibility: dict) -> list[str]:
    """A programme's eligibility in words (Indonesian), one line per condition."""
    names = _eligibility_names(eligibility)
    lines = []
    if codes := eligibility.get("occupations"):
        lines.append("Pekerjaan: " + ", ".join(names["occupations"].get(c, c) for c in codes))
    if codes := eligibility.get("sectors"):
        lines.append("Sektor: " + ", ".join(names["sectors"].get(c, c) for c in codes))
    for key, label in (("kecamatan", "Kecamatan"), ("kelurahan", "Kelurahan")):
        if codes := eligibility.get(key):
            lines.append(f"{label}: " + ", ".join(names[key].get(c, c) for c in codes))
    if eligibility.get("vulnerable_only"):
        lines.append("Hanya pekerja rentan")
    if (low := eligibility.get("min_age")) is not None:
        lines.append(f"Usia minimal {low} tahun")
    if (high := eligibility.get("max_age")) is not None:
        lines.append(f"Usia maksimal {high} tahun")
    return lines


def eligibility_rule_texts(eligibility: dict) -> dict[str, str]:
    """Each rule of a programme as the sentence a refused row is told (Indonesian), by rule key
    (see cakupan.funding.eligibility.RULE_FIELD): "Program ini hanya untuk pekerjaan: …"."""
    names = _eligibility_names(eligibility)

    def listed(key: str) -> str:
        return ", ".join(
            f"{names[key][c]} ({c})"
            if key == "occupations" and c in names[key]
            else names[key].get(c, c)
            for c in eligibility[key]
        )

    texts = {}
    if eligibility.get("occupations"):
        texts["occupations"] = f"Program ini hanya untuk pekerjaan: {listed('occupations')}"
    if eligibility.get("sectors"):
        texts["sectors"] = f"Program ini hanya untuk sektor: {listed('sectors')}"
    if codes := eligibility.get("kecamatan"):
        kec = ", ".join(f"Kec. {names['kecamatan'].get(c, c)}" for c in codes)
        texts["kecamatan"] = f"Program ini hanya untuk kelurahan di {kec}"
    if eligibility.get("kelurahan"):
        texts["kelurahan"] = f"Program ini hanya untuk kelurahan: {listed('kelurahan')}"
    if eligibility.get("vulnerable_only"):
        texts["vulnerable_only"] = (
            "Program ini hanya untuk pekerja rentan (pekerjaan rentan, penyandang disabilitas "
            "atau desil kesejahteraan 1-4)"
        )
    if (low := eligibility.get("min_age")) is not None:
        texts["min_age"] = f"Program ini hanya untuk pekerja berusia minimal {low} tahun"
    if (high := eligibility.get("max_age")) is not None:
        texts["max_age"] = f"Program ini hanya untuk pekerja berusia paling tinggi {high} tahun"
    return texts
