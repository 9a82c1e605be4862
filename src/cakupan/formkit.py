"""What every domain form of the web app shares: digits of any script are read as ASCII.

Django's own parsing is inconsistent with such digits: `IntegerField` accepts `１２` (through
`int()`), a `DateField` refuses `１２-０３-１９９０`, a choice field refuses `３`. A form built on
`AsciiDigitsForm` passes its bound values through `cakupan.digits.ascii_digits` before any
field parses them, so a full-width NIK, phone number, amount or date means what it shows. The
services normalise again (they must hold whatever a caller sends); this makes the form's own
checks (a date, a choice, a number) agree with them.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cakupan.digits import ascii_digits
from cakupan.money import AmountInvalid, parse_rupiah


class AsciiDigitsForm(forms.Form):
    """Normalises the bound data of every field except free-text `CharField`s (names, notes),
    which are kept as typed unless listed in `digit_fields`."""

    digit_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            return
        data = self.data.copy()  # a QueryDict from a request is immutable
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField) and name not in self.digit_fields:
                continue
            key = self.add_prefix(name)
            if key not in data:
                continue
            if hasattr(data, "getlist"):
                data.setlist(key, [_normalise(v) for v in data.getlist(key)])
            else:
                data[key] = _normalise(data[key])
        self.data = data


def _normalise(value: object) -> object:
    return ascii_digits(value) if isinstance(value, str) else value


def apply_errors(form: forms.Form, errors: dict[str, list[str]]) -> None:
    """Put a service's field errors next to the form's fields (others above the form)."""
    for field, msgs in errors.items():
        for msg in msgs:
            form.add_error(field if field in form.fields else None, msg)


class RupiahField(forms.CharField):
    """Whole Rupiah as an officer types it — 500000000, 500.000.000, Rp 500.000.000 — read by
    money.parse_rupiah into an int; shown back in the Indonesian grouping. A text input (a
    number input refuses the thousands' dots an Indonesian officer types)."""

    def __init__(self, *, min_value: int = 0, max_value: int | None = None, **kwargs: Any) -> None:
        self.min_value, self.max_value = min_value, max_value
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            from cakupan.money import format_number

            return format_number(value)
        return value

    def to_python(self, value: Any) -> int | None:
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            amount = parse_rupiah(value)
        except AmountInvalid:
            raise ValidationError(
                _("Write whole Rupiah, e.g. 500.000.000 (dots or no dots, no cents)."),
                code="invalid",
            ) from None
        if amount < self.min_value:
            raise ValidationError(
                _("At least Rp %(min)s.") % {"min": self.min_value}, code="min_value"
            )
        if self.max_value is not None and amount > self.max_value:
            raise ValidationError(
                _("This amount is too large: at most %(max)s digits.")
                % {"max": len(str(self.max_value))},
                code="max_value",
            )
        return amount
