"""In Chromium: a death claim from filing to a child's scholarship instalment that can be paid,
by three officers (maker-checker), then the family's printable view and a hospital clerk's first
report of a work accident from the protection check. Screenshots of the three pages go to
$CAKUPAN_SHOTS (a temporary directory otherwise)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser]


def _login(page, url: str, username: str, next_path: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{url}/masuk/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", "Rahasia-kuat-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}{next_path}")


def _open(page, summary: str) -> None:
    page.click(f"summary:has-text('{summary}')")


@pytest.mark.django_db(transaction=True)
def test_a_death_claim_from_filing_to_a_payable_scholarship(
    page, live_server, malang, make_user, tmp_path
) -> None:
    from cakupan.claims.models import Claim, Instalment
    from cakupan.claims.tests.factories import bill_and_pay, csr_ojol

    shots = Path(os.environ.get("CAKUPAN_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    for name in ("andi", "bayu", "citra"):
        make_user("bpjs_officer", username=name)
    make_user("hospital", username="rs_saiful")
    member = csr_ojol("2023-07", name="Ahmad Fauzi")
    bill_and_pay(member, "2023-07", "2026-10")  # 40 paid months
    injured = csr_ojol("2026-09", name="Joko Susilo")
    bill_and_pay(injured, "2026-09", "2026-11")
    url = live_server.url

    # officer A files the claim and adds the family
    _login(page, url, "andi", "/klaim/baru/")
    page.fill("#id_lookup", member.number)
    page.check("input[name=type][value=jkm]")
    page.fill("#id_event_date", "10/11/2026")
    page.fill("#id_place", "Rumah, Lowokwaru")
    page.fill("#id_description", "Meninggal karena serangan jantung")
    page.click("[data-testid=file-form] button[type=submit]")
    page.wait_for_url(f"{url}/klaim/*/")
    claim = Claim.objects.get()
    detail = f"/klaim/{claim.pk}/"
    assert page.locator("[data-testid=claim-number]").inner_text() == claim.number
    assert page.locator("[data-testid=status]").inner_text() == "Diajukan"

    _open(page, "Tambah ahli waris atau anak")
    page.fill("#id_party-full_name", "Siti Aminah")
    page.select_option("#id_party-relation", "spouse")
    page.fill("#id_party-birth_date", "01/02/1990")
    page.fill("#id_party-share_percent", "100")
    page.select_option("#id_party-bank_code", "014")
    page.fill("#id_party-account_number", "0123456789")
    page.fill("#id_party-account_name", "Siti Aminah")
    page.click("[data-testid=party-form] button[type=submit]")
    page.wait_for_url(f"{url}{detail}")
    assert "Siti Aminah ditambahkan" in page.locator(".messages").inner_text()

    _open(page, "Tambah ahli waris atau anak")
    page.fill("#id_party-full_name", "Bima Fauzi")
    page.select_option("#id_party-relation", "child")
    page.fill("#id_party-birth_date", "01/03/2015")
    page.fill("#id_party-share_percent", "0")
    page.select_option("#id_party-level", "tk_sd")
    page.fill("#id_party-year_in_level", "6")
    page.select_option("#id_party-bank_code", "009")
    page.fill("#id_party-account_number", "1234567890")
    page.fill("#id_party-account_name", "Siti Aminah")
    page.click("[data-testid=party-form] button[type=submit]")
    page.wait_for_url(f"{url}{detail}")
    assert page.locator("[data-testid=scholarships]").get_by_text("menerima beasiswa").is_visible()
    # the officer who filed may verify, but is offered no approval
    assert page.locator("[data-testid=approve-form]").count() == 0

    # officer B verifies
    _login(page, url, "bayu", detail)
    page.click("[data-testid=verify-form] button[type=submit]")
    page.wait_for_url(f"{url}{detail}")
    assert page.locator("[data-testid=status]").inner_text() == "Diverifikasi"

    # officer C approves, then records the child's proof of enrolment for this school year
    _login(page, url, "citra", detail)
    page.click("[data-testid=approve-form] button[type=submit]")
    page.wait_for_url(f"{url}{detail}")
    assert page.locator("[data-testid=status]").inner_text() == "Disetujui"
    assert page.locator("[data-testid=total-now]").inner_text() == "Rp 43.500.000"
    row = page.locator("[data-testid=instalment-2026]")
    assert row.locator("[data-testid=instalment-status]").inner_text() == (
        "Menunggu bukti terdaftar di sekolah"
    )
    row.locator("summary").click()
    instalment = Instalment.objects.get(child__full_name="Bima Fauzi", start_year=2026)
    prefix = f"#id_proof{instalment.pk}"
    page.fill(f"{prefix}-school", "SDN Kauman 1 Malang")
    page.fill(f"{prefix}-document", "421.2/115/SD/2026")
    row.locator("button[type=submit]").click()
    page.wait_for_url(f"{url}{detail}")
    row = page.locator("[data-testid=instalment-2026]")
    assert row.locator("[data-testid=instalment-status]").inner_text() == "Dapat dibayar"
    assert "SDN Kauman 1 Malang" in row.inner_text()
    page.screenshot(path=str(shots / "claim-detail.png"), full_page=True)

    page.goto(f"{url}{detail}keluarga/")
    family = page.locator("[data-testid=family-view]")
    assert member.worker.nik not in family.inner_text()
    assert page.locator("[data-testid=audit]").count() == 0
    page.screenshot(path=str(shots / "claim-family.png"), full_page=True)

    # a hospital clerk checks a patient's protection and reports the accident from there
    _login(page, url, "rs_saiful", "/verifikasi/")
    page.fill("#id_nik", injured.worker.nik)
    page.click("main button[type=submit]")
    page.click("[data-testid=report-accident]")
    page.wait_for_url(re.compile(r".*/klaim/laporan-kecelakaan/\?nomor=.*"))
    assert page.input_value("#id_lookup") == injured.number
    page.fill("#id_place", "Jl. Soekarno-Hatta, Lowokwaru")
    page.fill("#id_description", "Terjatuh dari motor saat mengantar penumpang")
    page.fill("#id_injuries", "Patah tulang lengan kiri")
    page.fill("#id_hospital", "RSUD dr. Saiful Anwar")
    page.click("[data-testid=report-form] button[type=submit]")
    done = page.locator("[data-testid=report-done]")
    reported = Claim.objects.get(worker=injured.worker)
    assert page.locator("[data-testid=claim-number]").inner_text() == reported.number
    assert done.locator(f"a[href='/klaim/{reported.pk}/']").count() == 0
    page.screenshot(path=str(shots / "accident-report.png"), full_page=True)
