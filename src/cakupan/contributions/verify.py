"""The hospital desk's question, "is this person protected on this date?", answered from the
ledger: find the membership by NIK or membership number (one query, only the columns needed),
then its state on the date (contributions.selectors.membership_state)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from cakupan.contributions.selectors import MembershipState, membership_state
from cakupan.errors import Refused
from cakupan.membership.models import Membership
from cakupan.registry.models import Worker
from cakupan.registry.nik import is_nik_shaped, normalise_nik

NUMBER_MAX = 20


class NotFound(Exception):
    """Nobody with that NIK or membership number; `worker` when the NIK is registered but has
    no membership."""

    def __init__(self, message: object, worker: Worker | None = None):
        self.worker = worker
        self._message = message
        super().__init__(str(message))

    @property
    def message(self) -> str:
        return str(self._message)


def _query_refused(code: str, message: object, field: str) -> Refused:
    e = Refused(code, message, field)
    e.where = "query"
    return e


def parse_lookup(nik: str | None, membership: str | None) -> tuple[str, str]:
    """('nik', NIK) or ('membership', number) from the query; exactly one must be given."""
    nik = (nik or "").strip()
    number = (membership or "").strip()
    if bool(nik) == bool(number):
        raise _query_refused(
            "one_of_nik_membership",
            _("Give exactly one of nik (the 16-digit NIK) or membership (the membership number)."),
            "nik" if nik else "membership",
        )
    if nik:
        nik = normalise_nik(nik)
        if not is_nik_shaped(nik):
            raise _query_refused(
                "nik_invalid", _("The NIK must be 16 digits, as on the KTP or family card."), "nik"
            )
        return "nik", nik
    if len(number) > NUMBER_MAX:
        raise _query_refused(
            "membership_invalid",
            _("A membership number has at most 20 characters, e.g. BPU-000001234."),
            "membership",
        )
    return "membership", number.upper()


def parse_date(text: str | None, today: dt.date) -> dt.date:
    """The date asked about (YYYY-MM-DD), today when not given."""
    if not text:
        return today
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise _query_refused(
            "date_invalid",
            _("The date must be written YYYY-MM-DD, e.g. 2026-11-30."),
            "date",
        ) from None


_FIELDS = (
    "id",
    "number",
    "start_month",
    "end_month",
    "worker__id",
    "worker__nik",
    "worker__full_name",
)


def membership_find(kind: str, value: str) -> Membership:
    """The membership (with its worker's id, NIK and name) by NIK or number; NotFound."""
    qs = Membership.objects.select_related("worker").only(*_FIELDS)
    if kind == "nik":
        membership = qs.filter(worker__nik=value).order_by("category", "id").first()
        if membership is None:
            worker = Worker.objects.filter(nik=value).only("id", "nik", "full_name").first()
            if worker is None:
                raise NotFound(_("This NIK is not in the worker registry."))
            raise NotFound(_("This person is registered but has no membership."), worker)
        return membership
    membership = qs.filter(number=value).first()
    if membership is None:
        raise NotFound(_("There is no membership with this number."))
    return membership


@dataclass(frozen=True)
class Verdict:
    """The answer shown at the hospital desk and by the API."""

    membership: Membership
    state: MembershipState

    @property
    def worker(self) -> Worker:
        return self.membership.worker


def verify(kind: str, value: str, on: dt.date) -> Verdict:
    membership = membership_find(kind, value)
    return Verdict(membership, membership_state(membership, on))
