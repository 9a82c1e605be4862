"""The budget planner (docs/coverage.md, "Budget planner"): which uncovered workers a budget
can protect, and what a UCJ target costs.

- Candidates: registered workers who are not covered: no BPU membership covers the plan's
  first month and they were not active in the latest snapshot (its bitmap of active ids).
  One query over the worker table's few columns, then numpy: no per-worker ORM.
- Priorities: each candidate gets a score in 0..1 per criterion, mixed with the user's
  weights (normalised): vulnerability (welfare decile 1 → 1.0, decile 10 → 0.1, unknown → 0),
  accident risk (the occupation's group 1..5 → 0..1), kelurahan coverage gap (how far the
  kelurahan's UCJ, or active share without a denominator, in the latest closed snapshot lies
  below the city's target, as a share of the target). Highest score first, ties by worker id.
- Price: every chosen worker is priced month by month by the rules engine through
  `funding.selectors.cost_of`, at the declared income (the lowest bracket by default) and the
  funder type (an unsaved programme of an unsaved sponsor of that type): APBD/APBN pay without
  the PP 50/2025 discount, the others get it where the rules say (sector and month).
- Forward: take candidates by priority while the budget lasts (stop at the first who does
  not fit). Inverse: the workers needed for a target UCJ by a month, chosen by priority, and
  the budget per fiscal year. A forward plan given the inverse's budget over the same months
  takes the same workers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
from django.db import connection
from django.utils.translation import gettext_lazy as _

from cakupan.contributions.sql import day, fetch
from cakupan.coverage.models import Area, Snapshot, Target
from cakupan.coverage.selectors import latest_closed, target_for
from cakupan.coverage.snapshots import unpack_ids
from cakupan.errors import Refused
from cakupan.funding.models import FundingProgramme, Sponsor, SponsorType
from cakupan.funding.selectors import cost_of
from cakupan.funding.services import MAX_MONTHS  # a plan runs at most as long as a programme
from cakupan.membership.models import Membership
from cakupan.months import add_months, month_range, months_between
from cakupan.regions.models import Level, Region
from cakupan.regions.selectors import city_code
from cakupan.registry.models import Occupation, Worker

LOWEST_INCOME = FundingProgramme._meta.get_field("declared_income").default


class Priority:
    VULNERABILITY = "vulnerability"
    RISK = "risk"
    GAP = "gap"
    MIX = "mix"
    CHOICES = (
        (VULNERABILITY, _("Most vulnerable first (welfare decile)")),
        (RISK, _("Highest work-accident risk first")),
        (GAP, _("Kelurahan furthest below the target first")),
        (MIX, _("A weighted mix")),
    )
    CRITERIA = (VULNERABILITY, RISK, GAP)


class PlanRefused(Refused):
    pass


@dataclass(frozen=True)
class Candidates:
    """Uncovered workers, one entry per worker in each array, in priority order once ranked."""

    ids: np.ndarray
    kelurahan: np.ndarray  # object: region codes
    occupation: np.ndarray  # occupation ids
    sector: np.ndarray  # object: rules sectors
    decile: np.ndarray  # 0 = unknown
    risk: np.ndarray  # 1..5

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, index: np.ndarray) -> Candidates:
        return Candidates(
            self.ids[index],
            self.kelurahan[index],
            self.occupation[index],
            self.sector[index],
            self.decile[index],
            self.risk[index],
        )


def kelurahan_of(kecamatan: list[str]) -> list[str]:
    return list(
        Region.objects.filter(parent_id__in=kecamatan, level=Level.VILLAGE).values_list(
            "code", flat=True
        )
    )


# the packing of a candidate's kelurahan, occupation and decile into one integer (candidates)
OCCUPATIONS = 2**20  # occupation ids below it (the catalogue holds a few hundred)
DECILES = 16  # deciles 0-10


def candidates(
    *,
    first_month: dt.date,
    kecamatan: list[str] | None = None,
    kelurahan: list[str] | None = None,
    occupations: list[int] | None = None,
) -> Candidates:
    """The registered workers not covered (see the module's docstring), optionally only those
    of some kecamatan/kelurahan (either) and occupations, ordered by id."""
    where, params = [], []
    places = list(kelurahan or []) + (kelurahan_of(kecamatan) if kecamatan else [])
    if kecamatan or kelurahan:
        if not places:
            return _empty()
        where.append(f"w.kelurahan_id IN ({', '.join(['%s'] * len(places))})")
        params += places
    if occupations:
        where.append(f"w.occupation_id IN ({', '.join(['%s'] * len(occupations))})")
        params += list(occupations)
    # a member in the first month is left out in the query, so only the candidates cross into
    # Python. PostgreSQL runs NOT EXISTS as a hash anti-join. SQLite would run it as a probe of
    # the membership's worker index and a read of the membership row per worker (1.6 s on a
    # million workers); NOT IN reads the members once into an in-memory list and probes that
    # (1.1 s with the rows fetched). worker_id is never null, so the two mean the same.
    members = (
        f"SELECT m.worker_id FROM {Membership._meta.db_table} m WHERE m.category = %s "
        "AND m.start_month <= %s AND (m.end_month IS NULL OR m.end_month >= %s)"
    )
    if connection.vendor == "sqlite":
        where.append(f"w.id NOT IN ({members})")
    else:
        where.append(f"NOT EXISTS ({members} AND m.worker_id = w.id)")
    month = day(first_month)
    params += [Membership.Category.BPU, month, month]
    catalogue = {o.pk: (o.sector, o.accident_risk) for o in Occupation.objects.all()}
    if catalogue and max(catalogue) >= OCCUPATIONS:
        raise RuntimeError("occupation ids past the planner's packing (OCCUPATIONS)")
    # Two integers a worker: its id, and its kelurahan code's digits, occupation and decile
    # packed into one. Half a million rows of four values, a text among them, cost as long
    # again to turn into Python objects as the query took; two integers cost a tenth of it.
    rows = fetch(
        f"SELECT w.id, (CAST(REPLACE(w.kelurahan_id, '.', '') AS BIGINT) * {OCCUPATIONS} "
        f"+ w.occupation_id) * {DECILES} + COALESCE(w.welfare_decile, 0) "
        f"FROM {Worker._meta.db_table} w WHERE {' AND '.join(where)} ORDER BY w.id",
        params,
    )
    if not rows:
        return _empty()
    both = np.array(rows, dtype=np.int64)
    ids, packed = both[:, 0], both[:, 1]
    decile, packed = packed % DECILES, packed // DECILES
    occ, digits = packed % OCCUPATIONS, packed // OCCUPATIONS
    numbers, where_kel = np.unique(digits, return_inverse=True)
    named = {int(c.replace(".", "")): c for c in Region.objects.values_list("code", flat=True)}
    kel = np.array([named[int(n)] for n in numbers], dtype=object)[where_kel]
    covered = np.zeros(0, dtype=np.int64)
    snapshot = Snapshot.objects.order_by("-month").only("active_ids").first()
    if snapshot is not None:
        covered = np.concatenate([covered, unpack_ids(snapshot.active_ids)])
    keep = ~np.isin(ids, covered)
    occ = occ[keep]
    codes = np.array(sorted(catalogue), dtype=np.int64)
    sectors = np.array([catalogue[c][0] for c in codes], dtype=object)
    risks = np.array([catalogue[c][1] for c in codes], dtype=np.int64)
    where_in = np.searchsorted(codes, occ)
    return Candidates(ids[keep], kel[keep], occ, sectors[where_in], decile[keep], risks[where_in])


def _empty() -> Candidates:
    none = np.zeros(0, dtype=np.int64)
    return Candidates(none, np.zeros(0, dtype=object), none, np.zeros(0, dtype=object), none, none)


# -- priorities ------------------------------------------------------------------------------


def city_target(year: int) -> Target | None:
    """The city's target for `year`, else the nearest year after, else before."""
    return target_for(city_code(), year, nearest=True)


def kelurahan_shares(snapshot: Snapshot | None) -> dict[str, float]:
    """Per kelurahan, its UCJ (%) in the snapshot, or its registered workers' active share (%)
    where it has no denominator."""
    if snapshot is None:
        return {}
    shares = {}
    for a in Area.objects.filter(snapshot=snapshot, level=Level.VILLAGE):
        if a.employed:
            shares[a.region] = 100 * a.participants / a.employed
        else:
            shares[a.region] = 100 * a.bpu_active / a.registered if a.registered else 0.0
    return shares


def normalised(weights: dict[str, float]) -> dict[str, float]:
    clean = {k: max(0.0, float(weights.get(k) or 0)) for k in Priority.CRITERIA}
    total = sum(clean.values())
    if total <= 0:
        raise PlanRefused(
            "weights_zero",
            _("Give at least one priority a weight above 0."),
            "weights",
        )
    return {k: v / total for k, v in clean.items()}


def weights_for(priority: str, weights: dict[str, float] | None = None) -> dict[str, float]:
    if priority == Priority.MIX:
        return normalised(weights or {})
    if priority not in Priority.CRITERIA:
        raise PlanRefused(
            "priority_unknown",
            _("Choose a priority from the list."),
            "priority",
        )
    return {k: 1.0 if k == priority else 0.0 for k in Priority.CRITERIA}


def rank(pool: Candidates, weights: dict[str, float], *, first_month: dt.date) -> Candidates:
    """The pool in priority order: highest mixed score first, ties by worker id."""
    if not len(pool):
        return pool
    score = np.zeros(len(pool), dtype=np.float64)
    if weights.get(Priority.VULNERABILITY):
        vulnerable = np.where(pool.decile > 0, (11 - pool.decile) / 10, 0.0)
        score += weights[Priority.VULNERABILITY] * vulnerable
    if weights.get(Priority.RISK):
        score += weights[Priority.RISK] * (pool.risk - 1) / 4
    if weights.get(Priority.GAP):
        target = city_target(first_month.year)
        goal = float(target.percent) if target else 100.0
        shares = kelurahan_shares(latest_closed())
        codes, inverse = np.unique(pool.kelurahan.astype(str), return_inverse=True)
        gaps = np.array([max(0.0, goal - shares.get(c, 0.0)) / goal if goal else 0 for c in codes])
        score += weights[Priority.GAP] * gaps[inverse]
    # Rounded so that the same mix gives the same order whatever the float noise.
    order = np.lexsort((pool.ids, -np.round(score, 9)))
    return pool.take(order)


# -- price -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prices:
    """Rp per member per month, per sector (rows: `sectors`, columns: `months`)."""

    sectors: tuple[str, ...]
    months: tuple[dt.date, ...]
    table: np.ndarray

    def per_worker(self, sectors: np.ndarray) -> np.ndarray:
        """Each worker's cost over all the months."""
        if not len(sectors):
            return np.zeros(0, dtype=np.int64)
        index = np.searchsorted(np.array(self.sectors, dtype=object), sectors)
        return self.table.sum(axis=1)[index]

    def monthly(self, sectors: np.ndarray) -> list[tuple[dt.date, int, int]]:
        """(month, workers, Rp) for a cohort with these sectors, every month."""
        counts = np.array([int((sectors == s).sum()) for s in self.sectors], dtype=np.int64)
        return [
            (m, int(counts.sum()), int((counts * self.table[:, i]).sum()))
            for i, m in enumerate(self.months)
        ]


def pricing_programme(*, funder: str, income: int, jht: bool = False) -> FundingProgramme:
    """An unsaved programme of an unsaved sponsor of type `funder`, to price with cost_of."""
    if funder not in SponsorType.values:
        raise PlanRefused("funder_unknown", _("Choose a funder type from the list."), "funder")
    return FundingProgramme(
        sponsor=Sponsor(type=funder, name=""),
        programmes=["jkk", "jkm", *(["jht"] if jht else [])],
        declared_income=income,
    )


def prices(
    *, sectors: list[str], first: dt.date, last: dt.date, funder: str, income: int, jht: bool
) -> Prices:
    """Each sector's monthly cost first..last, priced by the rules engine (cost_of)."""
    programme = pricing_programme(funder=funder, income=income, jht=jht)
    sectors = sorted(set(sectors))
    months = tuple(month_range(first, last))
    table = np.zeros((len(sectors), len(months)), dtype=np.int64)
    for i, month in enumerate(months):
        if sectors:
            table[:, i] = cost_of(
                programme=programme,
                incomes=[income] * len(sectors),
                sectors=sectors,
                first_months=[month] * len(sectors),
                last_months=[month] * len(sectors),
            )
    return Prices(tuple(sectors), months, table)


# -- regions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegionReach:
    code: str
    name: str
    level: int
    employed: int | None
    participants: int  # counted now: with a denominator, UCJ's numerator; else active BPU
    base: int  # what they are divided by: employed, else the registered workers
    chosen: int
    by_share: bool  # True: no denominator, the active share of registered workers

    @property
    def before(self) -> float | None:
        return 100 * self.participants / self.base if self.base else None

    @property
    def after(self) -> float | None:
        return 100 * (self.participants + self.chosen) / self.base if self.base else None

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "level": self.level,
            "employed": self.employed,
            "participants": self.participants,
            "base": self.base,
            "chosen": self.chosen,
            "by_share": self.by_share,
            "before": round(self.before, 2) if self.before is not None else None,
            "after": round(self.after, 2) if self.after is not None else None,
        }


