"""URLs of the ledger's payments pages (namespace "contributions")."""

from django.urls import path

from cakupan.contributions.views import payments as v

urlpatterns: list = [
    path("pembayaran/", v.payment_list_view, name="payment_list"),
    path("pembayaran/baru/", v.payment_create_view, name="payment_create"),
    path("pembayaran/<int:pk>/", v.payment_detail_view, name="payment_detail"),
    path("pembayaran/<int:pk>/batal/", v.payment_reverse_view, name="payment_reverse"),
    path("mutasi/", v.statement_upload_view, name="statement_upload"),
    path("mutasi/<int:pk>/", v.statement_detail_view, name="statement_detail"),
    path("mutasi/<int:pk>/simpan/", v.statement_save_view, name="statement_save"),
    path("mutasi/<int:pk>/buang/", v.statement_discard_view, name="statement_discard"),
    path("belum-cocok/", v.unmatched_list_view, name="unmatched_list"),
    path("belum-cocok/<int:pk>/usul/", v.unmatched_propose_view, name="unmatched_propose"),
    path("usulan/<int:pk>/putuskan/", v.unmatched_decide_view, name="unmatched_decide"),
]
