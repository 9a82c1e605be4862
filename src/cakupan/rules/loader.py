"""Loading, validating and choosing the dated rule sets (TOML files) that every figure comes from.

A rule set file has a `[rule_set]` header (id, kind, title, title_en, valid_from, optional
valid_to, confidence H/M/L, source, legal_basis, optional note and line_confidence) and one
section of numbers for its kind. `valid_to` is INCLUSIVE (the last day the set applies);
leave it out for a set still in force. A supplement file has a `[supplement]` header
(id, extends, title, source, confidence) and adds or corrects rows of a table in the rule
set it extends: `items` of a disability table, `sectors` or `funding` of a vocabulary. A row
whose code already exists must say `replaces = true`, so no correction happens by accident.

Rule sets of one kind must not overlap in time; for every kind but `discount` they must
also follow each other without a gap. Both are checked when the rules load, and the error
names both ids.
"""

from __future__ import annotations

import functools
import os
import tomllib
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any, cast

from cakupan.months import MonthInvalid, parse_month
from cakupan.rules.errors import RuleInputError, RuleSetError

ENV_DIR = "CAKUPAN_RULES_DIR"
CONFIDENCE_LEVELS = ("H", "M", "L")
# A discount applies only inside its own window, so only it may leave gaps in time.
GAP_ALLOWED_KINDS = frozenset({"discount"})
# Contribution-side rule sets are chosen by month, so their dates must be whole months.
MONTHLY_KINDS = frozenset({"contribution", "discount"})
# Which tables of which kind a supplement may extend.
SUPPLEMENTABLE = {"disability_table": ("items",), "vocabulary": ("sectors", "funding")}
_MISSING = object()


@dataclass(frozen=True)
class Citation:
    """One regulation, and the article or annex when it is known."""

    regulation: str
    article: str = ""

    def text(self) -> str:
        return f"{self.regulation} {self.article}".strip()


@dataclass(frozen=True)
class RuleMeta:
    """What every rule set says about itself: identity, dates, legal basis, confidence."""

    id: str
    kind: str
    title: str
    title_en: str
    valid_from: date
    valid_to: date | None
    confidence: str
    legal_basis: tuple[Citation, ...]
    source: str
    note: str = ""
    path: str = ""
    line_confidence: Mapping[str, str] = field(default_factory=dict)
    supplements: tuple[str, ...] = ()

    @property
    def citation(self) -> str:
        """The legal basis as one line, for a benefit or contribution line."""
        return "; ".join(c.text() for c in self.legal_basis)

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def confidence_of(self, line_code: str) -> str:
        return self.line_confidence.get(line_code, self.confidence)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "title_en": self.title_en,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "confidence": self.confidence,
            "legal_basis": [
                {"regulation": c.regulation, "article": c.article} for c in self.legal_basis
            ],
            "source": self.source,
            "note": self.note,
            "supplements": list(self.supplements),
        }


@dataclass(frozen=True)
class Term:
    """A code the user may give, with its Indonesian and English labels."""

    code: str
    label_id: str
    label_en: str


@dataclass(frozen=True)
class Vocabulary:
    """The codes accepted for categories, programmes, sectors, funders, schooling, work."""

    meta: RuleMeta
    categories: Mapping[str, Term]
    programmes: Mapping[str, Term]
    sectors: Mapping[str, Term]
    funding: Mapping[str, Term]
    education_levels: Mapping[str, Term]
    working_statuses: Mapping[str, Term]


@dataclass(frozen=True)
class Bracket:
    """One row of the BPU income table; `number` counts from 1, `income_to` None is open."""

    number: int
    income_from: int
    income_to: int | None
    base: int


@dataclass(frozen=True)
class ProgrammeRate:
    """How one programme's monthly contribution follows from the bracket base."""

    code: str
    rate_bp: int | None
    flat: int | None
    basis: str

    def gross(self, base: int) -> int:
        if self.flat is not None:
            return self.flat
        # Rate in basis points; half a Rupiah rounds up. Every base in the shipped table is a
        # multiple of 50,000 so no rounding happens today, but an operator's table might.
        return (base * cast(int, self.rate_bp) + 5_000) // 10_000


@dataclass(frozen=True)
class CategoryProgrammes:
    """Which programmes a participant category must, may, or may not join."""

    mandatory: tuple[str, ...]
    optional: tuple[str, ...]
    mandatory_for_business_owner: tuple[str, ...]
    not_open: tuple[str, ...]