def reach(snapshot: Snapshot | None, chosen_kelurahan: np.ndarray) -> list[RegionReach]:
    """UCJ reached per region of the snapshot (the city, each kecamatan, each kelurahan)."""
    if snapshot is None:
        return []
    parents = dict(Region.objects.filter(level__gte=Level.REGENCY).values_list("code", "parent_id"))
    names = dict(Region.objects.filter(level__gte=Level.REGENCY).values_list("code", "name"))
    added: dict[str, int] = {}
    if len(chosen_kelurahan):
        codes, counts = np.unique(chosen_kelurahan.astype(str), return_counts=True)
        for code, n in zip(codes.tolist(), counts.tolist(), strict=True):
            region: str | None = code
            while region is not None and region in parents:
                added[region] = added.get(region, 0) + n
                region = parents[region]
    rows = []
    for a in Area.objects.filter(snapshot=snapshot).order_by("region"):
        by_share = not a.employed
        rows.append(
            RegionReach(
                code=a.region,
                name=names.get(a.region, a.region),
                level=a.level,
                employed=a.employed,
                participants=a.bpu_active if by_share else a.participants,
                base=a.registered if by_share else a.employed,
                chosen=added.get(a.region, 0),
                by_share=by_share,
            )
        )
    return rows


# -- plans -----------------------------------------------------------------------------------


