"""The claims pages under /klaim/: claims, their facts and workflow, the hospital's first report
and the family's view (urls_claims); bank batches, the bank's return and the scholarships due
(urls_payments)."""

from django.urls import include, path

app_name = "claims"
urlpatterns = [
    path("", include("cakupan.claims.urls_claims")),
    path("", include("cakupan.claims.urls_payments")),
]
