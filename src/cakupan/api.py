"""The JSON API under /api/v1/: assembles each app's router, turns every error into JSON, and
documents those error answers on every operation of the OpenAPI."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI, Schema, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from pydantic import Field
from pydantic.json_schema import models_json_schema

from cakupan.apikit import (
    AUTH,
    BodyNotObject,
    FieldErrors,
    ObjectBodyParser,
    unauthenticated_message,
)
from cakupan.calculate.api import router as calculate_router
from cakupan.claims.api import router as claims_router
from cakupan.contributions.api import router as contributions_router
from cakupan.coverage.api import router as coverage_router
from cakupan.errors import Refused
from cakupan.funding.api import router as funding_router
from cakupan.membership.api import router as membership_router
from cakupan.regions.api import router as regions_router
from cakupan.registry.api import router as registry_router
from cakupan.throttle import Throttled

log = logging.getLogger(__name__)


class Message(Schema):
    """An error answer with one sentence."""

    detail: str = Field(..., description="What went wrong and what to do, in the user's language")


class FieldProblem(Schema):
    loc: list[str | int] = Field(..., description='Where: e.g. ["body", "nik"]')
    msg: str = Field(..., description="The problem and its fix, in the user's language")
    type: str


class FieldProblems(Schema):
    """A 422: every problem of the input, each naming its field."""

    detail: list[FieldProblem]
    existing: str | None = Field(
        None, description="For a duplicate NIK: the API path of the worker already registered"
    )


# Every operation can answer these, whatever its own responses say: authentication runs first,
# the role's permission next, then path lookups and the body.
ERROR_ANSWERS: dict[str, tuple[str, type[Schema]]] = {
    "401": ("Not signed in, or the token is wrong, revoked or its user deactivated", Message),
    "403": (
        "The role may not do this (checked before the body is read), or a browser session"
        " sent no valid CSRF token",
        Message,
    ),
    "404": ("Not found, or outside what the user may see", Message),
    "422": ("The input is invalid: each problem names its field and the fix", FieldProblems),
}
BODY_ANSWER = ("400", "The body is not valid JSON", Message)


class CakupanAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        _document_errors(schema)
        return schema


def _document_errors(schema: OpenAPISchema) -> None:
    """Add the error answers to every operation once, here, instead of on each route."""
    _keys, defs = models_json_schema(
        [(Message, "validation"), (FieldProblems, "validation")],
        ref_template="#/components/schemas/{model}",
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, definition in defs["$defs"].items():
        components.setdefault(name, definition)

    def answer(description: str, model: type[Schema]) -> dict:
        ref = {"$ref": f"#/components/schemas/{model.__name__}"}
        return {"description": description, "content": {"application/json": {"schema": ref}}}

    for operations in schema["paths"].values():
        for operation in operations.values():
            # ninja keys the declared answers by int; JSON object keys are strings, so an int
            # 422 beside a str "422" would be a duplicate key that Swagger UI cannot parse.
            responses = {str(k): v for k, v in operation.get("responses", {}).items()}
            operation["responses"] = responses
            for status, (description, model) in ERROR_ANSWERS.items():
                responses.setdefault(status, answer(description, model))
            if "requestBody" in operation:
                status, description, model = BODY_ANSWER
                responses.setdefault(status, answer(description, model))


api = CakupanAPI(
    title="cakupan API",
    version="1",
    description="Cakupan Jamsostek: regions, worker registry. All money is integer Rupiah.",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=AUTH,
    parser=ObjectBodyParser(),
    # The docs page is served from django-ninja's own static files ("ninja" is an installed
    # app); Swagger UI's default would fetch a validator badge from an outside host.
    docs=Swagger(settings={"validatorUrl": None}),
)
api.add_router("/v1/", regions_router)
api.add_router("/v1/", registry_router)
api.add_router("/v1/", calculate_router)
api.add_router("/v1/", funding_router)
api.add_router("/v1/", membership_router)
api.add_router("/v1/", contributions_router)
api.add_router("/v1/claims", claims_router)
api.add_router("/v1/coverage", coverage_router)


# The schema checks' own messages are pydantic's English; these say the same in the user's
# language, by the error's type (its `ctx` fills the placeholders). A type not listed keeps
# pydantic's message.
_DATE = gettext_lazy("Write the date as YYYY-MM-DD, e.g. 2026-11-03.")
_WHOLE = gettext_lazy("Give a whole number (no separators, no decimals).")
VALIDATION_MESSAGES = {
    "missing": gettext_lazy("This field is required: give it."),
    "literal_error": gettext_lazy("Choose one of: %(expected)s."),
    "enum": gettext_lazy("Choose one of: %(expected)s."),
    "date_from_datetime_parsing": _DATE,
    "date_parsing": _DATE,
    "date_type": _DATE,
    "date_from_datetime_inexact": _DATE,
    "int_parsing": _WHOLE,
    "int_type": _WHOLE,
    "int_from_float": _WHOLE,
    "bool_parsing": gettext_lazy("Give true or false."),
    "bool_type": gettext_lazy("Give true or false."),
    "string_type": gettext_lazy("Give text."),
    "string_too_long": gettext_lazy("At most %(max_length)s characters."),
    "greater_than_equal": gettext_lazy("Give %(ge)s or more."),
    "less_than_equal": gettext_lazy("Give %(le)s or less."),
    "greater_than": gettext_lazy("Give more than %(gt)s."),
    "less_than": gettext_lazy("Give less than %(lt)s."),
    "extra_forbidden": gettext_lazy("Unknown field: remove it."),
}


def _validation_message(error: dict) -> str:
    message = VALIDATION_MESSAGES.get(error.get("type", ""))
    if message is None:
        return error.get("msg", "")
    try:
        return str(message) % {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    except (KeyError, ValueError, TypeError):
        return error.get("msg", "")


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    detail = [
        {"loc": list(e.get("loc", [])), "msg": _validation_message(e), "type": e.get("type", "")}
        for e in exc.errors
    ]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = unauthenticated_message(bool(request.headers.get("Authorization")))
    response = api.create_response(request, {"detail": message}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="cakupan"'
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or _("Not found.")}, status=404)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja wraps a body its parser refused in a 400 "Cannot parse request body"; say why.
    cause = exc.__cause__
    if isinstance(cause, BodyNotObject):
        problem = {
            "loc": ["body"],
            "msg": _(
                "The request body must be a JSON object ({…}) with the fields to write;"
                " nothing was saved."
            ),
            "type": "not_an_object",
        }
        return api.create_response(request, {"detail": [problem]}, status=422)
    if isinstance(cause, json.JSONDecodeError | UnicodeDecodeError):
        message = _("The request body is not valid JSON; nothing was saved.")
        return api.create_response(request, {"detail": message}, status=400)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(Refused)
def _refused(request: HttpRequest, exc: Refused) -> HttpResponse:
    """Every refusal a user can fix, in one shape: 422 (429 for a rate limit) naming the field."""
    if isinstance(exc, Throttled):
        response = api.create_response(request, {"detail": exc.message}, status=exc.status)
        response["Retry-After"] = str(exc.retry_after)
        return response
    return api.create_response(request, {"detail": [exc.detail()]}, status=exc.status)


@api.exception_handler(FieldErrors)
def _field_errors(request: HttpRequest, exc: FieldErrors) -> HttpResponse:
    body: dict = {"detail": exc.detail}
    if exc.existing:
        body["existing"] = exc.existing
    return api.create_response(request, body, status=422)
