"""Django admin for the registry. Lists show NIKs and phones masked; opening a worker's page is
the on-demand display of the whole record, and is written to the access log like any other."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from cakupan.registry.models import Heir, NikAccessLog, Occupation, Worker
from cakupan.registry.nik import mask_nik
from cakupan.registry.phones import mask_phone
from cakupan.registry.services import personal_display


@admin.register(Occupation)
class OccupationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sector", "vulnerable", "accident_risk", "active")
    list_filter = ("sector", "vulnerable", "accident_risk", "active")
    search_fields = ("code", "name", "aliases")


class HeirInline(admin.TabularInline):
    model = Heir
    extra = 0


@admin.register(Worker)
class WorkerAdmin(admin.ModelAdmin):
    list_display = ("full_name", "masked_nik", "masked_phone", "sex", "birth_date", "kelurahan")
    list_filter = ("occupation__sector", "sex", "source")
    search_fields = ("=nik", "full_name")
    raw_id_fields = ("kelurahan", "created_by")
    inlines = [HeirInline]
    show_full_result_count = False

    @admin.display(description="NIK")
    def masked_nik(self, obj: Worker) -> str:
        return mask_nik(obj.nik)

    @admin.display(description="HP")
    def masked_phone(self, obj: Worker) -> str:
        return mask_phone(obj.phone)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        worker = getattr(response, "context_data", {}).get("original")
        if request.method == "GET" and response.status_code == 200 and worker is not None:
            # the whole NIK, the heirs' NIKs and the phone are on this page
            personal_display(
                user=request.user,
                workers=[worker],
                action=NikAccessLog.Action.VIEW,
                path=request.path,
            )
        return response


@admin.register(NikAccessLog)
class NikAccessLogAdmin(admin.ModelAdmin):
    """Read-only: the access log is evidence and must not be edited."""

    list_display = ("at", "user", "worker", "action", "fields", "path")
    list_filter = ("action",)
    raw_id_fields = ("user", "worker")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
