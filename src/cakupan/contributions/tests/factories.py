"""Ledger test data: sponsors, programmes and memberships with chosen months and payers."""

from __future__ import annotations

import datetime as dt
import itertools

from cakupan.funding.models import FundingProgramme, Sponsor
from cakupan.funding.services import programme_create, sponsor_create
from cakupan.membership.models import FundingAssignment, Membership
from cakupan.membership.services import membership_number
from cakupan.registry.tests.factories import make_worker

_names = itertools.count(1)


def M(text: str) -> dt.date:
    """'2026-11' → date(2026, 11, 1)."""
    year, month = text.split("-")
    return dt.date(int(year), int(month), 1)


def make_programme(
    *,
    type: str = "csr",
    sponsor: Sponsor | None = None,
    first: str = "2026-01",
    last: str = "2026-12",
    budget: int = 100_000_000,
    **extra: object,
) -> FundingProgramme:
    sponsor = sponsor or sponsor_create(type=type, name=f"Sponsor {next(_names)} ({type})")
    return programme_create(
        sponsor=sponsor,
        name=f"Program {next(_names)}",
        fiscal_year=M(first).year,
        first_month=M(first),
        last_month=M(last),
        budget=budget,
        **extra,
    )


def make_membership(
    *,
    fundings: list[tuple[FundingProgramme | None, str, str | None]],
    start: str | None = None,
    end: str | None = None,
    occupation: str = "ojol",
    income: int = 1_000_000,
    programmes: list[str] | None = None,
    name: str = "Budi Santoso",
) -> Membership:
    """A membership paid by each (programme or None = the worker, first month, last month)."""
    worker = make_worker(occupation=occupation, full_name=name)
    membership = Membership.objects.create(
        worker=worker,
        programmes=programmes or ["jkk", "jkm"],
        declared_income=income,
        bracket=1,
        start_month=M(start or fundings[0][1]),
        end_month=M(end) if end else None,
        number=membership_number(worker.pk),
    )
    for programme, first, last in fundings:
        FundingAssignment.objects.create(
            membership=membership,
            programme=programme,
            first_month=M(first),
            last_month=M(last) if last else None,
        )
    return membership
