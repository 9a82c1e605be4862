"""Membership cards: the branch's Ed25519 signing keys, the compact signed token a card's QR
holds, and issuing and revoking cards.

The token (docs/contributions.md, "Cards and verification") is a few bytes of card data and
a 64-byte Ed25519 signature, written in base32 (A-Z, 2-7, no padding) so that the QR code can
use its alphanumeric mode. `token_verify` needs nothing but the published public keys: what a
phone does offline. Revocation is known only online (`card_check`, Card.revoked_at).

The private half of each key is a file under the var directory (mode 0600), never in the
database; the database keeps the key id and the public half, which `/V/keys.json` publishes.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime as dt
import os
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cakupan.contributions.models import Card, SigningKey
from cakupan.errors import Refused
from cakupan.funding.models import FundingProgramme
from cakupan.membership.models import FundingAssignment, Membership
from cakupan.months import add_months

# -- the token (pure: no database) ---------------------------------------------------------

VERSION = 1
EPOCH = dt.date(2000, 1, 1)
SIGNATURE_BYTES = 64
# version, key id, card serial, valid-through month, issued day, length of the number
_HEAD = struct.Struct(">BHIHHB")
NUMBER_MAX = 20  # Membership.number's max_length
PATH_PREFIX = "/V/"

OK = "ok"
FORGED = "forged"
ALTERED = "altered"
UNKNOWN_KEY = "unknown_key"
EXPIRED = "expired"
# online only
REVOKED = "revoked"
RETIRED_KEY = "retired_key"

REASONS = {
    OK: _("The card is genuine."),
    FORGED: _(
        "The card is forged: its signature does not match the branch's key. Do not accept it."
    ),
    ALTERED: _(
        "The card was altered or damaged: its code is not one the branch issued. Do not accept"
        " it; check the patient's NIK at the hospital desk instead."
    ),
    UNKNOWN_KEY: _(
        "The card was signed with a key the branch does not know. Do not accept it; check the"
        " patient's NIK at the hospital desk instead."
    ),
    EXPIRED: _("The card has expired. The worker can ask the sponsor or BPJS for a new card."),
    REVOKED: _(
        "The card was revoked (lost, replaced or the membership ended). Check the patient's NIK"
        " at the hospital desk instead."
    ),
    RETIRED_KEY: _(
        "The card was signed with a key the branch has retired. The worker needs a new card;"
        " check the patient's NIK at the hospital desk meanwhile."
    ),
}


@dataclass(frozen=True)
class CardToken:
    """What a card's QR says: signed by key `kid`."""

    kid: str  # 4 hex digits, upper case: the key id (uint16)
    serial: int  # Card.pk
    number: str  # the membership number
    valid_through: dt.date  # a month (its first day): the card is valid to that month's end
    issued_on: dt.date

    def expired(self, today: dt.date) -> bool:
        return today > month_end(self.valid_through)


@dataclass(frozen=True)
class TokenCheck:
    """The result of checking a token: `reason` is OK or why it is refused; `card` is what the
    token says (None when it could not be read)."""

    reason: str
    card: CardToken | None = None

    @property
    def ok(self) -> bool:
        return self.reason == OK

    @property
    def message(self) -> str:
        return str(REASONS[self.reason])


class TokenMalformed(ValueError):
    """The text is not a card token of a known version (damaged or changed)."""


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def kid_text(kid: int) -> str:
    return f"{kid:04X}"


def token_payload(card: CardToken) -> bytes:
    """The signed bytes of a card (big-endian):
    [0] version · [1:3] key id · [3:7] card serial · [7:9] valid-through month as months
    since 2000-01 · [9:11] issued day as days since 2000-01-01 · [11] n · [12:12+n] the
    membership number in ASCII."""
    number = card.number.encode("ascii")
    if len(number) > NUMBER_MAX:
        raise ValueError("membership number too long for a card")
    months = (card.valid_through.year - EPOCH.year) * 12 + card.valid_through.month - 1
    days = (card.issued_on - EPOCH).days
    head = _HEAD.pack(VERSION, int(card.kid, 16), card.serial, months, days, len(number))
    return head + number


def token_encode(payload: bytes, signature: bytes) -> str:
    return base64.b32encode(payload + signature).decode("ascii").rstrip("=")


def token_sign(card: CardToken, private_key: Ed25519PrivateKey) -> str:
    """The card's token: its payload and the payload's Ed25519 signature, in base32."""
    payload = token_payload(card)
    return token_encode(payload, private_key.sign(payload))


