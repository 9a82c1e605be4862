"""One participant's monthly contribution: bracket, one line per programme, discount, total."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from cakupan.rules.errors import RuleInputError
from cakupan.rules.inputs import parse_bool, parse_choice, parse_int, parse_month
from cakupan.rules.loader import (
    CategoryProgrammes,
    ContributionRules,
    DiscountRules,
    RuleBook,
    Vocabulary,
    resolve_rules,
)


@dataclass(frozen=True)
class Note:
    """An explanation shown with a result, e.g. why no discount applied."""

    code: str
    message: str
    message_en: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "message_en": self.message_en}


@dataclass(frozen=True)
class ContributionLine:
    """One programme's contribution for the month; net = gross - discount."""

    programme: str
    label_id: str
    label_en: str
    mandatory: bool
    gross: int
    discount: int
    net: int
    rule_id: str
    basis: str
    discount_rule_id: str | None
    discount_basis: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "programme": self.programme,
            "label_id": self.label_id,
            "label_en": self.label_en,
            "mandatory": self.mandatory,
            "gross": self.gross,
            "discount": self.discount,
            "net": self.net,
            "rule_id": self.rule_id,
            "basis": self.basis,
            "discount_rule_id": self.discount_rule_id,
            "discount_basis": self.discount_basis,
        }


@dataclass(frozen=True)
class ContributionResult:
    """The month's contribution of one participant, itemised; every amount in whole Rupiah."""

    category: str
    month: date
    income: int
    sector: str
    funding: str
    business_owner: bool
    bracket: int
    income_from: int
    income_to: int | None
    base: int
    lines: tuple[ContributionLine, ...]
    total_gross: int
    total_discount: int
    total: int
    rule_ids: tuple[str, ...]
    notes: tuple[Note, ...]

    def line(self, programme: str) -> ContributionLine:
        """The line of one programme (KeyError if the programme was not computed)."""
        for line in self.lines:
            if line.programme == programme:
                return line
        raise KeyError(programme)

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "month": self.month.strftime("%Y-%m"),
            "income": self.income,
            "sector": self.sector,
            "funding": self.funding,
            "business_owner": self.business_owner,
            "bracket": self.bracket,
            "income_from": self.income_from,
            "income_to": self.income_to,
            "base": self.base,
            "lines": [line.to_dict() for line in self.lines],
            "total_gross": self.total_gross,
            "total_discount": self.total_discount,
            "total": self.total,
            "rule_ids": list(self.rule_ids),
            "notes": [note.to_dict() for note in self.notes],
        }


@dataclass(frozen=True)
class MonthPlan:
    """Everything fixed by (category, month): the rule sets and who gets the discount.

    The scalar and the vectorised computations both read their numbers from here, which is
    what keeps them equal.
    """

    category: str
    month: date
    vocabulary: Vocabulary
    rules: ContributionRules
    programmes: CategoryProgrammes
    discount: DiscountRules | None

    @property
    def rule_ids(self) -> tuple[str, ...]:
        ids = [self.rules.meta.id]
        if self.discount is not None:
            ids.append(self.discount.meta.id)
        return tuple(ids)

    def discount_refusal(self, sector: str, funding: str) -> Note | None:
        """Why the discount does not apply to this sector and funder; None when it does."""
        discount = self.discount
        if discount is None:
            return Note(
                "no_discount_period",
                "Tidak ada keringanan iuran pada bulan ini.",
                "No contribution discount applies in this month.",
            )
        cite = discount.meta.citation
        if self.category not in discount.categories:
            return Note(
                "discount_category",
                f"Keringanan {cite} tidak berlaku untuk kategori {self.category.upper()}.",
                f"The {cite} discount does not apply to category {self.category.upper()}.",
            )
        if funding in discount.excluded_funding:
            return Note(
                "discount_government_funded",
                f"Tanpa keringanan {cite}: iuran dibayar dari {funding.upper()}.",
                f"No {cite} discount: the contribution is paid from {funding.upper()}.",
            )
        if discount.window_for(sector, self.month) is None:
            return Note(
                "discount_outside_window",
                f"Keringanan {cite} tidak berlaku untuk sektor {sector} pada bulan "
                f"{self.month:%Y-%m}.",
                f"The {cite} discount does not cover sector {sector} in {self.month:%Y-%m}.",
            )
        return None

    def discounts(self, programme: str, sector: str, funding: str) -> bool:
        return (
            self.discount is not None
            and programme in self.discount.programmes
            and self.discount_refusal(sector, funding) is None
        )

    def chosen(self, requested: Iterable[str], business_owner: bool) -> list[tuple[str, bool]]:
        """(programme, mandatory) in rule set order: mandatory ones, requested optional ones,
        and those a business owner must take (marked mandatory)."""
        wanted = set(requested)
        owner = set(self.programmes.mandatory_for_business_owner) if business_owner else set()
        chosen = []
        for code in self.rules.programmes:
            if code in self.programmes.mandatory or code in owner:
                chosen.append((code, True))
            elif code in self.programmes.optional and code in wanted:
                chosen.append((code, False))
        return chosen


