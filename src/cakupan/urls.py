"""URL map: the web app, the JSON API under /api/, and the Django admin."""

from django.contrib import admin
from django.urls import include, path

import cakupan.converters  # noqa: F401  (registers the "id" path converter)
from cakupan.api import api

urlpatterns = [
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("hitung/", include("cakupan.calculate.urls")),
    path("program/", include("cakupan.funding.urls")),
    path("pendaftaran/", include("cakupan.membership.urls")),
    path("iuran/", include("cakupan.contributions.urls")),
    path("klaim/", include("cakupan.claims.urls")),
    path("cakupan/", include("cakupan.coverage.urls")),
    path("cakupan/", include("cakupan.coverage.urls_plan")),
    path("", include("cakupan.contributions.urls_cards")),
    path("", include("cakupan.web.urls")),
]

handler403 = "cakupan.web.views.error_403"
handler404 = "cakupan.web.views.error_404"
handler500 = "cakupan.web.views.error_500"
