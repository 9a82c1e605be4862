"""One error base, mapped once: the API answers 422 naming the field, the CLI prints the message
and exits 2, and an English user reads English (issue 8)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from cakupan.errors import Bilingual, Refused
from cakupan.membership.services import EnrolmentRefused, ReviewInvalid
from cakupan.registry.selectors import SearchRefused
from cakupan.rules.errors import RuleInputError
from cakupan.throttle import Throttled


def test_every_refusal_a_user_can_fix_is_one_kind() -> None:
    for cls in (RuleInputError, EnrolmentRefused, ReviewInvalid, SearchRefused, Throttled):
        assert issubclass(cls, Refused)


def test_a_pure_message_is_read_in_the_active_language() -> None:
    e = Refused("x", Bilingual("Isi tanggalnya.", "Fill in the date."), "event_date")
    with translation.override("en"):
        assert str(e) == "Fill in the date."
        assert e.detail() == {
            "loc": ["body", "event_date"],
            "msg": "Fill in the date.",
            "type": "x",
        }
    with translation.override("id"):
        assert str(e) == "Isi tanggalnya."


@pytest.mark.usefixtures("malang")
def test_the_api_answers_a_refusal_in_english_for_an_english_user(make_user) -> None:
    client = Client()
    client.force_login(make_user("sponsor"))
    client.cookies["django_language"] = "en"
    r = client.get("/api/v1/workers", {"q": "3573051203"})
    assert r.status_code == 422
    (item,) = r.json()["detail"]
    assert item["loc"] == ["query", "q"] and item["type"] == "nik_prefix_refused"
    assert item["msg"].startswith("Search by the whole 16-digit NIK")
    client.cookies["django_language"] = "id"
    assert (
        client.get("/api/v1/workers", {"q": "3573051203"})
        .json()["detail"][0]["msg"]
        .startswith("Cari dengan NIK lengkap")
    )


def test_the_cli_prints_a_refusal_and_exits_2(tmp_path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "kejadian.json"
    bad.write_text('{"type": "jkm", "event_date": "2026-13-40", "paid_months": 40}')
    r = subprocess.run(
        [sys.executable, "-m", "cakupan.cli", "rules", "benefits", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr and "event_date" in r.stderr
