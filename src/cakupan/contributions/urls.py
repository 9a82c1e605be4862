"""The ledger's pages under /iuran/; card verification (/v/…) is mounted at the root."""

from django.urls import include, path

app_name = "contributions"
urlpatterns = [
    path("", include("cakupan.contributions.urls_billing")),
    path("", include("cakupan.contributions.urls_payments")),
]