@dataclass
class Plan:
    kind: str  # forward | inverse
    parameters: dict
    chosen: Candidates
    cost: np.ndarray  # per chosen worker, Rp over the months
    monthly: list[tuple[dt.date, int, int]]
    regions: list[RegionReach]
    candidates: int
    snapshot: Snapshot | None
    needed: int | None = None
    shortfall: int = 0
    keep_yearly: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return int(self.cost.sum())

    def by_year(self) -> list[tuple[int, int]]:
        years: dict[int, int] = {}
        for month, _n, rp in self.monthly:
            years[month.year] = years.get(month.year, 0) + rp
        return sorted(years.items())

    def summary(self) -> dict:
        """Plain JSON: what a scenario keeps of the result."""
        return {
            "kind": self.kind,
            "candidates": self.candidates,
            "chosen": len(self.chosen),
            "total": self.total,
            "needed": self.needed,
            "shortfall": self.shortfall,
            "keep_yearly": self.keep_yearly,
            "budget_left": (
                self.parameters["budget"] - self.total if self.kind == "forward" else None
            ),
            "monthly": [[m.isoformat(), n, rp] for m, n, rp in self.monthly],
            "by_year": [[y, rp] for y, rp in self.by_year()],
            "regions": [r.to_dict() for r in self.regions],
            "snapshot": (
                {"month": self.snapshot.month.isoformat(), "status": self.snapshot.status}
                if self.snapshot
                else None
            ),
            "first_ids": self.chosen.ids[:100].tolist(),
        }


