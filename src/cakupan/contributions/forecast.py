"""Lapse forecast: who stops being protected next month, and why (docs/contributions.md,
"Lapse forecast").

Asked on date `on`, the forecast is for the month N after `on`'s month, judged on the check
date D: the day after N's due day (the 16th under PP 44/2015), with the ledger as it stands
(no further payment). A membership is listed when it is protected on `on` (active or in
arrears, contributions.selectors.state_sql) and one of these holds, first match wins:

- programme_ends: its months up to this month are paid by a programme whose assignment ends
  this month, and no assignment pays N: from N nobody is billed for it.
- budget_spent: N is paid by a programme P whose budget cannot pay N: budget(P) − billed(P,
  months before N) < cost(P, N), where billed counts P's live bills and cost(P, N) is P's live
  bills of N when N is billed already, else N priced by the rules engine for P's members
  funded in N (funding.selectors.cost_of, per sector). Every member P funds in N is listed.
- self_payer_behind: N is the worker's own to pay and on D the membership is lapsed: its
  unpaid months will pass the arrears limit (max_months, 3) unless the worker pays by N's due
  day. (A self-payer merely one month behind stays protected, in arrears, and is not listed.)
- sponsor_behind: the same, for a membership a sponsor pays in N: the sponsor's invoices are
  unpaid for longer than the arrears limit.

The query wraps state_sql twice (on `on` and on D) and joins the funding of this month and of
N: one set-based statement, nothing per membership.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cakupan.contributions.models import ForecastEntry, ForecastRun, ForecastTally
from cakupan.contributions.selectors import ARREARS, LAPSED, PROTECTED, arrears_rules, state_sql
from cakupan.contributions.sql import T, day, drop_temp, execute, fetch, temp_table
from cakupan.funding.models import FundingProgramme, Sponsor
from cakupan.funding.selectors import cost_of
from cakupan.months import add_months
from cakupan.regions.models import Region

WORK_MEM = "256MB"

PROGRAMME_ENDS = "programme_ends"
BUDGET_SPENT = "budget_spent"
SELF_PAYER_BEHIND = "self_payer_behind"
SPONSOR_BEHIND = "sponsor_behind"
REASONS = {
    PROGRAMME_ENDS: _("Programme ends"),
    BUDGET_SPENT: _("Programme budget spent"),
    SELF_PAYER_BEHIND: _("Self-payer behind"),
    SPONSOR_BEHIND: _("Sponsor behind"),
}


def forecast_month(on: dt.date) -> dt.date:
    return add_months(on.replace(day=1), 1)


def check_date(on: dt.date) -> dt.date:
    """The day after the forecast month's due day."""
    month = forecast_month(on)
    return month.replace(day=arrears_rules(month).due_day) + dt.timedelta(days=1)


def _suffixed(sql: str, params: dict, suffix: str) -> tuple[str, dict]:
    """The same query with its named parameters renamed, to use it twice in one statement."""
    return (
        re.sub(r"%\((\w+)\)s", lambda m: f"%({m.group(1)}{suffix})s", sql),
        {k + suffix: v for k, v in params.items()},
    )


def _covering(alias: str, param: str) -> str:
    return (
        f"{alias}.membership_id = m.id AND {alias}.first_month <= %({param})s "
        f"AND ({alias}.last_month IS NULL OR {alias}.last_month >= %({param})s)"
    )


def budget_spent_programmes(on: dt.date) -> list[int]:
    """The programmes whose budget cannot pay the forecast month (see the module docstring):
    a few aggregate queries over the programmes, priced per (programme, sector)."""
    month = forecast_month(on)
    p = {"month": day(month)}
    billed_before = dict(
        fetch(
            f"SELECT programme_id, SUM(amount) FROM {T.bill} WHERE programme_id IS NOT NULL "
            "AND voided_at IS NULL AND month < %(month)s GROUP BY programme_id",
            p,
        )
    )
    billed_month = dict(
        fetch(
            f"SELECT programme_id, SUM(amount) FROM {T.bill} WHERE programme_id IS NOT NULL "
            "AND voided_at IS NULL AND month = %(month)s GROUP BY programme_id",
            p,
        )
    )
    funded = fetch(
        f"""
        SELECT fa.programme_id, o.sector, COUNT(*) FROM {T.funding} fa
        JOIN {T.membership} m ON m.id = fa.membership_id
        JOIN {T.worker} w ON w.id = m.worker_id
        JOIN {T.occupation} o ON o.id = w.occupation_id
        WHERE fa.programme_id IS NOT NULL AND fa.first_month <= %(month)s
          AND (fa.last_month IS NULL OR fa.last_month >= %(month)s)
          AND m.start_month <= %(month)s AND (m.end_month IS NULL OR m.end_month >= %(month)s)
        GROUP BY fa.programme_id, o.sector
        """,
        p,
    )
    groups: dict[int, list[tuple[str, int]]] = {}
    for pid, sector, n in funded:
        groups.setdefault(pid, []).append((sector, int(n)))
    spent = []
    for programme in FundingProgramme.objects.filter(pk__in=groups).select_related("sponsor"):
        if programme.pk in billed_month:
            cost = int(billed_month[programme.pk])
        else:
            sectors = groups[programme.pk]
            prices = cost_of(
                programme=programme,
                incomes=[programme.declared_income] * len(sectors),
                sectors=[s for s, _n in sectors],
                first_months=[month] * len(sectors),
                last_months=[month] * len(sectors),
            )
            cost = int(sum(int(price) * n for price, (_s, n) in zip(prices, sectors, strict=True)))
        remaining = programme.budget - int(billed_before.get(programme.pk) or 0)
        if cost > remaining:
            spent.append(programme.pk)
    return sorted(spent)


