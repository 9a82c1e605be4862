from django.contrib import admin

from cakupan.registry.models import Heir, NikAccessLog, Occupation, Worker


@admin.register(Occupation)
class OccupationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sector", "vulnerable", "active")
    list_filter = ("sector", "vulnerable", "active")
    search_fields = ("code", "name", "aliases")


class HeirInline(admin.TabularInline):
    model = Heir
    extra = 0


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    list_display = ("full_name", "nik", "sex", "birth_date", "kelurahan", "occupation")
    list_filter = ("occupation__sector", "sex", "source")
    search_fields = ("=nik", "full_name")
    raw_id_fields = ("kelurahan", "created_by")
    inlines = [HeirInline]
    show_full_result_count = False


@admin.register(NikAccessLog)
class NikAccessLogAdmin(admin.ModelAdmin):
    """Read-only: the access log is evidence and must not be edited."""

    list_display = ("at", "user", "worker", "action", "path")
    list_filter = ("action",)
    raw_id_fields = ("user", "worker")
    show_full_result_count = False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
