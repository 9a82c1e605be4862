"""Children's scholarships after a death or total disability: who is eligible, and a schedule.

Assumptions, each a setting in the scholarship rule set where it is a number:
- The school year starts on the 1st of `school_year_start_month` (July). The event falls in
  the school year that contains it, and that year is paid when the child is enrolled.
- A child is eligible when registered as an heir, under `max_age_exclusive` (23) on the
  event date, unmarried and not working (Permenaker 1/2025 exceptions: working as BPU, as
  an intern, or as PU for at most `working_pu_max_consecutive_months` consecutive months).
  For a JKM death the participant must have contributed for `min_contribution_months`.
- The schedule runs from the child's level and year at the event through the remaining
  years of that level and all years of the later levels, up to S1/vocational, each level
  paid at most its `max_years`. It stops before the first school year on whose first day
  the child is 23 or older, and when `max_per_child` is reached.
- A child not yet in school starts TK–SD year 1 in `school_start_year` if given, else in the
  first school year on whose first day it is at least `school_start_age` (4, TK A). A child
  not enrolled now, or who finished S1, has no scheduled year; the officer resubmits when
  the child enrols (the scholarship is claimed yearly on proof of enrolment).
- Under PP 44/2015 (`one_off` mode) one payment goes to the single child submitted, in the
  school year of the event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from cakupan.rules.contribution import Note
from cakupan.rules.errors import RuleInputError
from cakupan.rules.events import Child
from cakupan.rules.inputs import age_on, parse_bool, parse_choice, parse_int
from cakupan.rules.loader import ScholarshipRules, Vocabulary

# Why a child receives no scholarship: a code with both messages, like a contribution note.
Reason = Note


@dataclass(frozen=True)
class ScholarshipYear:
    """One school year's payment: school_year "2026/2027", level, year in level, amount."""

    school_year: str
    level: str
    year_in_level: int
    amount: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "school_year": self.school_year,
            "level": self.level,
            "year_in_level": self.year_in_level,
            "amount": self.amount,
        }


@dataclass(frozen=True)
class ChildScholarship:
    """One child's outcome: eligible with a schedule, or the reasons it is not."""

    index: int
    name: str
    eligible: bool
    reasons: tuple[Reason, ...]
    schedule: tuple[ScholarshipYear, ...]
    total: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "eligible": self.eligible,
            "reasons": [r.to_dict() for r in self.reasons],
            "schedule": [y.to_dict() for y in self.schedule],
            "total": self.total,
        }


@dataclass(frozen=True)
class ScholarshipResult:
    """All submitted children, in input order, and the total over their schedules."""

    rule_id: str
    basis: str
    confidence: str
    children: tuple[ChildScholarship, ...]
    total: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "basis": self.basis,
            "confidence": self.confidence,
            "children": [c.to_dict() for c in self.children],
            "total": self.total,
        }


def _school_year(day: date, rules: ScholarshipRules) -> int:
    """The calendar year in which the school year containing `day` began."""
    return day.year if day.month >= rules.school_year_start_month else day.year - 1


def _validate(children: Sequence[Child], rules: ScholarshipRules, vocabulary: Vocabulary) -> None:
    if len(children) > rules.max_children:
        raise RuleInputError(
            field=f"children[{rules.max_children}]",
            code="too_many_children",
            message=f"Paling banyak {rules.max_children} anak dapat diajukan untuk beasiswa "
            f"({rules.meta.citation}); hapus anak ke-{rules.max_children + 1} dan "
            "seterusnya.",
            message_en=f"At most {rules.max_children} children may be submitted for the "
            f"scholarship ({rules.meta.citation}); remove child "
            f"{rules.max_children + 1} onward.",
        )
    priced = {level.code: level for level in rules.levels}
    for n, child in enumerate(children):
        path = f"children[{n}]"
        level = parse_choice(
            child.level,
            f"{path}.level",
            vocabulary.education_levels,
            what="Jenjang pendidikan",
            what_en="education level",
        )
        parse_choice(
            child.working,
            f"{path}.working",
            vocabulary.working_statuses,
            what="Status kerja",
            what_en="work status",
        )
        parse_bool(child.married, f"{path}.married")
        parse_bool(child.registered_heir, f"{path}.registered_heir")
        parse_int(child.pu_consecutive_months, f"{path}.pu_consecutive_months")
        if rules.mode == "levels" and level in priced:
            if child.year_in_level is None:
                raise RuleInputError(
                    field=f"{path}.year_in_level",
                    code="required",
                    message=f"Isi tahun ke berapa anak di jenjang {level} (1–"
                    f"{priced[level].max_years}).",
                    message_en=f"Give the child's year within {level} (1–"
                    f"{priced[level].max_years}).",
                )
            parse_int(
                child.year_in_level,
                f"{path}.year_in_level",
                minimum=1,
                maximum=priced[level].max_years,
            )
        if child.school_start_year is not None:
            if level != "not_in_school":
                raise RuleInputError(
                    field=f"{path}.school_start_year",
                    code="not_applicable",
                    message="school_start_year hanya untuk anak yang belum sekolah; hapus "
                    "kolom ini atau ubah jenjang menjadi not_in_school.",
                    message_en="school_start_year is only for a child not yet in school; "
                    "remove it or set level to not_in_school.",
                )
            parse_int(child.school_start_year, f"{path}.school_start_year", minimum=1900)


