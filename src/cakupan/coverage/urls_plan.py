"""The planner's and the inputs' pages, mounted at /cakupan/ (the dashboard's are in urls.py)."""

from django.urls import path

from cakupan.coverage import views_inputs, views_plan

app_name = "coverage_plan"
urlpatterns = [
    path("masukan/", views_inputs.inputs_view, name="inputs"),
    path("masukan/<slug:slug>/baru/", views_inputs.input_form_view, name="input_create"),
    path("masukan/<slug:slug>/unggah/", views_inputs.input_upload_view, name="input_upload"),
    path("masukan/<slug:slug>/<id:pk>/", views_inputs.input_form_view, name="input_edit"),
    path("masukan/<slug:slug>/<id:pk>/hapus/", views_inputs.input_delete_view, name="input_delete"),
    path("rencana/", views_plan.planner_view, name="planner"),
    path("rencana/pekerja.csv", views_plan.planner_csv_view, name="planner_csv"),
    path("rencana/simpan/", views_plan.planner_save_view, name="planner_save"),
    path("rencana/skenario/", views_plan.scenario_list_view, name="scenario_list"),
    path("rencana/skenario/banding/", views_plan.scenario_compare_view, name="scenario_compare"),
    path("rencana/skenario/<id:pk>/", views_plan.scenario_detail_view, name="scenario_detail"),
    path(
        "rencana/skenario/<id:pk>/unduh.<str:fmt>",
        views_plan.scenario_export_view,
        name="scenario_export",
    ),
    path(
        "rencana/skenario/<id:pk>/program/",
        views_plan.scenario_programme_view,
        name="scenario_programme",
    ),
]
