"""Demo funding: programmes as in Kota Malang, one payer per person-month, cap respected."""

from __future__ import annotations

import pytest
from django.db.models import Count

from cakupan.funding.models import FundingProgramme, Sponsor
from cakupan.funding.selectors import programme_budget
from cakupan.membership.demo import demo_funding_delete, demo_funding_load
from cakupan.membership.models import FundingAssignment, Membership
from cakupan.registry.demo import demo_load


@pytest.mark.django_db
def test_demo_funding_is_sound_and_replaceable() -> None:
    demo_load(workers=3000, seed=5)
    result = demo_funding_load(seed=5, year=2026)
    assert result.memberships == Membership.objects.count() > 300
    assert Sponsor.objects.filter(is_demo=True).count() == 3
    hospital = FundingProgramme.objects.get(cohort_cap=103)
    members = programme_budget(programme=hospital).members
    assert 0 < members <= 103
    # every worker's funded months never overlap: at most one assignment per membership here
    assert (
        not FundingAssignment.objects.values("membership")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .exists()
    )
    city = FundingProgramme.objects.get(sponsor__type="apbd")
    budget = programme_budget(programme=city)
    assert budget.committed == budget.members * 16_800 * 12 <= budget.budget
    demo_funding_delete()
    assert not Membership.objects.exists() and not Sponsor.objects.exists()
    demo_load(workers=100, seed=6, replace=True)
