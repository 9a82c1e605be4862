"""Reads for enrolment: the registry frame for linkage, funding clashes, value mappings, memberships."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet

from cakupan.accounts.models import User
from cakupan.funding.selectors import programme_scope
from cakupan.membership.models import (
    AutoLink,
    FundingAssignment,
    ImportBatch,
    ImportProblem,
    ImportValueMap,
    Membership,
)
from cakupan.months import fmt_month
from cakupan.regions.models import Region
from cakupan.registry.models import Occupation, Worker
from cakupan.registry.vulnerability import vulnerable_sql

# How a sponsor sees the programmes of other sponsors: never by name.
OTHER_SPONSOR = "pemberi dana lain"


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


def funding_clashes(
    *, worker_ids: list[int], first: dt.date, last: dt.date, sponsor_id: int | None = None
) -> dict[int, tuple[int | None, str]]:
    """Workers with any funded month in first..last: worker → (programme id, who pays which
    months). Another sponsor is named only as "pemberi dana lain": the report is read by the
    sponsor whose list it is, who must not learn whom other sponsors fund."""
    found: dict[int, tuple[int | None, str]] = {}
    wanted = set(worker_ids)
    # a worker's own payment yields to a sponsor: only sponsors' funding clashes
    qs = FundingAssignment.objects.filter(first_month__lte=last, programme__isnull=False).exclude(
        last_month__lt=first
    )
    if len(wanted) <= 5000:
        qs = qs.filter(membership__worker_id__in=wanted)
    rows = qs.values_list(
        "membership__worker_id",
        "programme_id",
        "programme__name",
        "programme__sponsor_id",
        "first_month",
        "last_month",
    )
    for w, prog, prog_name, payer_sponsor, f, lm in rows.iterator(chunk_size=50_000):
        if w in wanted:
            payer = f"program {prog_name}" if payer_sponsor == sponsor_id else OTHER_SPONSOR
            found[w] = (prog, f"Bulan {fmt_month(f)}..{fmt_month(lm)} sudah dibayar oleh {payer}")
    return found


def value_maps_offered(*, sponsor_id: int, exclude_batch_id: int | None = None) -> dict:
    """What the sponsor's earlier lists mapped each (column, value key) to, the latest choice
    first: offered again, pre-selected, for its next list."""
    offered: dict[tuple[str, str], str] = {}
    qs = ImportValueMap.objects.filter(batch__programme__sponsor_id=sponsor_id)
    if exclude_batch_id is not None:
        qs = qs.exclude(batch_id=exclude_batch_id)
    for column, key, mapped_to in qs.order_by("-created_at", "-id").values_list(
        "column", "key", "mapped_to"
    ):
        offered.setdefault((column, key), mapped_to)
    return offered


def value_maps_of(*, batch_id: int) -> dict[str, dict[str, str]]:
    """The value mappings of a list: column → {value key: value it stands for}."""
    maps: dict[str, dict[str, str]] = {}
    for column, key, mapped_to in ImportValueMap.objects.filter(batch_id=batch_id).values_list(
        "column", "key", "mapped_to"
    ):
        maps.setdefault(column, {})[key] = mapped_to
    return maps


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


def programme_imports(*, programme, limit: int = 20) -> list:
    """A programme's latest imports; a run whose process is gone is shown as such."""
    from cakupan.membership.runs import RUNNING, import_runs_reap

    batches = list(programme.imports.select_related("uploaded_by")[:limit])
    running = [b.pk for b in batches if b.status in RUNNING]
    if running and import_runs_reap(batch_ids=running):
        batches = list(programme.imports.select_related("uploaded_by")[:limit])
    return batches


@dataclass(frozen=True)
class ValueGroup:
    """Rows of a list refused for one unrecognised value of one column ("Mitra Gojke" in the
    occupation column — 12 rows), with the value pre-selected for it."""

    column: str
    value: str
    rows: int
    selected: str  # the suggestion, or what the sponsor's earlier list mapped it to
    from_earlier_list: bool


def value_groups(*, batch: ImportBatch) -> list[ValueGroup]:
    """The unrecognised values of a checked list, most rows first, for the value-mapping step."""
    from cakupan.membership.imports.check import value_key
    from cakupan.membership.imports.problems import MAPPABLE, REJECTED, VALUE_CODES

    rows = (
        ImportProblem.objects.filter(
            batch=batch, severity=REJECTED, code__in=VALUE_CODES, column__in=MAPPABLE
        )
        .exclude(value="")
        .values("column", "value", "suggested")
        .annotate(n=Count("id"))
        .order_by("-n", "column", "value")
    )
    earlier = value_maps_offered(sponsor_id=batch.programme.sponsor_id, exclude_batch_id=batch.pk)
    groups = []
    for r in rows:
        offered = earlier.get((r["column"], value_key(r["value"])))
        groups.append(
            ValueGroup(
                column=r["column"],
                value=r["value"],
                rows=r["n"],
                selected=offered or r["suggested"],
                from_earlier_list=offered is not None,
            )
        )
    return groups


def value_choices() -> dict[str, list[tuple[str, str]]]:
    """What each mappable column's values can be mapped to: (value, label)."""
    from cakupan.regions.selectors import city_kelurahan

    return {
        "pekerjaan": [
            (code, f"{name} ({code})")
            for code, name in Occupation.objects.filter(active=True)
            .order_by("name")
            .values_list("code", "name")
        ],
        "kelurahan": [
            (k.code, f"{k.name} (Kec. {k.parent.name})" if k.parent else k.name)
            for k in city_kelurahan().select_related("parent").order_by("name")
        ],
        "jenis_kelamin": [("L", "L (laki-laki)"), ("P", "P (perempuan)")],
    }