def _check_months(first: dt.date, months: int) -> None:
    if first.day != 1:
        raise PlanRefused("month_not_first", _("A month is its first day."), "first_month")
    if not 1 <= months <= MAX_MONTHS:
        raise PlanRefused(
            "months_out_of_range",
            _("Plan between 1 and %(max)s months.") % {"max": MAX_MONTHS},
            "months",
        )


def _pool(params: dict) -> tuple[Candidates, dict[str, float]]:
    weights = weights_for(params["priority"], params.get("weights"))
    pool = candidates(
        first_month=params["first_month"],
        kecamatan=params.get("kecamatan") or None,
        kelurahan=params.get("kelurahan") or None,
        occupations=params.get("occupations") or None,
    )
    return rank(pool, weights, first_month=params["first_month"]), weights


def forward(
    *,
    budget: int,
    first_month: dt.date,
    months: int,
    funder: str,
    priority: str,
    weights: dict[str, float] | None = None,
    income: int = LOWEST_INCOME,
    jht: bool = False,
    kecamatan: list[str] | None = None,
    kelurahan: list[str] | None = None,
    occupations: list[int] | None = None,
) -> Plan:
    """How many and which workers `budget` (Rp) covers for `months` months from `first_month`."""
    _check_months(first_month, months)
    if budget < 0:
        raise PlanRefused("budget_negative", _("The budget cannot be negative."), "budget")
    params = {
        "budget": int(budget),
        "first_month": first_month,
        "months": months,
        "funder": funder,
        "priority": priority,
        "weights": weights or {},
        "income": income,
        "jht": jht,
        "kecamatan": kecamatan or [],
        "kelurahan": kelurahan or [],
        "occupations": occupations or [],
    }
    pool, weights = _pool(params)
    last = add_months(first_month, months - 1)
    price = prices(
        sectors=pool.sector.tolist(),
        first=first_month,
        last=last,
        funder=funder,
        income=income,
        jht=jht,
    )
    cost = price.per_worker(pool.sector)
    fits = int(np.searchsorted(np.cumsum(cost), budget, side="right"))
    chosen = pool.take(np.arange(fits))
    snapshot = latest_closed()
    params["weights"] = weights
    return Plan(
        kind="forward",
        parameters=params,
        chosen=chosen,
        cost=cost[:fits],
        monthly=price.monthly(chosen.sector),
        regions=reach(snapshot, chosen.kelurahan),
        candidates=len(pool),
        snapshot=snapshot,
    )