def _reasons(
    child: Child,
    event_type: str,
    event_date: date,
    contribution_months: int | None,
    rules: ScholarshipRules,
) -> list[Reason]:
    reasons = []
    if not child.registered_heir:
        reasons.append(
            Reason(
                "not_heir",
                "Anak tidak terdaftar sebagai ahli waris.",
                "The child is not registered as an heir.",
            )
        )
    age = age_on(child.birth_date, event_date)
    if rules.max_age_exclusive is not None and age >= rules.max_age_exclusive:
        reasons.append(
            Reason(
                "age_limit",
                f"Usia anak {age} tahun; beasiswa hanya sampai sebelum usia "
                f"{rules.max_age_exclusive} tahun.",
                f"The child is {age}; the scholarship ends before age {rules.max_age_exclusive}.",
            )
        )
    if rules.require_unmarried and child.married:
        reasons.append(Reason("married", "Anak sudah menikah.", "The child is married."))
    if rules.require_not_working and not _may_work(child, rules):
        reasons.append(
            Reason(
                "working",
                f"Anak bekerja; tetap berhak hanya jika bekerja sebagai BPU, magang, atau PU paling "
                f"lama {rules.working_pu_max_consecutive_months} bulan berturut-turut.",
                f"The child works; still eligible only when working as BPU, as an intern, or as PU "
                f"for at most {rules.working_pu_max_consecutive_months} consecutive months.",
            )
        )
    minimum = rules.min_contribution_months[event_type]
    if minimum and (contribution_months or 0) < minimum:
        reasons.append(
            Reason(
                "min_contribution",
                f"Masa iuran {contribution_months or 0} bulan; beasiswa JKM memerlukan paling "
                f"sedikit {minimum} bulan iuran.",
                f"{contribution_months or 0} months of contributions; a JKM scholarship needs at "
                f"least {minimum}.",
            )
        )
    if rules.mode == "levels" and child.level == "not_enrolled":
        reasons.append(
            Reason(
                "not_enrolled",
                "Anak tidak sedang bersekolah; ajukan lagi dengan bukti pendaftaran sekolah.",
                "The child is not enrolled; resubmit with proof of enrolment.",
            )
        )
    if rules.mode == "levels" and child.level == "finished":
        reasons.append(
            Reason("finished", "Anak sudah lulus S1/vokasi.", "The child has finished a degree.")
        )
    return reasons


def _may_work(child: Child, rules: ScholarshipRules) -> bool:
    if child.working == "no" or child.working in rules.working_allowed:
        return True
    return (
        child.working == "pu"
        and child.pu_consecutive_months <= rules.working_pu_max_consecutive_months
    )


def _schedule(child: Child, event_date: date, rules: ScholarshipRules) -> list[ScholarshipYear]:
    start_month = rules.school_year_start_month
    first_year = _school_year(event_date, rules)
    if rules.mode == "one_off":
        return [
            ScholarshipYear(
                f"{first_year}/{first_year + 1}",
                child.level,
                child.year_in_level or 1,
                rules.one_off_amount,
            )
        ]
    codes = [level.code for level in rules.levels]
    if child.level == "not_in_school":
        year = first_year
        if child.school_start_year is not None:
            year = max(child.school_start_year, first_year)
        else:
            while age_on(child.birth_date, date(year, start_month, 1)) < rules.school_start_age:
                year += 1
        level_index, year_in_level = 0, 1
    elif child.level in codes:
        year, level_index, year_in_level = (
            first_year,
            codes.index(child.level),
            child.year_in_level or 1,
        )
    else:
        return []
    schedule: list[ScholarshipYear] = []
    paid = 0
    while level_index < len(rules.levels):
        # The event's own school year is judged on the event date, later ones on their first day.
        on = event_date if year == first_year else date(year, start_month, 1)
        if (
            rules.max_age_exclusive is not None
            and age_on(child.birth_date, on) >= rules.max_age_exclusive
        ):
            break
        level = rules.levels[level_index]
        amount = min(level.amount, rules.max_per_child - paid)
        if amount <= 0:
            break
        schedule.append(ScholarshipYear(f"{year}/{year + 1}", level.code, year_in_level, amount))
        paid += amount
        year += 1
        year_in_level += 1
        if year_in_level > level.max_years:
            level_index, year_in_level = level_index + 1, 1
    return schedule


def scholarships(
    *,
    event_type: str,
    event_date: date,
    contribution_months: int | None,
    children: Sequence[Child],
    rules: ScholarshipRules,
    vocabulary: Vocabulary,
) -> ScholarshipResult:
    """Eligibility and schedule for each submitted child (at most `rules.max_children`)."""
    _validate(children, rules, vocabulary)
    outcomes = []
    for n, child in enumerate(children):
        reasons = _reasons(child, event_type, event_date, contribution_months, rules)
        schedule = [] if reasons else _schedule(child, event_date, rules)
        if not reasons and not schedule:
            reasons = [
                Reason(
                    "no_remaining_years",
                    "Tidak ada tahun ajaran tersisa sebelum batas usia.",
                    "No school year remains before the age limit.",
                )
            ]
        outcomes.append(
            ChildScholarship(
                index=n,
                name=child.name,
                eligible=not reasons,
                reasons=tuple(reasons),
                schedule=tuple(schedule),
                total=sum(y.amount for y in schedule),
            )
        )
    return ScholarshipResult(
        rule_id=rules.meta.id,
        basis=rules.meta.citation,
        confidence=rules.meta.confidence,
        children=tuple(outcomes),
        total=sum(o.total for o in outcomes),
    )
