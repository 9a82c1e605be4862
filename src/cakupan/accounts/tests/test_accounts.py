"""Users, roles and API tokens."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from cakupan.accounts.models import ApiToken
from cakupan.accounts.roles import ROLE_PERMISSIONS, Role
from cakupan.accounts.services import token_authenticate, token_create, token_revoke, user_create

pytestmark = pytest.mark.django_db


def test_generated_password_and_role_permissions() -> None:
    user, password = user_create(username="rina", role=Role.BPJS_OFFICER)
    assert len(password) >= 12 and user.check_password(password)
    assert user.has_perm("registry.view_full_nik") and not user.has_perm("funding.nonexistent")
    clerk, _ = user_create(username="rs", role=Role.HOSPITAL)
    assert clerk.get_all_permissions() == set(ROLE_PERMISSIONS[Role.HOSPITAL])


def test_admin_role_has_every_permission_and_the_admin_site() -> None:
    admin, _ = user_create(username="root", role=Role.ADMIN)
    assert admin.is_staff and admin.has_perm("anything.at_all")


def test_refusals() -> None:
    user_create(username="rina", role=Role.CITY_OFFICER)
    with pytest.raises(ValueError, match="sudah dipakai"):
        user_create(username="rina", role=Role.CITY_OFFICER)
    with pytest.raises(ValueError, match="tidak dikenal"):
        user_create(username="x", role="raja")
    with pytest.raises(ValidationError):
        user_create(username="y", role=Role.SPONSOR, password="12345678")


def test_token_is_stored_hashed_and_can_be_revoked() -> None:
    user, _ = user_create(username="rina", role=Role.CITY_OFFICER)
    token, key = token_create(user=user, name="laptop")
    assert (
        key.startswith("ckp_")
        and key not in token.digest
        and token.digest == ApiToken.digest_of(key)
    )
    assert token_authenticate(key=key) == user
    token_revoke(token=token)
    assert token_authenticate(key=key) is None
    user.is_active = False
    user.save()
    _t, other = token_create(user=user)
    assert token_authenticate(key=other) is None
