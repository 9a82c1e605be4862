"""Children's scholarships after a death or total disability: who receives one, and when.

Assumptions, each a setting in the scholarship rule set where it is a number:
- The school year starts on the 1st of `school_year_start_month` (July). The event falls in
  the school year that contains it, and that year is paid when the child is enrolled.
- Every instalment is placed against the school year of the as-of date (today, passed in by
  the caller: the engine never reads the clock): `past` (a school year already over, treated
  as due now on proof of enrolment in that year [L]), `current` (this school year, due now)
  or `later` (paid in its own school year). Later instalments are never "paid now".
- A child is eligible when registered as an heir, under `max_age_exclusive` (23) on the
  event date, unmarried and not working (Permenaker 1/2025 exceptions: working as BPU, as
  an intern, or as PU for at most `working_pu_max_consecutive_months` consecutive months).
  For a JKM death the participant must have contributed for `min_contribution_months`.
- Any number of children may be submitted. At most `max_children` receive it, ordered by
  the rule set's `selection` (the heirs' choice first, then the eldest); every other
  qualifying child is listed with the reason `max_children`.
- A child born after the event counts only when born within `posthumous_window.days` of it
  (a civil-law presumption [L]); no child is born after the as-of date; no school year a
  child is placed in (by level and year, or by `school_start_year`) starts before birth.
- The schedule runs from the child's level and year at the event through the remaining
  years of that level and all years of the later levels, up to S1/vocational, each level
  paid at most its `max_years`. It stops before the first school year on whose first day
  the child is 23 or older, and when `max_per_child` is reached.
- A child not yet in school starts TK–SD year 1 in `school_start_year` if given, else in the
  first school year on whose first day it is at least `school_start_age` (4, TK A), so a
  generated schedule never starts before school age. A child not enrolled now, or who
  finished S1, has no scheduled year; the officer resubmits when the child enrols (the
  scholarship is claimed yearly on proof of enrolment).
- Under PP 44/2015 (`one_off` mode) one payment goes to one child, in the school year of the
  event (of the birth, for a child born after the event).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from cakupan.rules.contribution import Note
from cakupan.rules.errors import RuleInputError
from cakupan.rules.events import Child
from cakupan.rules.inputs import age_on, parse_bool, parse_choice, parse_date, parse_int
from cakupan.rules.loader import ScholarshipRules, Vocabulary

# Why a child receives no scholarship: a code with both messages, like a contribution note.
Reason = Note

# Where a school year stands against the as-of date's school year.
PAST, CURRENT, LATER = "past", "current", "later"


@dataclass(frozen=True)
class ScholarshipYear:
    """One school year's payment: school_year "2026/2027", level, year in level, amount, and
    `when` it is due (past, current or later against the as-of date)."""

    school_year: str
    level: str
    year_in_level: int
    amount: int
    when: str = LATER

    @property
    def start_year(self) -> int:
        return int(self.school_year[:4])

    def to_dict(self) -> dict[str, Any]:
        return {
            "school_year": self.school_year,
            "level": self.level,
            "year_in_level": self.year_in_level,
            "amount": self.amount,
            "when": self.when,
        }


@dataclass(frozen=True)
class ChildScholarship:
    """One child's outcome: receives it with a schedule, or the reasons it does not.

    `eligible` is true only for a child who receives the scholarship; a qualifying child
    left out by the `max_children` limit has eligible false and the reason max_children.
    """

    index: int
    name: str
    birth_date: date
    chosen: bool
    eligible: bool
    reasons: tuple[Reason, ...]
    schedule: tuple[ScholarshipYear, ...]
    total: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "birth_date": self.birth_date.isoformat(),
            "chosen": self.chosen,
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
    max_children: int
    current_school_year: str
    children: tuple[ChildScholarship, ...]
    total: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "basis": self.basis,
            "confidence": self.confidence,
            "max_children": self.max_children,
            "current_school_year": self.current_school_year,
            "children": [c.to_dict() for c in self.children],
            "total": self.total,
        }


def school_year_of(day: date, rules: ScholarshipRules) -> int:
    """The calendar year in which the school year containing `day` began."""
    return day.year if day.month >= rules.school_year_start_month else day.year - 1


def _school_year_text(year: int) -> str:
    return f"{year}/{year + 1}"


def _who(n: int, child: Child) -> tuple[str, str]:
    """ "anak ke-2 (Budi)" / "child 2 (Budi)": how a message names a child."""
    name = f" ({child.name})" if child.name else ""
    return f"anak ke-{n + 1}{name}", f"child {n + 1}{name}"


def _cap(text: str) -> str:
    """First letter upper-case, leaving a child's name as written."""
    return text[:1].upper() + text[1:]


