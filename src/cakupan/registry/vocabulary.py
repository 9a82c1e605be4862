"""The registry's words for what the rules engine defines: sectors of occupations come from the
rules vocabulary (`rules/data/vocabulary.toml`), so a sector exists in one place, with its
Indonesian and English label; form, model and filter choices are read from it."""

from __future__ import annotations

import datetime as dt
from functools import cache

from django.utils.translation import get_language

from cakupan.rules import default_rules
from cakupan.rules.loader import Term


@cache
def _sectors() -> dict[str, Term]:
    return dict(default_rules().vocabulary(dt.date.today(), "day").sectors)


def _label(term: Term) -> str:
    return term.label_id if (get_language() or "id").startswith("id") else term.label_en


def sector_codes() -> frozenset[str]:
    return frozenset(_sectors())


def sector_choices() -> list[tuple[str, str]]:
    """(code, label) of every sector, in the active language (Django accepts this callable as
    a field's choices)."""
    return [(code, _label(term)) for code, term in _sectors().items()]


def sector_label(code: str) -> str:
    term = _sectors().get(code)
    return _label(term) if term is not None else code
