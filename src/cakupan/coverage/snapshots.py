"""Monthly coverage snapshots: built set-based from the registry and the ledger, then frozen
(docs/coverage.md, "Snapshots").

Who counts in month M, as the ledger stood on the snapshot's `as_of` day:
- registered: a worker in the registry by the end of M, or a member in M (a membership can
  be entered after the months it covers);
- member: a BPU membership of the worker covers M (start month ≤ M ≤ end month);
- active: one of those memberships has M paid (a paid period of its bill of M, open on
  `as_of`): contributing, as the ILO's effective-coverage indicator (SDG 1.3.1) counts it.
A worker with two memberships counts once.

A month is provisional until the day after the next month's due day (the last day its
contribution can still be paid on time) and is rebuilt freely until then; the first build on
or after that day closes it, with the ledger as of that day. A closed month is rebuilt only on
purpose, with a reason, and the rebuild is recorded (models.SnapshotRebuild).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import zlib
from dataclasses import dataclass

import numpy as np
import polars as pl
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cakupan.accounts.models import User
from cakupan.contributions.billing import due_day
from cakupan.contributions.sql import T, day, drop_temp, execute, fetch, paid_as_of, temp_table
from cakupan.coverage.models import (
    Aggregate,
    Area,
    Cell,
    Denominator,
    Rollup,
    Snapshot,
    SnapshotRebuild,
)
from cakupan.errors import Refused
from cakupan.months import add_months, month_start
from cakupan.regions.models import Level, Region

log = logging.getLogger("cakupan.coverage")
AGE_BANDS = ((0, 19), (20, 29), (30, 39), (40, 49), (50, 59), (60, 200))
AGE_BAND_LABELS = ("< 20", "20–29", "30–39", "40–49", "50–59", "60+")
TEMP = "coverage_month"


def closes_on(month: dt.date) -> dt.date:
    """The day a month's snapshot closes: the day after the next month's due day."""
    following = add_months(month_start(month), 1)
    return following.replace(day=due_day(following)) + dt.timedelta(days=1)


def pack_ids(ids: np.ndarray) -> bytes:
    """A set of ids as a compressed bitmap."""
    if not len(ids):
        return b""
    bits = np.zeros(int(ids.max()) + 1, dtype=bool)
    bits[ids] = True
    return zlib.compress(np.packbits(bits).tobytes(), 6)


def unpack_ids(blob: bytes | memoryview | None) -> np.ndarray:
    """The ids of a bitmap written by pack_ids, in order."""
    if not blob:
        return np.zeros(0, dtype=np.int64)
    bits = np.unpackbits(np.frombuffer(zlib.decompress(bytes(blob)), dtype=np.uint8))
    return np.flatnonzero(bits).astype(np.int64)


def _years_before(on: dt.date, years: int) -> dt.date:
    """The day `years` years before `on` (28 February for 29 February in a common year)."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        return on.replace(year=on.year - years, day=28)


def _age_band() -> str:
    """SQL: the age band of worker `w` on the month's first day. Born after the day 20 years
    before it: under 20; and so on — date comparisons with parameters (`band1`…`band5`, the
    birthdays that reach 20, 30, … 60 on that day), nothing computed per row."""
    cases = " ".join(f"WHEN w.birth_date > %(band{i})s THEN {i - 1}" for i in range(1, 6))
    return f"CASE {cases} ELSE 5 END"


def _band_params(month: dt.date) -> dict:
    return {f"band{i}": day(_years_before(month, 10 + 10 * i)) for i in range(1, 6)}


def _scan() -> str:
    """SQLite: read the whole table in its order rather than through an index that only
    half-sorts it for the GROUP BY (each index entry then costs a look-up of its row): twice
    as fast on a million workers (docs/benchmarks.md). PostgreSQL plans this itself."""
    return "NOT INDEXED" if connection.vendor == "sqlite" else ""


