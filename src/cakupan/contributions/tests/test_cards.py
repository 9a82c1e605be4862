"""Membership cards: the signed token (round trip, tampering, wrong and unknown keys, expiry),
revocation online, key rotation and retirement, the QR's version, the card PDFs, and the pages
that print, revoke and check cards."""

from __future__ import annotations

import base64
import datetime as dt
import re
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client
from typer.testing import CliRunner

from cakupan.contributions import cards as C
from cakupan.contributions.billing import billing_run
from cakupan.contributions.cardpdf import card_pdf, card_qr, cards_pdf
from cakupan.contributions.models import Card, SigningKey
from cakupan.contributions.services import account_of_sponsor, payment_record
from cakupan.contributions.tests.factories import M, make_membership, make_programme
from cakupan.registry.models import NikAccessLog
from cakupan.registry.nik import mask_nik

pytestmark = pytest.mark.django_db

D = dt.date
TODAY = D(2026, 6, 10)


@pytest.fixture(autouse=True)
def _key_dir(settings, tmp_path):
    """Each test keeps its private keys in its own folder."""
    settings.CAKUPAN_CARD_KEY_DIR = tmp_path / "keys"
    settings.CAKUPAN_SITE_URL = "https://cakupan.malangkota.go.id"


def _card(**kw) -> C.CardToken:
    values = {
        "kid": "0A1B",
        "serial": 4242,
        "number": "BPU-000001234",
        "valid_through": M("2026-12"),
        "issued_on": D(2026, 6, 1),
    }
    values.update(kw)
    return C.CardToken(**values)


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _flip(token: str, index: int) -> str:
    """The token with byte `index` of its binary form changed."""
    raw = bytearray(base64.b32decode(token + "=" * (-len(token) % 8)))
    raw[index] ^= 0x01
    return base64.b32encode(bytes(raw)).decode().rstrip("=")


# -- the token, offline ----------------------------------------------------------------------


def test_a_token_round_trips_and_is_plain_base32():
    key = Ed25519PrivateKey.generate()
    card = _card()
    token = C.token_sign(card, key)
    assert re.fullmatch(r"[A-Z2-7]+", token)
    # 12 bytes of header, 13 of membership number, 64 of signature
    assert len(base64.b32decode(token + "=" * (-len(token) % 8))) == 12 + 13 + 64
    check = C.token_verify(token, {"0A1B": _raw_public(key)}, TODAY)
    assert check.reason == C.OK and check.card == card
    # typed by hand in lower case, it is the same card
    assert C.token_verify(token.lower(), {"0A1B": _raw_public(key)}, TODAY).ok
    # Ed25519 is deterministic: the same card gives the same token
    assert C.token_sign(card, key) == token


@pytest.mark.parametrize(
    ("index", "reason"),
    [
        (3, C.FORGED),  # the serial: another card's number under this card's signature
        (8, C.FORGED),  # the valid-through month, pushed on
        (15, C.FORGED),  # a character of the membership number
        (40, C.FORGED),  # the signature itself
        (0, C.ALTERED),  # the version byte: not a token this code reads
        (11, C.ALTERED),  # the number's length: the bytes no longer add up
    ],
)
def test_a_changed_byte_is_refused(index, reason):
    key = Ed25519PrivateKey.generate()
    token = C.token_sign(_card(), key)
    check = C.token_verify(_flip(token, index), {"0A1B": _raw_public(key)}, TODAY)
    assert check.reason == reason and not check.ok


@pytest.mark.parametrize("token", ["", "ABC", "A" * 500, "ÄBC", "18AB", "AGQ3EAAB4J"])
def test_garbage_is_altered(token):
    assert C.token_verify(token, {"0A1B": bytes(32)}, TODAY).reason == C.ALTERED


def test_a_card_signed_with_another_key_is_forged():
    branch, forger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    token = C.token_sign(_card(kid="0A1B"), forger)
    assert C.token_verify(token, {"0A1B": _raw_public(branch)}, TODAY).reason == C.FORGED


