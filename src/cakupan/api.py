"""The JSON API under /api/v1/: assembles each app's router, and turns every error into JSON."""

from __future__ import annotations

import logging

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from cakupan.apikit import AUTH, FieldErrors
from cakupan.calculate.api import router as calculate_router
from cakupan.funding.api import router as funding_router
from cakupan.membership.api import router as membership_router
from cakupan.regions.api import router as regions_router
from cakupan.registry.api import router as registry_router
from cakupan.throttle import Throttled

log = logging.getLogger(__name__)

api = NinjaAPI(
    title="cakupan API",
    version="1",
    description="Cakupan Jamsostek: regions, worker registry. All money is integer Rupiah.",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=AUTH,
)
api.add_router("/v1/", regions_router)
api.add_router("/v1/", registry_router)
api.add_router("/v1/", calculate_router)
api.add_router("/v1/", funding_router)
api.add_router("/v1/", membership_router)


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail = [
        {"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors
    ]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": "Belum masuk: kirim header 'Authorization: Bearer <token>'."},
        status=401,
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Tidak ditemukan."}, status=404)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    response = api.create_response(request, {"detail": str(exc)}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(FieldErrors)
def _field_errors(request: HttpRequest, exc: FieldErrors) -> HttpResponse:
    body: dict = {"detail": exc.detail}
    if exc.existing:
        body["existing"] = exc.existing
    return api.create_response(request, body, status=422)
