"""Forms of the calculators: they parse what the officer typed into the engine's input.

The engine decides what is valid; a RuleInputError comes back onto the form field it names
(`attach_error`), or, when no field of the form matches, as a form error naming the field.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cakupan.formkit import AsciiDigitsForm
from cakupan.money import AmountInvalid, parse_rupiah
from cakupan.registry.selectors import occupation_list
from cakupan.rules import RuleInputError, default_rules
from cakupan.rules.loader import DisabilityItem, Term, Vocabulary

MAX_RUPIAH = 10**12
# Children one event may list (the API's bound too): any real family, bounded so a request
# stays small. Only the rule set's max_children of them receive the scholarship.
MAX_CHILDREN = 20
# The name of the button that adds a child row instead of calculating.
ADD_CHILD = "add_child"
# Dates the engine computes with; a schedule from a year like 9999 would run off the calendar.
DATE_RANGE = [MinValueValidator(date(1900, 1, 1)), MaxValueValidator(date(2100, 12, 31))]
_PATH = re.compile(r"^(?P<name>[a-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<rest>.+))?$")


def indonesian() -> bool:
    return (get_language() or "id").startswith("id")


def term_label(term: Term) -> str:
    return term.label_id if indonesian() else term.label_en


def rule_message(error: RuleInputError) -> str:
    return error.message if indonesian() else error.message_en


def vocabulary(day: date | None = None) -> Vocabulary:
    """The engine's codes and labels (sectors, funders, schooling) in force on `day`."""
    return default_rules().vocabulary(day or timezone.localdate())


def _choices(terms: dict[str, Term] | Any, blank: str | None = None) -> list[tuple[str, str]]:
    options = [(code, term_label(term)) for code, term in terms.items()]
    return [("", blank), *options] if blank is not None else options


class RupiahField(forms.IntegerField):
    """Whole Rupiah as officers write it: 1000000, 1.000.000 or Rp 1.000.000."""

    widget = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, str) and value.strip():
            try:
                value = parse_rupiah(value)
            except AmountInvalid:
                # a negative or odd number gets the field's own message (min value, not whole)
                return super().to_python(value.strip())
        return super().to_python(value)