def _members(p: dict) -> None:
    """The month's members, one row per worker (keyed, for the join with every worker): active
    when a membership has the month paid, and the programme funding it that month (none:
    self-paid)."""
    temp_table(TEMP, "worker_id bigint PRIMARY KEY, active integer, programme_id bigint")
    execute(
        f"""INSERT INTO {TEMP} (worker_id, active, programme_id)
        SELECT m.worker_id,
          MAX(CASE WHEN bp.membership_id IS NOT NULL THEN 1 ELSE 0 END),
          MAX(fa.programme_id)
        FROM {T.membership} m {_scan()}
        LEFT JOIN {T.paid} bp ON bp.membership_id = m.id AND bp.month = %(month)s
          AND {paid_as_of("bp")}
        LEFT JOIN {T.funding} fa ON fa.membership_id = m.id AND fa.first_month <= %(month)s
          AND (fa.last_month IS NULL OR fa.last_month >= %(month)s)
        WHERE m.category = 'bpu' AND m.start_month <= %(month)s
          AND (m.end_month IS NULL OR m.end_month >= %(month)s)
        GROUP BY m.worker_id""",
        p,
    )
    if connection.vendor == "postgresql":
        # a temporary table is never analysed by autovacuum: without its statistics the join
        # with a million workers is planned for an empty table
        execute(f"ANALYZE {TEMP}")


# A cell's occupation, age band, decile and programme packed into one integer to group by
# (with the kelurahan and sex): on a million workers SQLite's GROUP BY sorted six columns in
# 4.9-6.5 s and sorts three in 3.8-4.7 s (docs/benchmarks.md). Programme ids below PROGRAMMES.
PROGRAMMES = 2**24
_UNPACK = {
    "occupation": f"k / {16 * 8 * PROGRAMMES}",
    # (in a query with parameters, % is written %%)
    "age_band": f"(k / {16 * PROGRAMMES}) %% 8",
    "decile": f"(k / {PROGRAMMES}) %% 16",
    "programme": f"NULLIF(k %% {PROGRAMMES}, 0)",
}


def _cells(snapshot: Snapshot, p: dict) -> None:
    execute(
        f"""INSERT INTO {Cell._meta.db_table}
          (snapshot_id, kelurahan, occupation, sex, age_band, decile, programme,
           registered, members, active)
        SELECT %(snapshot)s, kel, {_UNPACK["occupation"]}, sex, {_UNPACK["age_band"]},
          {_UNPACK["decile"]}, {_UNPACK["programme"]},
          COUNT(*), COUNT(member), COALESCE(SUM(active), 0)
        FROM (
          SELECT w.kelurahan_id AS kel, w.sex AS sex,
            ((w.occupation_id * 8 + {_age_band()}) * 16 + COALESCE(w.welfare_decile, 0))
              * {PROGRAMMES} + COALESCE(x.programme_id, 0) AS k,
            x.worker_id AS member, x.active AS active
          FROM {T.worker} w {_scan()} LEFT JOIN {TEMP} x ON x.worker_id = w.id
          WHERE w.created_at < %(registered_before)s OR x.worker_id IS NOT NULL
        ) c
        GROUP BY kel, sex, k""",
        {**p, "snapshot": snapshot.pk},
    )


def _ids() -> tuple[np.ndarray, np.ndarray]:
    """The ids of the month's members and of its active workers."""
    rows = fetch(f"SELECT worker_id, active FROM {TEMP}")
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    both = np.array(rows, dtype=np.int64)
    return both[:, 0], both[both[:, 1] == 1, 0]


@dataclass(frozen=True)
class Inputs:
    """What a month's areas are divided by and added to: per region code, the denominator in
    force and the agency's counts of the participants the registry does not hold."""

    employed: dict[str, Denominator]
    aggregates: dict[str, dict[str, Aggregate]]


def inputs_for(month: dt.date) -> Inputs:
    """The latest whole-population denominator on or before `month`, per region; the
    agency's counts for `month` (or the latest before it), per region and category."""
    employed: dict[str, Denominator] = {}
    for d in Denominator.objects.filter(split="", period__lte=month).order_by("period"):
        employed[d.region_id] = d
    aggregates: dict[str, dict[str, Aggregate]] = {}
    for a in Aggregate.objects.filter(month__lte=month).order_by("month"):
        aggregates.setdefault(a.region_id, {})[a.category] = a
    return Inputs(employed, aggregates)


