"""In Chromium, as a sponsor's clerk: upload the hospital's messy list of drivers, map the
misspelt occupations with the value-mapping selects, see the save of the whole list disabled
with its reason beside it while refused rows remain, save the valid rows only; then upload
another list and discard it at the preview."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser]
LIST = Path(__file__).parent.parent.parent / "src/cakupan/membership/tests/data/daftar_rs_ojol.csv"
RAW = re.compile(r"not_16_digits|unknown_occupation|not_eligible|--partial|--map|cakupan enrol")


@pytest.mark.django_db(transaction=True)
def test_a_sponsor_maps_values_saves_valid_rows_and_discards(
    page, live_server, malang, make_user, tmp_path, run_worker
) -> None:
    from cakupan.funding.services import programme_create, sponsor_create
    from cakupan.membership.models import ImportBatch
    from cakupan.registry.models import Worker

    year = dt.date.today().year
    programme = programme_create(
        sponsor=sponsor_create(type="csr", name="RS Hermina"),
        name="Ojol sehat",
        fiscal_year=year,
        first_month=dt.date(year, 1, 1),
        last_month=dt.date(year + 1, 12, 1),
        budget=100_000_000,
        eligibility={"occupations": ["ojol", "kurir"]},
    )
    clerk = make_user("sponsor", username="csr_hermina")
    clerk.sponsor = programme.sponsor
    clerk.save()

    page.goto(f"{live_server.url}/program/{programme.pk}/")
    page.fill("#id_username", "csr_hermina")
    page.fill("#id_password", "Rahasia-kuat-2026")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/program/{programme.pk}/")

    page.set_input_files("input[type=file]", str(LIST))
    page.click("text=Unggah dan periksa")
    page.wait_for_url("**/pendaftaran/impor/*/")
    run_worker()
    page.locator("[data-testid=batch-status]", has_text="menunggu konfirmasi").wait_for()
    assert page.locator("[data-testid=count-new]").inner_text() == "77"
    assert page.locator("[data-testid=count-not-eligible]").inner_text() == "3"
    # the whole list cannot be saved, and the page says why beside the button
    assert page.locator("[data-testid=save-all]").is_disabled()
    assert (
        "26 baris tidak dapat disimpan" in page.locator("[data-testid=save-all-why]").inner_text()
    )
    assert not RAW.search(page.locator("main").inner_text())

    # each misspelt occupation: its select holds the suggestion; the clerk confirms each
    for value, meaning in (
        ("Mitra Gojke", "ojol"),
        ("Driver Grap", "ojol"),
        ("Kurir Shoppe", "kurir"),
    ):
        select = page.locator(f'select[data-value="{value}"]')
        assert select.input_value() == meaning
        select.select_option(meaning)
    page.click("[data-testid=apply-values]")
    page.wait_for_url("**/pendaftaran/impor/*/")
    run_worker()
    page.locator("[data-testid=batch-status]", has_text="menunggu konfirmasi").wait_for()
    assert page.locator("[data-testid=count-new]").inner_text() == "83"
    assert page.locator("[data-testid=save-all]").is_disabled()  # 20 rows still refused
    page.click("text=Simpan baris yang sah saja (83 baris)")
    page.wait_for_url("**/pendaftaran/impor/*/")
    run_worker()
    page.locator("[data-testid=batch-status]", has_text="Tersimpan").wait_for()
    assert Worker.objects.count() == 83

    # a second list, discarded at the preview
    small = tmp_path / "daftar_kedua.csv"
    small.write_text(
        LIST.read_text(encoding="utf-8-sig").splitlines()[0]
        + "\n"
        + "\n".join(LIST.read_text(encoding="utf-8-sig").splitlines()[1:4])
        + "\n",
        encoding="utf-8",
    )
    page.goto(f"{live_server.url}/program/{programme.pk}/")
    page.set_input_files("input[type=file]", str(small))
    page.click("text=Unggah dan periksa")
    page.wait_for_url("**/pendaftaran/impor/*/")
    run_worker()
    page.locator("[data-testid=batch-status]", has_text="menunggu konfirmasi").wait_for()
    page.click("[data-testid=discard]")
    page.locator("[data-testid=batch-status]", has_text="Dibuang").wait_for()
    assert page.locator("[data-testid=save-all]").count() == 0
    second = ImportBatch.objects.get(original_name="daftar_kedua.csv")
    assert second.status == ImportBatch.Status.DISCARDED and not second.file
    assert Worker.objects.count() == 83
