from django.urls import path

from cakupan.coverage import views

app_name = "coverage"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("wilayah/<str:code>/", views.region, name="region"),
    path("grafik/<slug:key>.csv", views.chart_csv, name="chart_csv"),
    path("pekerja/", views.workers, name="workers"),
    path("pekerja/ekspor.<str:fmt>", views.workers_export, name="workers_export"),
    path("belum-terlindungi/", views.uncovered, name="uncovered"),
    path("risiko-putus/", views.lapse, name="lapse"),
    path("risiko-putus/ekspor.csv", views.lapse_export, name="lapse_export"),
    path("risiko-putus/hitung/", views.lapse_recount, name="lapse_recount"),
    path("bangun/", views.build, name="build"),
    path("dampak/", views.impact_index, name="impact_index"),
    path("dampak/<id:pk>/", views.impact, name="impact"),
    path("dampak/<id:pk>/ekspor.csv", views.impact_csv, name="impact_csv"),
    path("dampak/<id:pk>/laporan.pdf", views.impact_pdf, name="impact_pdf"),
    path("laporan/ucj.pdf", views.city_report, name="city_report"),
]