def _areas(snapshot: Snapshot, month: dt.date) -> dict[str, list[str]]:
    """UCJ per region: kelurahan from the cells, kecamatan and the city as their sums. Returns
    each kelurahan's regions up the tree (itself, its kecamatan, the city)."""
    by_kelurahan = {
        code: (registered, members, active)
        for code, registered, members, active in fetch(
            f"""SELECT kelurahan, SUM(registered), SUM(members), SUM(active)
            FROM {Cell._meta.db_table} WHERE snapshot_id = %s GROUP BY kelurahan""",
            [snapshot.pk],
        )
    }
    inputs = inputs_for(month)
    # the kelurahan of the cells and their kecamatan and city, and the regions with inputs:
    # a few queries up the tree (the national list holds 91,599 regions)
    regions: dict[str, Region] = {}
    wanted = set(by_kelurahan) | inputs.employed.keys() | inputs.aggregates.keys()
    while wanted:
        found = list(Region.objects.filter(code__in=wanted, level__gte=Level.REGENCY))
        regions.update((r.code, r) for r in found)
        wanted = {r.parent_id for r in found if r.parent_id and r.parent_id not in regions}
    totals: dict[str, list[int]] = {}
    up: dict[str, list[str]] = {}
    for code, figures in by_kelurahan.items():
        region = regions.get(code)
        while region is not None and region.level >= Level.REGENCY:
            up.setdefault(code, []).append(region.code)
            total = totals.setdefault(region.code, [0, 0, 0])
            for i in range(3):
                total[i] += int(figures[i])
            region = regions.get(region.parent_id) if region.parent_id else None
    for code in inputs.employed.keys() | inputs.aggregates.keys():
        if code in regions and code not in totals:
            totals[code] = [0, 0, 0]
    rows = []
    for code, (registered, members, active) in sorted(totals.items()):
        denominator = inputs.employed.get(code)
        counts = inputs.aggregates.get(code, {})
        rows.append(
            Area(
                snapshot=snapshot,
                region=code,
                level=regions[code].level,
                registered=registered,
                members=members,
                bpu_active=active,
                pu=counts["pu"].participants if "pu" in counts else 0,
                jakon=counts["jakon"].participants if "jakon" in counts else 0,
                pmi=counts["pmi"].participants if "pmi" in counts else 0,
                aggregates_source="; ".join(
                    f"{category.upper()} {a.month:%m/%Y}: {a.cite()}"
                    for category, a in sorted(counts.items())
                ),
                employed=denominator.employed if denominator else None,
                employed_source=denominator.cite() if denominator else "",
                employed_period=denominator.period if denominator else None,
            )
        )
    Area.objects.bulk_create(rows)
    return up


ROLLUP_DIMENSIONS = ("occupation", "sex", "age_band", "decile", "programme")


def _rollups(snapshot: Snapshot, up: dict[str, list[str]]) -> None:
    """The cells summed by each dimension for every region (Rollup): read once, grouped by
    Polars, a few thousand rows written."""
    names = ["kelurahan", *ROLLUP_DIMENSIONS, "registered", "members", "active"]
    rows = fetch(
        f"SELECT {', '.join(names)} FROM {Cell._meta.db_table} WHERE snapshot_id = %s",
        [snapshot.pk],
    )
    if not rows:
        return
    cells = pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
    regions = pl.DataFrame(
        [(k, r) for k, codes in up.items() for r in codes],
        schema=["kelurahan", "region"],
        orient="row",
    )
    cells = cells.join(regions, on="kelurahan")
    out = []
    for dimension in ROLLUP_DIMENSIONS:
        grouped = (
            cells.with_columns(pl.col(dimension).cast(pl.String).fill_null("").alias("key"))
            .group_by("region", "key")
            .agg(pl.col("registered").sum(), pl.col("members").sum(), pl.col("active").sum())
        )
        out.extend(
            Rollup(snapshot=snapshot, dimension=dimension, **row)
            for row in grouped.iter_rows(named=True)
        )
    Rollup.objects.bulk_create(out, batch_size=2000)


def headline_figures(snapshot: Snapshot) -> dict:
    """A snapshot's headline figures, as a rebuild records them."""
    city = snapshot.areas.filter(level=Level.REGENCY).first()
    return {
        "registered": snapshot.registered,
        "members": snapshot.members,
        "active": snapshot.active,
        "as_of": snapshot.as_of.isoformat(),
        "ucj": round(city.ucj, 2) if city and city.ucj is not None else None,
    }