def test_an_unknown_key_id_is_refused():
    key = Ed25519PrivateKey.generate()
    token = C.token_sign(_card(kid="FFFF"), key)
    check = C.token_verify(token, {"0A1B": _raw_public(key)}, TODAY)
    assert check.reason == C.UNKNOWN_KEY and check.card.kid == "FFFF"


def test_a_card_is_valid_to_the_last_day_of_its_month():
    key = Ed25519PrivateKey.generate()
    token = C.token_sign(_card(valid_through=M("2026-12")), key)
    keys = {"0A1B": _raw_public(key)}
    assert C.token_verify(token, keys, D(2026, 12, 31)).reason == C.OK
    assert C.token_verify(token, keys, D(2027, 1, 1)).reason == C.EXPIRED


def test_each_reason_has_words_in_both_languages():
    from django.utils import translation

    for reason in [C.OK, C.FORGED, C.ALTERED, C.UNKNOWN_KEY, C.EXPIRED, C.REVOKED, C.RETIRED_KEY]:
        with translation.override("en"):
            en = str(C.REASONS[reason])
        with translation.override("id"):
            idn = str(C.REASONS[reason])
        assert en and idn and en != idn, reason


# -- the QR ------------------------------------------------------------------------------------


def test_the_qr_is_version_7_alphanumeric_and_at_most_8_for_the_longest_card():
    """A card's QR must scan from print: version ≤ 10 at error correction M. With the site
    address of Kota Malang and today's membership numbers it is version 7 (45×45 modules);
    the longest membership number and the largest serial still fit version 8."""
    import segno

    key = Ed25519PrivateKey.generate()
    url = C.card_url(C.token_sign(_card(), key))
    assert url.startswith("HTTPS://CAKUPAN.MALANGKOTA.GO.ID/V/")
    qr = segno.make(url, error="m", micro=False, boost_error=False)
    assert (qr.version, qr.mode, qr.error) == (7, "alphanumeric", "M")
    longest = C.token_sign(_card(serial=2**32 - 1, number="X" * C.NUMBER_MAX), key)
    qr = segno.make(C.card_url(longest), error="m", micro=False, boost_error=False)
    assert (qr.version, qr.mode) == (8, "alphanumeric")


# -- keys, issue, revoke, rotate (database) --------------------------------------------------


def test_the_first_key_is_made_on_demand_and_its_private_half_is_a_0600_file(settings, malang):
    assert not SigningKey.objects.exists()
    key = C.signing_key_active()
    assert C.signing_key_active() == key and SigningKey.objects.count() == 1
    path = settings.CAKUPAN_CARD_KEY_DIR / f"card-{key.kid}.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()
    # the database holds the public half only: 32 bytes, base64url
    assert len(C.b64url_decode(key.public_key)) == 32
    assert "PRIVATE" not in key.public_key and re.fullmatch(r"[0-9A-F]{4}", key.kid)


def test_issue_revoke_and_the_online_check(malang):
    csr = make_programme(type="csr", first="2026-01", last="2026-12")
    m = make_membership(fundings=[(csr, "2026-01", "2026-12")], name="Siti Aminah")
    card = C.card_issue(m, None, today=TODAY)
    assert card.valid_through == M("2026-12") and card.issued_on == TODAY
    # printing again while nothing changed gives the same card
    assert C.card_issue(m, None, today=TODAY).pk == card.pk
    token = C.card_token(card)
    check = C.card_check(token, TODAY)
    assert check.ok and check.card.membership.worker.full_name == "Siti Aminah"
    C.card_revoke(card, None, "hilang")
    assert C.card_check(token, TODAY).reason == C.REVOKED
    # revocation is known online only: the offline check still reads it as genuine
    assert C.token_verify(token, C.public_keys(), TODAY).ok
    card.refresh_from_db()
    assert card.revoked_reason == "hilang"
    with pytest.raises(C.Refused):
        C.card_revoke(C.card_issue(m, None, today=TODAY), None, "  ")


