"""Language choice: Indonesian unless the user picked English with the switch in the header."""

from __future__ import annotations

from django.conf import settings
from django.db import OperationalError
from django.http import HttpRequest, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import render
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _


class LanguageMiddleware(LocaleMiddleware):
    """Like Django's LocaleMiddleware, but a browser's Accept-Language is ignored.

    Office computers in Indonesia often run an English browser; the product speaks
    Indonesian first, and English only for those who ask for it (a cookie set by /i18n/setlang/).
    """

    def process_request(self, request: HttpRequest) -> None:
        translation.activate(chosen_language(request.COOKIES))
        request.LANGUAGE_CODE = translation.get_language()


def chosen_language(cookies: dict[str, str]) -> str:
    """The language a request is answered in: the one its cookie names, else Indonesian."""
    language = cookies.get(settings.LANGUAGE_COOKIE_NAME, "")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    return language


class DatabaseBusyMiddleware:
    """On SQLite a large import holds the only write lock for a while; a write that waited out
    the busy timeout gets a 503 saying so, instead of an error page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if not is_database_busy(exception):
            return None
        message = database_busy_message()
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=503, headers={"Retry-After": "30"})
        response = render(request, "web/error.html", {"code": 503, "message": message}, status=503)
        response["Retry-After"] = "30"
        return response


def database_busy_message() -> str:
    return str(
        _("The database is busy saving a large list. Nothing was saved; try again in a minute.")
    )


def is_database_busy(exception: BaseException) -> bool:
    """A write that waited out SQLite's busy timeout behind a large import."""
    return isinstance(exception, OperationalError) and "locked" in str(exception)


class NoStoreMiddleware:
    """Pages and API answers carry personal data (whole NIKs and phones for officers): no
    browser or proxy may keep a copy. Static files are answered before this by WhiteNoise."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        return self.process_response(request, self.get_response(request))

    def process_response(self, request: HttpRequest, response):
        patch_cache_control(response, no_store=True, private=True)
        return response
