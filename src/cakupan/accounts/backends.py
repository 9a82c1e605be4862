"""Authentication backend that grants permissions from a user's role."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from cakupan.accounts.roles import Role, permissions_for


class RoleBackend(ModelBackend):
    """Username/password login (Argon2) plus role-based permissions.

    The admin role has every permission, like a superuser; other roles get the fixed set in
    `cakupan.accounts.roles`. Permissions granted per user or group in the Django admin are
    added on top.
    """

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        perms = set(super().get_all_permissions(user_obj, obj))
        return perms | set(permissions_for(user_obj.role))

    def has_perm(self, user_obj, perm, obj=None):
        if user_obj.is_active and getattr(user_obj, "role", None) == Role.ADMIN:
            return True
        return perm in self.get_all_permissions(user_obj, obj)
