"""Authentication backend that grants permissions from a user's role."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

from cakupan.accounts.roles import Role, permissions_for


class RoleBackend(ModelBackend):
    """Username/password login (Argon2) plus role-based permissions.

    The admin role has every permission, like a superuser; other roles get the fixed set in
    `cakupan.accounts.roles`. Permissions granted per user or group in the Django admin are
    added on top.
    """

    # Grants made per user or group in the Django admin are read from the database at most
    # once a minute per user and process (two queries every API call would otherwise pay):
    # such a grant or withdrawal takes effect within a minute.
    ADMIN_GRANTS_SECONDS = 60

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        key = f"cakupan-perms:{user_obj.pk}"
        granted = cache.get(key)
        if granted is None:
            granted = frozenset(super().get_all_permissions(user_obj, obj))
            cache.set(key, granted, self.ADMIN_GRANTS_SECONDS)
        return set(granted) | set(permissions_for(user_obj.role))

    def has_perm(self, user_obj, perm, obj=None):
        if user_obj.is_active and getattr(user_obj, "role", None) == Role.ADMIN:
            return True
        return perm in self.get_all_permissions(user_obj, obj)
