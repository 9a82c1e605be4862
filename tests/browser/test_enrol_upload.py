"""In Chromium: upload a small list with mistakes, watch it checked in the background, see the
preview with counts and suggestions, and download the error report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser]

LIST = (
    "nik,nama,tanggal_lahir,jenis_kelamin,kelurahan,pekerjaan,no_hp,penghasilan\n"
    "3573055203900001,Siti Aminah,12-03-1990,P,Lowokwaru,ojol,081234567890,\n"
    "3573051506880002,Budi Santoso,15-06-1988,L,lowok waru,ojek online,,\n"
    "3573011708790003,Agus Salim,17-08-1979,L,Lowokwarru,ojol,,\n"
)


@pytest.mark.django_db(transaction=True)
def test_upload_preview_and_report(
    page, live_server, malang, make_user, tmp_path, run_worker
) -> None:
    from cakupan.funding.services import programme_create, sponsor_create

    make_user("city_officer", username="sari")
    year = dt.date.today().year
    programme = programme_create(
        sponsor=sponsor_create(type="csr", name="RS Hermina"),
        name="Ojol sehat",
        fiscal_year=year,
        first_month=dt.date(year, 1, 1),
        last_month=dt.date(year + 1, 12, 1),
        budget=50_000_000,
    )
    upload = tmp_path / "daftar.csv"
    upload.write_text(LIST, encoding="utf-8")

    page.goto(f"{live_server.url}/program/{programme.pk}/")
    page.fill("#id_username", "sari")
    page.fill("#id_password", "Rahasia-kuat-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/program/{programme.pk}/")

    page.set_input_files("input[type=file]", str(upload))
    page.click("text=Unggah dan periksa")
    page.wait_for_url("**/pendaftaran/impor/*/")
    run_worker()  # the background worker takes the job
    # the page polls every second and swaps in the preview
    page.locator("[data-testid=batch-status]", has_text="menunggu konfirmasi").wait_for()
    assert page.locator("[data-testid=count-new]").inner_text() == "2"
    assert page.locator("[data-testid=count-rejected]").inner_text() == "1"
    assert page.locator("text=Lowokwaru (35.73.05.1011)").first.is_visible()

    with page.expect_download() as download:
        page.click("[data-testid=report-link]")
    report = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert report.splitlines()[1].startswith("4,Kelurahan,Ditolak,unknown_kelurahan")
