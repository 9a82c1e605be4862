from django.urls import path

from cakupan.funding import views

app_name = "funding"
urlpatterns = [
    path("", views.programme_list_view, name="programme_list"),
    path("baru/", views.programme_create_view, name="programme_create"),
    path("pemberi-dana/baru/", views.sponsor_create_view, name="sponsor_create"),
    path("<id:pk>/", views.programme_detail_view, name="programme_detail"),
]
