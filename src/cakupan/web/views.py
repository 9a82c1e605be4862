"""Pages of the web app itself: the dashboard and the error pages. Registry and account pages
live in their apps (registry.views, accounts.views)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cakupan.accounts.roles import (
    Role,
)
from cakupan.membership.selectors import funded_member_count
from cakupan.regions.selectors import city_code
from cakupan.registry.selectors import (
    registry_counts,
    worker_scope,
)
from cakupan.registry.vocabulary import sector_label


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/error.html", {"code": 403}, status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "web/error.html", {"code": 404}, status=404)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "web/error.html", {"code": 500}, status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token (an expired page, or a forged cross-site post):
    our error page, which the Content-Security-Policy allows, instead of Django's page with an
    inline style; the technical reason goes to the log only."""
    message = _(
        "The page's security token is missing or out of date. Reload the page and try again."
    )
    return render(request, "web/error.html", {"code": 403, "message": message}, status=403)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.role == Role.HOSPITAL:
        return redirect("web:verify")
    counts = registry_counts(user=user, city_code=city_code())
    month = timezone.localdate().replace(day=1)
    funded = funded_member_count(workers=worker_scope(user=user), month=month)
    top = max((n for _c, _n, n in counts.by_kecamatan), default=0) or 1
    return render(
        request,
        "web/dashboard.html",
        {
            "counts": counts,
            "funded": funded,
            "month": month,
            "kecamatan_rows": [
                (c, name, n, round(100 * n / top)) for c, name, n in counts.by_kecamatan
            ],
            "sector_rows": [(sector_label(s), n) for s, n in counts.by_sector],
        },
    )
