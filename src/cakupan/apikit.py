"""Shared pieces of the JSON API: authentication, permission checks, the body parser, safe
text types."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.parser import Parser
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf
from pydantic import AfterValidator

ROLE_REFUSED = "Peran Anda tidak berhak atas data ini."


def unauthenticated_message(sent_header: bool) -> str:
    """The 401's sentence: a token that was refused, or none sent."""
    if sent_header:
        return _(
            "The API token is not valid: it is wrong, revoked, or its user is deactivated."
            " Create a new token on the “API tokens” page."
        )
    return _("Not signed in: send the header 'Authorization: Bearer <token>'.")


def _permitted(user: Any, perm: str | None) -> Any:
    # Checked during authentication, before the body is parsed: a role without the right gets
    # a 403 whatever it sent, never a 422 describing the fields it may not write.
    if user is None:
        return None
    if perm and not user.has_perm(perm):
        raise HttpError(403, ROLE_REFUSED)
    return user


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` header as ninja's HttpBearer reads it (the
    scheme in any case, everything after the first space), or None for another scheme."""
    if not header:
        return None
    parts = header.split(" ")
    if parts[0].lower() != "bearer":
        return None
    return " ".join(parts[1:])


class TokenAuth(HttpBearer):
    """`Authorization: Bearer ckp_…` with a per-user token (see `cakupan token create`)."""

    openapi_description = "Per-user API token: `cakupan token create USERNAME`"

    def __init__(self, perm: str | None = None) -> None:
        super().__init__()
        self.perm = perm

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from cakupan.accounts.services import token_authenticate

        user = token_authenticate(key=token)
        if user is not None:
            request.user = user
        return _permitted(user, self.perm)


class SessionAuth(APIKeyCookie):
    """The browser's session cookie (CSRF checked on writes), for pages that call the API.

    A request that carries an Authorization header is judged by its token alone: a wrong,
    revoked or deactivated token is a 401 even beside a valid session cookie, and is never
    answered with a CSRF failure. Only a signed-in browser session meets the CSRF check.
    """

    param_name = "sessionid"

    def __init__(self, perm: str | None = None) -> None:
        super().__init__(csrf=True)
        self.perm = perm

    def __call__(self, request: HttpRequest) -> Any:
        # ninja's cookie auth checks CSRF before it looks at the session, so an anonymous or
        # token request used to get "CSRF check Failed" instead of 401; check it only for a
        # signed-in session, the one case a forged cross-site request could use.
        if "authorization" in request.headers:
            return None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(
                403,
                _(
                    "The page's security token is missing or out of date. Reload the page and"
                    " try again."
                ),
            )
        return self.authenticate(request, request.COOKIES.get(self.param_name))

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return _permitted(request.user, self.perm)


class RememberedTokens:
    """Bearer tokens already checked, kept in this process for `seconds`: each key's user and
    whether that user holds `perm`, so that a busy endpoint does not read the token, the user
    and the role's grants on every call. Looked up by the same `token_authenticate` as
    TokenAuth (the same digest, revocation and active-user rules, and `last_used_at`); a
    revoked token, a deactivated user or a changed role therefore takes effect within
    `seconds` (a grant made in the admin: within RoleBackend.ADMIN_GRANTS_SECONDS more).
    Refused keys are not remembered: a new token works at once."""

    SECONDS = 5.0
    SIZE = 10_000

    def __init__(
        self,
        perm: str,
        seconds: float = SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.perm = perm
        self.seconds = seconds
        self.clock = clock
        self._known: dict[str, tuple[float, Any, bool]] = {}
        self._lock = threading.Lock()

    def user(self, key: str) -> tuple[Any, bool]:
        """(user, holds perm) for a key, (None, False) for a key that is not valid."""
        from cakupan.accounts.services import token_authenticate

        now = self.clock()
        known = self._known.get(key)
        if known is not None and known[0] > now:
            return known[1], known[2]
        user = token_authenticate(key=key)
        if user is None:
            with self._lock:
                self._known.pop(key, None)
            return None, False
        permitted = bool(user.has_perm(self.perm))
        with self._lock:
            if len(self._known) >= self.SIZE:
                self._known.clear()
            self._known[key] = (now + self.seconds, user, permitted)
        return user, permitted


AUTH = [TokenAuth(), SessionAuth()]


def auth_for(perm: str) -> list[Any]:
    """Authentication that also requires `perm` (403 otherwise)."""
    return [TokenAuth(perm), SessionAuth(perm)]


class BodyNotObject(ValueError):
    """A JSON body that is valid JSON but not an object (`true`, `[]`, `"x"`, `null`)."""


class ObjectBodyParser(Parser):
    """Every body this API accepts is a JSON object. ninja would read the fields of `true` or
    `[]` as all missing, so a PATCH with such a body changed nothing yet answered 200 (and
    touched the worker); refusing it here makes it a 422 for every operation at once."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise BodyNotObject(type(data).__name__)
        return data


def _clean_text(value: str) -> str:
    # PostgreSQL refuses NUL in text and neither database can store lone surrogates: refuse
    # them here as a 422 instead of failing at the database as a 500.
    if "\x00" in value:
        raise ValueError("Teks tidak boleh berisi karakter NUL.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("Teks berisi karakter yang tidak sah.") from None
    return value


Text = Annotated[str, AfterValidator(_clean_text)]


class FieldErrors(Exception):
    """A 422 whose detail names each field and the fix, like pydantic's own errors."""

    def __init__(
        self, errors: dict[str, list[str]], *, existing: str | None = None, loc: str = "body"
    ):
        self.detail = [
            {"loc": [loc, field], "msg": msg, "type": "value_error"}
            for field, msgs in errors.items()
            for msg in msgs
        ]
        self.existing = existing
        super().__init__("; ".join(d["msg"] for d in self.detail))
