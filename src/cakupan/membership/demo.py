"""Demo funding: the sponsors, programmes and memberships of a synthetic Kota Malang.

Modelled on the city's public figures (docs/regulations.md §1): the city budget (APBD) funds its
incentive-receiving workers (RT/RW heads, Linmas, Quran teachers, cadres), the tobacco-excise
share (DBHCHT) funds vulnerable ojol drivers, farmers and labourers, a hospital's CSR funds
103 ojol drivers, and some workers pay for themselves. Set-based, deterministic by seed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db import transaction

from cakupan.bulk import insert_rows
from cakupan.funding.models import FundingProgramme, Sponsor
from cakupan.funding.selectors import cost_of
from cakupan.funding.services import programme_create, sponsor_create
from cakupan.membership.models import FundingAssignment, Membership
from cakupan.membership.services import membership_number
from cakupan.registry.models import Occupation, Worker

COMMUNITY = ["ketua_rt_rw", "linmas", "guru_ngaji", "kader", "modin"]
DBHCHT = ["ojol", "opang", "petani", "buruh_tani", "tukang_bangunan", "pemulung", "buruh_harian"]
MONTHLY = 16_800  # Rp, the lowest bracket without discount (PP 44/2015, PP 82/2019)


@dataclass(frozen=True)
class DemoFunding:
    sponsors: int
    programmes: int
    memberships: int


def demo_funding_delete() -> None:
    """Remove the demo memberships and the demo sponsors with their programmes (the users who
    acted for a demo sponsor stay, unlinked)."""
    from cakupan.accounts.models import User

    User.objects.filter(sponsor__is_demo=True).update(sponsor=None)
    FundingAssignment.objects.filter(membership__worker__source=Worker.Source.DEMO).delete()
    Membership.objects.filter(worker__source=Worker.Source.DEMO).delete()
    demo_programmes = FundingProgramme.objects.filter(sponsor__is_demo=True)
    FundingAssignment.objects.filter(programme__in=demo_programmes).delete()
    demo_programmes.delete()
    Sponsor.objects.filter(is_demo=True).delete()


@transaction.atomic
def demo_funding_load(*, seed: int, year: int) -> DemoFunding:
    rng = np.random.default_rng(seed + 1)
    rows = list(
        Worker.objects.filter(source=Worker.Source.DEMO).values_list("pk", "occupation__code")
    )
    if not rows:
        return DemoFunding(0, 0, 0)
    ids = np.array([r[0] for r in rows])
    occupation = np.array([r[1] for r in rows])
    jan, dec = dt.date(year, 1, 1), dt.date(year, 12, 1)

    community = ids[np.isin(occupation, COMMUNITY)]
    vulnerable = ids[np.isin(occupation, DBHCHT)]
    vulnerable = vulnerable[rng.random(len(vulnerable)) < 0.35]
    spare_ojol = np.setdiff1d(ids[occupation == "ojol"], vulnerable)
    csr = rng.permutation(spare_ojol)[:103]
    taken = np.concatenate([community, vulnerable, csr])
    rest = np.setdiff1d(ids, taken)
    self_paid = rest[rng.random(len(rest)) < 0.08]

    def sponsor(type_: str, name: str) -> Sponsor:
        s = sponsor_create(type=type_, name=name)
        Sponsor.objects.filter(pk=s.pk).update(is_demo=True)
        return s

    city = sponsor("apbd", "Pemerintah Kota Malang (demo)")
    excise = sponsor("dbhcht", "Pemkot Malang — DBHCHT (demo)")
    hospital = sponsor("csr", "RS Hermina Malang (demo)")
    plans = [
        (
            programme_create(
                sponsor=city,
                name=f"Insentif RT/RW, Linmas, guru ngaji {year}",
                fiscal_year=year,
                first_month=jan,
                last_month=dec,
                budget=int(len(community) * MONTHLY * 12 * 1.1),
                eligibility={"occupations": COMMUNITY},
            ),
            community,
            jan,
            dec,
        ),
        (
            programme_create(
                sponsor=excise,
                name=f"Pekerja rentan DBHCHT {year}",
                fiscal_year=year,
                first_month=jan,
                last_month=dec,
                budget=int(len(vulnerable) * MONTHLY * 12 * 1.1),
                eligibility={"occupations": DBHCHT},
            ),
            vulnerable,
            jan,
            dec,
        ),
        (
            programme_create(
                sponsor=hospital,
                name="Ojol terlindungi (CSR)",
                fiscal_year=year,
                first_month=dt.date(year, 6, 1),
                last_month=dt.date(year + 1, 5, 1),
                budget=103 * MONTHLY * 12,
                cohort_cap=103,
                eligibility={"occupations": ["ojol"]},
            ),
            csr,
            dt.date(year, 6, 1),
            dt.date(year + 1, 5, 1),
        ),
    ]
    members = np.concatenate([taken, self_paid]).tolist()
    starts = {**{int(w): jan for w in taken}, **{int(w): dt.date(year, 3, 1) for w in self_paid}}
    for w in csr:
        starts[int(w)] = dt.date(year, 6, 1)
    insert_rows(
        Membership,
        {
            "worker_id": members,
            "number": [membership_number(w) for w in members],
            "start_month": [starts[w] for w in members],
        },
        {
            "category": Membership.Category.BPU,
            "programmes": ["jkk", "jkm"],
            "declared_income": 1_000_000,
            "bracket": 1,
        },
    )
    membership_of = dict(
        Membership.objects.filter(worker_id__in=members).values_list("worker_id", "pk")
    )
    sector_of = dict(Occupation.objects.values_list("code", "sector"))
    occupation_of = dict(zip(ids.tolist(), occupation.tolist(), strict=True))
    for programme, workers, first, last in plans:
        # what each assignment commits the programme to, priced as enrolment prices it
        committed = cost_of(
            programme=programme,
            incomes=[programme.declared_income] * len(workers),
            sectors=[sector_of[occupation_of[int(w)]] for w in workers],
            first_months=[first] * len(workers),
            last_months=[last] * len(workers),
        )
        insert_rows(
            FundingAssignment,
            {
                "membership_id": [membership_of[int(w)] for w in workers],
                "committed": [int(c) for c in committed],
            },
            {"programme": programme, "first_month": first, "last_month": last},
        )
    insert_rows(
        FundingAssignment,
        {"membership_id": [membership_of[int(w)] for w in self_paid]},
        {"programme": None, "first_month": dt.date(year, 3, 1), "last_month": None},
    )
    return DemoFunding(sponsors=3, programmes=len(plans), memberships=len(members))