@dataclass(frozen=True)
class LapseRow:
    membership_id: int
    membership_number: str
    worker_id: int
    name: str
    phone: str
    kelurahan_code: str
    kelurahan: str
    sponsor_id: int | None
    sponsor: str
    reason: str
    state_now: str
    state_next: str
    months_unpaid: int

    @property
    def reason_label(self) -> str:
        return str(REASONS[self.reason])


def _forecast_sql(
    on: dt.date, *, sponsor_ids: list[int] | None, region: str = "", reason: str = ""
) -> tuple[str, dict]:
    now_sql, now_params = _suffixed(*state_sql(on), "_now")
    next_sql, next_params = _suffixed(*state_sql(check_date(on)), "_next")
    spent = budget_spent_programmes(on)
    spent_in = ",".join(str(i) for i in spent) or "NULL"
    protected = ",".join(f"'{s}'" for s in PROTECTED)
    scope = ""
    if sponsor_ids is not None:
        ids = ",".join(str(int(i)) for i in sponsor_ids) or "NULL"
        scope = f"AND pr.sponsor_id IN ({ids})"
    if region:
        scope += " AND w.kelurahan_id LIKE %(region)s"
    only_reason = "AND f.reason = %(reason)s" if reason else ""
    reason_sql = f"""
        CASE
          WHEN fn.id IS NULL AND fc.programme_id IS NOT NULL AND fc.last_month = %(this)s
            THEN '{PROGRAMME_ENDS}'
          WHEN fn.programme_id IN ({spent_in}) THEN '{BUDGET_SPENT}'
          WHEN nx.state = '{LAPSED}' AND fn.id IS NOT NULL AND fn.programme_id IS NULL
            THEN '{SELF_PAYER_BEHIND}'
          WHEN nx.state = '{LAPSED}' AND fn.programme_id IS NOT NULL THEN '{SPONSOR_BEHIND}'
        END"""
    sql = f"""
        SELECT * FROM (
          SELECT m.id AS membership_id, m.number, w.id AS worker_id, w.full_name, w.phone,
                 w.kelurahan_id, k.name AS kelurahan, pr.sponsor_id, sp.name AS sponsor,
                 {reason_sql} AS reason, st.state AS state_now, nx.state AS state_next,
                 nx.months_unpaid
          FROM ({now_sql}) st
          JOIN ({next_sql}) nx ON nx.membership_id = st.membership_id
          JOIN {T.membership} m ON m.id = st.membership_id
          JOIN {T.worker} w ON w.id = m.worker_id
          JOIN {Region._meta.db_table} k ON k.code = w.kelurahan_id
          LEFT JOIN {T.funding} fc ON {_covering("fc", "this")}
          LEFT JOIN {T.funding} fn ON {_covering("fn", "next")}
          LEFT JOIN {T.programme} pr ON pr.id = COALESCE(fn.programme_id, fc.programme_id)
          LEFT JOIN {T.sponsor} sp ON sp.id = pr.sponsor_id
          WHERE st.state IN ({protected}) {scope}
            AND (m.end_month IS NULL OR m.end_month >= %(next)s)
        ) f WHERE f.reason IS NOT NULL {only_reason}
    """
    this = on.replace(day=1)
    params = {**now_params, **next_params, "this": day(this), "next": day(add_months(this, 1))}
    if region:
        # a kelurahan's own code, or every kelurahan under a kecamatan or the city
        params["region"] = region if len(region) == 13 else region + ".%"
    if reason:
        params["reason"] = reason
    return sql, params


