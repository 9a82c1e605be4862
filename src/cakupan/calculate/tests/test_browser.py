"""In Debian's Chromium through Playwright: an officer computes a contribution, then a benefit."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Set to a folder to keep a screenshot of each calculator with its result (outside the repo).
SCREENSHOTS = os.environ.get("CAKUPAN_SCREENSHOTS", "")

pytestmark = [pytest.mark.browser]


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_contribution_then_benefit_calculator(page, live_server, malang, make_user) -> None:
    make_user("bpjs_officer", username="rina")
    page.goto(f"{live_server.url}/hitung/iuran/")
    page.fill("#id_username", "rina")
    page.fill("#id_password", "Rahasia-kuat-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/hitung/iuran/")

    page.fill("#id_income", "1.000.000")
    page.fill("#id_month", "2026-11")
    page.select_option("#id_occupation", "ojol")
    assert page.input_value("#id_sector") == "transport"  # the occupation filled the sector
    page.select_option("#id_funding", "csr")
    page.click("#calc-form button[type=submit]")
    # htmx swaps the result in place, the form stays as typed
    total = page.locator("[data-testid=contribution-result] [data-testid=total]")
    total.wait_for()
    assert total.inner_text() == "Rp 8.400"
    assert page.url == f"{live_server.url}/hitung/iuran/"
    assert page.input_value("#id_income") == "1.000.000"
    _shot(page, "contribution.png")

    page.goto(f"{live_server.url}/hitung/manfaat/")
    assert page.locator("[data-jkk]").is_hidden()  # JKM is chosen: no work-accident fields
    page.fill("#id_event_date", "2026-03-15")
    page.fill("#id_contribution_months", "48")
    page.click("#calc-form button[type=submit]")
    result = page.locator("[data-testid=benefit-result]")
    result.wait_for()
    assert result.locator("[data-testid=total]").inner_text() == "Rp 42.000.000"
    assert result.locator("tr[data-code=lump_sum] td.num").inner_text() == "Rp 20.000.000"

    page.fill("#id_children-0-name", "Ani")
    page.fill("#id_children-0-birth_date", "2016-05-01")
    page.select_option("#id_children-0-level", "tk_sd")
    page.fill("#id_children-0-year_in_level", "4")
    page.click("#calc-form button[type=submit]")
    page.locator("[data-testid=child-0]").wait_for()
    schedule = page.locator("[data-testid=child-0] tbody tr")
    assert schedule.first.inner_text().split("\t")[0] == "2025/2026"
    assert schedule.count() == 14  # TK-SD 4..8, SMP, SMA, S1 until she turns 23
    _shot(page, "benefits-jkm.png")

    page.check("input[name=type][value=jkk]")
    assert page.locator("[data-jkk]").is_visible()
    page.fill("#id_income", "1000000")
    page.check("#id_death")
    page.click("#calc-form button[type=submit]")
    page.locator("tr[data-code=death]").wait_for()
    _shot(page, "benefits-jkk.png")

    # a bad row comes back next to its field, through htmx, and the old result is gone
    page.select_option("#id_disability-0-item", "eye_one")
    page.fill("#id_disability-0-function_loss_percent", "150")
    page.uncheck("#id_death")  # a partial disability: no scholarship, so no child either
    page.fill("#id_children-0-name", "")
    page.fill("#id_children-0-birth_date", "")
    page.select_option("#id_children-0-level", "")
    page.fill("#id_children-0-year_in_level", "")
    page.click("#calc-form button[type=submit]")
    page.locator("#err-disability-0-function_loss_percent").wait_for()
    assert page.locator("[data-testid=check-form]").is_visible()
    assert page.locator("[data-testid=benefit-result]").count() == 0
    _shot(page, "benefits-error.png")
    page.fill("#id_disability-0-function_loss_percent", "50")
    page.click("#calc-form button[type=submit]")
    page.locator("tr[data-code^=disability_0]").wait_for()
    assert page.locator("#err-disability-0-function_loss_percent").count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_third_child_is_added_and_listed_with_max_children(
    page, live_server, malang, make_user
) -> None:
    """No JS framework: the add button posts the form through htmx, which swaps only the form."""
    import datetime as dt

    from django.utils import timezone

    make_user("bpjs_officer", username="rina")
    page.goto(f"{live_server.url}/hitung/manfaat/")
    page.fill("#id_username", "rina")
    page.fill("#id_password", "Rahasia-kuat-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/hitung/manfaat/")

    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    page.fill("#id_event_date", tomorrow.isoformat())
    page.click("#calc-form button.primary")
    page.locator("#err-event_date").wait_for()
    assert "setelah hari ini" in page.locator("#err-event_date").inner_text()

    page.fill("#id_event_date", "2026-03-15")
    page.fill("#id_contribution_months", "40")
    for n, (name, born, level, year) in enumerate(
        [("Ani", "2015-01-01", "smp", "1"), ("Budi", "2010-01-01", "sma", "1")]
    ):
        page.fill(f"#id_children-{n}-name", name)
        page.fill(f"#id_children-{n}-birth_date", born)
        page.select_option(f"#id_children-{n}-level", level)
        page.fill(f"#id_children-{n}-year_in_level", year)
    assert page.locator("#id_children-2-name").count() == 0
    page.click("[data-testid=add-child]")
    page.locator("#id_children-2-name").wait_for()
    assert page.input_value("#id_children-0-name") == "Ani"  # what was typed stays
    page.fill("#id_children-2-name", "Citra")
    page.fill("#id_children-2-birth_date", "2018-01-01")
    page.select_option("#id_children-2-level", "tk_sd")
    page.fill("#id_children-2-year_in_level", "3")
    page.click("#calc-form button.primary")
    page.locator("[data-testid=child-2]").wait_for()
    reason = page.locator("[data-testid=child-2] [data-reason=max_children]")
    assert "paling banyak 2 anak" in reason.inner_text()
    assert page.locator("[data-testid=child-0] tbody tr").count() > 0
    assert page.locator("[data-testid=child-2] tbody tr").count() == 0
    _shot(page, "benefits-three-children.png")