def snapshot_build(
    month: dt.date,
    *,
    user: User | None = None,
    by_name: str = "",
    rebuild: bool = False,
    reason: str = "",
    today: dt.date | None = None,
) -> Snapshot:
    """Build (or rebuild) the snapshot of `month`; see the module's docstring. A rebuild of a
    closed month records `user` (or, from the command line, `by_name`) and the reason."""
    month = month_start(month)
    today = today or timezone.localdate()
    if month > month_start(today):
        raise Refused(
            "future_month",
            _("%(month)s has not begun: a snapshot is of this month or an earlier one.")
            % {"month": f"{month:%m/%Y}"},
            "month",
        )
    closing = closes_on(month)
    closed = today >= closing
    reason = reason.strip()
    with transaction.atomic():
        old = Snapshot.objects.select_for_update().filter(month=month).first()
        if old is not None and old.status == Snapshot.Status.CLOSED:
            if not rebuild:
                raise Refused(
                    "snapshot_closed",
                    _(
                        "%(month)s is closed: its figures are kept as they were. Rebuild it "
                        "only on purpose, and say why."
                    )
                    % {"month": f"{month:%m/%Y}"},
                    "month",
                )
            if not reason:
                raise Refused(
                    "reason_required",
                    _("Say why the closed month %(month)s is rebuilt.")
                    % {"month": f"{month:%m/%Y}"},
                    "reason",
                )
        before = headline_figures(old) if old is not None else {}
        started = time.perf_counter()
        if old is not None:
            old.delete()
        try:
            with transaction.atomic():
                snapshot = Snapshot.objects.create(
                    month=month,
                    as_of=closing if closed else today,
                    status=Snapshot.Status.CLOSED if closed else Snapshot.Status.PROVISIONAL,
                    built_at=timezone.now(),
                    built_by=user,
                )
        except IntegrityError:
            # PostgreSQL: another build of the month, begun meanwhile, wrote it first
            raise Refused(
                "snapshot_busy",
                _("%(month)s is being built by someone else right now: try again in a minute.")
                % {"month": f"{month:%m/%Y}"},
                "month",
            ) from None
        end = add_months(month, 1)
        p = {
            "month": day(month),
            "on": day(snapshot.as_of),
            **_band_params(month),
            "registered_before": connection.ops.adapt_datetimefield_value(
                dt.datetime.combine(end, dt.time(), tzinfo=timezone.get_current_timezone())
            ),
        }
        if connection.vendor == "postgresql":
            # the GROUP BYs of a million rows sort in memory rather than on disk (4 MB default)
            execute("SET LOCAL work_mem = '256MB'")
        _members(p)
        log.debug("coverage %s: members %.1f s", month, time.perf_counter() - started)
        if fetch(f"SELECT COUNT(*) FROM {T.programme} WHERE id >= {PROGRAMMES}")[0][0]:
            raise RuntimeError("programme ids past the cells' packing (PROGRAMMES)")
        try:
            _cells(snapshot, p)
            log.debug("coverage %s: cells %.1f s", month, time.perf_counter() - started)
            members, active = _ids()
        finally:
            drop_temp(TEMP)
        registered = fetch(
            f"SELECT COALESCE(SUM(registered), 0) FROM {Cell._meta.db_table} WHERE snapshot_id = %s",
            [snapshot.pk],
        )[0][0]
        snapshot.registered = int(registered)
        snapshot.members = len(members)
        snapshot.active = len(active)
        snapshot.member_ids = pack_ids(members)
        snapshot.active_ids = pack_ids(active)
        _rollups(snapshot, _areas(snapshot, month))
        snapshot.seconds = round(time.perf_counter() - started, 3)
        snapshot.save()
        if old is not None and old.status == Snapshot.Status.CLOSED:
            SnapshotRebuild.objects.create(
                month=month,
                by=user,
                by_name=user.get_username() if user else by_name,
                reason=reason,
                before=before,
                after=headline_figures(snapshot),
            )
    return snapshot


def first_month() -> dt.date | None:
    """The first month any BPU membership covers (None: no membership yet)."""
    first = fetch(f"SELECT MIN(start_month) FROM {T.membership} WHERE category = 'bpu'")[0][0]
    if first is None:
        return None
    return month_start(first if isinstance(first, dt.date) else dt.date.fromisoformat(str(first)))


def snapshots_catch_up(
    *, today: dt.date | None = None, user: User | None = None, months: int = 24
) -> list[Snapshot]:
    """Build every month not yet closed, from the first month any membership covers (at most
    `months` back) to this month: the months that can close are closed, the rest provisional.
    A closed month is left as it is. Run daily (docs/operations.md)."""
    today = today or timezone.localdate()
    first = first_month()
    if first is None:
        return []
    first = max(first, add_months(month_start(today), -(months - 1)))
    closed = set(
        Snapshot.objects.filter(status=Snapshot.Status.CLOSED, month__gte=first).values_list(
            "month", flat=True
        )
    )
    built = []
    month = first
    while month <= month_start(today):
        if month not in closed:
            built.append(snapshot_build(month, user=user, today=today))
        month = add_months(month, 1)
    return built
