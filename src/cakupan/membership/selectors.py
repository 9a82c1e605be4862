"""Reads for enrolment: the catalogue rows are checked against, the registry frame for linkage."""

from __future__ import annotations

import datetime as dt

import polars as pl
from django.conf import settings
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from cakupan.accounts.models import User
from cakupan.funding.selectors import programme_scope
from cakupan.membership.importing import Catalogue
from cakupan.membership.models import AutoLink, FundingAssignment, Membership
from cakupan.regions.models import Level, Region
from cakupan.regions.selectors import city_kelurahan
from cakupan.registry.models import Occupation, Worker
from cakupan.registry.vulnerability import vulnerable_sql

# How a sponsor sees the programmes of other sponsors: never by name.
OTHER_SPONSOR = "pemberi dana lain"


def import_catalogue() -> Catalogue:
    kel = list(city_kelurahan().values_list("code", "name", "parent_id"))
    regions = Region.objects.filter(level=Level.KECAMATAN).values_list("code", "retired_on")
    return Catalogue(
        kelurahan={c: n for c, n, _p in kel},
        kelurahan_parent={c: p for c, _n, p in kel},
        occupations={
            o.code: (o.name, o.sector, tuple(a for a in o.aliases.split("|") if a), o.vulnerable)
            for o in Occupation.objects.filter(active=True)
        },
        region_state={code: ("retired" if retired else "active") for code, retired in regions},
        loaded_regencies=frozenset(
            Region.objects.filter(level=Level.KECAMATAN)
            .values_list("parent_id", flat=True)
            .distinct()
        ),
        regencies=frozenset(
            Region.objects.filter(level=Level.REGENCY).values_list("code", flat=True)
        ),
        today=timezone.localdate(),
        min_age=getattr(settings, "CAKUPAN_WORKER_MIN_AGE", 15),
    )


def registry_frame() -> pl.DataFrame:
    """Every registered worker: the columns the linkage engine reads, and what enrolment judges
    a registered worker on (occupation, sector, kecamatan, vulnerability), in one SQL pass."""
    w, o, r = Worker._meta.db_table, Occupation._meta.db_table, Region._meta.db_table
    sql = (
        "SELECT w.id, w.nik, w.full_name, w.birth_date, w.sex, w.kelurahan_id, o.code, o.sector, "
        f"r.parent_id, CASE WHEN {vulnerable_sql()} THEN 1 ELSE 0 END "
        f"FROM {w} w JOIN {o} o ON o.id = w.occupation_id JOIN {r} r ON r.code = w.kelurahan_id"
    )
    schema = {
        "worker_id": pl.Int64,
        "nik": pl.String,
        "name": pl.String,
        "birth_date": pl.Date,
        "sex": pl.String,
        "kelurahan": pl.String,
        "occupation": pl.String,
        "sector": pl.String,
        "kecamatan": pl.String,
        "vulnerable": pl.Int8,
    }
    # In chunks: a million rows as Python tuples at once would cost more memory than the frame.
    parts = []
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(100_000):
            parts.append(pl.DataFrame(rows, schema=schema, orient="row"))
    frame = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    return frame.with_columns(pl.col("vulnerable").cast(pl.Boolean))


def worker_auto_links(*, worker: Worker, user: User) -> list[AutoLink]:
    """The NIK typos corrected automatically onto this worker, newest first, from the lists
    of the programmes `user` may see (a sponsor never learns of another sponsor's list)."""
    return list(
        AutoLink.objects.filter(
            worker=worker, batch__programme__in=programme_scope(user=user)
        ).select_related("batch__programme", "reversed_by")
    )


def worker_memberships(*, worker: Worker) -> list[Membership]:
    """A worker's memberships with who pays which months, oldest funding first."""
    return list(
        Membership.objects.filter(worker=worker).prefetch_related(
            Prefetch(
                "fundings", queryset=FundingAssignment.objects.select_related("programme__sponsor")
            )
        )
    )


def funded_member_count(*, workers: QuerySet[Worker], month: dt.date) -> int:
    """Members among `workers` whose month has a payer (a sponsor's programme or themselves).
    Whether the contribution was actually paid is the contributions ledger's question."""
    return (
        Membership.objects.filter(worker__in=workers, fundings__first_month__lte=month)
        .filter(Q(fundings__last_month__isnull=True) | Q(fundings__last_month__gte=month))
        .distinct()
        .count()
    )


def payer_for_month(
    *, worker: Worker, month: dt.date
) -> tuple[Membership, FundingAssignment | None] | None:
    """The worker's BPU membership and who pays `month` (None when nobody does), or None when
    the worker has no membership. Whether the month's contribution was paid is the ledger's
    question (a later part of cakupan)."""
    membership = Membership.objects.filter(worker=worker, category=Membership.Category.BPU).first()
    if membership is None:
        return None
    funding = (
        membership.fundings.select_related("programme__sponsor")
        .filter(first_month__lte=month)
        .filter(Q(last_month__isnull=True) | Q(last_month__gte=month))
        .first()
    )
    return membership, funding


def programme_imports(*, programme, limit: int = 20) -> list:  # type: ignore[no-untyped-def]
    """A programme's latest imports; a run whose process is gone is shown as such."""
    from cakupan.membership.runs import RUNNING, import_runs_reap

    batches = list(programme.imports.select_related("uploaded_by")[:limit])
    running = [b.pk for b in batches if b.status in RUNNING]
    if running and import_runs_reap(batch_ids=running):
        batches = list(programme.imports.select_related("uploaded_by")[:limit])
    return batches
