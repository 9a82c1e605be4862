"""Template filters of the payment pages: Rupiah amounts."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from cakupan.money import format_rupiah

register = template.Library()


@register.filter
def rp(amount: int | None) -> str:
    """Rp 16.800 (Rp 16,800 on an English page); nothing known is a dash."""
    if amount is None or amount == "":
        return "—"
    return format_rupiah(
        int(amount), locale="en" if (get_language() or "id").startswith("en") else "id"
    )
