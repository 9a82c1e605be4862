"""Writes on users and API tokens."""

from __future__ import annotations

import secrets

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from cakupan.accounts.models import ApiToken, User
from cakupan.accounts.roles import Role


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    password: str | None = None,
    email: str = "",
    full_name: str = "",
    validate: bool = True,
    sponsor_id: int | None = None,
) -> tuple[User, str]:
    """Create a user with a role. Returns the user and the password (generated if none given).

    Raises ValueError with an Indonesian message when the username exists or the role is unknown;
    django ValidationError when the password is too weak.
    """
    if role not in Role.values:
        raise ValueError(
            f"Peran '{role}' tidak dikenal. Pilih salah satu: {', '.join(Role.values)}."
        )
    if User.objects.filter(username=username).exists():
        raise ValueError(f"Nama pengguna '{username}' sudah dipakai.")
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    if sponsor_id is not None and role != Role.SPONSOR:
        raise ValueError(
            "Hanya pengguna berperan 'sponsor' yang dapat dikaitkan dengan pemberi dana."
        )
    user = User(username=username, email=email, role=role, sponsor_id=sponsor_id)
    if full_name:
        first, _, last = full_name.partition(" ")
        user.first_name, user.last_name = first, last
    if validate and not generated:
        validate_password(password, user)
    user.is_staff = role == Role.ADMIN
    user.is_superuser = role == Role.ADMIN
    user.set_password(password)
    user.save()
    return user, password


@transaction.atomic
def token_create(*, user: User, name: str = "api") -> tuple[ApiToken, str]:
    """Create an API token for a user; the returned key is shown once and never stored."""
    key = "ckp_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=key[:8], digest=ApiToken.digest_of(key)
    )
    return token, key


def token_authenticate(*, key: str) -> User | None:
    """The active user a bearer key belongs to, or None; records when it was last used."""
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=ApiToken.digest_of(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Writing on every request would serialise API reads on SQLite; once a minute is enough.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
