"""Benefits after a work accident (JKK) or a death not from work (JKM), itemised and cited.

Each line carries its amount in whole Rupiah (None for medical care recorded as incurred),
the rule set and regulation it comes from, its confidence, and when it is paid: now, only
after the arrears are paid, not at all (docs/regulations.md §3 arrears), or — for a scholarship
instalment of a later school year — later, in its own school year. The result keeps three
amounts apart, each the sum of its own lines: what is paid now, what is held until the
arrears are paid, and the later scholarship schedule; their sum is the total.

The as-of date (today) is an input: the engine never reads the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from cakupan.money import format_rupiah
from cakupan.rules.errors import RuleInputError
from cakupan.rules.events import Death, DisabilityEntry, Event, WorkAccident, event_from_dict
from cakupan.rules.inputs import parse_bool, parse_choice, parse_date, parse_int
from cakupan.rules.loader import (
    ArrearsRules,
    DisabilityItem,
    DisabilityTable,
    JkkRules,
    RuleBook,
    RuleMeta,
    resolve_rules,
)
from cakupan.rules.scholarship import LATER, PAST, ScholarshipResult, scholarships

NOW = "now"
AFTER_ARREARS = "after_arrears"
NOT_PAYABLE = "not_payable"
# A scholarship instalment of a later school year (only on `BenefitResult.schedule`).
LATER_YEAR = "later"


def rupiah(amount: int) -> str:
    """Rp 1.000.000, the Indonesian way of writing an amount."""
    return format_rupiah(amount)


@dataclass(frozen=True)
class BenefitLine:
    """One benefit: what it is, how much, on what basis, and when it can be paid."""

    code: str
    label_id: str
    label_en: str
    amount: int | None
    calculation: str
    payable: str
    rule_id: str
    basis: str
    confidence: str
    note: str = ""
    note_en: str = ""
    # A scholarship instalment names its child (index in the input) and its school year.
    child: int | None = None
    school_year: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "label_id": self.label_id,
            "label_en": self.label_en,
            "amount": self.amount,
            "calculation": self.calculation,
            "payable": self.payable,
            "rule_id": self.rule_id,
            "basis": self.basis,
            "confidence": self.confidence,
            "note": self.note,
            "note_en": self.note_en,
            "child": self.child,
            "school_year": self.school_year,
        }


@dataclass(frozen=True)
class BenefitResult:
    """Every benefit line of one event, with three amounts kept apart.

    `lines` are due now: lump sums, funeral, periodic benefits paid at once, medical care,
    and the scholarship instalments of this school year (and of school years already over).
    `schedule` holds the scholarship instalments of later school years, per child per year.
    `total_now` sums the lines payable now, `total_after_arrears` those held until the
    arrears are paid, `total_later` the schedule (nothing when not payable);
    `total = total_now + total_after_arrears + total_later`. `as_incurred` is true when
    medical care has no amount yet (it has no ceiling).
    """

    event_type: str
    event_date: date
    as_of: date
    wage: int | None
    months_in_arrears: int
    lines: tuple[BenefitLine, ...]
    schedule: tuple[BenefitLine, ...]
    scholarships: ScholarshipResult | None
    total: int
    total_now: int
    total_after_arrears: int
    total_later: int
    as_incurred: bool
    rule_ids: tuple[str, ...]

    def line(self, code: str) -> BenefitLine:
        """The line with this code, due now or scheduled (KeyError if absent)."""
        for line in (*self.lines, *self.schedule):
            if line.code == code:
                return line
        raise KeyError(code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_type": self.event_type,
            "event_date": self.event_date.isoformat(),
            "as_of": self.as_of.isoformat(),
            "wage": self.wage,
            "months_in_arrears": self.months_in_arrears,
            "lines": [line.to_dict() for line in self.lines],
            "schedule": [line.to_dict() for line in self.schedule],
            "scholarships": self.scholarships.to_dict() if self.scholarships else None,
            "total": self.total,
            "total_now": self.total_now,
            "total_after_arrears": self.total_after_arrears,
            "total_later": self.total_later,
            "as_incurred": self.as_incurred,
            "rule_ids": list(self.rule_ids),
        }


class _Lines:
    """Collects lines due now and the later schedule, deciding each one's payability from the
    arrears rule set."""

    def __init__(self, event_type: str, months_in_arrears: int, arrears: ArrearsRules) -> None:
        self.event_type = event_type
        self.months = months_in_arrears
        self.arrears = arrears
        self.lines: list[BenefitLine] = []
        self.schedule: list[BenefitLine] = []
        self.rule_ids: list[str] = []

    def use(self, meta: RuleMeta) -> None:
        if meta.id not in self.rule_ids:
            self.rule_ids.append(meta.id)

    def add(
        self,
        code: str,
        label_id: str,
        label_en: str,
        amount: int | None,
        calculation: str,
        meta: RuleMeta,
        *,
        confidence: str = "",
        note: str = "",
        note_en: str = "",
        confidence_key: str = "",
        arrears_key: str = "",
        later: bool = False,
        child: int | None = None,
        school_year: str | None = None,
    ) -> None:
        """Add a line due now, or with `later` one of the later schedule.

        `arrears_key` is the code the arrears rule set knows the line by (default `code`),
        `confidence_key` the one of the rule set's line_confidence.
        """
        self.use(meta)
        payable, arrears_note, arrears_note_en = self._payable(arrears_key or code)
        if later and payable != NOT_PAYABLE:
            # A later school year is paid in that year; arrears only make it conditional.
            if payable == AFTER_ARREARS:
                arrears_note = "Hanya bila tunggakan iuran sudah dilunasi."
                arrears_note_en = "Only once the arrears are paid."
            payable = LATER_YEAR
        if arrears_note:
            note = f"{note} {arrears_note}".strip()
            note_en = f"{note_en} {arrears_note_en}".strip()
        (self.schedule if later else self.lines).append(
            BenefitLine(
                code=code,
                label_id=label_id,
                label_en=label_en,
                amount=amount,
                calculation=calculation,
                payable=payable,
                rule_id=meta.id,
                basis=meta.citation,
                confidence=confidence or meta.confidence_of(confidence_key or code),
                note=note,
                note_en=note_en,
                child=child,
                school_year=school_year,
            )
        )

    def _payable(self, code: str) -> tuple[str, str, str]:
        if self.months == 0:
            return NOW, "", ""
        self.use(self.arrears.meta)
        limit = self.arrears.max_months
        if self.months > limit:
            return (
                NOT_PAYABLE,
                f"Tidak dibayar: iuran menunggak {self.months} bulan (lebih dari {limit}).",
                f"Not payable: contributions {self.months} months in arrears (more than {limit}).",
            )
        if code in self.arrears.payable_now.get(self.event_type, ()):
            return (
                NOW,
                f"Dibayar segera meskipun iuran menunggak {self.months} bulan.",
                f"Paid at once despite {self.months} months in arrears.",
            )
        if self.event_type == "jkk":
            return (
                AFTER_ARREARS,
                "Dibayar setelah peserta sembuh dan tunggakan iuran dilunasi.",
                "Paid after recovery and after the arrears are paid.",
            )
        return (
            AFTER_ARREARS,
            "Dibayar setelah ahli waris melunasi tunggakan iuran.",
            "Paid once the heirs pay the arrears.",
        )


def _wage(event: WorkAccident, book: RuleBook, lines: _Lines) -> int:
    if (event.wage is None) == (event.income is None):
        raise RuleInputError(
            field="wage",
            code="wage_or_income",
            message="Isi salah satu: wage (upah/dasar iuran, untuk BPU nilai dasar kelas) atau "
            "income (penghasilan yang dilaporkan).",
            message_en="Give exactly one of wage (the wage contributions were paid on; for a "
            "BPU the bracket base) or income (the declared income).",
        )
    if event.wage is not None:
        return parse_int(event.wage, "wage", label="Upah", label_en="Wage")
    income = parse_int(event.income, "income", label="Penghasilan", label_en="Income")
    contribution_rules = book.contribution(event.event_date.replace(day=1), field="event_date")
    lines.use(contribution_rules.meta)
    return contribution_rules.bracket_for(income).base


def _stmb_lines(event: WorkAccident, rules: JkkRules, wage: int, lines: _Lines) -> None:
    stmb = event.stmb
    if stmb is None:
        return
    months = parse_int(stmb.months, "stmb.months")
    days = parse_int(stmb.days, "stmb.days")
    divisor = rules.stmb_daily_divisor
    remaining = months * divisor + days
    # Each phase is a number of months at a percent of the wage; days beyond whole months
    # are paid at wage / divisor per day, rounded down once per phase.
    phases = [*((m * divisor, p) for m, p in rules.stmb_phases), (None, rules.stmb_then_percent)]
    first_month = 1
    period = ""
    if stmb.first_day is not None and stmb.last_day is not None:
        period = f"{stmb.first_day.isoformat()} – {stmb.last_day.isoformat()}, {days} hari"
    for n, (span, percent) in enumerate(phases, start=1):
        if remaining <= 0:
            break
        taken = remaining if span is None else min(remaining, span)
        remaining -= taken
        amount = wage * percent * taken // (100 * divisor)
        whole, extra = divmod(taken, divisor)
        parts = []
        if whole:
            parts.append(f"{whole} bulan × {percent}% × {rupiah(wage)}")
        if extra:
            parts.append(f"{extra} hari × {percent}% × {rupiah(wage)} ÷ {divisor}")
        last_month = None if span is None else first_month + span // divisor - 1
        months_id = (
            f"bulan {first_month}–{last_month}"
            if last_month is not None
            else f"mulai bulan {first_month}"
        )
        months_en = (
            f"months {first_month}–{last_month}"
            if last_month is not None
            else f"from month {first_month}"
        )
        lines.add(
            f"stmb_phase_{n}",
            f"Santunan sementara tidak mampu bekerja (STMB) {percent}%, {months_id}",
            f"Temporary incapacity benefit (STMB) {percent}%, {months_en}",
            amount,
            " + ".join(parts),
            rules.meta,
            confidence_key="stmb_days" if extra else f"stmb_phase_{n}",
            note=period,
            note_en=period.replace("hari", "days"),
        )
        if span is not None:
            first_month += span // divisor


def _disability_percent(
    entry: DisabilityEntry, path: str, table: DisabilityTable, left_handed: bool
) -> tuple[DisabilityItem, int, str, str]:
    """(table item, percent, label_id, label_en) of one entry, validated."""
    code = parse_choice(
        entry.item,
        f"{path}.item",
        table.items,
        what="Butir cacat",
        what_en="disability item",
        code="unknown_disability_item",
    )
    item = table.items[code]
    label_id, label_en = item.label_id, item.label_en
    if left_handed and item.mirror is not None:
        # For a left-handed person the sides swap: the left arm weighs what the right does.
        mirrored = table.items[item.mirror]
        item = replace(
            item,
            percent=mirrored.percent,
            percent_min=mirrored.percent_min,
            percent_max=mirrored.percent_max,
            percent_per_unit=mirrored.percent_per_unit,
            source=mirrored.source,
            confidence=mirrored.confidence,
        )
        label_id += " (kidal)"
        label_en += " (left-handed)"
    if item.percent is not None:
        if entry.percent is not None and entry.percent != item.percent:
            raise RuleInputError(
                field=f"{path}.percent",
                code="percent_fixed",
                message=f"Persentase {label_id} tetap {item.percent}%; hapus kolom percent.",
                message_en=f"{label_en} is fixed at {item.percent}%; remove percent.",
            )
        return item, item.percent, label_id, label_en
    if item.percent_min is not None and item.percent_max is not None:
        if entry.percent is None:
            raise RuleInputError(
                field=f"{path}.percent",
                code="percent_required",
                message=f"{label_id}: isi persentase hasil penilaian dokter antara "
                f"{item.percent_min} dan {item.percent_max}.",
                message_en=f"{label_en}: give the assessed percent between "
                f"{item.percent_min} and {item.percent_max}.",
            )
        percent = parse_int(
            entry.percent,
            f"{path}.percent",
            minimum=item.percent_min,
            maximum=item.percent_max,
            label=f"Persentase {label_id}",
            label_en=f"{label_en} percent",
        )
        return item, percent, label_id, label_en
    per_unit = item.percent_per_unit or 1
    if entry.units is None:
        raise RuleInputError(
            field=f"{path}.units",
            code="units_required",
            message=f"{label_id}: isi jumlah satuan ({item.unit_id}).",
            message_en=f"{label_en}: give the number of units ({item.unit_en}).",
        )
    # A per-unit item can never exceed 100% of the table in total.
    units = parse_int(
        entry.units,
        f"{path}.units",
        minimum=1,
        maximum=100 // per_unit,
        label=f"Satuan {label_id}",
        label_en=f"{label_en} units",
    )
    return item, per_unit * units, label_id, label_en


def _disability_lines(
    event: WorkAccident, rules: JkkRules, table: DisabilityTable, wage: int, lines: _Lines
) -> None:
    lines.use(table.meta)
    for n, entry in enumerate(event.disability):
        path = f"disability[{n}]"
        item, percent, label_id, label_en = _disability_percent(
            entry, path, table, event.left_handed
        )
        loss = entry.function_loss_percent
        if loss is None:
            amount = wage * rules.wage_multiplier * percent // 100
            calculation = f"{percent}% × {rules.wage_multiplier} × {rupiah(wage)}"
        else:
            loss = parse_int(
                loss,
                f"{path}.function_loss_percent",
                maximum=100,
                label="Persentase hilang fungsi",
                label_en="Function loss percent",
            )
            amount = wage * rules.wage_multiplier * percent * loss // 10_000
            calculation = f"{loss}% × {percent}% × {rules.wage_multiplier} × {rupiah(wage)}"
            label_id += f", hilang fungsi {loss}%"
            label_en += f", {loss}% loss of function"
        lines.add(
            f"disability_{n}_{item.code}",
            f"Santunan cacat sebagian: {label_id} ({percent}%)",
            f"Partial disability benefit: {label_en} ({percent}%)",
            amount,
            calculation,
            table.meta,
            confidence=item.confidence,
            note=f"Sumber tabel: {item.source}.",
            note_en=f"Table source: {item.source}.",
        )


def _periodic(months: int, monthly: int) -> tuple[int, str]:
    """A periodic benefit paid at once: amount and how it was computed."""
    return months * monthly, f"{months} × {rupiah(monthly)}, dibayar sekaligus"


def _jkk_lines(event: WorkAccident, book: RuleBook, lines: _Lines) -> int:
    rules = book.jkk(event.event_date)
    wage = _wage(event, book, lines)
    for flag in ("left_handed", "total_disability", "death"):
        parse_bool(getattr(event, flag), flag)
    if event.death and (event.total_disability or event.disability):
        raise RuleInputError(
            field="death",
            code="conflicting_outcomes",
            message="Untuk kematian, hapus total_disability dan disability: santunan kematian "
            "menggantikannya.",
            message_en="For a death, remove total_disability and disability: the death "
            "benefit replaces them.",
        )
    if event.total_disability and event.disability:
        raise RuleInputError(
            field="disability",
            code="conflicting_outcomes",
            message="Cacat total tetap sudah mencakup cacat sebagian; hapus daftar disability.",
            message_en="Total permanent disability already covers partial disability; remove "
            "the disability list.",
        )
    bills = event.medical_bills
    if bills is None:
        lines.add(
            "medical_care",
            "Perawatan dan pengobatan sesuai kebutuhan medis",
            "Medical care as medically needed",
            None,
            "tanpa batas biaya, dicatat sesuai tagihan",
            rules.meta,
            note="Tanpa plafon sampai sembuh.",
            note_en="No ceiling, until recovery.",
        )
    else:
        amounts = [parse_int(b, f"medical_bills[{n}]") for n, b in enumerate(bills)]
        lines.add(
            "medical_care",
            "Perawatan dan pengobatan sesuai kebutuhan medis",
            "Medical care as medically needed",
            sum(amounts),
            " + ".join(rupiah(a) for a in amounts) or rupiah(0),
            rules.meta,
            note="Tanpa plafon sampai sembuh.",
            note_en="No ceiling, until recovery.",
        )
    for n, claim in enumerate(event.transport):
        mode = parse_choice(
            claim.mode,
            f"transport[{n}].mode",
            rules.transport_caps,
            what="Moda transportasi",
            what_en="transport mode",
        )
        claimed = parse_int(claim.amount, f"transport[{n}].amount")
        cap = rules.transport_caps[mode]
        lines.add(
            f"transport_{mode}",
            f"Biaya transportasi ({mode})",
            f"Transport cost ({mode})",
            min(claimed, cap),
            f"min({rupiah(claimed)}, batas {rupiah(cap)})",
            rules.meta,
        )
    if event.home_care is not None:
        claimed = parse_int(event.home_care, "home_care")
        cap = rules.home_care_cap
        lines.add(
            "home_care",
            "Perawatan di rumah (paling lama 1 tahun)",
            "Home care (at most 1 year)",
            min(claimed, cap),
            f"min({rupiah(claimed)}, batas {rupiah(cap)})",
            rules.meta,
            note="" if cap else "Tidak ada manfaat perawatan di rumah pada aturan ini.",
            note_en="" if cap else "This rule set has no home care benefit.",
        )
    _stmb_lines(event, rules, wage, lines)
    if event.disability:
        _disability_lines(event, rules, book.disability_table(event.event_date), wage, lines)
    periodic, periodic_calc = _periodic(rules.periodic_months, rules.periodic_monthly)
    if event.total_disability:
        percent = rules.total_disability_percent
        lines.add(
            "total_disability",
            "Santunan cacat total tetap",
            "Total permanent disability benefit",
            wage * rules.wage_multiplier * percent // 100,
            f"{percent}% × {rules.wage_multiplier} × {rupiah(wage)}",
            rules.meta,
        )
        lines.add(
            "total_disability_periodic",
            "Santunan berkala cacat total tetap",
            "Periodic benefit for total disability",
            periodic,
            periodic_calc,
            rules.meta,
        )
    if event.death:
        percent = rules.death_percent
        lines.add(
            "death",
            "Santunan kematian akibat kecelakaan kerja",
            "Death benefit (work accident)",
            wage * rules.wage_multiplier * percent // 100,
            f"{percent}% × {rules.wage_multiplier} × {rupiah(wage)}",
            rules.meta,
        )
        lines.add(
            "death_periodic",
            "Santunan berkala",
            "Periodic benefit",
            periodic,
            periodic_calc,
            rules.meta,
        )
        lines.add(
            "funeral",
            "Biaya pemakaman",
            "Funeral cost",
            rules.funeral,
            rupiah(rules.funeral),
            rules.meta,
        )
    return wage


def _jkm_lines(event: Death, book: RuleBook, lines: _Lines) -> None:
    rules = book.jkm(event.event_date)
    lines.add(
        "lump_sum",
        "Santunan sekaligus",
        "Lump sum",
        rules.lump_sum,
        rupiah(rules.lump_sum),
        rules.meta,
    )
    periodic, periodic_calc = _periodic(rules.periodic_months, rules.periodic_monthly)
    lines.add(
        "periodic", "Santunan berkala", "Periodic benefit", periodic, periodic_calc, rules.meta
    )
    lines.add(
        "funeral",
        "Biaya pemakaman",
        "Funeral cost",
        rules.funeral,
        rupiah(rules.funeral),
        rules.meta,
    )


def _scholarship(
    event: Event, book: RuleBook, lines: _Lines, as_of: date
) -> ScholarshipResult | None:
    if not event.children:
        return None
    if isinstance(event, WorkAccident) and not (event.death or event.total_disability):
        raise RuleInputError(
            field="children",
            code="scholarship_not_applicable",
            message="Beasiswa hanya untuk kematian atau cacat total tetap akibat kecelakaan "
            "kerja; hapus daftar children atau tandai death/total_disability.",
            message_en="Scholarships follow only a death or total disability from a work "
            "accident; remove children or set death/total_disability.",
        )
    rules = book.scholarship(event.event_date)
    minimum = rules.min_contribution_months[event.type]
    if minimum and event.contribution_months is None:
        raise RuleInputError(
            field="contribution_months",
            code="required",
            message=f"Isi masa iuran (bulan): beasiswa {event.type.upper()} memerlukan paling "
            f"sedikit {minimum} bulan iuran.",
            message_en=f"Give contribution_months: a {event.type.upper()} scholarship needs at "
            f"least {minimum} months of contributions.",
        )
    vocabulary = book.vocabulary(event.event_date, field="event_date")
    result = scholarships(
        event_type=event.type,
        event_date=event.event_date,
        as_of=as_of,
        contribution_months=event.contribution_months,
        children=event.children,
        rules=rules,
        vocabulary=vocabulary,
    )
    lines.use(rules.meta)
    levels = vocabulary.education_levels
    for outcome in result.children:
        child = event.children[outcome.index]
        name = f" ({outcome.name})" if outcome.name else ""
        for year in outcome.schedule:
            term = levels.get(year.level)
            level_id = term.label_id if term else year.level
            level_en = term.label_en if term else year.level
            if year.when == PAST:
                note = "Tahun ajaran yang sudah lewat: dibayar dengan bukti terdaftar di sekolah "
                note += "pada tahun itu."
                note_en = "A school year already over: paid on proof of enrolment in that year."
                confidence_key = "scholarship_past"
            else:
                if year.when == LATER:
                    note = "Dibayar pada tahun ajaran itu dengan bukti terdaftar di sekolah."
                    note_en = "Paid in that school year on proof of enrolment."
                else:
                    note = "Tahun ajaran ini: dibayar dengan bukti terdaftar di sekolah."
                    note_en = "This school year: paid on proof of enrolment."
                # The weaker figures behind this child's schedule mark each of its lines.
                confidence_key = (
                    "not_yet_in_school"
                    if child.level == "not_in_school"
                    else "working_exception"
                    if child.working != "no"
                    else "scholarship"
                )
            once = rules.mode == "one_off"
            lines.add(
                f"scholarship_{outcome.index}_{year.start_year}",
                f"Beasiswa anak ke-{outcome.index + 1}{name}: "
                + (
                    "pembayaran sekali"
                    if once
                    else f"{level_id} tahun ke-{year.year_in_level}, tahun ajaran "
                    f"{year.school_year}"
                ),
                f"Scholarship, child {outcome.index + 1}{name}: "
                + (
                    "one payment"
                    if once
                    else f"{level_en} year {year.year_in_level}, school year {year.school_year}"
                ),
                year.amount,
                f"{rupiah(year.amount)} " + ("sekali" if once else "per tahun ajaran"),
                rules.meta,
                note=note,
                note_en=note_en,
                confidence_key=confidence_key,
                arrears_key="scholarship",
                later=year.when == LATER,
                child=outcome.index,
                school_year=year.school_year,
            )
    return result


def _as_of(as_of: object, event_date: date) -> date:
    """The as-of date (today), checked against the event: an event cannot lie in the future."""
    day = parse_date(as_of, "as_of")
    if event_date > day:
        raise RuleInputError(
            field="event_date",
            code="event_in_future",
            message=f"Tanggal kejadian {event_date.isoformat()} setelah hari ini "
            f"({day.isoformat()}); manfaat dihitung hanya untuk kejadian yang sudah terjadi. "
            "Periksa tanggal kejadian.",
            message_en=f"The event date {event_date.isoformat()} is after today "
            f"({day.isoformat()}); benefits are computed only for an event that has happened. "
            "Check the event date.",
        )
    return day


def benefits(event: Event, *, as_of: date, rules: RuleBook | None = None) -> BenefitResult:
    """All benefit lines for a work accident (WorkAccident) or a non-work death (Death).

    `as_of` is today for the caller (the engine never reads the clock): an event after it is
    refused, and scholarship instalments are due now for this school year (and years already
    over) and later for later school years. The event date chooses every rule set (a JKM
    death in 2019-06 uses PP 44/2015). Raises RuleInputError with the path of the first bad
    field.
    """
    book = resolve_rules(rules)
    if not isinstance(event, WorkAccident | Death):
        raise RuleInputError(
            field="type",
            code="unknown_type",
            message="Jenis kejadian harus jkk atau jkm.",
            message_en="The event type must be jkk or jkm.",
        )
    event = replace(event, event_date=parse_date(event.event_date, "event_date"))
    today = _as_of(as_of, event.event_date)
    months = parse_int(
        event.months_in_arrears,
        "months_in_arrears",
        label="Bulan tunggakan",
        label_en="Months in arrears",
    )
    if event.contribution_months is not None:
        parse_int(event.contribution_months, "contribution_months")
    lines = _Lines(event.type, months, book.arrears(event.event_date))
    wage = None
    if isinstance(event, WorkAccident):
        wage = _jkk_lines(event, book, lines)
    else:
        _jkm_lines(event, book, lines)
    result = _scholarship(event, book, lines, today)

    def total(items: list[BenefitLine], payable: str) -> int:
        return sum(line.amount or 0 for line in items if line.payable == payable)

    now = total(lines.lines, NOW)
    held = total(lines.lines, AFTER_ARREARS)
    later = total(lines.schedule, LATER_YEAR)
    return BenefitResult(
        event_type=event.type,
        event_date=event.event_date,
        as_of=today,
        wage=wage,
        months_in_arrears=months,
        lines=tuple(lines.lines),
        schedule=tuple(lines.schedule),
        scholarships=result,
        total=now + held + later,
        total_now=now,
        total_after_arrears=held,
        total_later=later,
        as_incurred=any(line.amount is None for line in lines.lines),
        rule_ids=tuple(lines.rule_ids),
    )


def benefits_from_dict(
    data: Mapping[str, Any], *, as_of: date, rules: RuleBook | None = None
) -> BenefitResult:
    """Benefits for an event described as JSON (see the package docstring for the schema),
    as of `as_of` (today)."""
    return benefits(event_from_dict(data), as_of=as_of, rules=rules)