def test_a_genuine_signature_on_fields_the_record_does_not_hold_is_altered(malang):
    """A token signed with the branch's key whose fields disagree with the card record (a
    restored backup, a leaked key) is not accepted."""
    m = make_membership(fundings=[(None, "2026-01", None)])
    card = C.card_issue(m, None, today=TODAY)
    other = C.CardToken(card.key.kid, card.pk, "BPU-999999999", card.valid_through, TODAY)
    token = C.token_sign(other, C.private_key(card.key.kid))
    assert C.card_check(token, TODAY).reason == C.ALTERED
    missing = C.CardToken(card.key.kid, card.pk + 1000, m.number, card.valid_through, TODAY)
    token = C.token_sign(missing, C.private_key(card.key.kid))
    assert C.card_check(token, TODAY).reason == C.ALTERED


def test_validity_is_the_last_funded_month_or_twelve_months(malang):
    csr = make_programme(type="csr", first="2026-01", last="2026-09")
    funded = make_membership(fundings=[(csr, "2026-01", "2026-09")])
    assert C.card_issue(funded, None, today=TODAY).valid_through == M("2026-09")
    self_paid = make_membership(fundings=[(None, "2026-01", None)])
    assert C.card_issue(self_paid, None, today=TODAY).valid_through == M("2027-05")
    ended = make_membership(fundings=[(None, "2026-01", None)], end="2026-08")
    assert C.card_issue(ended, None, today=TODAY).valid_through == M("2026-08")
    over = make_membership(fundings=[(csr, "2026-01", "2026-03")])
    with pytest.raises(C.Refused) as e:
        C.card_issue(over, None, today=TODAY)
    assert e.value.code == "membership_over"


def test_rotation_keeps_old_cards_valid_until_their_key_is_retired(malang):
    a = make_membership(fundings=[(None, "2026-01", None)], name="Ani")
    b = make_membership(fundings=[(None, "2026-01", None)], name="Budi")
    old_card = C.card_issue(a, None, today=TODAY)
    old_token = C.card_token(old_card)
    old_kid = old_card.key.kid
    new_key = C.signing_key_rotate()
    assert new_key.kid != old_kid and C.signing_key_active() == new_key
    assert SigningKey.objects.get(kid=old_kid).active is False
    new_card = C.card_issue(b, None, today=TODAY)
    assert new_card.key == new_key
    # both verify: offline with the published keys, and online
    keys = C.public_keys()
    assert set(keys) == {old_kid, new_key.kid}
    assert C.token_verify(old_token, keys, TODAY).ok
    assert C.card_check(old_token, TODAY).ok and C.card_check(C.card_token(new_card), TODAY).ok
    # the active key cannot be retired
    with pytest.raises(C.Refused):
        C.signing_key_retire(new_key.kid)
    C.signing_key_retire(old_kid)
    assert C.card_check(old_token, TODAY).reason == C.RETIRED_KEY
    assert C.token_verify(old_token, C.public_keys(), TODAY).reason == C.UNKNOWN_KEY
    assert C.card_check(C.card_token(new_card), TODAY).ok
    # reprinting the old card signs it with the new key and revokes the old one
    reprinted = C.card_issue(a, None, today=TODAY)
    assert reprinted.pk != old_card.pk and reprinted.key == new_key
    old_card.refresh_from_db()
    assert old_card.revoked_reason == "replaced"
    published = C.keys_published()["keys"]
    assert published[old_kid]["status"] == "retired" and published[new_key.kid]["status"] == (
        "active"
    )


def test_a_missing_private_key_file_is_said_plainly(settings, malang):
    m = make_membership(fundings=[(None, "2026-01", None)])
    card = C.card_issue(m, None, today=TODAY)
    C._private_cache.clear()
    (settings.CAKUPAN_CARD_KEY_DIR / f"card-{card.key.kid}.pem").unlink()
    with pytest.raises(C.Refused) as e:
        C.card_token(card)
    assert e.value.code == "signing_key_missing" and card.key.kid in e.value.message


