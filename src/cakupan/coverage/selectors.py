"""Reads of the coverage dashboard, its lists and a sponsor's impact (docs/coverage.md,
"Dashboard", "Lists", "Sponsor impact").

Every figure comes from the frozen monthly snapshots, never recomputed from the ledger on a
page request: a figure is a sum over the Area or Cell rows of one snapshot (or of a few, for a
trend), and the list behind it decodes the snapshot's bitmaps of member and active worker ids
and joins them to the registry. So a closed month's list is the list that was counted.

Two reads are not from the snapshots, on purpose: the lapse risk of next month is the ledger's
own forecast (contributions.forecast, reused: its stored count, made daily or on request), and a
sponsor's money and claims are the ledger's and the claims' own figures
(contributions.invoices.programme_money, claims).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from django.db.models import Case, IntegerField, Q, QuerySet, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cakupan.accounts.models import User
from cakupan.claims.models import Claim, Instalment, Instruction
from cakupan.contributions.forecast import REASONS, stored_forecast
from cakupan.contributions.invoices import programme_money
from cakupan.contributions.models import ForecastRun
from cakupan.coverage.models import Area, Cell, Rollup, Snapshot, Target
from cakupan.coverage.snapshots import AGE_BAND_LABELS, AGE_BANDS, ROLLUP_DIMENSIONS, unpack_ids
from cakupan.funding.models import FundingProgramme, Sponsor
from cakupan.funding.selectors import sponsor_scope
from cakupan.membership.models import FundingAssignment
from cakupan.months import add_months
from cakupan.regions.models import Level, Region
from cakupan.regions.selectors import city_code
from cakupan.registry.models import Occupation, Sex, Worker

# What a list shows of a month's registered workers
REGISTERED, MEMBER, ACTIVE, NOT_ACTIVE = "registered", "member", "active", "not_active"
STATUSES = {
    REGISTERED: _("Registered"),
    MEMBER: _("Members"),
    ACTIVE: _("Active (the month paid)"),
    NOT_ACTIVE: _("Not protected (not active)"),
}
# The breakdowns of BPU coverage among registered workers (Cell's columns)
DIMENSIONS = ("occupation", "sex", "age_band", "decile", "programme", "kelurahan")
SELF_PAID = 0  # the programme "key" of self-paid members and of workers with no programme


# -- snapshots --------------------------------------------------------------------------------


def _light() -> QuerySet[Snapshot]:
    """Snapshots without their bitmaps (read only when a list needs them)."""
    return Snapshot.objects.defer("active_ids", "member_ids")


def snapshot_months() -> list[Snapshot]:
    """Every snapshot, newest first."""
    return list(_light().order_by("-month"))


def latest_closed() -> Snapshot | None:
    return _light().filter(status=Snapshot.Status.CLOSED).order_by("-month").first()


def latest() -> Snapshot | None:
    return _light().order_by("-month").first()


def snapshot_of(month: dt.date | None) -> Snapshot | None:
    """The snapshot of `month`; without one, the latest closed month (else the latest)."""
    if month is not None:
        return _light().filter(month=month).first()
    return latest_closed() or latest()


def months_to_build(today: dt.date | None = None) -> list[dt.date]:
    """The months the build button builds: the previous month and this one."""
    this = (today or timezone.localdate()).replace(day=1)
    return [add_months(this, -1), this]


# -- headline and trend -----------------------------------------------------------------------


@dataclass(frozen=True)
class TargetRow:
    kind: str
    label: str
    percent: float
    source: str


@dataclass(frozen=True)
class Headline:
    snapshot: Snapshot
    city: Area | None
    region_name: str
    targets: list[TargetRow]

    @property
    def ucj(self) -> float | None:
        return self.city.ucj if self.city else None

    @property
    def target(self) -> TargetRow | None:
        """The target the headline is measured against: the city's own, else the regional
        plan's, else the national plan's."""
        return min(self.targets, key=lambda t: Target.rank(t.kind), default=None)

    @property
    def gap(self) -> float | None:
        if self.ucj is None or self.target is None:
            return None
        return self.target.percent - self.ucj

    @property
    def split(self) -> list[tuple[str, str, int]]:
        """The participants, by kind: (key, label, count)."""
        a = self.city
        if a is None:
            return []
        return [
            ("bpu", str(_("BPU active (registry)")), a.bpu_active),
            ("pu", str(_("Wage earners (PU)")), a.pu),
            ("jakon", str(_("Construction (Jakon)")), a.jakon),
            ("pmi", str(_("Migrant workers (PMI)")), a.pmi),
        ]


def target_for(region: str, year: int, *, nearest: bool = False) -> Target | None:
    """The target `region` is held to in `year` (Target.PRECEDENCE among its plans). With
    `nearest`, a year without one takes the nearest year after it, else before it."""
    targets = list(Target.objects.filter(region_id=region))
    if not nearest:
        targets = [t for t in targets if t.year == year]
    return min(
        targets,
        key=lambda t: (t.year < year, abs(t.year - year), Target.rank(t.kind)),
        default=None,
    )


def targets_of(year: int) -> list[TargetRow]:
    labels = dict(Target.Kind.choices)
    return [
        TargetRow(t.kind, str(labels[t.kind]), float(t.percent), t.cite())
        for t in Target.objects.filter(region_id=city_code(), year=year)
    ]


def headline(snapshot: Snapshot) -> Headline:
    """The city's UCJ of a month against the target of its year."""
    code = city_code()
    region = Region.objects.filter(code=code).first()
    return Headline(
        snapshot=snapshot,
        city=Area.objects.filter(snapshot=snapshot, region=code).first(),
        region_name=region.name if region else code,
        targets=targets_of(snapshot.month.year),
    )


