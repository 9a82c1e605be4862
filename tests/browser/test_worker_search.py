"""In Debian's Chromium through Playwright: log in, search a worker by part of the name, open it."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser]


@pytest.mark.django_db(transaction=True)
def test_login_search_by_part_of_name_and_open_detail(page, live_server, malang, make_user) -> None:
    from cakupan.registry.tests.factories import make_worker

    make_user("bpjs_officer", username="rina")
    target = make_worker(full_name="Moch. Rizki Pratama")
    make_worker(full_name="Dewi Lestari", sex="P")

    page.goto(f"{live_server.url}/pekerja/")
    page.fill("#id_username", "rina")
    page.fill("#id_password", "Rahasia-kuat-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/pekerja/")

    page.fill("#id_q", "rizki prat")
    # htmx swaps the result table in place; wait until the other worker has gone
    page.locator("#results", has_not_text="Dewi Lestari").wait_for()
    assert page.locator("#results tbody tr").count() == 1
    assert "q=" not in page.url  # a NIK typed in the search must not land in the browser history

    page.click("text=Moch. Rizki Pratama")
    page.wait_for_url(f"{live_server.url}/pekerja/{target.pk}/")
    assert page.locator("h1").inner_text() == "Moch. Rizki Pratama"
    assert page.locator("[data-testid=nik]").inner_text() == target.nik
    assert page.locator("text=Ahli waris").first.is_visible()