def lapse_rows(
    on: dt.date,
    *,
    sponsor_ids: list[int] | None = None,
    chunk: int = 5000,
    region: str = "",
    reason: str = "",
) -> Iterator[LapseRow]:
    """Every membership the forecast lists, by kelurahan then name, read in chunks.
    `sponsor_ids`: only memberships those sponsors pay (None: all, self-payers included);
    `region`: only workers living in that kelurahan, or under that kecamatan or city (its
    code); `reason`: only that reason."""
    sql, params = _forecast_sql(on, sponsor_ids=sponsor_ids, region=region, reason=reason)
    # A plain cursor: on 1,000,000 memberships (540,000 rows listed) a server-side cursor
    # took half as long again; the rows are converted to Python a chunk at a time.
    with transaction.atomic():
        cursor = connection.cursor()
        _room_to_group(cursor)
        cursor.execute(
            sql + " ORDER BY f.kelurahan, f.kelurahan_id, f.full_name, f.membership_id", params
        )
        try:
            while rows := cursor.fetchmany(chunk):
                for r in rows:
                    yield LapseRow(*r[:12], int(r[12] or 0))
        finally:
            cursor.close()


def _room_to_group(cursor) -> None:
    """PostgreSQL: memory enough to group a million memberships' paid months without spilling
    to disk, for this transaction only (measured on 1,000,000 memberships: about half the
    time of the default 4 MB)."""
    if connection.vendor == "postgresql":
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")


@dataclass(frozen=True)
class LapseForecast:
    on: dt.date
    month: dt.date
    check_date: dt.date
    total: int
    by_reason: dict[str, int]
    by_sponsor: list[tuple[str, str, int]]  # (sponsor name or "", reason, count)
    by_kelurahan: list[tuple[str, str, int]]  # (kelurahan name, reason, count)
    # (kelurahan code, reason, count): to add up by kecamatan (coverage's lapse-risk page)
    by_kelurahan_code: tuple[tuple[str, str, int], ...] = ()


def lapse_forecast(on: dt.date, *, sponsor_ids: list[int] | None = None) -> LapseForecast:
    """The forecast's counts by reason, by sponsor and by kelurahan (one grouped query)."""
    sql, params = _forecast_sql(on, sponsor_ids=sponsor_ids)
    with transaction.atomic(), connection.cursor() as cursor:
        _room_to_group(cursor)
        cursor.execute(
            f"SELECT f.sponsor, f.kelurahan, f.reason, f.kelurahan_id, COUNT(*) FROM ({sql}) f "
            "GROUP BY f.sponsor, f.kelurahan, f.reason, f.kelurahan_id",
            params,
        )
        rows = cursor.fetchall()
    return _counted(on, rows)


def _counted(on: dt.date, rows: list[tuple[str | None, str, str, str, int]]) -> LapseForecast:
    """The forecast's figures from its counts per (sponsor name, kelurahan name, reason,
    kelurahan code)."""
    by_reason: Counter[str] = Counter()
    by_sponsor: Counter[tuple[str, str]] = Counter()
    by_kelurahan: Counter[tuple[str, str]] = Counter()
    by_code: Counter[tuple[str, str]] = Counter()
    for sponsor, kelurahan, reason, code, n in rows:
        by_reason[reason] += n
        by_sponsor[(sponsor or "", reason)] += n
        by_kelurahan[(kelurahan, reason)] += n
        by_code[(code, reason)] += n
    return LapseForecast(
        on=on,
        month=forecast_month(on),
        check_date=check_date(on),
        total=sum(by_reason.values()),
        by_reason=dict(by_reason),
        by_sponsor=sorted(
            ((s, r, n) for (s, r), n in by_sponsor.items()), key=lambda x: (-x[2], x)
        ),
        by_kelurahan=sorted(
            ((k, r, n) for (k, r), n in by_kelurahan.items()), key=lambda x: (-x[2], x)
        ),
        by_kelurahan_code=tuple(
            sorted(((k, r, n) for (k, r), n in by_code.items()), key=lambda x: (-x[2], x))
        ),
    )


# -- the stored forecast ----------------------------------------------------------------------
#
# Counting the forecast reads every membership's paid months twice: seconds on a city, 15-25 s
# on a million memberships. A page cannot wait for it, so it is counted once (a daily job:
# `cakupan coverage snapshot`, or an officer's recount run by the task worker) and stored as
# ForecastRun with its entries in the list's order and its tallies; pages read a page of
# entries by position and the tallies (docs/contributions.md, "Stored forecast").