def _validate(
    children: Sequence[Child],
    rules: ScholarshipRules,
    vocabulary: Vocabulary,
    event_date: date,
    as_of: date,
) -> None:
    priced = {level.code: level for level in rules.levels}
    chosen = 0
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
        if parse_bool(child.chosen, f"{path}.chosen"):
            chosen += 1
            if chosen > rules.max_children:
                raise RuleInputError(
                    field=f"{path}.chosen",
                    code="too_many_chosen",
                    message=f"Ahli waris dapat memilih paling banyak {rules.max_children} anak "
                    f"penerima beasiswa ({rules.meta.citation}); hapus tanda pilihan pada "
                    f"anak ke-{n + 1} atau pada anak lain.",
                    message_en=f"The heirs may choose at most {rules.max_children} children "
                    f"for the scholarship ({rules.meta.citation}); unmark child {n + 1} or "
                    "another child.",
                )
        parse_int(child.pu_consecutive_months, f"{path}.pu_consecutive_months")
        _check_birth(n, child, rules, event_date, as_of)
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
            _check_level_after_birth(n, child, rules, vocabulary, event_date)
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
            start = parse_int(
                child.school_start_year, f"{path}.school_start_year", minimum=1900, maximum=2100
            )
            first_day = date(start, rules.school_year_start_month, 1)
            if first_day < child.birth_date:
                who, who_en = _who(n, child)
                raise RuleInputError(
                    field=f"{path}.school_start_year",
                    code="school_year_before_birth",
                    message=f"Tahun ajaran {_school_year_text(start)} dimulai {first_day} "
                    f"sebelum {who} lahir ({child.birth_date}); isi tahun mulai sekolah "
                    "yang sebenarnya atau kosongkan.",
                    message_en=f"School year {_school_year_text(start)} starts on {first_day}, "
                    f"before {who_en} was born ({child.birth_date}); give the real year "
                    "schooling starts or leave it empty.",
                )


def _check_birth(
    n: int, child: Child, rules: ScholarshipRules, event_date: date, as_of: date
) -> None:
    """Born no later than the posthumous window allows, and not after the as-of date."""
    field = f"children[{n}].birth_date"
    who, who_en = _who(n, child)
    window = rules.posthumous_window
    after = (child.birth_date - event_date).days
    if after > window.days:
        # The officer is told when the limit itself is not settled (confidence below H).
        unsure = window.confidence != "H"
        raise RuleInputError(
            field=field,
            code="born_after_window",
            message=f"{_cap(who)} lahir {child.birth_date}, {after} hari setelah "
            f"kejadian ({event_date}); anak yang lahir setelah kejadian hanya dihitung bila "
            f"lahir paling lama {window.days} hari sesudahnya ({window.basis}"
            f"{'; batas ini belum dipastikan BPJS' if unsure else ''}). Periksa tanggal "
            "lahir dan tanggal kejadian.",
            message_en=f"{_cap(who_en)} was born on {child.birth_date}, {after} days "
            f"after the event ({event_date}); a child born after the event counts only when "
            f"born at most {window.days} days after it ({window.basis}"
            f"{'; a limit not yet confirmed by BPJS' if unsure else ''}). Check the birth "
            "date and the event date.",
        )
    if child.birth_date > as_of:
        raise RuleInputError(
            field=field,
            code="born_in_future",
            message=f"Tanggal lahir {who} ({child.birth_date}) setelah hari ini ({as_of}); "
            "ajukan anak setelah lahir.",
            message_en=f"The birth date of {who_en} ({child.birth_date}) is after today "
            f"({as_of}); submit the child once born.",
        )


def _check_level_after_birth(
    n: int, child: Child, rules: ScholarshipRules, vocabulary: Vocabulary, event_date: date
) -> None:
    """No school year before birth: the level and year at the event imply when TK–SD year 1
    began (every earlier level taken in full), and that school year may not start before the
    child was born. Skipped years only make the true start later, so this refuses only
    impossible input (a typo in the birth date, level or year)."""
    codes = [level.code for level in rules.levels]
    index = codes.index(child.level)
    year_in_level = child.year_in_level or 1
    start = (
        school_year_of(event_date, rules)
        - sum(level.max_years for level in rules.levels[:index])
        - (year_in_level - 1)
    )
    first_day = date(start, rules.school_year_start_month, 1)
    if first_day >= child.birth_date:
        return
    who, who_en = _who(n, child)
    term = vocabulary.education_levels[child.level]
    event_year = _school_year_text(school_year_of(event_date, rules))
    raise RuleInputError(
        field=f"children[{n}].level",
        code="school_year_before_birth",
        message=f"{_cap(who)} lahir {child.birth_date}, tetapi {term.label_id} tahun "
        f"ke-{year_in_level} pada tahun ajaran {event_year} berarti mulai sekolah pada tahun "
        f"ajaran {_school_year_text(start)}, sebelum ia lahir. Periksa tanggal lahir, jenjang "
        "dan tahun ke-; anak yang belum sekolah: pilih Belum sekolah.",
        message_en=f"{_cap(who_en)} was born on {child.birth_date}, but "
        f"{term.label_en} year {year_in_level} in school year {event_year} means schooling "
        f"began in {_school_year_text(start)}, before the child was born. Check the birth "
        "date, level and year; for a child not yet in school choose Not yet in school.",
    )


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


