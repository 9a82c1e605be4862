from django.urls import path

from cakupan.membership import views

app_name = "membership"
urlpatterns = [
    path("program/<id:programme_pk>/unggah/", views.upload_view, name="upload"),
    path("impor/<id:pk>/", views.batch_detail_view, name="batch_detail"),
    path("impor/<id:pk>/kolom/", views.mapping_view, name="batch_mapping"),
    path("impor/<id:pk>/simpan/", views.batch_commit_view, name="batch_commit"),
    path("impor/<id:pk>/batal/", views.batch_cancel_view, name="batch_cancel"),
    path("impor/<id:pk>/ulang/", views.batch_restart_view, name="batch_restart"),
    path("impor/<id:pk>/buang/", views.batch_discard_view, name="batch_discard"),
    path("impor/<id:pk>/nilai/", views.batch_values_view, name="batch_values"),
    path("impor/<id:pk>/laporan.csv", views.batch_report_view, name="batch_report"),
    path("templat.<str:kind>", views.template_view, name="template"),
    path("tinjauan/", views.review_list_view, name="review_list"),
    path("tinjauan/<id:pk>/", views.review_decide_view, name="review_decide"),
    path(
        "tautan-otomatis/<id:pk>/batalkan/",
        views.auto_link_reverse_view,
        name="auto_link_reverse",
    ),
    path("pekerja/<id:worker_pk>/daftar/", views.enrol_worker_view, name="enrol_worker"),
    path("kepesertaan/<id:pk>/mandiri/", views.self_payment_view, name="self_payment"),
]