ENTRY_COLUMNS = (
    "position, membership_id, worker_id, kelurahan_code, sponsor_id, reason, state_now, "
    "state_next, months_unpaid"
)
# a recount asked for and not started within this time is taken as lost (no task worker ran)
PENDING_FOR = dt.timedelta(minutes=30)


def _entries_select(on: dt.date) -> tuple[str, dict]:
    """The forecast's rows as entries: numbered in the list's order (kelurahan name, its code
    for two kelurahan of one name, worker name, membership)."""
    sql, params = _forecast_sql(on, sponsor_ids=None)
    return (
        "SELECT ROW_NUMBER() OVER (ORDER BY g.kelurahan, g.kelurahan_id, g.full_name, "
        "g.membership_id) AS position, g.membership_id AS membership_id, g.worker_id AS worker_id, "
        "g.kelurahan_id AS kelurahan_code, g.sponsor_id AS sponsor_id, g.reason AS reason, "
        "g.state_now AS state_now, g.state_next AS state_next, "
        f"COALESCE(g.months_unpaid, 0) AS months_unpaid FROM ({sql}) g",
        params,
    )


def forecast_store(
    on: dt.date | None = None, *, run: ForecastRun | None = None, user=None
) -> ForecastRun:
    """Count the forecast asked on `on` (today) and store it: `run` (a queued recount) or a new
    run. The older runs and their entries are deleted once this one is stored, in the same
    transaction, so a page reads either the old count whole or the new one."""
    on = on or timezone.localdate()
    fields = {"on": on, "month": forecast_month(on), "check_date": check_date(on)}
    if run is None:
        run = ForecastRun.objects.create(
            status=ForecastRun.Status.RUNNING, requested_by=user, **fields
        )
    else:
        ForecastRun.objects.filter(pk=run.pk).update(status=ForecastRun.Status.RUNNING, **fields)
    start = time.perf_counter()
    select, params = _entries_select(on)
    entry = ForecastEntry._meta.db_table
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        # counted into a temporary table first, outside the transaction: SQLite's write lock
        # (taken at BEGIN IMMEDIATE) is then held only for the copy, not for the count
        temp_table("forecast_rows", ENTRY_COLUMNS)
        execute(f"INSERT INTO forecast_rows ({ENTRY_COLUMNS}) {select}", params)
        select, params = f"SELECT {ENTRY_COLUMNS} FROM forecast_rows", {}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _room_to_group(cursor)
            cursor.execute(
                f"INSERT INTO {entry} (run_id, {ENTRY_COLUMNS}) "
                f"SELECT {int(run.pk)}, {ENTRY_COLUMNS} FROM ({select}) s",
                params,
            )
            cursor.execute(
                f"SELECT kelurahan_code, reason, sponsor_id, COUNT(*), MIN(position) FROM {entry} "
                "WHERE run_id = %s GROUP BY kelurahan_code, reason, sponsor_id",
                [run.pk],
            )
            counts = cursor.fetchall()
            first: dict[str, int] = {}
            for code, _r, _s, _n, low in counts:
                first[code] = min(first.get(code, low), low)
            ForecastTally.objects.bulk_create(
                ForecastTally(
                    run_id=run.pk,
                    kelurahan_code=code,
                    reason=reason,
                    sponsor_id=sponsor,
                    n=n,
                    first_position=first[code],
                )
                for code, reason, sponsor, n, _low in counts
            )
            ForecastRun.objects.filter(pk=run.pk).update(
                status=ForecastRun.Status.DONE,
                finished_at=timezone.now(),
                seconds=time.perf_counter() - start,
                total=sum(int(n) for *_k, n, _low in counts),
            )
            ForecastRun.objects.filter(pk__lt=run.pk).exclude(
                status__in=[ForecastRun.Status.QUEUED, ForecastRun.Status.RUNNING]
            ).delete()
    finally:
        if connection.vendor == "sqlite":
            drop_temp("forecast_rows")
    run.refresh_from_db()
    return run


def forecast_latest() -> ForecastRun | None:
    """The latest stored forecast (None: never counted)."""
    return ForecastRun.objects.filter(status=ForecastRun.Status.DONE).order_by("-id").first()


def forecast_pending() -> ForecastRun | None:
    """A recount asked for and not finished (None: none), unless it waited too long."""
    return (
        ForecastRun.objects.filter(
            status__in=[ForecastRun.Status.QUEUED, ForecastRun.Status.RUNNING],
            requested_at__gte=timezone.now() - PENDING_FOR,
        )
        .order_by("-id")
        .first()
    )


