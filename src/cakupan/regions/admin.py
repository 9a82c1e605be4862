from django.contrib import admin

from cakupan.regions.models import Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "retired_on")
    list_filter = ("level",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