class OccupationSelect(forms.Select):
    """Occupation <select> whose options carry their sector, so choosing one fills the sector."""

    def __init__(self, sectors: dict[str, str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sectors = sectors

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        sector = self.sectors.get(str(value))
        if sector:
            option["attrs"]["data-sector"] = sector
        return option


class RuleErrorMixin:
    """Puts a RuleInputError on the field it names, else as a form error naming the field."""

    field_map: dict[str, str] = {}

    def attach_error(self, error: RuleInputError, field: str | None = None) -> None:
        name = field or self.field_map.get(error.field, error.field)
        message = rule_message(error)
        if name in self.fields:
            self.add_error(name, message)
        else:
            self.add_error(None, f"{error.field}: {message}")


class ContributionForm(RuleErrorMixin, AsciiDigitsForm):
    digit_fields = ("month",)

    income = RupiahField(
        label=_("Declared monthly income (Rp)"),
        max_value=MAX_RUPIAH,
        help_text=_("Whole Rupiah, e.g. 1.000.000"),
    )
    month = forms.CharField(
        label=_("Contribution month"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"}),
    )
    occupation = forms.ChoiceField(
        label=_("Occupation"),
        required=False,
        help_text=_("Choosing one fills in its sector"),
    )
    sector = forms.ChoiceField(label=_("Occupation sector"), required=False)
    funding = forms.ChoiceField(label=_("Who pays the contribution"), initial="self")
    jht = forms.BooleanField(label=_("Also old-age savings (JHT, optional)"), required=False)
    business_owner = forms.BooleanField(
        label=_("Business owner (JHT is then mandatory)"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["initial"] = {
            "month": timezone.localdate().strftime("%Y-%m"),
            **kwargs.get("initial", {}),
        }
        super().__init__(*args, **kwargs)
        terms = vocabulary()
        occupations = list(occupation_list())
        self.occupation_sectors = {o.code: o.sector for o in occupations}
        field = self.fields["occupation"]
        field.widget = OccupationSelect(self.occupation_sectors)
        field.choices = [("", "—"), *((o.code, o.name) for o in occupations)]
        self.fields["sector"].choices = _choices(
            terms.sectors, "— " + str(_("from the occupation"))
        )
        self.fields["funding"].choices = _choices(terms.funding)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("sector"):
            occupation = data.get("occupation")
            if occupation:
                data["sector"] = self.occupation_sectors[occupation]
            elif "occupation" in data:
                self.add_error("sector", _("Choose the sector, or an occupation to take it from."))
        return data

    def engine_input(self) -> dict[str, Any]:
        """Keyword arguments of `cakupan.rules.contribution`."""
        data = self.cleaned_data
        return {
            "category": "bpu",
            "income": data["income"],
            "month": data["month"],
            "programmes": ["jht"] if data["jht"] else None,
            "sector": data["sector"],
            "funding": data["funding"],
            "business_owner": data["business_owner"],
        }


def disability_items(day: date | None = None) -> dict[str, DisabilityItem]:
    return dict(default_rules().disability_table(day or timezone.localdate()).items)


def _item_label(item: DisabilityItem) -> str:
    label = item.label_id if indonesian() else item.label_en
    if item.percent is not None:
        return f"{label} ({item.percent}%)"
    if item.percent_min is not None:
        return f"{label} ({item.percent_min}–{item.percent_max}%)"
    unit = item.unit_id if indonesian() else item.unit_en
    return f"{label} ({item.percent_per_unit}% {unit})"


class DisabilityForm(RuleErrorMixin, AsciiDigitsForm):
    item = forms.ChoiceField(label=_("Disability (table row)"), required=False)
    percent = forms.IntegerField(
        label=_("Assessed percentage"),
        required=False,
        min_value=0,
        max_value=100,
    )
    units = forms.IntegerField(
        label=_("Units"),
        required=False,
        min_value=0,
        max_value=100,
    )
    function_loss_percent = forms.IntegerField(
        label=_("Function lost, percent"),
        required=False,
        min_value=0,
        max_value=1000,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        items = disability_items()
        self.fields["item"].choices = [
            ("", "—"),
            *((code, _item_label(item)) for code, item in items.items()),
        ]

    def engine_input(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data.get("item"):
            return None
        entry = {"item": data["item"]}
        for key in ("percent", "units", "function_loss_percent"):
            if data.get(key) is not None:
                entry[key] = data[key]
        return entry


class ChildForm(RuleErrorMixin, AsciiDigitsForm):
    name = forms.CharField(label=_("Child's name"), max_length=150, required=False)
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        validators=DATE_RANGE,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    level = forms.ChoiceField(label=_("Schooling at the event"), required=False)
    year_in_level = forms.IntegerField(
        label=_("Year within the level"),
        required=False,
        min_value=1,
        max_value=20,
        help_text=_("TK–SD counts on: TK A = 1, TK B = 2, SD grade 1 = 3 … SD grade 6 = 8"),
    )
    working = forms.ChoiceField(label=_("Work"), initial="no")
    married = forms.BooleanField(label=_("Married"), required=False)
    registered_heir = forms.BooleanField(
        label=_("Registered as an heir"), required=False, initial=True
    )
    chosen = forms.BooleanField(
        label=_("Chosen by the heirs for the scholarship"),
        required=False,
        help_text=_("Only when more than two children qualify; otherwise the eldest receive it"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        terms = vocabulary()
        self.fields["level"].choices = _choices(terms.education_levels, "—")
        self.fields["working"].choices = _choices(terms.working_statuses)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("name") or data.get("level") or data.get("year_in_level"):
            if not data.get("birth_date") and "birth_date" not in self.errors:
                self.add_error("birth_date", _("Give the child's birth date."))
            if not data.get("level") and "level" not in self.errors:
                self.add_error("level", _("Choose the child's schooling."))
        return data

    def engine_input(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if not data.get("birth_date"):
            return None
        child: dict[str, Any] = {
            "birth_date": data["birth_date"].isoformat(),
            "level": data["level"],
            "married": data["married"],
            "working": data["working"],
            "registered_heir": data["registered_heir"],
        }
        if data["chosen"]:
            child["chosen"] = True
        if data.get("name"):
            child["name"] = data["name"]
        if data.get("year_in_level") is not None:
            child["year_in_level"] = data["year_in_level"]
        return child


DisabilityFormSet = formset_factory(DisabilityForm, extra=3, max_num=10, absolute_max=10)
ChildFormSet = formset_factory(ChildForm, extra=2, max_num=MAX_CHILDREN, absolute_max=MAX_CHILDREN)

TRANSPORT_MODES = ("land", "sea", "air")


class BenefitForm(RuleErrorMixin, AsciiDigitsForm):
    digit_fields = ("medical_bills",)

    type = forms.ChoiceField(
        label=_("Event"),
        choices=[
            ("jkm", _("Death not from work (JKM)")),
            ("jkk", _("Work accident (JKK)")),
        ],
        initial="jkm",
        widget=forms.RadioSelect,
    )
    event_date = forms.DateField(
        label=_("Date of the event"),
        validators=DATE_RANGE,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    months_in_arrears = forms.IntegerField(
        label=_("Months of contributions in arrears at the event"),
        min_value=0,
        max_value=600,
        initial=0,
    )
    contribution_months = forms.IntegerField(
        label=_("Months of contributions paid"),
        required=False,
        min_value=0,
        max_value=1200,
        help_text=_("Needed for a JKM scholarship (at least 36)"),
    )
    income = RupiahField(
        label=_("Declared monthly income (Rp)"),
        required=False,
        min_value=0,
        max_value=MAX_RUPIAH,
        help_text=_("JKK: fill this or the wage"),
    )
    wage = RupiahField(
        label=_("Wage contributions were paid on (Rp)"),
        required=False,
        min_value=0,
        max_value=MAX_RUPIAH,
        help_text=_("For a BPU: the base of the bracket"),
    )
    stmb_months = forms.IntegerField(
        label=_("Temporary incapacity (STMB): months"),
        required=False,
        min_value=0,
        max_value=600,
    )
    stmb_days = forms.IntegerField(
        label=_("STMB: further days"), required=False, min_value=0, max_value=18_300
    )
    medical_bills = forms.CharField(
        label=_("Medical bills so far (Rp)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One amount per line; empty: medical care as incurred"),
    )
    home_care = RupiahField(
        label=_("Home care claimed (Rp)"), required=False, min_value=0, max_value=MAX_RUPIAH
    )
    transport_land = RupiahField(
        label=_("Transport by land (Rp)"), required=False, min_value=0, max_value=MAX_RUPIAH
    )
    transport_sea = RupiahField(
        label=_("Transport by sea (Rp)"), required=False, min_value=0, max_value=MAX_RUPIAH
    )
    transport_air = RupiahField(
        label=_("Transport by air (Rp)"), required=False, min_value=0, max_value=MAX_RUPIAH
    )
    left_handed = forms.BooleanField(label=_("Left-handed"), required=False)
    total_disability = forms.BooleanField(label=_("Total permanent disability"), required=False)
    death = forms.BooleanField(label=_("Died of the accident"), required=False)

    field_map = {"stmb": "stmb_months", "stmb.months": "stmb_months", "stmb.days": "stmb_days"}
    jkk_only = (
        "income",
        "wage",
        "stmb_months",
        "stmb_days",
        "medical_bills",
        "home_care",
        "transport_land",
        "transport_sea",
        "transport_air",
        "left_handed",
        "total_disability",
        "death",
    )

    def clean_medical_bills(self) -> list[int] | None:
        text = self.cleaned_data["medical_bills"]
        if not text.strip():
            return None
        amounts = []
        for line in text.splitlines():
            if line.strip():
                try:
                    amounts.append(RupiahField(min_value=0, max_value=MAX_RUPIAH).clean(line))
                except forms.ValidationError:
                    raise forms.ValidationError(
                        _(
                            "“%(line)s” is not an amount; write one amount per line, e.g. 2.500.000."
                        ),
                        params={"line": line.strip()[:40]},
                    ) from None
        return amounts

    def engine_input(self) -> tuple[dict[str, Any], list[str]]:
        """The event JSON of the engine, and the form field of each transport claim."""
        data = self.cleaned_data
        event: dict[str, Any] = {
            "type": data["type"],
            "event_date": data["event_date"].isoformat(),
            "months_in_arrears": data["months_in_arrears"],
        }
        if data.get("contribution_months") is not None:
            event["contribution_months"] = data["contribution_months"]
        transport_fields: list[str] = []
        if data["type"] != "jkk":
            return event, transport_fields
        for key in ("income", "wage", "home_care"):
            if data.get(key) is not None:
                event[key] = data[key]
        if data.get("medical_bills") is not None:
            event["medical_bills"] = data["medical_bills"]
        if data.get("stmb_months") or data.get("stmb_days"):
            event["stmb"] = {"months": data["stmb_months"] or 0, "days": data["stmb_days"] or 0}
        for mode in TRANSPORT_MODES:
            amount = data.get(f"transport_{mode}")
            if amount:
                event.setdefault("transport", []).append({"mode": mode, "amount": amount})
                transport_fields.append(f"transport_{mode}")
        for flag in ("left_handed", "total_disability", "death"):
            if data[flag]:
                event[flag] = True
        return event, transport_fields


def _as_typed(bound: forms.Form) -> dict[str, Any]:
    """What was typed into a bound form, as the initial values of an unbound one."""
    return {name: bound[name].value() for name in bound.fields}


def _retyped(formset_class: Any, data: Any, prefix: str, more: int = 0) -> Any:
    """An unbound formset showing the rows typed into `data`, plus `more` empty rows: the form
    comes back as it was, with no error shown for rows the officer has not finished."""
    bound = formset_class(data, prefix=prefix)
    rows = bound.forms
    grown = formset_factory(
        formset_class.form,
        extra=min(len(rows) + more, formset_class.absolute_max),
        max_num=formset_class.max_num,
        absolute_max=formset_class.absolute_max,
    )(prefix=prefix)
    for old, new in zip(rows, grown.forms, strict=False):
        new.initial = _as_typed(old)
    return grown


class BenefitCalculator:
    """The benefit form with its two formsets, parsed together into one engine event.

    Posted with the ADD_CHILD button, it calculates nothing: the form comes back as typed
    with one more child row.
    """

    max_children = MAX_CHILDREN

    def __init__(self, data: Any = None) -> None:
        initial = {"event_date": timezone.localdate()}
        self.adding_child = data is not None and ADD_CHILD in data
        if self.adding_child:
            self.form = BenefitForm(initial=_as_typed(BenefitForm(data)))
            self.disability = _retyped(DisabilityFormSet, data, "disability")
            self.children = _retyped(ChildFormSet, data, "children", more=1)
            # The officer types into the new row next.
            self.children.forms[-1].fields["name"].widget.attrs["autofocus"] = True
        else:
            self.form = BenefitForm(data, initial=initial)
            self.disability = DisabilityFormSet(data, prefix="disability")
            self.children = ChildFormSet(data, prefix="children")
        # The date picker offers no day after today; the engine refuses one anyway.
        self.form.fields["event_date"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.errors: list[str] = []
        self._rows: dict[str, list[int]] = {"disability": [], "children": []}
        self._transport: list[str] = []

    def is_valid(self) -> bool:
        if self.adding_child:
            return False
        return all([self.form.is_valid(), self.disability.is_valid(), self.children.is_valid()])

    @property
    def can_add_child(self) -> bool:
        return self.children.total_form_count() < MAX_CHILDREN

    @property
    def has_errors(self) -> bool:
        return bool(
            self.errors
            or self.form.errors
            or self.disability.total_error_count()
            or self.children.total_error_count()
        )

    def event(self) -> dict[str, Any]:
        """The JSON event of `cakupan.rules.benefits_from_dict` (call after is_valid)."""
        event, self._transport = self.form.engine_input()
        rows = {
            "disability": [f.engine_input() for f in self.disability.forms],
            "children": [f.engine_input() for f in self.children.forms],
        }
        for key, entries in rows.items():
            self._rows[key] = [n for n, entry in enumerate(entries) if entry is not None]
            kept = [entry for entry in entries if entry is not None]
            if kept and (key == "children" or event["type"] == "jkk"):
                event[key] = kept
        return event

    def attach_error(self, error: RuleInputError) -> None:
        """Show the engine's error on the field, row or formset it names."""
        match = _PATH.match(error.field)
        name = match["name"] if match else error.field
        if name in ("disability", "children") and match:
            formset = self.disability if name == "disability" else self.children
            index, rest = match["index"], match["rest"]
            rows = self._rows[name]
            if index is not None and int(index) < len(rows):
                row = formset.forms[rows[int(index)]]
                row.attach_error(error, field=rest or "__all__")
                return
            self.errors.append(f"{error.field}: {rule_message(error)}")
            return
        if name == "transport" and match and match["index"] is not None:
            index = int(match["index"])
            if index < len(self._transport):
                self.form.attach_error(error, field=self._transport[index])
                return
        if name == "medical_bills":
            self.form.attach_error(error, field="medical_bills")
            return
        self.form.attach_error(error)
