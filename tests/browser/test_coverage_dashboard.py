"""In Chromium, as a BPJS officer: the coverage dashboard draws its Plotly charts under the
Content-Security-Policy with no console error, a kecamatan drills down to its kelurahan and
then to the list of workers, and the list downloads as CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser]

LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.mark.django_db(transaction=True)
def test_officer_reads_the_dashboard_and_drills_down(
    page, live_server, malang, make_user, run_worker
) -> None:
    from cakupan.contributions.tests.factories import M
    from cakupan.coverage.snapshots import snapshot_build
    from cakupan.coverage.tests.conftest import TODAY, build_city

    build_city()
    snapshot_build(M("2026-10"), today=TODAY)
    snapshot_build(M("2026-11"), today=TODAY)
    make_user("bpjs_officer", username="petugas")
    errors: list[str] = []
    page.on(
        "console",
        # (the site has no favicon: the browser's own request for it is not the page's error)
        lambda m: (
            errors.append(f"{m.text} {m.location.get('url')}")
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    page.add_init_script(LISTEN)
    url = live_server.url

    page.goto(f"{url}/masuk/")
    page.fill("#id_username", "petugas")
    page.fill("#id_password", "Rahasia-kuat-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    page.click("nav.main-nav >> text=Cakupan")
    page.wait_for_url(f"{url}/cakupan/")

    # every chart drawn by Plotly, with nothing refused by the CSP and no console error
    page.locator("#chart-kecamatan .js-plotly-plot").wait_for()
    page.locator("[data-chart].chart-ready").first.wait_for()
    page.wait_for_function(
        "document.querySelectorAll('[data-chart]').length =="
        " document.querySelectorAll('[data-chart].chart-ready').length"
    )
    assert page.locator(".js-plotly-plot").count() >= 7
    assert page.locator("[data-testid=headline-ucj]").inner_text() in ("20,00%", "20.00%")
    # the mode bar's image download, labelled in Indonesian
    page.hover("#chart-kecamatan .js-plotly-plot")
    button = page.locator("#chart-kecamatan .modebar-btn[data-title='Unduh grafik sebagai PNG']")
    assert button.count() == 1
    assert page.evaluate("window.__csp") == [] and errors == [], (
        page.evaluate("window.__csp"),
        errors,
        missing,
    )

    # the chart's figures as CSV
    with page.expect_download() as download:
        page.click("[data-testid=csv-kecamatan]")
    assert download.value.suggested_filename == "cakupan-kecamatan.csv"

    # Blimbing (the table's link behind its bar) → its kelurahan → their workers
    page.click("#chart-kecamatan details table >> text=Blimbing")
    page.wait_for_url("**/cakupan/wilayah/35.73.01/**")
    page.locator("#chart-kelurahan .js-plotly-plot").wait_for()
    page.click("#chart-kelurahan details table a")
    page.wait_for_url("**/cakupan/pekerja/**")
    rows = page.locator("[data-testid=worker-list] tbody tr")
    assert sorted(rows.all_inner_texts())[0].startswith("Citra")
    assert rows.count() == 2
    with page.expect_download() as download:
        page.click("[data-testid=export-csv]")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert "Citra" in text and "Dedi" in text
    assert page.evaluate("window.__csp") == [] and errors == [], (
        page.evaluate("window.__csp"),
        errors,
        missing,
    )

    # next month's lapse risk: not counted yet; "count again" queues it for the task worker,
    # and the page shows the count when the worker has made it (htmx, every few seconds)
    page.goto(f"{url}/cakupan/")
    page.click("nav.actions >> text=Risiko putus bulan depan")
    page.locator("[data-testid=lapse-none]").wait_for()
    page.click("[data-testid=lapse-recount]")
    page.locator("[data-testid=lapse-pending]").wait_for()
    run_worker()
    page.locator("[data-testid=lapse-total]").wait_for(timeout=15_000)
    assert page.locator("[data-testid=lapse-pending]").count() == 0
    assert page.locator("[data-testid=lapse-recount]").count() == 1
    assert page.evaluate("window.__csp") == [] and errors == [], (
        page.evaluate("window.__csp"),
        errors,
        missing,
    )
