"""The demo claims: each step of a claim present on the demo ledger, and removable."""

from __future__ import annotations

import datetime as dt

import pytest

from cakupan.claims.demo import demo_claims_delete, demo_claims_load
from cakupan.claims.models import Claim, Instalment
from cakupan.contributions.demo import demo_ledger_load
from cakupan.membership.demo import demo_funding_load
from cakupan.registry.demo import demo_load


@pytest.mark.django_db
def test_demo_claims_show_a_death_with_scholarships_a_hold_and_a_refusal() -> None:
    today = dt.date(2026, 10, 20)
    demo_load(workers=3000, seed=5, as_of=dt.date(2026, 1, 1))
    demo_funding_load(seed=5, year=2026)
    demo_ledger_load(seed=5, today=today)
    assert demo_claims_load(today=today).claims == 4
    outcomes = {
        (c.type, c.status, c.entitlements.order_by("-version").first().outcome)
        for c in Claim.objects.all()
    }
    assert outcomes == {
        ("jkk", "submitted", "payable"),
        ("jkk", "verified", "payable"),
        ("jkm", "submitted", "hold"),
        ("jkm", "submitted", "refused"),
    }
    death = Claim.objects.get(type="jkk", death_date__isnull=False)
    assert Instalment.objects.filter(claim=death).values("child").distinct().count() == 2
    demo_claims_delete()
    assert not Claim.objects.exists()