@dataclass(frozen=True)
class TrendPoint:
    month: dt.date
    status: str
    as_of: dt.date
    ucj: float | None
    bpu_active: int
    registered: int
    employed_source: str


def trend() -> list[TrendPoint]:
    """The city's UCJ of every snapshot, oldest first (one query over the city's Area rows)."""
    rows = (
        Area.objects.filter(region=city_code())
        .select_related("snapshot")
        .defer("snapshot__active_ids", "snapshot__member_ids")
        .order_by("snapshot__month")
    )
    return [
        TrendPoint(
            a.snapshot.month,
            a.snapshot.status,
            a.snapshot.as_of,
            a.ucj,
            a.bpu_active,
            a.registered,
            a.employed_source,
        )
        for a in rows
    ]


# -- coverage by region -----------------------------------------------------------------------


@dataclass(frozen=True)
class AreaRow:
    code: str
    name: str
    level: int
    registered: int
    members: int
    active: int
    participants: int
    employed: int | None
    ucj: float | None
    employed_source: str
    aggregates_source: str

    @property
    def share(self) -> float | None:
        """The share of its registered workers who are active (%), when it has no UCJ."""
        return 100 * self.active / self.registered if self.registered else None

    @property
    def value(self) -> float:
        """What its bar shows: UCJ where there is a denominator, else the active share."""
        v = self.ucj if self.ucj is not None else self.share
        return v or 0.0


def area_rows(snapshot: Snapshot, parent: str) -> list[AreaRow]:
    """The regions right under `parent` (the city's kecamatan, a kecamatan's kelurahan) in a
    month, highest bar first."""
    regions = {
        r.code: r
        for r in Region.objects.filter(parent_id=parent).only("code", "name", "level", "parent")
    }
    rows = [
        AreaRow(
            code=a.region,
            name=regions[a.region].name,
            level=a.level,
            registered=a.registered,
            members=a.members,
            active=a.bpu_active,
            participants=a.participants,
            employed=a.employed,
            ucj=a.ucj,
            employed_source=a.employed_source,
            aggregates_source=a.aggregates_source,
        )
        for a in Area.objects.filter(snapshot=snapshot, region__in=list(regions))
    ]
    return sorted(rows, key=lambda r: (-r.value, r.name))


def area_of(snapshot: Snapshot, code: str) -> Area | None:
    return Area.objects.filter(snapshot=snapshot, region=code).first()


def region_path(code: str) -> list[Region]:
    """The region and its parents up to the city, the city first (for a breadcrumb)."""
    path = []
    city = city_code()
    region = Region.objects.filter(code=code).first()
    while region is not None:
        path.append(region)
        if region.code == city or region.level <= Level.REGENCY:
            break
        region = Region.objects.filter(code=region.parent_id).first()
    return path[::-1]


def in_city(code: str) -> bool:
    city = city_code()
    return code == city or code.startswith(city + ".")


# -- breakdowns of BPU coverage among registered workers --------------------------------------


