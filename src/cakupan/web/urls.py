from django.contrib.auth import views as auth_views
from django.urls import path

from cakupan.web import views

app_name = "web"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path(
        "masuk/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path("pekerja/", views.worker_list_view, name="worker_list"),
    path("pekerja/baru/", views.worker_create_view, name="worker_create"),
    path("pekerja/ekspor.csv", views.worker_export, name="worker_export"),
    path("pekerja/kelurahan/", views.kelurahan_options, name="kelurahan_options"),
    path("pekerja/<id:pk>/", views.worker_detail, name="worker_detail"),
    path("pekerja/<id:pk>/ubah/", views.worker_edit_view, name="worker_edit"),
    path("pekerja/<id:pk>/ahli-waris/", views.heir_add_view, name="heir_add"),
    path(
        "pekerja/<id:pk>/ahli-waris/<id:heir_pk>/hapus/", views.heir_remove_view, name="heir_remove"
    ),
    path("nik/", views.nik_check_view, name="nik_check"),
    path("verifikasi/", views.verify_view, name="verify"),
    path("token/", views.tokens_view, name="tokens"),
]
