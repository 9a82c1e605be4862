"""Template filters of the calculator pages: Rupiah amounts and the label in the page's language."""

from __future__ import annotations

from typing import Any

from django import template

from cakupan.calculate.forms import indonesian
from cakupan.rules import BenefitLine, BenefitResult, ScholarshipYear
from cakupan.rules.benefits import rupiah as _rupiah

register = template.Library()


@register.filter
def rupiah(amount: int | None) -> str:
    """Rp 1.000.000; an unknown amount (medical care as incurred) is a dash."""
    return "—" if amount is None else _rupiah(amount)


@register.filter
def local(obj: Any, name: str) -> str:
    """The Indonesian or English twin of a text the engine gives in both.

    `{{ line|local:"label" }}` reads label_id or label_en; `{{ line|local:"note" }}` reads
    note or note_en; `{{ term|local:"label" }}` works for vocabulary terms too.
    """
    if indonesian():
        return getattr(obj, f"{name}_id", None) or getattr(obj, name, "") or ""
    return getattr(obj, f"{name}_en", "") or ""


@register.filter
def pick(terms: Any, code: str) -> str:
    """The label of `code` in a mapping of vocabulary terms, else the code itself."""
    term = terms.get(code) if hasattr(terms, "get") else None
    return local(term, "label") if term is not None else code


@register.filter
def payable_class(payable: str) -> str:
    return {"now": "now", "after_arrears": "later", "not_payable": "never", "later": "sched"}.get(
        payable, ""
    )


@register.filter
def instalments(result: BenefitResult, child: int) -> list[tuple[ScholarshipYear, BenefitLine]]:
    """One child's school years, each with its line (due now or scheduled later), in order:
    `{% for year, line in result|instalments:child.index %}`."""
    if result.scholarships is None:
        return []
    lines = {
        line.school_year: line for line in (*result.lines, *result.schedule) if line.child == child
    }
    outcome = result.scholarships.children[child]
    return [(year, lines[year.school_year]) for year in outcome.schedule]
