"""URLs of the ledger's billing pages (namespace "contributions", under /iuran/)."""

from django.urls import path

from cakupan.contributions.views import billing as views

urlpatterns: list = [
    path("", views.overview, name="overview"),
    path("penagihan/", views.billing_start_view, name="billing_start"),
    path("penagihan/<int:pk>/", views.billing_run_view, name="billing_run"),
    path("invoice/", views.invoice_list, name="invoice_list"),
    path("invoice/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoice/<int:pk>/unduh/<str:fmt>/", views.invoice_download, name="invoice_download"),
    path("prakiraan/", views.forecast_view, name="forecast"),
    path("prakiraan/ringkas/", views.forecast_summary, name="forecast_summary"),
    path("prakiraan/unduh/<str:fmt>/", views.forecast_export, name="forecast_export"),
]
