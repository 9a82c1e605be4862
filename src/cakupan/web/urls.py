from django.contrib.auth import views as auth_views
from django.urls import path

from cakupan.accounts import views as account_views
from cakupan.registry import views as registry_views
from cakupan.web import views

# The pages keep one namespace ("web:…") whichever app they live in: templates and links
# name a page, not the module behind it.

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
    path("pekerja/", registry_views.worker_list_view, name="worker_list"),
    path("pekerja/baru/", registry_views.worker_create_view, name="worker_create"),
    path("pekerja/ekspor.csv", registry_views.worker_export, name="worker_export"),
    path("pekerja/kelurahan/", registry_views.kelurahan_options, name="kelurahan_options"),
    path("pekerja/<id:pk>/", registry_views.worker_detail, name="worker_detail"),
    path("pekerja/<id:pk>/ubah/", registry_views.worker_edit_view, name="worker_edit"),
    path("pekerja/<id:pk>/ahli-waris/", registry_views.heir_add_view, name="heir_add"),
    path(
        "pekerja/<id:pk>/ahli-waris/<id:heir_pk>/hapus/",
        registry_views.heir_remove_view,
        name="heir_remove",
    ),
    path("nik/", registry_views.nik_check_view, name="nik_check"),
    path("verifikasi/", registry_views.verify_view, name="verify"),
    path("token/", account_views.tokens_view, name="tokens"),
]