def stored_forecast(run: ForecastRun, *, sponsor_ids: list[int] | None = None) -> LapseForecast:
    """A stored forecast's figures, as lapse_forecast gives them (read from its tallies)."""
    tallies = ForecastTally.objects.filter(run=run)
    if sponsor_ids is not None:
        tallies = tallies.filter(sponsor_id__in=sponsor_ids)
    tallies = list(tallies)
    names = dict(
        Region.objects.filter(code__in={t.kelurahan_code for t in tallies}).values_list(
            "code", "name"
        )
    )
    sponsors = dict(
        Sponsor.objects.filter(pk__in={t.sponsor_id for t in tallies if t.sponsor_id}).values_list(
            "pk", "name"
        )
    )
    return _counted(
        run.on,
        [
            (
                sponsors.get(t.sponsor_id, ""),
                names.get(t.kelurahan_code, t.kelurahan_code),
                t.reason,
                t.kelurahan_code,
                t.n,
            )
            for t in tallies
        ],
    )


@dataclass(frozen=True)
class _Block:
    first: int  # the kelurahan's first position
    last: int  # and its last
    size: int  # its entries under the filters


def _blocks(
    run: ForecastRun, *, region: str, reason: str, sponsor_ids: list[int] | None
) -> list[_Block]:
    """The kelurahan runs of positions a filtered list reads, in the list's order."""
    spans: dict[str, list[int]] = {}
    for t in ForecastTally.objects.filter(run=run):
        span = spans.setdefault(t.kelurahan_code, [t.first_position, 0, 0])
        span[1] += t.n
        wanted = (not reason or t.reason == reason) and (
            sponsor_ids is None or t.sponsor_id in sponsor_ids
        )
        if wanted:
            span[2] += t.n
    blocks = []
    for code, (first, total, size) in spans.items():
        if size and (not region or code == region or code.startswith(region + ".")):
            blocks.append(_Block(first, first + total - 1, size))
    return sorted(blocks, key=lambda b: b.first)


def _stored_sql(reason: str, sponsor_ids: list[int] | None) -> str:
    extra = " AND e.reason = %(reason)s" if reason else ""
    if sponsor_ids is not None:
        extra += " AND e.sponsor_id IN ({})".format(
            ",".join(str(int(i)) for i in sponsor_ids) or "NULL"
        )
    return f"""
        SELECT e.membership_id, m.number, e.worker_id, w.full_name, w.phone, e.kelurahan_code,
               k.name, e.sponsor_id, sp.name, e.reason, e.state_now, e.state_next,
               e.months_unpaid, e.position
        FROM {ForecastEntry._meta.db_table} e
        JOIN {T.membership} m ON m.id = e.membership_id
        JOIN {T.worker} w ON w.id = e.worker_id
        JOIN {Region._meta.db_table} k ON k.code = e.kelurahan_code
        LEFT JOIN {T.sponsor} sp ON sp.id = e.sponsor_id
        WHERE e.run_id = %(run)s AND e.position > %(after)s AND e.position <= %(last)s{extra}
        ORDER BY e.position LIMIT %(limit)s OFFSET %(skip)s
    """


def stored_rows(
    run: ForecastRun,
    *,
    region: str = "",
    reason: str = "",
    sponsor_ids: list[int] | None = None,
    offset: int = 0,
    limit: int | None = None,
    chunk: int = 5000,
) -> Iterator[LapseRow]:
    """A stored forecast's entries under the filters (as lapse_rows takes them), in the list's
    order, from `offset`, at most `limit` (None: all). Each kelurahan's entries are a run of
    positions and the tallies say how many of them pass the filters, so the kelurahan before
    `offset` are skipped without reading them, and each read is an index range."""
    sql = _stored_sql(reason, sponsor_ids)
    skip, left = offset, limit
    for block in _blocks(run, region=region, reason=reason, sponsor_ids=sponsor_ids):
        if skip >= block.size:
            skip -= block.size
            continue
        after = block.first - 1
        while left is None or left > 0:
            size = chunk if left is None else min(chunk, left)
            params = {"run": run.pk, "after": after, "last": block.last, "limit": size}
            params |= {"skip": skip, "reason": reason}
            rows = fetch(sql, params)
            skip = 0
            for r in rows:
                yield LapseRow(*r[:12], int(r[12] or 0))
            if left is not None:
                left -= len(rows)
            if len(rows) < size:
                break
            after = rows[-1][13]
        if left is not None and left <= 0:
            return


__all__ = [
    "ARREARS",
    "LAPSED",
    "REASONS",
    "LapseRow",
    "forecast_latest",
    "forecast_pending",
    "forecast_store",
    "lapse_forecast",
    "lapse_rows",
    "stored_forecast",
    "stored_rows",
]
