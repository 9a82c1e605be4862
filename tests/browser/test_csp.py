"""In Chromium, under the real Content-Security-Policy: no page reports a violation, and what
used to be inline script (language switch, heir-remove confirmation) and htmx still work."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = [pytest.mark.browser]

# Runs before any page script: collects every violation the browser reports for the page.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def watched(page):
    """The page, plus a list of console messages about the Content-Security-Policy."""
    console: list[str] = []
    page.on(
        "console",
        lambda m: console.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.add_init_script(LISTEN)
    return page, console


def _no_violation(page, console: list[str], where: str) -> None:
    page.wait_for_load_state("load")
    reported = page.evaluate("window.__csp || []")
    assert not reported and not console, f"{where}: {reported} {console}"


@pytest.mark.django_db(transaction=True)
def test_pages_run_under_the_csp_without_violations(
    watched, live_server, malang, make_user
) -> None:
    from cakupan.registry.services import HeirData, heir_add
    from cakupan.registry.tests.factories import make_worker

    page, console = watched
    make_user("admin", username="adm")
    worker = make_worker(full_name="Moch. Rizki Pratama")
    make_worker(full_name="Dewi Lestari", sex="P")
    heir_add(
        worker=worker,
        data=HeirData(full_name="Anak Pertama", birth_date=dt.date(2015, 1, 2), relation="child"),
    )
    url = live_server.url

    page.goto(f"{url}/masuk/")
    _no_violation(page, console, "login")
    page.fill("#id_username", "adm")
    page.fill("#id_password", "Rahasia-kuat-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    _no_violation(page, console, "dashboard")

    # htmx search swaps the results in place
    page.goto(f"{url}/pekerja/")
    page.fill("#id_q", "rizki")
    page.locator("#results", has_not_text="Dewi Lestari").wait_for()
    assert page.locator("#results tbody tr").count() == 1
    _no_violation(page, console, "worker list after an htmx search")

    # heir removal asks first: dismissing keeps the heir, accepting removes it
    page.goto(f"{url}/pekerja/{worker.pk}/")
    _no_violation(page, console, "worker detail")
    questions: list[str] = []
    page.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
    page.click("button[data-confirm]")
    page.wait_for_timeout(300)
    assert questions == ["Hapus ahli waris ini?"]
    assert worker.heirs.count() == 1
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.click("button[data-confirm]")
    assert worker.heirs.count() == 0

    # the language switch sends its form on change
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("nav.main-nav").inner_text().startswith("Dashboard")
    _no_violation(page, console, "after the language switch")

    for path in (
        "/nik/",
        "/verifikasi/",
        "/token/",
        "/program/",
        "/hitung/iuran/",
        "/hitung/manfaat/",
        "/pekerja/99999/",
    ):
        page.goto(url + path)
        _no_violation(page, console, path)

    page.goto(f"{url}/admin/")
    page.locator("#content").wait_for()
    _no_violation(page, console, "admin")
    page.goto(f"{url}/admin/registry/worker/")
    page.locator("#result_list").wait_for()
    _no_violation(page, console, "admin worker list")

    page.goto(f"{url}/api/docs")
    page.locator(".swagger-ui .opblock").first.wait_for()
    _no_violation(page, console, "API docs")
