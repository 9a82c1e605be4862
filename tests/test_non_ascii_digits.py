"""Digits of other scripts at every entry point: read as ASCII, stored as ASCII, never a crash.

A NIK typed in full-width digits (３５７３…) used to be accepted as valid, stored as a second
worker beside the ASCII one, missed by search, and from then on every import failed with a
traceback. These tests type such digits into the web form, the API, the heir form, search, the
NIK check (page, API, command line), the hospital's verification page and the calculators.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from typer.testing import CliRunner

from cakupan.cli import app
from cakupan.registry.models import Heir, Worker
from cakupan.registry.services import WorkerData, WorkerInvalid, worker_create
from cakupan.registry.tests.factories import make_worker

pytestmark = pytest.mark.usefixtures("malang")

NIK = "3573054512900001"  # a woman born 5 December 1990 in Lowokwaru


def full_width(text: str) -> str:
    return text.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})


def arabic_indic(text: str) -> str:
    return text.translate({ord(d): 0x0660 + int(d) for d in "0123456789"})


FORM = {
    "full_name": "Sri Wahyuni",
    "birth_date": "1990-12-05",
    "sex": "P",
    "kelurahan": "35.73.05.1011",
    "occupation": "pkl",
}


def test_the_web_form_stores_a_full_width_nik_phone_and_decile_as_ascii(officer) -> None:
    r = officer.post(
        "/pekerja/baru/",
        {
            **FORM,
            "nik": full_width(NIK),
            "phone": full_width("0812 3456 7890"),
            "welfare_decile": full_width("3"),
            "birth_date": full_width("1990-12-05"),
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    worker = Worker.objects.get()
    assert (worker.nik, worker.phone, worker.welfare_decile, worker.birth_date) == (
        NIK,
        "081234567890",
        3,
        dt.date(1990, 12, 5),
    )
    # the same person typed in ASCII is the same NIK: refused, linking to the worker
    body = officer.post("/pekerja/baru/", {**FORM, "nik": NIK}).content.decode()
    assert "sudah terdaftar" in body and f'href="/pekerja/{worker.pk}/"' in body
    assert Worker.objects.count() == 1


def test_the_api_stores_ascii_and_refuses_the_ascii_twin(api_client) -> None:
    officer = api_client("bpjs_officer")
    r = officer.post("/api/v1/workers", {**FORM, "nik": full_width(NIK)}, "application/json")
    assert r.status_code == 201, r.content
    assert r.json()["worker"]["nik"] == NIK
    r = officer.post("/api/v1/workers", {**FORM, "nik": NIK}, "application/json")
    assert r.status_code == 422 and "sudah terdaftar" in r.json()["detail"][0]["msg"]
    # and the other way round, with Arabic-Indic digits in a patch
    other = make_worker()
    r = officer.patch(f"/api/v1/workers/{other.pk}", {"nik": arabic_indic(NIK)}, "application/json")
    assert r.status_code == 422 and r.json()["existing"].endswith(
        f"/{Worker.objects.get(nik=NIK).pk}"
    )
    assert list(Worker.objects.order_by("pk").values_list("nik", flat=True)) == [NIK, other.nik]


def test_the_service_normalises_whatever_the_caller_passes() -> None:
    data = WorkerData(
        nik=full_width(NIK),
        full_name="Sri",
        birth_date=dt.date(1990, 12, 5),
        sex="P",
        kelurahan=full_width("35.73.05.1011"),
        occupation="pkl",
        phone="＋６２ ８１２－３４５６－７８９０",
        welfare_decile=full_width("4"),
    )
    worker = worker_create(data=data)
    assert (worker.nik, worker.kelurahan_id, worker.phone, worker.welfare_decile) == (
        NIK,
        "35.73.05.1011",
        "081234567890",
        4,
    )
    with pytest.raises(WorkerInvalid) as e:
        worker_create(
            data=WorkerData(
                nik="1" * 16,
                full_name="X",
                birth_date="kemarin",
                sex="L",
                kelurahan="35.73.05.1011",
                occupation="ojol",
                welfare_decile="sepuluh",
            )
        )
    assert {"birth_date", "welfare_decile"} <= set(e.value.errors)


def test_an_heirs_nik_is_stored_as_ascii(officer) -> None:
    w = make_worker()
    r = officer.post(
        f"/pekerja/{w.pk}/ahli-waris/",
        {
            "full_name": "Putri",
            "relation": "child",
            "birth_date": "2014-09-01",
            "sex": "P",
            "nik": full_width("3573054109140002"),
        },
    )
    assert r.status_code == 302
    assert Heir.objects.get().nik == "3573054109140002"


def test_search_finds_a_worker_by_a_nik_typed_in_full_width(officer, api_client) -> None:
    worker = make_worker(nik=NIK, sex="P", birth_date=dt.date(1990, 12, 5))
    body = officer.get("/pekerja/", {"q": full_width(NIK)}).content.decode()
    assert f"/pekerja/{worker.pk}/" in body
    body = officer.get("/pekerja/", {"q": full_width(NIK[:8])}).content.decode()
    assert f"/pekerja/{worker.pk}/" in body
    r = api_client("city_officer").get("/api/v1/workers", {"q": arabic_indic(NIK)})
    assert r.json()["count"] == 1


def test_nik_checks_answer_for_the_ascii_nik(officer, api_client) -> None:
    r = api_client("bpjs_officer").post(
        "/api/v1/nik/check", {"niks": [full_width(NIK)]}, "application/json"
    )
    [result] = r.json()
    assert (result["nik"], result["valid"], result["region_code"]) == (NIK, True, "35.73.05")
    body = officer.post("/nik/", {"niks": full_width(NIK)}).content.decode()
    assert NIK in body and full_width(NIK) not in body
    out = CliRunner().invoke(app, ["nik", "check", full_width(NIK), "--json"])
    assert out.exit_code == 0 and json.loads(out.stdout)[0]["nik"] == NIK


def test_the_hospital_verifies_a_full_width_nik(make_user) -> None:
    make_worker(nik=NIK, full_name="Sri Wahyuni", sex="P", birth_date=dt.date(1990, 12, 5))
    clerk = Client()
    clerk.force_login(make_user("hospital"))
    body = clerk.post("/verifikasi/", {"nik": full_width(NIK)}).content.decode()
    assert "Sri Wahyuni" in body


def test_calculators_read_full_width_amounts_and_months(officer) -> None:
    r = officer.post(
        "/hitung/iuran/",
        {
            "income": "Rp " + full_width("1.000.000"),
            "month": full_width("2026-11"),
            "occupation": "ojol",
            "funding": "csr",
        },
    )
    assert r.status_code == 200 and 'data-testid="total">Rp 8.400<' in r.content.decode()


def test_a_token_id_in_another_script_is_a_404_not_an_error(officer) -> None:
    # '²' passes str.isdigit() but int() refuses it
    assert officer.post("/token/", {"revoke": "²"}).status_code == 404
