"""Template filters of the claims pages: a bank's name from its code, an account number shown
to the family with its last digits only."""

from __future__ import annotations

from django import template
from django.utils import timezone

from cakupan.claims.banks import BANKS
from cakupan.claims.claim_reads import OUTCOME_LABELS, level_label

register = template.Library()


@register.filter
def bank(code: str) -> str:
    b = BANKS.get(code or "")
    return b.name if b else (code or "—")


@register.filter
def account_tail(number: str) -> str:
    """'0123456789' → '••••6789'."""
    number = number or ""
    return "••••" + number[-4:] if len(number) > 4 else number


@register.filter
def get(mapping: dict, key: str):
    return mapping.get(key) if mapping else None


@register.filter
def outcome(code: str) -> str:
    """An entitlement's result in words."""
    label = OUTCOME_LABELS.get(code)
    return str(label) if label is not None else code


@register.filter
def level(code: str) -> str:
    """A school level's name ('tk_sd' → 'TK-SD')."""
    return level_label(code, timezone.localdate()) if code else "—"
