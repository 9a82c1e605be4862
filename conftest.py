"""Fixtures shared by every test: built-in data, users per role, API clients, shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cakupan.bootstrap import compile_translations

# A fresh checkout has only the .po files; compile them before Django loads a catalogue
# (`make test` does it too, before pytest starts).
compile_translations()

SHARED_DATA = Path(
    os.environ.get("CAKUPAN_SHARED_DATA", Path(__file__).parent.parent / "shared" / "data")
)


@pytest.fixture
def shared_data() -> Path:
    """../shared/data, where the real public data sets live; absent in a user's own clone."""
    if not (SHARED_DATA / "wilayah_kepmendagri_2025.csv").exists():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set CAKUPAN_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def malang(db):
    """The built-in Kota Malang regions and the occupation catalogue."""
    from cakupan.regions.services import regions_load_builtin
    from cakupan.registry.services import occupations_load_builtin

    regions_load_builtin()
    occupations_load_builtin()


@pytest.fixture
def make_user(db):
    from cakupan.accounts.services import user_create

    def make(role: str, username: str | None = None, password: str = "Rahasia-kuat-2026"):
        user, _ = user_create(username=username or f"u_{role}", role=role, password=password)
        return user

    return make


@pytest.fixture
def api_client(make_user):
    """A factory: a Django test client that sends a bearer token of a new user with `role`."""
    from django.test import Client

    from cakupan.accounts.services import token_create

    def make(role: str):
        user = make_user(role, username=f"api_{role}")
        _t, key = token_create(user=user)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
        client.user = user
        return client

    return make


def http_json(url: str, method: str, key: str, body: dict | None = None) -> tuple[int, dict]:
    """One request to a running server (live_server) with a bearer token, as a real client
    sends it: the status and the decoded JSON answer."""
    import json
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {key}"}
    if data:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture
def http():
    """http_json, for tests against live_server."""
    return http_json


def pdf_pages_and_text(body: bytes) -> tuple[int, str]:
    """The page count and the text drawn in a PDF's (deflated) content streams."""
    import re
    import zlib

    assert body.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", body))
    text = []
    # up to "endstream", its end-of-line included: a deflated stream may itself end in a byte
    # that reads as one, and the decompressor leaves whatever follows its own end
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", body, re.S):
        try:
            text.append(zlib.decompressobj().decompress(stream).decode("latin-1"))
        except zlib.error:
            text.append(stream.decode("latin-1"))
    # a PDF string escapes its parentheses and backslashes
    joined = "\n".join(text).replace("\\(", "(").replace("\\)", ")").replace("\\\\", "\\")
    return pages, joined


@pytest.fixture
def pdf_text():
    """pdf_pages_and_text: a PDF's page count and the text it draws."""
    return pdf_pages_and_text


CHROMIUM = os.environ.get("CAKUPAN_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def page(live_server):
    """A Chromium page (Debian's browser, driven by Playwright) for tests against live_server;
    the test is skipped with the reason where Chromium or Playwright is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # around it are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            # without the networking flags Chromium keeps trying to reach Google's services
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(locale="id-ID", viewport={"width": 1280, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        yield pg
        context.close()
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counts live in the process's cache: each test starts with none spent."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def officer(make_user):
    """A browser-like client logged in as a BPJS officer (modules that need an API client
    define their own `officer`)."""
    from django.test import Client

    client = Client()
    client.force_login(make_user("bpjs_officer"))
    return client


@pytest.fixture
def programme(malang):
    """A CSR programme for ojol drivers over this year and the next, with room to spare."""
    import datetime as dt

    from cakupan.funding.services import programme_create, sponsor_create

    year = dt.date.today().year
    return programme_create(
        sponsor=sponsor_create(type="csr", name="RS Hermina"),
        name="Ojol sehat",
        fiscal_year=year,
        first_month=dt.date(year, 1, 1),
        last_month=dt.date(year + 1, 12, 1),
        budget=100_000_000,
    )
