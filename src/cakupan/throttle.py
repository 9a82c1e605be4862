"""Per-user rate limits on the requests that reach people's data one at a time (NIK searches,
protection checks), counted by django-ratelimit in the cache the web server's threads share."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import get_usage

from cakupan.errors import Refused

# group → the setting that holds its rate ("20/m": twenty a minute).
RATES = {
    "nik-search": "CAKUPAN_RATE_NIK_SEARCH",
    "verify": "CAKUPAN_RATE_VERIFY",
    # a scanned membership card (/V/<token>): anyone may ask, so it is counted per IP address
    "card-check": "CAKUPAN_RATE_CARD_CHECK",
}
# groups counted per client IP address instead of per signed-in user
BY_IP = {"card-check"}


class Throttled(Refused):
    """Too many requests of one kind from one user: wait `retry_after` seconds."""

    status = 429

    def __init__(self, retry_after: int):
        self.retry_after = max(1, retry_after)
        super().__init__(
            "rate_limited",
            _("Too many checks in a short time. Try again in %(s)d seconds.")
            % {"s": self.retry_after},
        )


def _user_key(group: str, request: HttpRequest) -> str:
    return str(request.user.pk)


def throttle(request: HttpRequest, group: str) -> None:
    """Count one request of `group` for the signed-in user (for the groups in BY_IP: the
    client's IP address); raise Throttled past the rate."""
    usage = get_usage(
        request,
        group=group,
        key="ip" if group in BY_IP else _user_key,
        rate=getattr(settings, RATES[group]),
        increment=True,
    )
    if usage is not None and usage["should_limit"]:
        raise Throttled(usage["time_left"])