def _schedule(
    child: Child, event_date: date, current_year: int, rules: ScholarshipRules
) -> list[ScholarshipYear]:
    start_month = rules.school_year_start_month
    first_year = school_year_of(event_date, rules)

    def when(year: int) -> str:
        return PAST if year < current_year else CURRENT if year == current_year else LATER

    if rules.mode == "one_off":
        # Paid once, at the event, or at birth for a child born after it: never in a school
        # year that began before the child was born.
        year = school_year_of(max(event_date, child.birth_date), rules)
        return [
            ScholarshipYear(
                _school_year_text(year),
                child.level,
                child.year_in_level or 1,
                rules.one_off_amount,
                when(year),
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
        schedule.append(
            ScholarshipYear(_school_year_text(year), level.code, year_in_level, amount, when(year))
        )
        paid += amount
        year += 1
        year_in_level += 1
        if year_in_level > level.max_years:
            level_index, year_in_level = level_index + 1, 1
    return schedule


_SELECTION_TEXT = {
    "chosen": ("pilihan ahli waris", "the heirs' choice"),
    "eldest": ("anak tertua yang berhak", "the eldest eligible"),
}


def _selection_order(children: Sequence[Child], rules: ScholarshipRules) -> list[int]:
    """Indexes of `children` in the order the rule set's `selection` gives them."""

    def key(n: int) -> tuple[int, ...]:
        child = children[n]
        parts = []
        for criterion in rules.selection:
            if criterion == "chosen":
                parts.append(0 if child.chosen else 1)
            elif criterion == "eldest":
                parts.append(child.birth_date.toordinal())
        return (*parts, n)

    return sorted(range(len(children)), key=key)


def _max_children_reason(
    receiving: list[int], children: Sequence[Child], rules: ScholarshipRules
) -> Reason:
    names = [_who(n, children[n]) for n in receiving]
    rule_id = ", lalu ".join(_SELECTION_TEXT[c][0] for c in rules.selection)
    rule_en = ", then ".join(_SELECTION_TEXT[c][1] for c in rules.selection)
    return Reason(
        "max_children",
        f"Beasiswa diberikan kepada paling banyak {rules.max_children} anak "
        f"({rules.meta.citation}); yang menerima: {' dan '.join(n[0] for n in names)} "
        f"(urutan: {rule_id}).",
        f"The scholarship goes to at most {rules.max_children} children "
        f"({rules.meta.citation}); receiving it: {' and '.join(n[1] for n in names)} "
        f"(order: {rule_en}).",
    )


def scholarships(
    *,
    event_type: str,
    event_date: date,
    as_of: date,
    contribution_months: int | None,
    children: Sequence[Child],
    rules: ScholarshipRules,
    vocabulary: Vocabulary,
) -> ScholarshipResult:
    """Eligibility and schedule for every submitted child, at most `rules.max_children`
    receiving; each schedule year says whether it is due by `as_of` (today)."""
    # A Child built in Python (not parsed from JSON) may carry its birth date as text.
    children = [
        replace(child, birth_date=parse_date(child.birth_date, f"children[{n}].birth_date"))
        for n, child in enumerate(children)
    ]
    _validate(children, rules, vocabulary, event_date, as_of)
    current_year = school_year_of(as_of, rules)
    outcomes = []
    for n, child in enumerate(children):
        reasons = _reasons(child, event_type, event_date, contribution_months, rules)
        schedule = [] if reasons else _schedule(child, event_date, current_year, rules)
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
                birth_date=child.birth_date,
                chosen=child.chosen,
                eligible=not reasons,
                reasons=tuple(reasons),
                schedule=tuple(schedule),
                total=sum(y.amount for y in schedule),
            )
        )
    qualifying = [n for n in _selection_order(children, rules) if outcomes[n].eligible]
    receiving = sorted(qualifying[: rules.max_children])
    if len(qualifying) > rules.max_children:
        reason = _max_children_reason(receiving, children, rules)
        for n in qualifying[rules.max_children :]:
            outcomes[n] = replace(
                outcomes[n], eligible=False, reasons=(reason,), schedule=(), total=0
            )
    return ScholarshipResult(
        rule_id=rules.meta.id,
        basis=rules.meta.citation,
        confidence=rules.meta.confidence,
        max_children=rules.max_children,
        current_school_year=_school_year_text(current_year),
        children=tuple(outcomes),
        total=sum(o.total for o in outcomes),
    )