@dataclass(frozen=True)
class Filters:
    """What narrows a breakdown or a list (Cell's columns; blank: any)."""

    region: str = ""  # a kecamatan's or kelurahan's code (or the city's)
    occupation: int | None = None
    sex: str = ""
    age_band: int | None = None
    decile: int | None = None  # 0: not recorded
    programme: int | None = None  # 0: self-paid or no programme

    def cells(self, snapshot: Snapshot) -> QuerySet[Cell]:
        qs = Cell.objects.filter(snapshot=snapshot)
        if self.region and self.region != city_code():
            qs = (
                qs.filter(kelurahan=self.region)
                if len(self.region) == 13
                else qs.filter(kelurahan__startswith=self.region + ".")
            )
        if self.occupation is not None:
            qs = qs.filter(occupation=self.occupation)
        if self.sex:
            qs = qs.filter(sex=self.sex)
        if self.age_band is not None:
            qs = qs.filter(age_band=self.age_band)
        if self.decile is not None:
            qs = qs.filter(decile=self.decile)
        if self.programme is not None:
            qs = (
                qs.filter(programme__isnull=True)
                if self.programme == SELF_PAID
                else qs.filter(programme=self.programme)
            )
        return qs

    def query(self) -> dict[str, str]:
        """The filters as query parameters (blank ones left out)."""
        out = {
            "wilayah": self.region,
            "pekerjaan": self.occupation,
            "jk": self.sex,
            "usia": self.age_band,
            "desil": self.decile,
            "program": self.programme,
        }
        return {k: str(v) for k, v in out.items() if v not in (None, "")}


@dataclass(frozen=True)
class Count:
    registered: int = 0
    members: int = 0
    active: int = 0

    @property
    def share(self) -> float | None:
        """BPU coverage among registered workers: active ÷ registered (%)."""
        return 100 * self.active / self.registered if self.registered else None

    @property
    def not_active(self) -> int:
        return self.registered - self.active


def counts(snapshot: Snapshot, filters: Filters = Filters()) -> Count:
    """Registered, member and active workers of a month under the filters (a whole region:
    its Area row; else from its cells)."""
    if replace(filters, region="") == Filters():
        area = Area.objects.filter(snapshot=snapshot, region=filters.region or city_code()).first()
        if area is not None:
            return Count(area.registered, area.members, area.bpu_active)
    s = filters.cells(snapshot).aggregate(r=Sum("registered"), m=Sum("members"), a=Sum("active"))
    return Count(int(s["r"] or 0), int(s["m"] or 0), int(s["a"] or 0))


@dataclass(frozen=True)
class Group:
    key: int | str
    label: str
    count: Count
    parent: str = ""  # a kelurahan's kecamatan name


def _labels(dimension: str, keys: set) -> dict:
    if dimension == "occupation":
        return dict(Occupation.objects.filter(pk__in=keys).values_list("pk", "name"))
    if dimension == "sex":
        return {k: str(v) for k, v in Sex.choices}
    if dimension == "age_band":
        return dict(enumerate(AGE_BAND_LABELS))
    if dimension == "decile":
        return {0: str(_("not recorded")), **{d: str(d) for d in range(1, 11)}}
    if dimension == "programme":
        names = {
            p.pk: f"{p.name} ({p.sponsor.name})"
            for p in FundingProgramme.objects.filter(pk__in=keys).select_related("sponsor")
        }
        return {SELF_PAID: str(_("Self-paid or no programme")), **names}
    if dimension == "kelurahan":
        return dict(Region.objects.filter(code__in=keys).values_list("code", "name"))
    raise ValueError(dimension)


def _rolled_up(snapshot: Snapshot, dimension: str, filters: Filters) -> dict | None:
    """A breakdown of a whole region (no other filter) from the snapshot's rollups (by
    kelurahan: its Area rows): a few dozen rows. None where the cells must be read: another
    filter."""
    if replace(filters, region="") != Filters():
        return None
    if dimension == "kelurahan":
        # the kelurahan of a region: their Area rows
        areas = Area.objects.filter(snapshot=snapshot, level=Level.VILLAGE)
        if filters.region and filters.region != city_code():
            areas = areas.filter(region__startswith=filters.region)
        return {
            a.region: Count(a.registered, a.members, a.bpu_active)
            for a in areas.only("region", "registered", "members", "bpu_active")
        }
    if dimension not in ROLLUP_DIMENSIONS:
        return None
    rows = Rollup.objects.filter(
        snapshot=snapshot, region=filters.region or city_code(), dimension=dimension
    ).values_list("key", "registered", "members", "active")
    out: dict = {}
    for key, registered, members, active in rows:
        if dimension == "programme":
            value: int | str = int(key) if key else SELF_PAID
        elif dimension == "sex":
            value = key
        else:
            value = int(key)
        out[value] = Count(registered, members, active)
    return out