def token_decode(token: str) -> tuple[CardToken, bytes, bytes]:
    """(card, payload, signature) of a token; TokenMalformed if it is not one."""
    text = token.strip().upper()
    if not text or len(text) > 400:
        raise TokenMalformed("length")
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise TokenMalformed("encoding") from None
    if len(raw) < _HEAD.size + SIGNATURE_BYTES or raw[0] != VERSION:
        raise TokenMalformed("version")
    _version, kid, serial, months, days, n = _HEAD.unpack_from(raw)
    if len(raw) != _HEAD.size + n + SIGNATURE_BYTES:
        raise TokenMalformed("length")
    payload, signature = raw[: _HEAD.size + n], raw[_HEAD.size + n :]
    try:
        number = payload[_HEAD.size :].decode("ascii")
    except UnicodeDecodeError:
        raise TokenMalformed("number") from None
    if not number.isprintable():
        raise TokenMalformed("number")
    card = CardToken(
        kid=kid_text(kid),
        serial=serial,
        number=number,
        valid_through=dt.date(EPOCH.year + months // 12, months % 12 + 1, 1),
        issued_on=EPOCH + dt.timedelta(days=days),
    )
    return card, payload, signature


def token_verify(token: str, public_keys: dict[str, bytes], today: dt.date) -> TokenCheck:
    """Check a token offline, with only the public keys (key id → raw 32 bytes): OK, FORGED
    (the signature does not verify), ALTERED (not a well-formed token), UNKNOWN_KEY or EXPIRED.
    A phone does the same with /V/keys.json; revocation needs the online check."""
    try:
        card, payload, signature = token_decode(token)
    except TokenMalformed:
        return TokenCheck(ALTERED)
    raw_key = public_keys.get(card.kid)
    if raw_key is None:
        return TokenCheck(UNKNOWN_KEY, card)
    try:
        Ed25519PublicKey.from_public_bytes(raw_key).verify(signature, payload)
    except (InvalidSignature, ValueError):
        return TokenCheck(FORGED, card)
    if card.expired(today):
        return TokenCheck(EXPIRED, card)
    return TokenCheck(OK, card)


def card_url(token: str) -> str:
    """The address a card's QR holds, all in upper case so the QR stays alphanumeric."""
    return (settings.CAKUPAN_SITE_URL.rstrip("/") + PATH_PREFIX).upper() + token


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# -- signing keys ----------------------------------------------------------------------------

_private_cache: dict[str, Ed25519PrivateKey] = {}


def key_dir() -> Path:
    return Path(settings.CAKUPAN_CARD_KEY_DIR)


def _key_path(kid: str) -> Path:
    return key_dir() / f"card-{kid}.pem"


def _write_private(kid: str, key: Ed25519PrivateKey) -> None:
    folder = key_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(_key_path(kid), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)


def private_key(kid: str) -> Ed25519PrivateKey:
    """The private half of key `kid`, read from its file (Refused when the file is missing)."""
    path = _key_path(kid)
    key = _private_cache.get(str(path))
    if key is None:
        try:
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError:
            raise Refused(
                "signing_key_missing",
                _(
                    "Cards cannot be printed now: the private half of the branch's signing key"
                    " %(kid)s is missing on this server. Ask the administrator to restore it from"
                    " the backup or to make a new signing key."
                )
                % {"kid": kid},
            ) from None
        if not isinstance(loaded, Ed25519PrivateKey):
            raise Refused("signing_key_invalid", f"{path} is not an Ed25519 key")
        key = _private_cache[str(path)] = loaded
    return key


def _new_key(active: bool) -> SigningKey:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    taken = set(SigningKey.objects.values_list("kid", flat=True))
    kid = kid_text(secrets.randbelow(0x10000))
    while kid in taken or _key_path(kid).exists():
        kid = kid_text(secrets.randbelow(0x10000))
    _write_private(kid, key)
    _private_cache[str(_key_path(kid))] = key
    return SigningKey.objects.create(kid=kid, public_key=b64url(public), active=active)


def signing_key_active() -> SigningKey:
    """The key that signs new cards; the first one is made on demand."""
    key = SigningKey.objects.filter(active=True).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _new_key(active=True)
    except IntegrityError:  # another process made the first key meanwhile
        return SigningKey.objects.get(active=True)


@transaction.atomic
def signing_key_rotate() -> SigningKey:
    """Make a new active key. The previous one stops signing but its cards stay valid until
    it is retired (`signing_key_retire`)."""
    SigningKey.objects.filter(active=True).update(active=False)
    return _new_key(active=True)


@transaction.atomic
def signing_key_retire(kid: str) -> SigningKey:
    """Retire a key: every card it signed is refused from now on. The active key cannot be
    retired: rotate first."""
    key = SigningKey.objects.select_for_update().filter(kid=kid.upper()).first()
    if key is None:
        raise Refused("unknown_key", _("There is no signing key %(kid)s.") % {"kid": kid}, "kid")
    if key.active:
        raise Refused(
            "key_active",
            _("Key %(kid)s still signs new cards: make a new key first, then retire this one.")
            % {"kid": key.kid},
            "kid",
        )
    if key.retired_at is None:
        key.retired_at = timezone.now()
        key.save(update_fields=["retired_at"])
    return key


def public_keys(*, include_retired: bool = False) -> dict[str, bytes]:
    """Key id → raw public key, of the keys whose cards are accepted (all, if asked)."""
    keys = SigningKey.objects.all()
    if not include_retired:
        keys = keys.filter(retired_at__isnull=True)
    return {kid: b64url_decode(pk) for kid, pk in keys.values_list("kid", "public_key")}


def keys_published() -> dict:
    """What /V/keys.json says: every key with its status, for offline checkers."""
    return {
        "algorithm": "Ed25519",
        "token": "base32(payload || signature), see docs/contributions.md",
        "keys": {
            k.kid: {
                "public_key": k.public_key,
                "status": "retired" if k.retired_at else ("active" if k.active else "valid"),
                "created": k.created_at.date().isoformat(),
                "retired": k.retired_at.date().isoformat() if k.retired_at else None,
            }
            for k in SigningKey.objects.order_by("created_at", "id")
        },
    }


# -- cards -----------------------------------------------------------------------------------


def card_token_of(card: Card) -> CardToken:
    return CardToken(
        kid=card.key.kid,
        serial=card.pk,
        number=card.membership.number,
        valid_through=card.valid_through,
        issued_on=card.issued_on,
    )


def card_token(card: Card) -> str:
    """The signed token of a card (Ed25519 is deterministic: the same card, the same token)."""
    return token_sign(card_token_of(card), private_key(card.key.kid))


def _valid_through(
    membership: Membership, fundings: list[tuple[dt.date, dt.date | None]], today: dt.date
) -> dt.date | None:
    """The last funded month (the end month at the latest), or 12 months from this month when
    the funding is open-ended; None when no funded month is left."""
    this_month = today.replace(day=1)
    open_ended = any(last is None for _first, last in fundings)
    last = None if open_ended or not fundings else max(last for _f, last in fundings)
    if last is None:
        last = add_months(this_month, 11)
    if membership.end_month and membership.end_month < last:
        last = membership.end_month
    return None if last < this_month else last


def valid_through_of(membership: Membership, today: dt.date) -> dt.date:
    """The month a new card is valid through: the last funded month of the membership (its
    end month at the latest); 12 months from this month when its funding is open-ended."""
    fundings = list(
        FundingAssignment.objects.filter(membership=membership).values_list(
            "first_month", "last_month"
        )
    )
    last = _valid_through(membership, fundings, today)
    if last is None:
        raise Refused(
            "membership_over",
            _(
                "Membership %(number)s has no funded month from now on: a card would be expired"
                " already. Record who pays the coming months first."
            )
            % {"number": membership.number},
        )
    return last


def _live_cards(memberships: list[int]) -> dict[int, Card]:
    cards = Card.objects.filter(membership_id__in=memberships, revoked_at__isnull=True)
    return {c.membership_id: c for c in cards.select_related("key").order_by("id")}


@transaction.atomic
def card_issue(membership: Membership, user, *, today: dt.date | None = None) -> Card:
    """A card for the membership. Printing again gives the same card while nothing changed;
    a new validity or a new signing key makes a new card and revokes the previous one."""
    today = today or timezone.localdate()
    key = signing_key_active()
    through = valid_through_of(membership, today)
    Membership.objects.select_for_update().filter(pk=membership.pk).first()  # one at a time
    live = _live_cards([membership.pk]).get(membership.pk)
    if live is not None and live.key_id == key.pk and live.valid_through == through:
        live.membership = membership
        return live
    if live is not None:
        card_revoke(live, user, "replaced")
    card = Card.objects.create(
        membership=membership, key=key, issued_on=today, valid_through=through, issued_by=user
    )
    card.membership = membership
    return card


def card_revoke(card: Card, user, reason: str) -> Card:
    """Revoke a card (lost, replaced, membership ended): the online check refuses it."""
    reason = (reason or "").strip()[:200]
    if not reason:
        raise Refused("reason_required", _("Say why the card is revoked, e.g. “lost”."), "reason")
    if card.revoked_at is None:
        updated = Card.objects.filter(pk=card.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_reason=reason, revoked_by=user
        )
        if updated:
            card.refresh_from_db(fields=["revoked_at", "revoked_reason", "revoked_by"])
    return card


def programme_members_now(programme: FundingProgramme, today: dt.date) -> list[Membership]:
    """The memberships the programme funds this month, by membership number."""
    month = today.replace(day=1)
    ids = FundingAssignment.objects.filter(programme=programme, first_month__lte=month).filter(
        Q(last_month__isnull=True) | Q(last_month__gte=month)
    )
    return list(
        Membership.objects.filter(pk__in=ids.values("membership_id"))
        .exclude(end_month__lt=month)
        .select_related("worker")
        .order_by("number")
    )


@transaction.atomic
def cards_issue_for_programme(
    programme: FundingProgramme, user, *, today: dt.date | None = None
) -> list[Card]:
    """A card for every membership the programme funds now, in membership-number order: the
    same card again for those whose current card is still right, a new one (the old revoked
    as replaced) for the others. A few queries whatever the number of members."""
    today = today or timezone.localdate()
    key = signing_key_active()
    members = programme_members_now(programme, today)
    ids = [m.pk for m in members]
    fundings: dict[int, list[tuple[dt.date, dt.date | None]]] = {}
    rows = FundingAssignment.objects.filter(membership_id__in=ids).values_list(
        "membership_id", "first_month", "last_month"
    )
    for mid, first, last in rows.iterator():
        fundings.setdefault(mid, []).append((first, last))
    live = _live_cards(ids)
    keep: dict[int, Card] = {}
    new: list[Card] = []
    replaced: list[int] = []
    for m in members:
        through = _valid_through(m, fundings.get(m.pk, []), today)
        if through is None:  # funded this month, so not reached; skipped rather than stop
            continue
        card = live.get(m.pk)
        if card is not None and card.key_id == key.pk and card.valid_through == through:
            card.membership = m
            keep[m.pk] = card
            continue
        if card is not None:
            replaced.append(card.pk)
        new.append(
            Card(membership=m, key=key, issued_on=today, valid_through=through, issued_by=user)
        )
    if replaced:
        Card.objects.filter(pk__in=replaced, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_reason="replaced", revoked_by=user
        )
    for card in Card.objects.bulk_create(new, batch_size=1000):
        keep[card.membership_id] = card
    return [keep[m.pk] for m in members if m.pk in keep]


# -- the online check ------------------------------------------------------------------------


@dataclass(frozen=True)
class CardCheck:
    """The online answer for a scanned card: the token check plus revocation; `card` only
    when the token is genuine."""

    reason: str
    card: Card | None = None
    token: CardToken | None = None

    @property
    def ok(self) -> bool:
        return self.reason == OK

    @property
    def message(self) -> str:
        return str(REASONS[self.reason])


def card_check(token: str, today: dt.date) -> CardCheck:
    """Check a scanned token online: the offline check with every key the branch ever made,
    then retired keys, the card record (the signed fields must agree with it) and revocation."""
    keys = SigningKey.objects.values_list("kid", "public_key", "retired_at")
    public = {kid: b64url_decode(pk) for kid, pk, _r in keys}
    retired = {kid for kid, _pk, r in keys if r is not None}
    check = token_verify(token, public, today)
    if not check.ok:
        return CardCheck(check.reason, token=check.card)
    signed = check.card
    if signed.kid in retired:
        return CardCheck(RETIRED_KEY, token=signed)
    card = (
        Card.objects.filter(pk=signed.serial)
        .select_related("key", "membership__worker")
        .only(
            "issued_on",
            "valid_through",
            "revoked_at",
            "key__kid",
            "membership__number",
            "membership__start_month",
            "membership__end_month",
            "membership__worker__full_name",
            "membership__worker__nik",
        )
        .first()
    )
    if card is None or card_token_of(card) != signed:
        return CardCheck(ALTERED, token=signed)
    if card.revoked_at is not None:
        return CardCheck(REVOKED, token=signed)
    return CardCheck(OK, card=card, token=signed)
