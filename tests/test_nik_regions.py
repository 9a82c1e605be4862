"""A NIK whose province or regency/city does not exist is refused in every channel before the
national list is imported; a kecamatan not yet loaded stays a warning (issue 8)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from django.test import Client
from typer.testing import CliRunner

from cakupan.cli import app
from cakupan.membership.imports import enrol_import
from cakupan.membership.tests.test_imports import programme, write
from cakupan.registry.models import Worker
from cakupan.registry.nik import make_nik
from cakupan.registry.selectors import nik_check

pytestmark = pytest.mark.usefixtures("malang")

BORN = dt.date(1990, 3, 12)
PROVINCE_99 = make_nik(kecamatan_code="99.01.01", birth_date=BORN, sex="L", serial=1)
REGENCY_35_99 = make_nik(kecamatan_code="35.99.01", birth_date=BORN, sex="L", serial=1)
# Jakarta Pusat exists (built in); its kecamatan are not loaded until the national list is
JAKARTA = make_nik(kecamatan_code="31.71.01", birth_date=BORN, sex="L", serial=1)


def _codes(nik: str) -> set[str]:
    return {p.code for p in nik_check(nik).problems}


def test_the_validator_refuses_a_province_or_regency_that_does_not_exist() -> None:
    assert "unknown_province" in _codes(PROVINCE_99) and not nik_check(PROVINCE_99).valid
    assert "unknown_regency" in _codes(REGENCY_35_99) and not nik_check(REGENCY_35_99).valid
    jakarta = nik_check(JAKARTA)
    assert jakarta.valid and {p.code for p in jakarta.problems} == {"region_not_loaded"}
    # the message names the digits to check, and no command
    (problem,) = nik_check(PROVINCE_99).errors
    assert "99" in problem.message and "cakupan" not in problem.message


def _officer(make_user) -> Client:
    client = Client()
    client.force_login(make_user("bpjs_officer"))
    return client


def test_nik_check_page_and_api(make_user) -> None:
    client = _officer(make_user)
    page = client.post("/nik/", {"niks": PROVINCE_99}).content.decode()
    assert "Kode provinsi 99" in page
    # the machine code is an attribute for scripts, never text a clerk reads
    assert 'data-code="unknown_province"' in page
    assert "unknown_province" not in page.replace('data-code="unknown_province"', "")
    api = client.post(
        "/api/v1/nik/check", {"niks": [PROVINCE_99, JAKARTA]}, content_type="application/json"
    ).json()
    assert [r["valid"] for r in api] == [False, True]
    assert api[0]["problems"][0]["code"] == "unknown_province"


def test_worker_form_and_api_refuse_it(make_user) -> None:
    client = _officer(make_user)
    form = {
        "nik": PROVINCE_99,
        "full_name": "Budi Santoso",
        "birth_date": "1990-03-12",
        "sex": "L",
        "kelurahan": "35.73.05.1011",
        "occupation": "ojol",
    }
    page = client.post("/pekerja/baru/", form)
    assert "Kode provinsi 99" in page.content.decode()
    api = client.post("/api/v1/workers", {**form, "nik": REGENCY_35_99}, "application/json")
    assert api.status_code == 422 and "kabupaten/kota 35.99" in str(api.json())
    assert not Worker.objects.exists()


def test_an_import_refuses_the_row(tmp_path: Path) -> None:
    line = f"{PROVINCE_99},Budi Santoso,12-03-1990,L,Lowokwaru,ojol,,\n"
    outcome = enrol_import(path=write(tmp_path, [line]), programme=programme(), partial=True)
    assert outcome.counts["rejected"] == 1
    assert outcome.problems["code"].to_list() == ["unknown_province"]


def test_the_cli_refuses_it() -> None:
    result = CliRunner().invoke(app, ["nik", "check", PROVINCE_99, "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)[0]["problems"][0]["code"] == "unknown_province"