def breakdown(snapshot: Snapshot, dimension: str, filters: Filters = Filters()) -> list[Group]:
    """A month's registered, member and active workers grouped by one of the cells' columns
    (one grouped query over the month's cells), in the dimension's natural order."""
    if dimension not in DIMENSIONS:
        raise ValueError(dimension)
    grouped = _rolled_up(snapshot, dimension, filters)
    if grouped is None:
        rows = (
            filters.cells(snapshot)
            .values(dimension)
            .annotate(r=Sum("registered"), m=Sum("members"), a=Sum("active"))
            .order_by()
        )
        grouped = {}
        for row in rows:
            key = row[dimension]
            if dimension == "programme" and key is None:
                key = SELF_PAID
            grouped[key] = Count(int(row["r"] or 0), int(row["m"] or 0), int(row["a"] or 0))
    labels = _labels(dimension, set(grouped))
    groups = [Group(k, labels.get(k, str(k)), c) for k, c in grouped.items()]
    if dimension in ("age_band", "decile", "sex"):
        return sorted(groups, key=lambda g: g.key)
    return sorted(groups, key=lambda g: (-(g.count.share or 0), g.label))


def programme_share(snapshot: Snapshot) -> list[Group]:
    """Each programme's (and self-payers') share of the month's active workers, largest
    first: `count.active` of the group over the month's active total."""
    groups = [g for g in breakdown(snapshot, "programme") if g.count.active]
    return sorted(groups, key=lambda g: (-g.count.active, g.label))


def uncovered_by(snapshot: Snapshot, dimension: str, filters: Filters = Filters()) -> list[Group]:
    """Registered workers not active in the month, by kelurahan or occupation, most first."""
    groups = [g for g in breakdown(snapshot, dimension, filters) if g.count.not_active]
    if dimension == "kelurahan":
        kecamatan = dict(
            Region.objects.filter(
                code__in={str(g.key).rsplit(".", 1)[0] for g in groups}
            ).values_list("code", "name")
        )
        groups = [
            Group(g.key, g.label, g.count, kecamatan.get(str(g.key).rsplit(".", 1)[0], ""))
            for g in groups
        ]
    return sorted(groups, key=lambda g: (-g.count.not_active, g.label))


# -- the list behind a figure -----------------------------------------------------------------


def _age_range(month: dt.date, band: int) -> tuple[dt.date, dt.date]:
    """The birth dates (after, on or before) of the workers in an age band on the month's
    first day, as the snapshot counts them (snapshots._age_band)."""
    low, high = AGE_BANDS[band]
    on_or_before = month.replace(year=month.year - low)
    after = month.replace(year=max(month.year - high - 1, 1))
    return after, on_or_before


def _workers(snapshot: Snapshot, filters: Filters) -> QuerySet[Worker]:
    qs = Worker.objects.all()
    if filters.region and filters.region != city_code():
        if len(filters.region) == 13:
            qs = qs.filter(kelurahan_id=filters.region)
        elif len(filters.region) == 8:
            # a kecamatan: its kelurahan's codes, so the list index is read in order
            codes = Region.objects.filter(parent_id=filters.region).values_list("code", flat=True)
            qs = qs.filter(kelurahan_id__in=sorted(codes))
        else:
            qs = qs.filter(kelurahan__code__startswith=filters.region + ".")
    if filters.occupation is not None:
        qs = qs.filter(occupation_id=filters.occupation)
    if filters.sex:
        qs = qs.filter(sex=filters.sex)
    if filters.age_band is not None and 0 <= filters.age_band < len(AGE_BANDS):
        after, on_or_before = _age_range(snapshot.month, filters.age_band)
        qs = qs.filter(birth_date__gt=after, birth_date__lte=on_or_before)
    if filters.decile is not None:
        qs = (
            qs.filter(welfare_decile__isnull=True)
            if filters.decile == 0
            else qs.filter(welfare_decile=filters.decile)
        )
    if filters.programme is not None:
        # funded by the programme that month (the cells' programme column, from the funding
        # assignments); self-paid: a member of the month funded by no programme
        month = snapshot.month
        funded = FundingAssignment.objects.filter(
            Q(last_month__isnull=True) | Q(last_month__gte=month),
            first_month__lte=month,
            membership__category="bpu",
            membership__start_month__lte=month,
        ).filter(Q(membership__end_month__isnull=True) | Q(membership__end_month__gte=month))
        if filters.programme == SELF_PAID:
            qs = qs.exclude(
                pk__in=funded.filter(programme__isnull=False).values("membership__worker_id")
            )
        else:
            qs = qs.filter(
                pk__in=funded.filter(programme_id=filters.programme).values("membership__worker_id")
            )
    return qs


