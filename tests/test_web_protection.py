"""Browser protections without a browser: the Content-Security-Policy on every page, templates
with no inline script or style, HTTPS settings that make `check --deploy` clean, and refused
requests logged in one line."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path

import cakupan
from cakupan.registry.tests.factories import make_worker

PACKAGE = Path(cakupan.__file__).parent


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a server error, for the 500 page")


def _forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


# The site's URLs plus two that fail on purpose, for the error pages.
urlpatterns = [
    path("test-boom/", _boom),
    path("test-forbidden/", _forbidden),
    *__import__("cakupan.urls", fromlist=["urlpatterns"]).urlpatterns,
]
handler403 = "cakupan.web.views.error_403"
handler404 = "cakupan.web.views.error_404"
handler500 = "cakupan.web.views.error_500"


def _policy(response: HttpResponse) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


def _assert_strict(response: HttpResponse, where: str) -> None:
    policy = _policy(response)
    assert policy, f"{where}: no Content-Security-Policy"
    assert policy["default-src"] == ["'self'"], where
    scripts = policy.get("script-src", policy["default-src"])
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, where
    assert "'unsafe-inline'" not in policy.get("style-src", []), where
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], where


@pytest.mark.usefixtures("malang")
@override_settings(ROOT_URLCONF=__name__)
def test_every_page_carries_a_csp_without_inline_script(make_user) -> None:
    worker = make_worker()
    anonymous = Client()
    officer = Client()
    officer.force_login(make_user("admin"))
    pages = {
        anonymous: ["/masuk/", "/api/docs", "/admin/login/", "/static/cakupan/app.css"],
        officer: [
            "/",
            "/pekerja/",
            f"/pekerja/{worker.pk}/",
            f"/pekerja/{worker.pk}/ubah/",
            "/pekerja/baru/",
            "/nik/",
            "/verifikasi/",
            "/token/",
            "/program/",
            "/pendaftaran/tinjauan/",
            "/hitung/iuran/",
            "/hitung/manfaat/",
            "/klaim/",
            "/klaim/baru/",
            "/klaim/laporan-kecelakaan/",
            "/admin/",
            "/admin/registry/worker/",
            "/api/docs",
            "/api/v1/workers",
            "/pekerja/99999/",  # 404 page
            "/test-forbidden/",  # 403 page
        ],
    }
    for client, urls in pages.items():
        for url in urls:
            r = client.get(url)
            assert r.status_code in (200, 403, 404), (url, r.status_code)
            _assert_strict(r, url)
    strict = Client(enforce_csrf_checks=True)
    r = strict.post("/masuk/", {"username": "x", "password": "y"})  # no CSRF token: 403 page
    assert r.status_code == 403 and "Muat ulang halaman" in r.content.decode()
    _assert_strict(r, "CSRF failure page")
    assert "<style" not in r.content.decode()
    officer.raise_request_exception = False
    r = officer.get("/test-boom/")
    assert r.status_code == 500
    _assert_strict(r, "500 page")


INLINE = [
    (
        re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
        "inline <script>",
    ),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on…= handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"<style", re.I), "<style> block"),
]


def test_templates_have_no_inline_script_or_style() -> None:
    templates = sorted(PACKAGE.glob("*/templates/**/*.html"))
    assert len(templates) > 25
    found = [
        f"{t.relative_to(PACKAGE)}: {what}"
        for t in templates
        for pattern, what in INLINE
        if pattern.search(t.read_text())
    ]
    assert not found, found


def _check_deploy(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CAKUPAN_", "DJANGO_"))}
    environment.update(
        CAKUPAN_VAR=str(tmp_path),
        CAKUPAN_ALLOWED_HOSTS="cakupan.malangkota.go.id",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "cakupan.manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


@pytest.mark.slow
def test_check_deploy_is_clean_under_production_settings(tmp_path: Path) -> None:
    plain = _check_deploy(tmp_path)
    assert plain.returncode != 0
    assert "security.W008" in plain.stderr and "security.W004" in plain.stderr
    production = _check_deploy(tmp_path, CAKUPAN_HTTPS="1", CAKUPAN_BEHIND_PROXY="1")
    assert production.returncode == 0, production.stderr
    assert "no issues" in production.stdout, production.stdout + production.stderr


@pytest.mark.usefixtures("malang")
def test_a_refused_request_is_logged_in_one_line(make_user, caplog) -> None:
    sponsor = make_user("sponsor", username="sponsor1")
    hospital = make_user("hospital", username="rs1")
    worker = make_worker()
    client = Client()
    client.force_login(hospital)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/pekerja/?q=3573051506880001")  # 403 for a hospital clerk
        client.force_login(sponsor)
        client.get(f"/pekerja/{worker.pk}/?x=1")  # 404: outside the sponsor's scope
        Client().post("/api/v1/workers", {}, content_type="application/json")  # 401
    records = [r for r in caplog.records if r.name == "django.request"]
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    lines = [formatter.format(r) for r in records]
    assert lines == [
        f"WARNING django.request refused GET /pekerja/ 403 user={hospital.pk}",
        f"WARNING django.request refused GET /pekerja/{worker.pk}/ 404 user={sponsor.pk}",
        "WARNING django.request refused POST /api/v1/workers 401 user=-",
    ]
    assert all(r.exc_info is None for r in records)


def test_a_server_error_keeps_its_traceback(db, caplog) -> None:
    client = Client(raise_request_exception=False)
    with override_settings(ROOT_URLCONF=__name__), caplog.at_level(logging.ERROR):
        assert client.get("/test-boom/").status_code == 500
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.exc_info is not None
