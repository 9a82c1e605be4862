"""In Chromium, as a city officer: open the budget planner, run a forward plan, save it as a
scenario, and find it in the list of scenarios."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser]


@pytest.mark.django_db(transaction=True)
def test_plan_a_budget_and_save_the_scenario(page, live_server, malang, make_user) -> None:
    from cakupan.coverage.models import Scenario
    from cakupan.registry.tests.factories import make_worker

    for name, decile in (("Ani", 3), ("Bayu", 1), ("Citra", None)):
        make_worker(full_name=name, welfare_decile=decile, occupation="petani")
    make_user("city_officer", username="disnaker")

    page.goto(f"{live_server.url}/cakupan/rencana/")
    page.fill("#id_username", "disnaker")
    page.fill("#id_password", "Rahasia-kuat-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/cakupan/rencana/")

    form = page.locator("#plan-forward")
    form.locator("#id_budget").fill("110000")  # two workers of 3 × Rp 16,800 = 50,400
    form.locator("#id_first_month").fill("2027-01")
    form.locator("#id_months").fill("3")
    form.locator("#id_funder").select_option("apbd")
    form.locator("#id_priority").select_option("vulnerability")
    form.locator("button[type=submit]").click()
    result = page.locator("#plan-result")
    result.wait_for()
    chosen = result.locator("#chosen tbody tr")
    assert chosen.count() == 2
    assert "Bayu" in chosen.nth(0).inner_text() and "Ani" in chosen.nth(1).inner_text()

    result.locator("#id_name").fill("APBD petani 2027")
    result.locator("form[method=post] button[type=submit]").click()
    page.wait_for_url("**/cakupan/rencana/skenario/*/")
    assert "APBD petani 2027" in page.locator("h1").inner_text()
    assert Scenario.objects.get().chosen == 2

    page.goto(f"{live_server.url}/cakupan/rencana/skenario/")
    row = page.locator("#scenarios tbody tr", has_text="APBD petani 2027")
    assert row.count() == 1
    assert "100.800" in row.inner_text() or "100,800" in row.inner_text()
