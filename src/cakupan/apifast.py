"""The hospital's protection check, `GET /api/v1/verify` with a bearer token, answered in
front of Django's middleware and django-ninja: the endpoint is load-tested at 1,500 requests a
second on two cores, where the whole stack (about 2.5 ms a call) and a commit per call to the
access log would not do.

`VerifyFastPath` wraps the WSGI application `cakupan serve` runs (`cakupan.wsgi`). It answers
only `GET /api/v1/verify` carrying `Authorization: Bearer …` for an allowed host (and, with
CAKUPAN_HTTPS, over HTTPS); everything else, a browser session among it, goes to Django, which
also documents the operation (the ninja route in contributions/api/verify.py). It answers as
that route does, through the same pieces:
- the token through `token_authenticate` (as TokenAuth), the user and whether the role holds
  "verify membership" remembered per process for RememberedTokens.SECONDS (5 s): a revoked
  token, a deactivated user or a changed role stop working within that time;
- the same throttle (django-ratelimit, group "verify", 429 with Retry-After), the same
  `verify_answer` (parse_lookup, parse_date, verify, the body in VerifyOut's shape) written by
  ninja's JSON encoder, the same error bodies, the language of the cookie as
  LanguageMiddleware chooses it, and the headers of the middleware that add them (passed
  through that middleware once per status and language, then reused);
- the access log through `AccessLogBuffer`: every call is logged with its own time, written in
  batches by a thread of each process at least every 0.25 s and when the worker stops (a
  process killed outright loses at most the last 0.25 s of rows).
test_verify_fast.py holds the two paths' answers equal, byte for byte and header for header.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from http.client import responses
from typing import Any

from csp.middleware import CSPMiddleware
from django.core.exceptions import DisallowedHost
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIRequest
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware
from django.middleware.security import SecurityMiddleware
from django.utils import translation
from django.utils.log import log_response
from ninja.responses import NinjaJSONEncoder

from cakupan.accounts.roles import VERIFY_MEMBERSHIP
from cakupan.apikit import ROLE_REFUSED, RememberedTokens, bearer_token, unauthenticated_message
from cakupan.contributions.api.verify import verify_answer
from cakupan.contributions.verify import NotFound
from cakupan.errors import Refused
from cakupan.registry.accesslog import AccessLogBuffer
from cakupan.throttle import Throttled
from cakupan.web.middleware import (
    LanguageMiddleware,
    NoStoreMiddleware,
    chosen_language,
    database_busy_message,
    is_database_busy,
)

PATH = "/api/v1/verify"
JSON = "application/json; charset=utf-8"


def _log_refused(request: WSGIRequest, status: int) -> None:
    """The line Django writes for a 4xx or 5xx answer (one line per refusal, see requestlog)."""

    class Answered:
        status_code = status

    log_response("%s: %s", responses[status], request.path, response=Answered(), request=request)


def _no_view(request):  # the middleware below only process responses
    raise AssertionError("not called")


class VerifyFastPath:
    """A WSGI application: the verify check with a bearer token answered here, every other
    request passed to `app` (Django's)."""

    def __init__(
        self,
        app: Callable[..., Iterable[bytes]],
        *,
        log: AccessLogBuffer | None = None,
        tokens: RememberedTokens | None = None,
    ) -> None:
        self.app = app
        if log is None:
            from django.conf import settings

            log = AccessLogBuffer(interval=settings.CAKUPAN_ACCESS_LOG_SECONDS)
        self.log = log
        self.tokens = tokens if tokens is not None else RememberedTokens(VERIFY_MEMBERSHIP)
        # the headers Django's middleware adds to an API answer, in the order they add them
        # (settings.MIDDLEWARE, last first); the others do nothing for a token request
        self._added: dict[tuple, list[tuple[str, str]]] = {}
        self._response_middleware = [
            cls(_no_view)
            for cls in (
                XFrameOptionsMiddleware,
                CommonMiddleware,
                LanguageMiddleware,
                NoStoreMiddleware,
                CSPMiddleware,
                SecurityMiddleware,
            )
        ]

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "GET":
            return self.app(environ, start_response)
        key = bearer_token(environ.get("HTTP_AUTHORIZATION"))
        if key is None:
            return self.app(environ, start_response)
        request = WSGIRequest(environ)
        if not self._servable(request):
            return self.app(environ, start_response)
        status, headers, body = self.answer(request, key)
        start_response(status, headers)
        # no Django response to close: closing one sends request_finished, which would close
        # this thread's database connection; the lean path keeps it for the next call
        return [body]

    def _servable(self, request: WSGIRequest) -> bool:
        """Whether Django would reach the view: an allowed host (else a 400) and, under
        CAKUPAN_HTTPS, HTTPS (else a redirect); Django answers the others itself."""
        from django.conf import settings

        try:
            request.get_host()
        except DisallowedHost:
            return False
        return not (settings.SECURE_SSL_REDIRECT and not request.is_secure())

    def answer(self, request: WSGIRequest, key: str) -> tuple[str, list[tuple[str, str]], bytes]:
        """The verify route's answer to a request with a bearer `key`: the status line, the
        headers and the body."""
        translation.activate(chosen_language(request.COOKIES))
        request.LANGUAGE_CODE = translation.get_language()
        try:
            status, data, extra = self._answer(request, key)
        except Exception as e:
            if not connection.in_atomic_block:  # (a test's transaction stays open)
                connection.close()  # a broken connection is opened afresh by the next call
            if is_database_busy(e):  # as DatabaseBusyMiddleware answers it
                response = JsonResponse(
                    {"detail": database_busy_message()}, status=503, headers={"Retry-After": "30"}
                )
            else:
                response = response_for_exception(request, e)  # logged, Django's error page
            return self._through_middleware(request, response)
        body = json.dumps(data, cls=NinjaJSONEncoder).encode()
        headers = [
            ("Content-Type", JSON),
            *extra,
            *self._headers(request, status),
            ("Content-Length", str(len(body))),
        ]
        if status >= 400:
            _log_refused(request, status)
        return f"{status} {responses[status]}", headers, body

    def _answer(self, request: WSGIRequest, key: str) -> tuple[int, Any, list[tuple[str, str]]]:
        user, permitted = self.tokens.user(key)
        if user is None:
            detail = unauthenticated_message(True)
            return 401, {"detail": detail}, [("WWW-Authenticate", 'Bearer realm="cakupan"')]
        request.user = user
        if not permitted:
            return 403, {"detail": ROLE_REFUSED}, []
        query = request.GET
        try:
            body = verify_answer(
                request,
                query.get("nik"),
                query.get("membership"),
                query.get("date"),
                log=self.log.add,
            )
        except Throttled as e:
            return e.status, {"detail": e.message}, [("Retry-After", str(e.retry_after))]
        except Refused as e:
            return e.status, {"detail": [e.detail()]}, []
        except NotFound as e:
            return 404, {"detail": e.message}, []
        # already in VerifyOut's shape (its fields, in its order, of its types): the ninja route
        # validates it against the schema, ninja's encoder writes both the same way
        return 200, body, []

    def _headers(self, request: WSGIRequest, status: int) -> list[tuple[str, str]]:
        """The headers Django's middleware adds to an answer of this status in this language
        (but its length), found by passing an empty answer through that middleware once."""
        key = (translation.get_language(), request.is_secure(), status)
        headers = self._added.get(key)
        if headers is None:
            response: HttpResponse = HttpResponse(b"", status=status, content_type=JSON)
            for middleware in self._response_middleware:
                response = middleware.process_response(request, response)
            headers = [
                (k, v) for k, v in response.items() if k not in ("Content-Type", "Content-Length")
            ]
            self._added[key] = headers
        return headers

    def _through_middleware(self, request: WSGIRequest, response: HttpResponse):
        """An answer made by Django (an unexpected error), with its middleware's headers."""
        for middleware in self._response_middleware:
            response = middleware.process_response(request, response)
        if response.status_code >= 400:
            log_response(
                "%s: %s", response.reason_phrase, request.path, response=response, request=request
            )
        headers = [*response.items()]
        return f"{response.status_code} {response.reason_phrase}", headers, response.content

    def shutdown(self) -> None:
        """Write the access-log rows still in memory (as a server worker stops)."""
        self.log.close()
