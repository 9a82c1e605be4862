"""The demo ledger: billed and paid like a city, every state present, consistent, removable."""

from __future__ import annotations

import datetime as dt

import pytest

from cakupan.contributions.check import ledger_check
from cakupan.contributions.demo import demo_ledger_delete, demo_ledger_load
from cakupan.contributions.models import Bill, Payment
from cakupan.contributions.selectors import ACTIVE, ARREARS, LAPSED, state_counts
from cakupan.membership.demo import demo_funding_delete, demo_funding_load
from cakupan.membership.models import Membership
from cakupan.registry.demo import demo_load


@pytest.mark.django_db
def test_demo_ledger_shows_every_state_and_passes_the_check() -> None:
    today = dt.date(2026, 10, 20)
    demo_load(workers=3000, seed=5, as_of=dt.date(2026, 1, 1))
    demo_funding_load(seed=5, year=2026)
    result = demo_ledger_load(seed=5, today=today)
    assert result.months == 10
    assert result.bills == Bill.objects.count() > 0
    counts = state_counts(today)
    # city budget pays on time, the hospital a month late, some workers stopped paying
    assert counts[ACTIVE] > counts[ARREARS] > counts[LAPSED] > 0
    assert ledger_check() == []
    demo_ledger_delete()
    assert not Payment.objects.exists() and not Bill.objects.exists()
    demo_funding_delete()
    assert not Membership.objects.exists()
