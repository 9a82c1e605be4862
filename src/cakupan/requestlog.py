"""One log line per refused request, instead of Django's message with a traceback.

Django logs every 4xx answer on `django.request` (and CSRF failures on `django.security.csrf`)
as a warning; a 403 from PermissionDenied carries the exception, so each refused page printed a
whole traceback. A refusal is expected traffic (a role asking for what it may not see, a probe
guessing ids): one line saying who asked for what is enough. Server errors (5xx) keep their
traceback.
"""

from __future__ import annotations

import logging


def _escaped(text: str) -> str:
    # a path is chosen by the client: control characters must not forge further log lines
    return text.encode("unicode_escape").decode("ascii")


class RefusedRequestFilter(logging.Filter):
    """Rewrites a 4xx record to `refused GET /path 403 user=7` (no query string: a NIK typed in
    a search must not reach the log), without exception information."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        request = getattr(record, "request", None)
        if status is None or not 400 <= status < 500 or request is None:
            return True
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else "-"
        record.msg = "refused %s %s %s user=%s"
        record.args = (_escaped(request.method or ""), _escaped(request.path), status, user_id)
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True
