"""Claims, their facts, family and workflow; the hospital's first report; the family's view."""

from django.urls import path

from cakupan.claims.views import claims as views

urlpatterns: list = [
    path("", views.claim_list_view, name="list"),
    path("baru/", views.claim_file_view, name="file"),
    path("laporan-kecelakaan/", views.accident_report_view, name="report"),
    path("<id:pk>/", views.claim_detail_view, name="detail"),
    path("<id:pk>/keluarga/", views.claim_family_view, name="family"),
    path("<id:pk>/versi/<id:number>/", views.claim_version_view, name="version"),
    path("<id:pk>/stmb/", views.incapacity_add_view, name="incapacity_add"),
    path("<id:pk>/cacat/", views.assessment_add_view, name="assessment_add"),
    path("<id:pk>/biaya/", views.cost_add_view, name="cost_add"),
    path("<id:pk>/akibat/", views.outcome_view, name="outcome"),
    path("<id:pk>/ahli-waris/", views.party_add_view, name="party_add"),
    path("<id:pk>/ahli-waris/<id:party_pk>/", views.party_edit_view, name="party_edit"),
    path("<id:pk>/verifikasi/", views.verify_view, name="verify"),
    path("<id:pk>/setujui/", views.approve_view, name="approve"),
    path("<id:pk>/tolak/", views.reject_view, name="reject"),
    path(
        "<id:pk>/transfer/<id:instruction_pk>/kirim-ulang/",
        views.reissue_view,
        name="reissue",
    ),
    path("<id:pk>/beasiswa/<id:instalment_pk>/bukti/", views.proof_view, name="proof"),
    path(
        "<id:pk>/beasiswa/anak/<id:party_pk>/berhenti/",
        views.scholarship_stop_view,
        name="scholarship_stop",
    ),
]
