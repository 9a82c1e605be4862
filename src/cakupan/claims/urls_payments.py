"""Bank batches and the bank's return; the scholarship instalments due and the reminders."""

from django.urls import path

from cakupan.claims.views import payments, scholarships

urlpatterns: list = [
    path("pembayaran/", payments.pay_overview_view, name="pay_overview"),
    path("pembayaran/batch/", payments.batch_create_view, name="batch_create"),
    path(
        "pembayaran/batch/<id:pk>.<str:fmt>",
        payments.batch_download_view,
        name="batch_download",
    ),
    path("pembayaran/retur/", payments.return_upload_view, name="return_upload"),
    path("beasiswa/", scholarships.due_view, name="due_list"),
    path("beasiswa/ekspor.<str:fmt>", scholarships.due_export_view, name="due_export"),
    path("beasiswa/pengingat/", scholarships.reminder_view, name="reminders"),
    path(
        "beasiswa/pengingat/ekspor.<str:fmt>",
        scholarships.reminder_export_view,
        name="reminder_export",
    ),
]