def _bitmap(snapshot: Snapshot, name: str) -> np.ndarray:
    blob = Snapshot.objects.filter(pk=snapshot.pk).values_list(name, flat=True).first()
    return unpack_ids(blob)


def list_ids(snapshot: Snapshot, status: str, filters: Filters = Filters()) -> np.ndarray:
    """The ids of the workers behind a figure, in list order (LIST_ORDER): the registry's workers under
    the filters, kept when the month's bitmaps say so (registered: in the registry by the end
    of the month, or a member that month; member; active; not active: registered and not
    active). One query for the filtered workers' ids, the rest in NumPy."""
    if status not in STATUSES:
        raise ValueError(status)
    qs = _workers(snapshot, filters).order_by(*LIST_ORDER)
    if status in (MEMBER, ACTIVE):
        ids = np.fromiter(qs.values_list("id", flat=True), dtype=np.int64)
        return ids[
            np.isin(ids, _bitmap(snapshot, "member_ids" if status == MEMBER else "active_ids"))
        ]
    end = _month_end_instant(snapshot)
    rows = list(
        qs.annotate(
            before=Case(
                When(created_at__lt=end, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        ).values_list("id", "before")
    )
    if not rows:
        return np.zeros(0, dtype=np.int64)
    both = np.array(rows, dtype=np.int64)
    ids, before = both[:, 0], both[:, 1] == 1
    registered = before | np.isin(ids, _bitmap(snapshot, "member_ids"))
    if status == REGISTERED:
        return ids[registered]
    return ids[registered & ~np.isin(ids, _bitmap(snapshot, "active_ids"))]


# A list's order: by kelurahan, then name (what an officer walking a kelurahan needs), read
# through the registry's index of the same columns (registry.Worker, "worker_list_order").
LIST_ORDER = ("kelurahan_id", "full_name", "id")


class LazyIds(Sequence):
    """list_ids read a page at a time, for a Paginator: the workers under the filters are read
    in list order (LIST_ORDER: the registry's index streams them, no sort) in chunks
    from the start, each chunk kept through the month's bitmaps in NumPy, until the page is
    filled. Its length is the month's count of the figure (cells or areas), so a page of a city
    of a million reads a few thousand rows, not a million; a worker whose details changed since
    the month is listed where the registry has him now (docs/coverage.md, "Lists")."""

    CHUNK = 2_000

    def __init__(self, snapshot: Snapshot, status: str, filters: Filters, count: int) -> None:
        if status not in STATUSES:
            raise ValueError(status)
        self.snapshot, self.status, self.filters, self.count = snapshot, status, filters, count
        self._kept: list[int] = []
        self._read = 0
        self._done = False
        self._bitmaps: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return self.count

    def _bits(self, name: str) -> np.ndarray:
        if name not in self._bitmaps:
            self._bitmaps[name] = _bitmap(self.snapshot, name)
        return self._bitmaps[name]

    def _more(self) -> None:
        qs = _workers(self.snapshot, self.filters).order_by(*LIST_ORDER)
        size = max(self.CHUNK, self._read)  # doubling: a deep page takes few queries
        # whether each was registered by the month's end, asked as 0/1 of the database: the
        # registration instants turned into Python datetimes took half a deep page's time
        early = Case(
            When(created_at__lt=_month_end_instant(self.snapshot), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
        rows = list(qs.values_list("id", early)[self._read : self._read + size])
        self._read += len(rows)
        self._done = len(rows) < size
        if not rows:
            return
        both = np.array(rows, dtype=np.int64)
        ids = both[:, 0]
        if self.status in (MEMBER, ACTIVE):
            keep = np.isin(ids, self._bits("member_ids" if self.status == MEMBER else "active_ids"))
        else:
            keep = (both[:, 1] == 1) | np.isin(ids, self._bits("member_ids"))
            if self.status == NOT_ACTIVE:
                keep &= ~np.isin(ids, self._bits("active_ids"))
        self._kept.extend(int(i) for i in ids[keep])

    def __getitem__(self, index):  # type: ignore[override]
        stop = index.stop if isinstance(index, slice) else index + 1
        while len(self._kept) < (stop if stop is not None else self.count) and not self._done:
            self._more()
        return self._kept[index]


def list_page_ids(snapshot: Snapshot, status: str, filters: Filters = Filters()) -> LazyIds:
    """The ids behind a figure for a page of its list (LazyIds), counted by the month."""
    count = counts(snapshot, filters)
    number = {
        REGISTERED: count.registered,
        MEMBER: count.members,
        ACTIVE: count.active,
        NOT_ACTIVE: count.not_active,
    }[status]
    return LazyIds(snapshot, status, filters, number)


def _month_end_instant(snapshot: Snapshot) -> dt.datetime:
    return dt.datetime.combine(
        add_months(snapshot.month, 1), dt.time(), tzinfo=timezone.get_current_timezone()
    )


def workers_in_order(ids: np.ndarray | list[int]) -> list[Worker]:
    """The workers of a page of ids, in the ids' order, with what a list shows."""
    ids = [int(i) for i in ids]
    found = Worker.objects.filter(pk__in=ids).select_related(
        "kelurahan", "kelurahan__parent", "occupation"
    )
    by_id = {w.pk: w for w in found}
    return [by_id[i] for i in ids if i in by_id]


def occupations() -> list[tuple[int, str]]:
    return list(Occupation.objects.order_by("name").values_list("pk", "name"))


def programmes() -> list[tuple[int, str]]:
    return [
        (p.pk, f"{p.name} ({p.sponsor.name})")
        for p in FundingProgramme.objects.select_related("sponsor").order_by(
            "sponsor__name", "name"
        )
    ]


def kecamatan_of_city() -> list[Region]:
    return list(
        Region.objects.filter(parent_id=city_code(), level=Level.KECAMATAN).order_by("name")
    )


def kelurahan_of(kecamatan: str) -> list[Region]:
    return list(Region.objects.filter(parent_id=kecamatan, level=Level.VILLAGE).order_by("name"))


# -- lapse risk next month --------------------------------------------------------------------


@dataclass
class LapseArea:
    code: str
    name: str
    total: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LapseRisk:
    run: ForecastRun  # the stored count read
    on: dt.date
    month: dt.date
    check_date: dt.date
    total: int
    by_reason: list[tuple[str, str, int]]  # (reason, label, count)
    areas: list[LapseArea]  # the regions right under the one asked, most first


def lapse_risk(run: ForecastRun, region: str = "") -> LapseRisk:
    """A stored count of the ledger's lapse forecast (contributions.forecast: its tallies),
    added up by kecamatan (region: the city) or by kelurahan (region: a kecamatan)."""
    forecast = stored_forecast(run)
    region = region or city_code()
    depth = 3 if region == city_code() else 4  # kecamatan: 3 dotted parts, kelurahan: 4
    areas: dict[str, LapseArea] = {}
    by_reason: dict[str, int] = defaultdict(int)
    for code, reason, n in forecast.by_kelurahan_code:
        if not (code == region or code.startswith(region + ".")):
            continue
        key = ".".join(code.split(".")[:depth])
        area = areas.setdefault(key, LapseArea(key, key))
        area.total += n
        area.by_reason[reason] = area.by_reason.get(reason, 0) + n
        by_reason[reason] += n
    names = dict(Region.objects.filter(code__in=list(areas)).values_list("code", "name"))
    for area in areas.values():
        area.name = names.get(area.code, area.code)
    return LapseRisk(
        run=run,
        on=forecast.on,
        month=forecast.month,
        check_date=forecast.check_date,
        total=sum(by_reason.values()),
        by_reason=[(r, str(REASONS[r]), by_reason[r]) for r in REASONS if by_reason.get(r)],
        areas=sorted(areas.values(), key=lambda a: (-a.total, a.name)),
    )


# -- a sponsor's impact -----------------------------------------------------------------------


def impact_sponsors(*, user: User) -> QuerySet[Sponsor]:
    """The sponsors whose impact a user may see: a sponsor user its own only."""
    return sponsor_scope(user=user).order_by("name")


@dataclass(frozen=True)
class ProgrammeImpact:
    programme: FundingProgramme
    active_by_month: list[tuple[dt.date, str, int]]  # (month, snapshot status, active)
    months_protected: int
    contributions_paid: int
    claims_paid: int
    claims_paid_amount: int
    scholarships_running: int
    scholarships_to_pay: int

    @property
    def active_latest(self) -> int:
        """Active workers in the latest closed month (a provisional month's contributions may
        still be paid: its count would read as a drop); without one, the latest month."""
        closed = [n for _m, status, n in self.active_by_month if status == Snapshot.Status.CLOSED]
        if closed:
            return closed[-1]
        return self.active_by_month[-1][2] if self.active_by_month else 0


def _claims_of(programmes: list[FundingProgramme]) -> dict[int, dict[int, str]]:
    """programme → {claim: status} of the claims of the workers it funded in the month of the
    event. Read from the claims (a city's are thousands) to their memberships' assignments, not
    from a programme's hundreds of thousands of assignments to their claims."""
    ids = [p.pk for p in programmes]
    claims = list(Claim.objects.values_list("id", "membership_id", "event_date", "status"))
    if not claims:
        return {}
    assignments: dict[int, list[tuple[int, dt.date, dt.date | None]]] = defaultdict(list)
    for membership_id, pid, first, last in FundingAssignment.objects.filter(
        membership_id__in={c[1] for c in claims}, programme_id__in=ids
    ).values_list("membership_id", "programme_id", "first_month", "last_month"):
        assignments[membership_id].append((pid, first, last))
    out: dict[int, dict[int, str]] = defaultdict(dict)
    for claim_id, membership_id, event, status in claims:
        month = event.replace(day=1)
        for pid, first, last in assignments.get(membership_id, []):
            if first <= month and (last is None or last >= month):
                out[pid][claim_id] = status
    return out


def impact(sponsor: Sponsor) -> list[ProgrammeImpact]:
    """Per programme of the sponsor: active workers per snapshot month, worker-months
    protected, contributions paid on its bills, claims paid to its workers' families and the
    scholarships still running. A few grouped queries whatever the number of workers."""
    programmes = list(sponsor.programmes.order_by("-first_month", "name"))
    if not programmes:
        return []
    ids = [p.pk for p in programmes]
    active: dict[int, list[tuple[dt.date, str, int]]] = defaultdict(list)
    # the programme's active workers in the city, month by month: its rollup rows
    rows = (
        Rollup.objects.filter(
            dimension="programme", region=city_code(), key__in=[str(i) for i in ids]
        )
        .values_list("key", "snapshot__month", "snapshot__status", "active")
        .order_by("key", "snapshot__month")
    )
    for key, month, status, n in rows:
        active[int(key)].append((month, status, int(n)))
    money = programme_money(ids)
    claims = _claims_of(programmes)
    all_claims = {cid for c in claims.values() for cid in c}
    paid_amount = dict(
        Instruction.objects.filter(
            claim_id__in=all_claims,
            claim__status=Claim.Status.PAID,
            status=Instruction.Status.PAID,
        )
        .values("claim_id")
        .annotate(s=Sum("amount"))
        .values_list("claim_id", "s")
    )
    still = [
        Instalment.Status.SCHEDULED,
        Instalment.Status.AWAITING_PROOF,
        Instalment.Status.PAYABLE,
    ]
    running = list(
        Instalment.objects.filter(claim_id__in=all_claims, status__in=still).values_list(
            "claim_id", "child_id", "amount"
        )
    )
    out = []
    for p in programmes:
        mine = claims.get(p.pk, {})
        paid = [cid for cid, status in mine.items() if status == Claim.Status.PAID]
        instalments = [(child, amount) for cid, child, amount in running if cid in mine]
        out.append(
            ProgrammeImpact(
                programme=p,
                active_by_month=active.get(p.pk, []),
                months_protected=sum(n for _m, _s, n in active.get(p.pk, [])),
                contributions_paid=money[p.pk].paid,
                claims_paid=len(paid),
                claims_paid_amount=sum(int(paid_amount.get(c) or 0) for c in paid),
                scholarships_running=len({child for child, _a in instalments}),
                scholarships_to_pay=sum(int(a) for _c, a in instalments),
            )
        )
    return out
