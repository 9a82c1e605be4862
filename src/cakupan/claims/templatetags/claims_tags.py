"""Template filters of the claims pages: a bank's name from its code, an account number shown
to the family with its last digits only."""

from __future__ import annotations

from django import template

from cakupan.claims.banks import BANKS

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