def test_the_cli_rotates_lists_and_retires_keys(malang):
    from cakupan.cli import app

    runner = CliRunner()
    assert "kunci pertama" in runner.invoke(app, ["cards", "key-list"]).stdout
    first = runner.invoke(app, ["cards", "key-rotate"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["cards", "key-rotate"])
    kids = list(SigningKey.objects.order_by("created_at", "id").values_list("kid", flat=True))
    assert len(kids) == 2 and kids[1] in second.stdout
    listing = runner.invoke(app, ["cards", "key-list"]).stdout
    assert f"{kids[0]}  sah" in listing and f"{kids[1]}  aktif" in listing
    refused = runner.invoke(app, ["cards", "key-retire", kids[1]])
    assert refused.exit_code == 2
    assert runner.invoke(app, ["cards", "key-retire", kids[0]]).exit_code == 0
    assert f"{kids[0]}  pensiun" in runner.invoke(app, ["cards", "key-list"]).stdout


# -- PDFs --------------------------------------------------------------------------------------


def test_a_card_pdf_has_the_card_and_a_batch_eight_to_a_page(malang, pdf_text):
    csr = make_programme(type="csr", first="2026-01", last="2026-12")
    members = [
        make_membership(fundings=[(csr, "2026-01", "2026-12")], name=f"Pekerja Nomor {i}")
        for i in range(9)
    ]
    card = C.card_issue(members[0], None, today=TODAY)
    pages, text = pdf_text(card_pdf(card, TODAY))
    worker = members[0].worker
    assert pages == 1
    assert "Pekerja Nomor 0" in text and members[0].number in text
    assert mask_nik(worker.nik).replace("•", "*") in text and worker.nik not in text
    assert csr.sponsor.name in text and "31/12/2026" in text
    assert card_qr(card).version <= 10
    batch = C.cards_issue_for_programme(csr, None, today=TODAY)
    assert len(batch) == 9 and batch[0].pk == card.pk  # the same card, not a second one
    pages, text = pdf_text(cards_pdf(batch, TODAY, "Kartu"))
    assert pages == 2
    assert sum(m.number in text for m in members) == 9


def test_a_batch_is_a_few_queries_and_replaces_cards_after_a_rotation(
    malang, django_assert_max_num_queries
):
    csr = make_programme(type="csr", first="2026-01", last="2026-12")
    members = [make_membership(fundings=[(csr, "2026-01", "2026-12")]) for _ in range(12)]
    single = C.card_issue(members[0], None, today=TODAY)
    with django_assert_max_num_queries(8):
        first = C.cards_issue_for_programme(csr, None, today=TODAY)
    assert [c.membership_id for c in first] == [m.pk for m in members]
    assert first[0].pk == single.pk and len({c.pk for c in first}) == 12
    assert C.cards_issue_for_programme(csr, None, today=TODAY) == first  # nothing changed
    C.signing_key_rotate()
    again = C.cards_issue_for_programme(csr, None, today=TODAY)
    assert not {c.pk for c in again} & {c.pk for c in first}
    assert set(
        Card.objects.filter(pk__in=[c.pk for c in first]).values_list("revoked_reason", flat=True)
    ) == {"replaced"}
    assert all(C.card_check(C.card_token(c), TODAY).ok for c in again)


def test_long_names_are_cut_to_stay_clear_of_the_qr(malang, pdf_text):
    from cakupan.funding.services import sponsor_create

    sponsor = sponsor_create(
        type="csr", name="Yayasan Dana Sosial Karyawan Perusahaan Rokok Malang Raya Sejahtera"
    )
    csr = make_programme(sponsor=sponsor, first="2026-01", last="2026-12")
    m = make_membership(
        fundings=[(csr, "2026-01", "2026-12")],
        name="Raden Mas Bagus Hadiwijaya Kusumaningrat Prawirodirdjo Soerjosoemarno Putra",
    )
    _pages, text = pdf_text(card_pdf(C.card_issue(m, None, today=TODAY), TODAY))
    assert "Yayasan Dana Sosial" in text and sponsor.name not in text and "...)" in text
    assert "Raden Mas Bagus" in text and "Putra" not in text


def test_a_programme_batch_holds_only_this_months_members(malang):
    csr = make_programme(type="csr", first="2026-01", last="2026-12")
    now = make_membership(fundings=[(csr, "2026-01", "2026-12")])
    make_membership(fundings=[(csr, "2026-01", "2026-03")])  # funded earlier in the year
    make_membership(fundings=[(csr, "2026-09", "2026-12")], start="2026-09")  # later
    batch = C.cards_issue_for_programme(csr, None, today=TODAY)
    assert [c.membership_id for c in batch] == [now.pk]


# -- pages -------------------------------------------------------------------------------------


def _login(make_user, role: str, username: str | None = None) -> Client:
    client = Client()
    client.force_login(make_user(role, username))
    return client


def _paid_this_month(programme, membership_count: int = 1, name: str = "Dewi Lestari"):
    """Memberships funded by `programme`, billed and paid for this month."""
    import django.utils.timezone as tz

    today = tz.localdate()
    first = today.replace(month=1, day=1).strftime("%Y-%m")
    members = [
        make_membership(fundings=[(programme, first, None)], name=name)
        for _ in range(membership_count)
    ]
    billing_run(month=today.strftime("%Y-%m"))
    payment_record(
        reference=f"CARD-{today:%Y%m}",
        amount=10**7,
        paid_on=today.replace(day=1),
        source="form",
        user=None,
        account=account_of_sponsor(programme.sponsor),
    )
    return members


def test_officer_prints_a_card_from_the_worker_page_and_revokes_it(make_user, programme):
    (m,) = _paid_this_month(programme)
    officer = _login(make_user, "bpjs_officer")
    page = officer.get(f"/pekerja/{m.worker_id}/").content.decode()
    assert 'data-testid="print-card"' in page and f"/kartu/kepesertaan/{m.pk}/cetak/" in page
    response = officer.post(f"/kartu/kepesertaan/{m.pk}/cetak/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    card = Card.objects.get(membership=m)
    page = officer.get(f"/pekerja/{m.worker_id}/").content.decode()
    assert f'action="/kartu/{card.pk}/cabut/"' in page
    assert officer.post(f"/kartu/{card.pk}/cabut/", {"reason": ""}).status_code == 302
    card.refresh_from_db()
    assert card.revoked_at is None  # a reason is required
    officer.post(f"/kartu/{card.pk}/cabut/", {"reason": "hilang"})
    card.refresh_from_db()
    assert card.revoked_at is not None and card.revoked_reason == "hilang"
    # a GET prints nothing
    assert officer.get(f"/kartu/kepesertaan/{m.pk}/cetak/").status_code == 405


def test_a_sponsor_prints_its_own_members_cards_only(make_user, programme):
    from cakupan.accounts.models import User

    (mine,) = _paid_this_month(programme)
    other = make_programme(type="apbd", first="2026-01", last="2027-12")
    theirs = make_membership(fundings=[(other, "2026-01", None)])
    sponsor = make_user("sponsor")
    User.objects.filter(pk=sponsor.pk).update(sponsor=programme.sponsor)
    client = Client()
    client.force_login(User.objects.get(pk=sponsor.pk))
    assert client.post(f"/kartu/kepesertaan/{mine.pk}/cetak/").status_code == 200
    assert client.post(f"/kartu/kepesertaan/{theirs.pk}/cetak/").status_code == 404
    assert client.post(f"/kartu/program/{programme.pk}/cetak/").status_code == 200
    assert client.post(f"/kartu/program/{other.pk}/cetak/").status_code == 404
    # revoking is for officers
    card = Card.objects.get(membership=mine)
    assert client.post(f"/kartu/{card.pk}/cabut/", {"reason": "x"}).status_code == 403
    hospital = _login(make_user, "hospital")
    assert hospital.post(f"/kartu/kepesertaan/{mine.pk}/cetak/").status_code == 403
    assert hospital.post(f"/kartu/program/{programme.pk}/cetak/").status_code == 403


@pytest.mark.parametrize(
    ("role", "card", "revoke"),
    [
        ("admin", 200, 302),
        ("bpjs_officer", 200, 302),
        ("city_officer", 200, 302),
        ("sponsor", 404, 403),  # a sponsor without this programme: outside its scope
        ("hospital", 403, 403),
    ],
)
def test_printing_and_revoking_per_role(make_user, programme, role, card, revoke):
    """docs/access.md, the rows on cards."""
    (m,) = _paid_this_month(programme)
    issued = C.card_issue(m, None)
    client = _login(make_user, role)
    assert client.post(f"/kartu/kepesertaan/{m.pk}/cetak/").status_code == card
    assert client.post(f"/kartu/program/{programme.pk}/cetak/").status_code == card
    response = client.post(f"/kartu/{issued.pk}/cabut/", {"reason": "hilang"})
    assert response.status_code == revoke
    # anyone may scan a card, signed in or not
    assert Client().get(f"/V/{C.card_token(issued)}").status_code == (403 if revoke == 302 else 200)


def test_a_card_for_a_membership_with_no_month_left_is_refused_on_the_page(make_user, malang):
    csr = make_programme(type="csr", first="2020-01", last="2020-12")
    m = make_membership(fundings=[(csr, "2020-01", "2020-12")])
    officer = _login(make_user, "bpjs_officer")
    response = officer.post(f"/kartu/kepesertaan/{m.pk}/cetak/", follow=True)
    body = response.content.decode()
    assert response.redirect_chain[-1][0] == f"/pekerja/{m.worker_id}/"
    assert "tidak punya bulan yang dibayar" in body and not Card.objects.exists()


def test_the_programme_page_prints_all_its_cards(make_user, programme, pdf_text):
    members = _paid_this_month(programme, 3)
    officer = _login(make_user, "city_officer")
    page = officer.get(f"/program/{programme.pk}/").content.decode()
    assert 'data-testid="print-all-cards"' in page
    response = officer.post(f"/kartu/program/{programme.pk}/cetak/")
    assert response.status_code == 200
    pages, text = pdf_text(response.content)
    assert pages == 1 and all(m.number in text for m in members)
    assert Card.objects.filter(membership__in=members).count() == 3


def test_a_scanned_card_shows_name_masked_nik_and_protection_and_is_logged(make_user, programme):
    (m,) = _paid_this_month(programme, name="Rina Kartika")
    card = C.card_issue(m, None)
    token = C.card_token(card)
    phone = Client()
    response = phone.get(f"/V/{token}")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Rina Kartika" in body and mask_nik(m.worker.nik) in body and m.worker.nik not in body
    assert re.search(r'data-testid="verdict">.*<strong>YA</strong>', body, re.S)
    # nothing more: not the sponsor, not the membership number
    assert programme.sponsor.name not in body and m.number not in body
    log = NikAccessLog.objects.get()
    assert (log.user, log.worker_id, log.action) == (None, m.worker_id, "verify")
    # lower case, typed by hand
    assert phone.get(f"/v/{token.lower()}").status_code == 200
    # refused cards say why, and show nobody
    C.card_revoke(card, None, "hilang")
    refused = phone.get(f"/V/{token}")
    text = refused.content.decode()
    assert refused.status_code == 403 and "Rina Kartika" not in text
    assert 'data-reason="revoked"' in text and "dicabut" in text
    forged = phone.get(f"/V/{_flip(token, 5)}").content.decode()
    assert 'data-reason="forged"' in forged and "Rina Kartika" not in forged
    assert NikAccessLog.objects.filter(worker=None, user=None).count() == 2


def test_card_checks_are_rate_limited_per_ip_address(settings, programme):
    settings.CAKUPAN_RATE_CARD_CHECK = "3/m"
    (m,) = _paid_this_month(programme)
    token = C.card_token(C.card_issue(m, None))
    one, other = Client(REMOTE_ADDR="10.0.0.1"), Client(REMOTE_ADDR="10.0.0.2")
    for _ in range(3):
        assert one.get(f"/V/{token}").status_code == 200
    refused = one.get(f"/V/{token}")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert m.worker.full_name not in refused.content.decode()
    assert other.get(f"/V/{token}").status_code == 200


def test_the_published_keys_check_a_card_offline(programme):
    """What a phone does without the network: keys.json, then token_verify."""
    (m,) = _paid_this_month(programme)
    token = C.card_token(C.card_issue(m, None))
    response = Client().get("/V/keys.json")
    assert response.status_code == 200 and response["Access-Control-Allow-Origin"] == "*"
    published = response.json()
    assert published["algorithm"] == "Ed25519"
    keys = {
        kid: C.b64url_decode(k["public_key"])
        for kid, k in published["keys"].items()
        if k["status"] != "retired"
    }
    import django.utils.timezone as tz

    assert C.token_verify(token, keys, tz.localdate()).ok
