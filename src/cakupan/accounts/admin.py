from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from cakupan.accounts.models import ApiToken, User


@admin.register(User)
class CakupanUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Cakupan", {"fields": ("role", "sponsor")}))
    add_fieldsets = (*UserAdmin.add_fieldsets, ("Cakupan", {"fields": ("role", "sponsor")}))
    list_display = ("username", "email", "role", "sponsor", "is_active", "last_login")
    list_filter = ("role", "is_active")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")