@dataclass(frozen=True)
class ContributionRules:
    """The bracket table, programme rates and programme rules per category."""

    meta: RuleMeta
    programmes: Mapping[str, ProgrammeRate]
    categories: Mapping[str, CategoryProgrammes]
    brackets: tuple[Bracket, ...]

    @functools.cached_property
    def lower_bounds(self) -> tuple[int, ...]:
        return tuple(b.income_from for b in self.brackets)

    def bracket_for(self, income: int) -> Bracket:
        return self.brackets[bisect_right(self.lower_bounds, income) - 1]


@dataclass(frozen=True)
class DiscountWindow:
    """Contribution months (inclusive) in which sectors get the discount; None = other sectors."""

    sectors: frozenset[str] | None
    first_month: date
    last_month: date


@dataclass(frozen=True)
class DiscountRules:
    """A temporary percentage off some programmes, by sector window and funder."""

    meta: RuleMeta
    percent: int
    programmes: frozenset[str]
    categories: frozenset[str]
    excluded_funding: frozenset[str]
    windows: tuple[DiscountWindow, ...]

    @functools.cached_property
    def named_sectors(self) -> frozenset[str]:
        return frozenset().union(*(w.sectors for w in self.windows if w.sectors is not None))

    def window_for(self, sector: str, month: date) -> DiscountWindow | None:
        """The window giving `sector` the discount in `month`, if any."""
        named = sector in self.named_sectors
        for window in self.windows:
            matches = sector in window.sectors if window.sectors is not None else not named
            if matches and window.first_month <= month <= window.last_month:
                return window
        return None

    def amount(self, gross: int) -> int:
        # Rounded down so the engine never promises more discount than the regulation gives.
        return gross * self.percent // 100


@dataclass(frozen=True)
class JkkRules:
    """Work accident benefit parameters; every cash figure scales with the wage."""

    meta: RuleMeta
    wage_multiplier: int
    total_disability_percent: int
    death_percent: int
    periodic_months: int
    periodic_monthly: int
    funeral: int
    home_care_cap: int
    stmb_phases: tuple[tuple[int, int], ...]
    stmb_then_percent: int
    stmb_daily_divisor: int
    transport_caps: Mapping[str, int]


@dataclass(frozen=True)
class JkmRules:
    """Death (not from work) benefit amounts."""

    meta: RuleMeta
    lump_sum: int
    periodic_months: int
    periodic_monthly: int
    funeral: int


@dataclass(frozen=True)
class SchoolLevel:
    """One paid education level: yearly amount and the most years paid."""

    code: str
    amount: int
    max_years: int


# How children are ordered when more qualify than a scholarship rule set allows: "chosen"
# puts the heirs' choice first, "eldest" the earlier birth date; ties keep the input order.
SELECTION_KEYS = ("chosen", "eldest")


@dataclass(frozen=True)
class PosthumousWindow:
    """How long after the event a child may be born and still count, and on what basis.

    It is a presumption of paternity from civil law, not a BPJS figure, hence its own
    citation and confidence.
    """

    days: int
    basis: str
    confidence: str


@dataclass(frozen=True)
class ScholarshipRules:
    """Who among the children gets a scholarship, and how much per school year.

    `selection` orders the qualifying children (SELECTION_KEYS) and the first
    `max_children` receive it.
    """

    meta: RuleMeta
    mode: str
    max_children: int
    selection: tuple[str, ...]
    posthumous_window: PosthumousWindow
    max_per_child: int
    one_off_amount: int
    min_contribution_months: Mapping[str, int]
    max_age_exclusive: int | None
    require_unmarried: bool
    require_not_working: bool
    working_allowed: frozenset[str]
    working_pu_max_consecutive_months: int
    school_year_start_month: int
    school_start_age: int
    levels: tuple[SchoolLevel, ...]


@dataclass(frozen=True)
class ArrearsRules:
    """Which benefit lines survive contributions in arrears, and up to how many months."""

    meta: RuleMeta
    max_months: int
    payable_now: Mapping[str, frozenset[str]]
    # the day of the contribution month by which that month is due; before it, the month is
    # not yet in arrears
    due_day: int = 15


@dataclass(frozen=True)
class DisabilityItem:
    """One row of the disability table; exactly one way of stating its percent is set."""

    code: str
    label_id: str
    label_en: str
    percent: int | None
    percent_min: int | None
    percent_max: int | None
    percent_per_unit: int | None
    unit_id: str
    unit_en: str
    mirror: str | None
    source: str
    confidence: str


@dataclass(frozen=True)
class DisabilityTable:
    """Partial anatomical disability percentages, extendable by supplements."""

    meta: RuleMeta
    items: Mapping[str, DisabilityItem]


AnyRules = (
    Vocabulary
    | ContributionRules
    | DiscountRules
    | JkkRules
    | JkmRules
    | ScholarshipRules
    | ArrearsRules
    | DisabilityTable
)