def inverse(
    *,
    target: Decimal | float | str,
    by_month: dt.date,
    first_month: dt.date,
    funder: str,
    priority: str,
    weights: dict[str, float] | None = None,
    region: str | None = None,
    income: int = LOWEST_INCOME,
    jht: bool = False,
    occupations: list[int] | None = None,
) -> Plan:
    """The workers needed for UCJ `target` (%) in `region` (the city, or a kecamatan) by
    `by_month`, chosen by priority, and what they cost from `first_month` to `by_month`."""
    region = region or city_code()
    try:
        percent = Decimal(str(target))
    except ArithmeticError:
        percent = Decimal(-1)
    if not Decimal(0) <= percent <= Decimal(100):
        raise PlanRefused("target_out_of_range", _("Give a target between 0 and 100%."), "target")
    months = months_between(first_month, by_month)
    if months < 1:
        raise PlanRefused(
            "target_before_first",
            _("The target month must be the first month or later."),
            "by_month",
        )
    _check_months(first_month, months)
    snapshot = latest_closed()
    area = Area.objects.filter(snapshot=snapshot, region=region).first() if snapshot else None
    if area is None or not area.employed:
        raise PlanRefused(
            "no_denominator",
            _(
                "The latest closed snapshot has no employed population for this region: add a "
                "denominator (Inputs) and rebuild the snapshot, or choose another region."
            ),
            "region",
        )
    level = Region.objects.filter(code=region).values_list("level", flat=True).first()
    params = {
        "target": str(percent),
        "by_month": by_month,
        "first_month": first_month,
        "months": months,
        "region": region,
        "funder": funder,
        "priority": priority,
        "weights": weights or {},
        "income": income,
        "jht": jht,
        "kecamatan": [region] if level == Level.KECAMATAN else [],
        "kelurahan": [region] if level == Level.VILLAGE else [],
        "occupations": occupations or [],
    }
    # ceil(target% × employed) in integers: the percent has two decimals.
    goal = -(-int(percent * 100) * area.employed // 10_000)
    needed = max(0, goal - area.participants)
    pool, weights = _pool(params)
    params["weights"] = weights
    take = min(needed, len(pool))
    chosen = pool.take(np.arange(take))
    price = prices(
        sectors=chosen.sector.tolist(),
        first=first_month,
        last=by_month,
        funder=funder,
        income=income,
        jht=jht,
    )
    after = add_months(by_month, 1)
    keep = prices(
        sectors=chosen.sector.tolist(),
        first=after,
        last=add_months(after, 11),
        funder=funder,
        income=income,
        jht=jht,
    )
    plan = Plan(
        kind="inverse",
        parameters=params,
        chosen=chosen,
        cost=price.per_worker(chosen.sector),
        monthly=price.monthly(chosen.sector),
        regions=reach(snapshot, chosen.kelurahan),
        candidates=len(pool),
        snapshot=snapshot,
        needed=needed,
        shortfall=needed - take,
        keep_yearly=int(keep.per_worker(chosen.sector).sum()),
    )
    params["budget"] = plan.total
    return plan
