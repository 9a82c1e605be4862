from django.urls import path

from cakupan.calculate import views

app_name = "calculate"
urlpatterns = [
    path("iuran/", views.contribution_view, name="contribution"),
    path("manfaat/", views.benefits_view, name="benefits"),
]