class _Section:
    """A TOML table read with type checks; unread keys are an error, so typos cannot hide."""

    def __init__(self, data: Any, where: str, path: str, rule_id: str) -> None:
        if not isinstance(data, dict):
            raise RuleSetError(f"{where} must be a table", path=path, rule_ids=(rule_id,))
        self.data = data
        self.where = where
        self.path = path
        self.rule_id = rule_id
        self.read: set[str] = set()

    def fail(self, message: str) -> RuleSetError:
        return RuleSetError(
            f"{self.where}: {message} (rule set {self.rule_id})",
            path=self.path,
            rule_ids=(self.rule_id,),
        )

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = _MISSING) -> Any:
        self.read.add(key)
        if key not in self.data:
            if default is _MISSING:
                raise self.fail(f"missing key {key!r}")
            return default
        value = self.data[key]
        if isinstance(value, bool) and kind is not bool:
            raise self.fail(f"{key!r} must be {getattr(kind, '__name__', kind)}, not a boolean")
        if not isinstance(value, kind):
            raise self.fail(f"{key!r} must be {getattr(kind, '__name__', kind)}, got {value!r}")
        return value

    def amount(self, key: str, default: Any = _MISSING) -> int:
        value = self.get(key, int, default)
        if value is not None and value < 0:
            raise self.fail(f"{key!r} must not be negative")
        return cast(int, value)

    def strings(self, key: str, default: Any = _MISSING) -> tuple[str, ...]:
        value = self.get(key, list, default)
        if not all(isinstance(v, str) for v in value):
            raise self.fail(f"{key!r} must be a list of strings")
        return tuple(value)

    def section(self, key: str) -> _Section:
        return _Section(self.get(key, dict), f"{self.where}.{key}", self.path, self.rule_id)

    def sections(self, key: str) -> list[_Section]:
        return [
            _Section(v, f"{self.where}.{key}[{i}]", self.path, self.rule_id)
            for i, v in enumerate(self.get(key, list))
        ]

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.read)
        if unknown:
            raise self.fail(f"unknown key(s) {', '.join(map(repr, unknown))}")


def _month_of(text: str, section: _Section, key: str) -> date:
    try:
        return parse_month(text)
    except MonthInvalid:
        raise section.fail(f"{key!r} must be a month written YYYY-MM, got {text!r}") from None


