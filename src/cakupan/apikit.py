"""Shared pieces of the JSON API: authentication, permission checks, safe text types."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import AfterValidator


def _permitted(user: Any, perm: str | None) -> Any:
    # Checked during authentication, before the body is parsed: a role without the right gets
    # a 403 whatever it sent, never a 422 describing the fields it may not write.
    if user is None:
        return None
    if perm and not user.has_perm(perm):
        raise HttpError(403, "Peran Anda tidak berhak atas data ini.")
    return user


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
    """The browser's session cookie (CSRF checked on writes), for pages that call the API."""

    param_name = "sessionid"

    def __init__(self, perm: str | None = None) -> None:
        super().__init__()
        self.perm = perm

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return _permitted(user, self.perm)


AUTH = [TokenAuth(), SessionAuth()]


def auth_for(perm: str) -> list[Any]:
    """Authentication that also requires `perm` (403 otherwise)."""
    return [TokenAuth(perm), SessionAuth(perm)]


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