def month_plan(*, category: str, month: date | str, rules: RuleBook | None = None) -> MonthPlan:
    """Choose the rule sets for a category and contribution month, validating both."""
    book = resolve_rules(rules)
    first_day = parse_month(month)
    vocabulary = book.vocabulary(first_day)
    code = parse_choice(
        category,
        "category",
        vocabulary.categories,
        what="Kategori peserta",
        what_en="participant category",
    )
    contribution_rules = book.contribution(first_day)
    if code not in contribution_rules.categories:
        supported = ", ".join(contribution_rules.categories)
        raise RuleInputError(
            field="category",
            code="category_not_supported",
            message=f"Perhitungan iuran kategori {code.upper()} belum tersedia; saat ini hanya: "
            f"{supported}.",
            message_en=f"Contributions for category {code.upper()} are not supported yet; "
            f"supported: {supported}.",
        )
    return MonthPlan(
        category=code,
        month=first_day,
        vocabulary=vocabulary,
        rules=contribution_rules,
        programmes=contribution_rules.categories[code],
        discount=book.discount(first_day),
    )


def _requested(plan: MonthPlan, programmes: Iterable[str] | None) -> list[str]:
    if programmes is None:
        return []
    if isinstance(programmes, str):
        programmes = [programmes]
    codes = []
    for n, value in enumerate(programmes):
        field = f"programmes[{n}]"
        code = parse_choice(
            value, field, plan.vocabulary.programmes, what="Program", what_en="programme"
        )
        open_to = [*plan.programmes.mandatory, *plan.programmes.optional]
        if code not in open_to:
            raise RuleInputError(
                field=field,
                code="programme_not_open",
                message=f"Program {code.upper()} tidak terbuka untuk peserta "
                f"{plan.category.upper()}; pilih dari: {', '.join(open_to)}.",
                message_en=f"Programme {code.upper()} is not open to "
                f"{plan.category.upper()} participants; choose from: "
                f"{', '.join(open_to)}.",
            )
        codes.append(code)
    return codes


def contribution(
    *,
    category: str,
    income: int,
    month: date | str,
    programmes: Iterable[str] | None = None,
    sector: str = "other",
    funding: str = "self",
    business_owner: bool = False,
    rules: RuleBook | None = None,
) -> ContributionResult:
    """The monthly contribution of one participant.

    `income` is the declared monthly income in whole Rupiah; `month` a date (its month is
    used) or "YYYY-MM". `programmes` lists the programmes wanted; mandatory ones (JKK and
    JKM for BPU, and JHT for a business owner) are always included and marked mandatory, so
    `programmes=["jht"]` is how a BPU opts into JHT. `sector` and `funding` are vocabulary
    codes; they decide the PP 50/2025 discount. Raises RuleInputError for bad input.
    """
    plan = month_plan(category=category, month=month, rules=rules)
    amount = parse_int(income, "income", label="Penghasilan", label_en="Income")
    sector_code = parse_choice(
        sector,
        "sector",
        plan.vocabulary.sectors,
        what="Sektor pekerjaan",
        what_en="occupation sector",
    )
    funding_code = parse_choice(
        funding,
        "funding",
        plan.vocabulary.funding,
        what="Sumber dana iuran",
        what_en="funding source",
    )
    owner = parse_bool(business_owner, "business_owner")
    requested = _requested(plan, programmes)
    bracket = plan.rules.bracket_for(amount)
    discount = plan.discount
    lines = []
    for code, mandatory in plan.chosen(requested, owner):
        gross = plan.rules.programmes[code].gross(bracket.base)
        applies = plan.discounts(code, sector_code, funding_code)
        cut = discount.amount(gross) if applies and discount is not None else 0
        term = plan.vocabulary.programmes[code]
        lines.append(
            ContributionLine(
                programme=code,
                label_id=term.label_id,
                label_en=term.label_en,
                mandatory=mandatory,
                gross=gross,
                discount=cut,
                net=gross - cut,
                rule_id=plan.rules.meta.id,
                basis=plan.rules.programmes[code].basis,
                discount_rule_id=discount.meta.id if applies and discount is not None else None,
                discount_basis=discount.meta.citation if applies and discount is not None else "",
            )
        )
    notes = []
    refusal = plan.discount_refusal(sector_code, funding_code)
    if refusal is not None and discount is not None:
        notes.append(refusal)
    if owner and plan.programmes.mandatory_for_business_owner:
        forced = ", ".join(p.upper() for p in plan.programmes.mandatory_for_business_owner)
        notes.append(
            Note(
                "business_owner_mandatory",
                f"Peserta pemberi kerja (pemilik usaha) wajib ikut {forced}.",
                f"A participant who is an employer (business owner) must take {forced}.",
            )
        )
    return ContributionResult(
        category=plan.category,
        month=plan.month,
        income=amount,
        sector=sector_code,
        funding=funding_code,
        business_owner=owner,
        bracket=bracket.number,
        income_from=bracket.income_from,
        income_to=bracket.income_to,
        base=bracket.base,
        lines=tuple(lines),
        total_gross=sum(line.gross for line in lines),
        total_discount=sum(line.discount for line in lines),
        total=sum(line.net for line in lines),
        rule_ids=plan.rule_ids,
        notes=tuple(notes),
    )