def _last_day(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _parse_meta(header: _Section, path: str) -> RuleMeta:
    rule_id = header.get("id", str)
    valid_from = header.get("valid_from", date)
    valid_to = header.get("valid_to", date, None)
    confidence = header.get("confidence", str)
    if confidence not in CONFIDENCE_LEVELS:
        raise header.fail(f"confidence must be one of H, M, L, got {confidence!r}")
    line_confidence = header.get("line_confidence", dict, {})
    if any(v not in CONFIDENCE_LEVELS for v in line_confidence.values()):
        raise header.fail("line_confidence values must be H, M or L")
    basis = []
    for cite in header.sections("legal_basis"):
        basis.append(Citation(cite.get("regulation", str), cite.get("article", str, "")))
        cite.done()
    if not basis:
        raise header.fail("legal_basis must name at least one regulation")
    if valid_to is not None and valid_to < valid_from:
        raise header.fail(f"valid_to {valid_to} is before valid_from {valid_from}")
    kind = header.get("kind", str)
    if kind in MONTHLY_KINDS and (
        valid_from.day != 1 or (valid_to is not None and valid_to != _last_day(valid_to))
    ):
        raise header.fail(
            "a contribution-side rule set must start on the 1st and end on the last day of a month"
        )
    meta = RuleMeta(
        id=rule_id,
        kind=kind,
        title=header.get("title", str),
        title_en=header.get("title_en", str),
        valid_from=valid_from,
        valid_to=valid_to,
        confidence=confidence,
        legal_basis=tuple(basis),
        source=header.get("source", str),
        note=header.get("note", str, ""),
        path=path,
        line_confidence=dict(line_confidence),
    )
    header.done()
    return meta


def _terms(section: _Section, key: str) -> dict[str, Term]:
    terms: dict[str, Term] = {}
    for row in section.sections(key):
        term = Term(row.get("code", str), row.get("label_id", str), row.get("label_en", str))
        # Supplement bookkeeping keys are accepted on vocabulary rows and carry no meaning here.
        row.get("replaces", bool, False)
        row.get("source", str, "")
        row.get("confidence", str, "")
        row.done()
        if term.code in terms:
            raise section.fail(f"{key}: code {term.code!r} appears twice")
        terms[term.code] = term
    return terms


def _parse_vocabulary(meta: RuleMeta, body: _Section) -> Vocabulary:
    return Vocabulary(
        meta=meta,
        categories=_terms(body, "categories"),
        programmes=_terms(body, "programmes"),
        sectors=_terms(body, "sectors"),
        funding=_terms(body, "funding"),
        education_levels=_terms(body, "education_levels"),
        working_statuses=_terms(body, "working_statuses"),
    )


def _percent_bp(value: Any, section: _Section) -> int:
    """A percentage from TOML (1, 0.24, "0.24") as integer basis points, refusing fractions."""
    try:
        bp = Decimal(str(value)) * 100
    except InvalidOperation:
        raise section.fail(f"rate_percent {value!r} is not a number") from None
    if bp != bp.to_integral_value() or bp < 0:
        raise section.fail(f"rate_percent {value!r} must be >= 0 with at most two decimals")
    return int(bp)


def _parse_contribution(meta: RuleMeta, body: _Section) -> ContributionRules:
    programmes: dict[str, ProgrammeRate] = {}
    table = body.section("programmes")
    for code in list(table.data):
        row = table.section(code)
        rate = row.get("rate_percent", (int, float), None)
        flat = row.amount("flat", None)
        basis = row.get("basis", str, meta.citation)
        row.done()
        if (rate is None) == (flat is None):
            raise row.fail("give exactly one of rate_percent and flat")
        programmes[code] = ProgrammeRate(
            code, None if rate is None else _percent_bp(rate, row), flat, basis
        )
    categories: dict[str, CategoryProgrammes] = {}
    cats = body.section("categories")
    for code in list(cats.data):
        row = cats.section(code)
        rules = CategoryProgrammes(
            mandatory=row.strings("mandatory"),
            optional=row.strings("optional", []),
            mandatory_for_business_owner=row.strings("mandatory_for_business_owner", []),
            not_open=row.strings("not_open", []),
        )
        row.done()
        priced = {*rules.mandatory, *rules.optional, *rules.mandatory_for_business_owner}
        if priced - set(programmes):
            raise row.fail(f"programmes without a rate: {sorted(priced - set(programmes))}")
        if set(rules.mandatory_for_business_owner) - set(rules.optional):
            raise row.fail("mandatory_for_business_owner must list optional programmes")
        categories[code] = rules
    table.done()
    cats.done()
    brackets_section = body.section("bracket_table")
    brackets: list[Bracket] = []
    for number, row in enumerate(brackets_section.sections("rows"), start=1):
        bracket = Bracket(number, row.amount("from"), row.amount("to", None), row.amount("base"))
        row.done()
        brackets.append(bracket)
    brackets_section.done()
    _check_brackets(brackets, brackets_section)
    return ContributionRules(meta, programmes, categories, tuple(brackets))


def _check_brackets(brackets: list[Bracket], section: _Section) -> None:
    """The table must start at 0, run without holes, rise, and leave only the top row open."""
    if not brackets or brackets[0].income_from != 0:
        raise section.fail("the first bracket must start at income 0")
    for lower, upper in pairwise(brackets):
        if lower.income_to is None or upper.income_from != lower.income_to + 1:
            raise section.fail(
                f"bracket {upper.number} must start at bracket {lower.number}'s upper limit + 1"
            )
        if upper.base <= lower.base:
            raise section.fail(f"bracket {upper.number}'s base must exceed the one below")
    if brackets[-1].income_to is not None:
        raise section.fail("the top bracket must have no upper limit ('to' left out)")
    for bracket in brackets[:-1]:
        if cast(int, bracket.income_to) < bracket.income_from:
            raise section.fail(f"bracket {bracket.number}: 'to' is below 'from'")


def _parse_discount(meta: RuleMeta, body: _Section) -> DiscountRules:
    windows = []
    for row in body.sections("windows"):
        sectors = row.strings("sectors")
        first = _month_of(row.get("first_month", str), row, "first_month")
        last = _month_of(row.get("last_month", str), row, "last_month")
        row.done()
        if last < first:
            raise row.fail("last_month is before first_month")
        if first < meta.valid_from or (meta.valid_to is not None and last > meta.valid_to):
            raise row.fail("the window lies outside the rule set's valid_from/valid_to")
        if "*" in sectors and len(sectors) > 1:
            raise row.fail('"*" stands alone in sectors')
        windows.append(DiscountWindow(None if "*" in sectors else frozenset(sectors), first, last))
    percent = body.amount("percent")
    if not 0 < percent <= 100:
        raise body.fail("percent must be between 1 and 100")
    return DiscountRules(
        meta=meta,
        percent=percent,
        programmes=frozenset(body.strings("programmes")),
        categories=frozenset(body.strings("categories")),
        excluded_funding=frozenset(body.strings("excluded_funding", [])),
        windows=tuple(windows),
    )


def _parse_jkk(meta: RuleMeta, body: _Section) -> JkkRules:
    phases = []
    for row in body.sections("stmb_phases"):
        phases.append((row.amount("months"), row.amount("percent")))
        row.done()
    caps = body.section("transport_caps")
    transport = {mode: caps.amount(mode) for mode in list(caps.data)}
    caps.done()
    divisor = body.amount("stmb_daily_divisor")
    if divisor == 0:
        raise body.fail("stmb_daily_divisor must be positive")
    return JkkRules(
        meta=meta,
        wage_multiplier=body.amount("wage_multiplier"),
        total_disability_percent=body.amount("total_disability_percent"),
        death_percent=body.amount("death_percent"),
        periodic_months=body.amount("periodic_months"),
        periodic_monthly=body.amount("periodic_monthly"),
        funeral=body.amount("funeral"),
        home_care_cap=body.amount("home_care_cap"),
        stmb_phases=tuple(phases),
        stmb_then_percent=body.amount("stmb_then_percent"),
        stmb_daily_divisor=divisor,
        transport_caps=transport,
    )


def _parse_jkm(meta: RuleMeta, body: _Section) -> JkmRules:
    return JkmRules(
        meta=meta,
        lump_sum=body.amount("lump_sum"),
        periodic_months=body.amount("periodic_months"),
        periodic_monthly=body.amount("periodic_monthly"),
        funeral=body.amount("funeral"),
    )


def _parse_scholarship(meta: RuleMeta, body: _Section) -> ScholarshipRules:
    mode = body.get("mode", str)
    if mode not in ("levels", "one_off"):
        raise body.fail("mode must be 'levels' or 'one_off'")
    levels = []
    for row in body.sections("levels"):
        levels.append(
            SchoolLevel(row.get("code", str), row.amount("amount"), row.amount("max_years"))
        )
        row.done()
    if mode == "levels" and not levels:
        raise body.fail("mode 'levels' needs levels")
    months = body.section("min_contribution_months")
    minimum = {event: months.amount(event) for event in list(months.data)}
    months.done()
    if set(minimum) != {"jkk", "jkm"}:
        raise months.fail("give exactly jkk and jkm")
    selection = body.strings("selection")
    if (
        not selection
        or set(selection) - set(SELECTION_KEYS)
        or len(set(selection)) < len(selection)
    ):
        raise body.fail(f"selection must list some of {', '.join(SELECTION_KEYS)}, each once")
    window = body.section("posthumous_window")
    posthumous = PosthumousWindow(
        days=window.amount("days"),
        basis=window.get("basis", str),
        confidence=window.get("confidence", str),
    )
    window.done()
    if posthumous.confidence not in CONFIDENCE_LEVELS:
        raise window.fail("confidence must be H, M or L")
    max_children = body.amount("max_children")
    if max_children < 1:
        raise body.fail("max_children must be at least 1")
    return ScholarshipRules(
        meta=meta,
        mode=mode,
        max_children=max_children,
        selection=selection,
        posthumous_window=posthumous,
        max_per_child=body.amount("max_per_child"),
        one_off_amount=body.amount("one_off_amount", 0),
        min_contribution_months=minimum,
        max_age_exclusive=body.amount("max_age_exclusive", None),
        require_unmarried=body.get("require_unmarried", bool),
        require_not_working=body.get("require_not_working", bool),
        working_allowed=frozenset(body.strings("working_allowed")),
        working_pu_max_consecutive_months=body.amount("working_pu_max_consecutive_months"),
        school_year_start_month=body.amount("school_year_start_month"),
        school_start_age=body.amount("school_start_age"),
        levels=tuple(levels),
    )


def _parse_arrears(meta: RuleMeta, body: _Section) -> ArrearsRules:
    now = body.section("payable_now")
    payable_now = {event: frozenset(now.strings(event)) for event in list(now.data)}
    now.done()
    return ArrearsRules(
        meta=meta,
        max_months=body.amount("max_months"),
        payable_now=payable_now,
        due_day=body.amount("due_day", 15),
    )


def _parse_disability_table(meta: RuleMeta, body: _Section) -> DisabilityTable:
    items: dict[str, DisabilityItem] = {}
    for row in body.sections("items"):
        item = DisabilityItem(
            code=row.get("code", str),
            label_id=row.get("label_id", str),
            label_en=row.get("label_en", str),
            percent=row.amount("percent", None),
            percent_min=row.amount("percent_min", None),
            percent_max=row.amount("percent_max", None),
            percent_per_unit=row.amount("percent_per_unit", None),
            unit_id=row.get("unit_id", str, ""),
            unit_en=row.get("unit_en", str, ""),
            mirror=row.get("mirror", str, None),
            source=row.get("source", str),
            confidence=row.get("confidence", str, meta.confidence),
        )
        row.get("replaces", bool, False)
        row.done()
        ways = [
            item.percent is not None,
            item.percent_min is not None,
            item.percent_per_unit is not None,
        ]
        if sum(ways) != 1 or ((item.percent_min is None) != (item.percent_max is None)):
            raise row.fail(
                f"item {item.code!r}: give exactly one of percent, "
                "percent_min + percent_max, percent_per_unit"
            )
        top = item.percent if item.percent is not None else item.percent_max
        if top is not None and top > 100:
            raise row.fail(f"item {item.code!r}: a percent above 100")
        if item.percent_min is not None and item.percent_min > cast(int, item.percent_max):
            raise row.fail(f"item {item.code!r}: percent_min above percent_max")
        if item.confidence not in CONFIDENCE_LEVELS:
            raise row.fail(f"item {item.code!r}: confidence must be H, M or L")
        if item.code in items:
            raise row.fail(f"item {item.code!r} appears twice")
        items[item.code] = item
    for item in items.values():
        if item.mirror is not None and item.mirror not in items:
            raise body.fail(f"item {item.code!r} mirrors unknown item {item.mirror!r}")
    return DisabilityTable(meta=meta, items=items)


_PARSERS: dict[str, Any] = {
    "vocabulary": _parse_vocabulary,
    "contribution": _parse_contribution,
    "discount": _parse_discount,
    "jkk": _parse_jkk,
    "jkm": _parse_jkm,
    "scholarship": _parse_scholarship,
    "arrears": _parse_arrears,
    "disability_table": _parse_disability_table,
}
# The section holding each kind's numbers, named as in the files.
_BODY = {
    "vocabulary": "vocabulary",
    "contribution": None,
    "discount": "discount",
    "jkk": "jkk",
    "jkm": "jkm",
    "scholarship": "scholarship",
    "arrears": "arrears",
    "disability_table": None,
}


def _parse_rule_set(raw: dict[str, Any], path: str) -> AnyRules:
    header = _Section(raw.get("rule_set"), "[rule_set]", path, "?")
    header.rule_id = str(header.data.get("id", "?"))
    meta = _parse_meta(header, path)
    if meta.kind not in _PARSERS:
        raise header.fail(f"unknown kind {meta.kind!r}; known: {', '.join(_PARSERS)}")
    rest = {k: v for k, v in raw.items() if k != "rule_set"}
    body_key = _BODY[meta.kind]
    if body_key is None:
        body = _Section(rest, "file", path, meta.id)
    else:
        body = _Section(rest, "file", path, meta.id).section(body_key)
        if set(rest) != {body_key}:
            raise body.fail(f"a {meta.kind} rule set has only [rule_set] and [{body_key}]")
    rules = cast(AnyRules, _PARSERS[meta.kind](meta, body))
    body.done()
    return rules


def _apply_supplement(
    raw_sets: dict[str, tuple[dict[str, Any], str]], raw: dict[str, Any], path: str
) -> None:
    """Merge a supplement's rows into the raw rule set it extends."""
    header = _Section(raw.get("supplement"), "[supplement]", path, "?")
    header.rule_id = str(header.data.get("id", "?"))
    supplement_id = header.rule_id
    target_id = header.get("extends", str)
    title = header.get("title", str)
    confidence = header.get("confidence", str)
    header.get("id", str)
    header.get("source", str)
    header.done()
    if confidence not in CONFIDENCE_LEVELS:
        raise header.fail("confidence must be H, M or L")
    if target_id not in raw_sets:
        raise RuleSetError(
            f"supplement {supplement_id!r} extends unknown rule set {target_id!r}",
            path=path,
            rule_ids=(supplement_id, target_id),
        )
    target, _target_path = raw_sets[target_id]
    kind = target["rule_set"].get("kind")
    allowed = SUPPLEMENTABLE.get(kind, ())
    for key, rows in raw.items():
        if key == "supplement":
            continue
        if key not in allowed or not isinstance(rows, list):
            raise RuleSetError(
                f"supplement {supplement_id!r} may only add "
                f"{' or '.join(allowed) or 'nothing'} to a {kind} rule set, "
                f"not {key!r}",
                path=path,
                rule_ids=(supplement_id, target_id),
            )
        existing = target.setdefault(key, [])
        by_code = {row.get("code"): n for n, row in enumerate(existing)}
        for row in rows:
            row = dict(row)
            code = row.get("code")
            replaces = row.get("replaces", False)
            if kind == "disability_table":
                # A row says where it came from, so the table keeps its source column.
                row.setdefault("source", f"{title} ({supplement_id})")
                row.setdefault("confidence", confidence)
            if code in by_code and not replaces:
                raise RuleSetError(
                    f"supplement {supplement_id!r} adds {key} row {code!r} which rule set "
                    f"{target_id!r} already has; set replaces = true to correct it",
                    path=path,
                    rule_ids=(supplement_id, target_id),
                )
            if replaces and code not in by_code:
                raise RuleSetError(
                    f"supplement {supplement_id!r} replaces {key} row {code!r} which rule set "
                    f"{target_id!r} does not have",
                    path=path,
                    rule_ids=(supplement_id, target_id),
                )
            if code in by_code:
                existing[by_code[code]] = row
            else:
                by_code[code] = len(existing)
                existing.append(row)
    target["rule_set"].setdefault("_supplements", []).append(supplement_id)


def _read_files(dirs: Iterable[str | Path], packaged: bool) -> list[tuple[str, dict[str, Any]]]:
    files: list[tuple[str, dict[str, Any]]] = []

    def parse(text: str, where: str) -> dict[str, Any]:
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RuleSetError(f"not valid TOML: {exc}", path=where) from None

    if packaged:
        data = resources.files("cakupan.rules") / "data"
        for entry in sorted(data.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".toml"):
                files.append(
                    (
                        f"cakupan/rules/data/{entry.name}",
                        parse(entry.read_text("utf-8"), entry.name),
                    )
                )
    for directory in dirs:
        folder = Path(directory)
        if not folder.is_dir():
            raise RuleSetError(
                f"rules directory {folder} does not exist (set by {ENV_DIR} or "
                "passed to load_rules)",
                path=str(folder),
            )
        for file in sorted(folder.glob("*.toml")):
            files.append((str(file), parse(file.read_text("utf-8"), str(file))))
    return files


def load_rules(*dirs: str | Path, packaged: bool = True) -> RuleBook:
    """Load the packaged rule sets plus every *.toml in `dirs`, validated together.

    Raises RuleSetError naming the file and ids for a malformed file, a duplicate id, a
    supplement conflict, or two rule sets of one kind overlapping or leaving a gap.
    """
    raw_sets: dict[str, tuple[dict[str, Any], str]] = {}
    supplements: list[tuple[dict[str, Any], str]] = []
    for path, raw in _read_files(dirs, packaged):
        if ("rule_set" in raw) == ("supplement" in raw):
            raise RuleSetError("a file needs exactly one of [rule_set] or [supplement]", path=path)
        if "supplement" in raw:
            supplements.append((raw, path))
            continue
        rule_id = str(raw["rule_set"].get("id", "?"))
        if rule_id in raw_sets:
            raise RuleSetError(
                f"rule set id {rule_id!r} is used by both {raw_sets[rule_id][1]} and {path}",
                path=path,
                rule_ids=(rule_id,),
            )
        raw_sets[rule_id] = (raw, path)
    for raw, path in supplements:
        _apply_supplement(raw_sets, raw, path)
    parsed = []
    for raw, path in raw_sets.values():
        supplement_ids = tuple(raw["rule_set"].pop("_supplements", ()))
        rules = _parse_rule_set(raw, path)
        if supplement_ids:
            rules = replace(rules, meta=replace(rules.meta, supplements=supplement_ids))
        parsed.append(rules)
    return RuleBook(parsed)


class RuleBook:
    """All loaded rule sets, validated as a whole, and the choice of one by date."""

    def __init__(self, rule_sets: Iterable[AnyRules]) -> None:
        self._by_id: dict[str, AnyRules] = {}
        self._by_kind: dict[str, list[AnyRules]] = {}
        for rules in rule_sets:
            self._by_id[rules.meta.id] = rules
            self._by_kind.setdefault(rules.meta.kind, []).append(rules)
        for kind, sets in self._by_kind.items():
            sets.sort(key=lambda r: r.meta.valid_from)
            _check_timeline(kind, sets)
        self._check_references()

    def _check_references(self) -> None:
        """Codes named in one rule set must exist in the vocabulary."""
        vocabularies = cast(list[Vocabulary], self._by_kind.get("vocabulary", []))
        if not vocabularies:
            return
        sectors = set().union(*(v.sectors for v in vocabularies))
        funding = set().union(*(v.funding for v in vocabularies))
        programmes = set().union(*(v.programmes for v in vocabularies))
        categories = set().union(*(v.categories for v in vocabularies))
        for rules in self._by_kind.get("discount", []):
            d = cast(DiscountRules, rules)
            _require_known(d.meta, "sector", d.named_sectors, sectors)
            _require_known(d.meta, "funding source", d.excluded_funding, funding)
            _require_known(d.meta, "programme", d.programmes, programmes)
            _require_known(d.meta, "category", d.categories, categories)
        for rules in self._by_kind.get("contribution", []):
            c = cast(ContributionRules, rules)
            _require_known(c.meta, "programme", set(c.programmes), programmes)
            _require_known(c.meta, "category", set(c.categories), categories)

    def rule_set(self, rule_id: str) -> AnyRules:
        return self._by_id[rule_id]

    def rule_sets(self, kind: str | None = None) -> tuple[AnyRules, ...]:
        if kind is None:
            return tuple(self._by_id.values())
        return tuple(self._by_kind.get(kind, ()))

    def _select(self, kind: str, day: date, field: str, required: bool = True) -> AnyRules | None:
        for rules in self._by_kind.get(kind, ()):
            if rules.meta.covers(day):
                return rules
        if not required:
            return None
        sets = self._by_kind.get(kind, ())
        span = (
            f"{sets[0].meta.valid_from.isoformat()} – "
            f"{(sets[-1].meta.valid_to.isoformat() if sets[-1].meta.valid_to else '…')}"
            if sets
            else "—"
        )
        raise RuleInputError(
            field=field,
            code="no_rule_set",
            message=f"Tidak ada aturan {kind} yang berlaku pada {day.isoformat()}; gunakan "
            f"tanggal dalam rentang {span}.",
            message_en=f"No {kind} rule set applies on {day.isoformat()}; use a date within "
            f"{span}.",
        )

    def vocabulary(self, day: date, field: str = "month") -> Vocabulary:
        return cast(Vocabulary, self._select("vocabulary", day, field))

    def contribution(self, month: date, field: str = "month") -> ContributionRules:
        return cast(ContributionRules, self._select("contribution", month, field))

    def discount(self, month: date) -> DiscountRules | None:
        return cast(DiscountRules | None, self._select("discount", month, "month", False))

    def jkk(self, day: date, field: str = "event_date") -> JkkRules:
        return cast(JkkRules, self._select("jkk", day, field))

    def jkm(self, day: date, field: str = "event_date") -> JkmRules:
        return cast(JkmRules, self._select("jkm", day, field))

    def scholarship(self, day: date, field: str = "event_date") -> ScholarshipRules:
        return cast(ScholarshipRules, self._select("scholarship", day, field))

    def arrears(self, day: date, field: str = "event_date") -> ArrearsRules:
        return cast(ArrearsRules, self._select("arrears", day, field))

    def disability_table(self, day: date, field: str = "event_date") -> DisabilityTable:
        return cast(DisabilityTable, self._select("disability_table", day, field))


def _require_known(meta: RuleMeta, what: str, used: Iterable[str], known: set[str]) -> None:
    unknown = sorted(set(used) - known)
    if unknown:
        raise RuleSetError(
            f"rule set {meta.id!r} names unknown {what}(s) {unknown}; add them "
            "to the vocabulary first",
            path=meta.path,
            rule_ids=(meta.id,),
        )


def _check_timeline(kind: str, sets: list[AnyRules]) -> None:
    """Rule sets of one kind, sorted by start: no overlap, and no gap unless the kind allows."""
    for earlier, later in pairwise(sets):
        a, b = earlier.meta, later.meta
        if a.valid_to is None or a.valid_to >= b.valid_from:
            raise RuleSetError(
                f"{kind} rule sets {a.id!r} ({a.valid_from} – {a.valid_to or 'open'}) and "
                f"{b.id!r} ({b.valid_from} – {b.valid_to or 'open'}) overlap; end {a.id!r} "
                f"the day before {b.id!r} starts",
                path=b.path,
                rule_ids=(a.id, b.id),
            )
        if kind not in GAP_ALLOWED_KINDS and a.valid_to + timedelta(days=1) < b.valid_from:
            raise RuleSetError(
                f"{kind} rule sets {a.id!r} (ends {a.valid_to}) and {b.id!r} (starts "
                f"{b.valid_from}) leave a gap; start {b.id!r} the day after {a.id!r} ends",
                path=b.path,
                rule_ids=(a.id, b.id),
            )


def default_rules() -> RuleBook:
    """The packaged rule sets plus those in the directories named by CAKUPAN_RULES_DIR.

    CAKUPAN_RULES_DIR may list several directories separated by os.pathsep. The result is
    cached per value of the variable, so changing it (in a test) loads afresh.
    """
    return _cached_rules(os.environ.get(ENV_DIR, ""))


@functools.lru_cache(maxsize=8)
def _cached_rules(env_value: str) -> RuleBook:
    return load_rules(*(d for d in env_value.split(os.pathsep) if d))


def resolve_rules(rules: RuleBook | None) -> RuleBook:
    """The rule book to compute with: the one passed in, else the default."""
    return rules if rules is not None else default_rules()
