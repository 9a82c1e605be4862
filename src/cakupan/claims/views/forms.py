"""The forms of the claims pages. They parse what an officer types (dates as DD/MM/YYYY, Rupiah
as written, digits of any script); the services decide what is allowed and their refusals land
on the field they name."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from cakupan.claims.banks import bank_choices
from cakupan.claims.models import Claim, Cost, Party
from cakupan.errors import Refused
from cakupan.formkit import AsciiDigitsForm
from cakupan.money import AmountInvalid, parse_rupiah
from cakupan.rules import default_rules

DATE_FORMATS = ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"]
DATE_ERROR = gettext_lazy("Write the date as DD/MM/YYYY, e.g. 03/11/2026.")


def date_field(label, required: bool = True, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"placeholder": "DD/MM/YYYY"}, format="%d/%m/%Y"),
        error_messages={"invalid": DATE_ERROR},
        **kwargs,
    )


NUMBER_MAX = 9999  # above any real count, below what the database's small integers hold


def number_field(label, required: bool = False, **kwargs) -> forms.IntegerField:
    """A whole number; its sign and range are the service's to judge, within NUMBER_MAX."""
    return forms.IntegerField(
        label=label,
        required=required,
        max_value=NUMBER_MAX,
        min_value=-NUMBER_MAX,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": gettext_lazy("Write a whole number, e.g. 2."),
            "max_value": gettext_lazy("The number is too large; check it."),
            "min_value": gettext_lazy("The number must not be negative."),
        },
        **kwargs,
    )


def _en() -> bool:
    return (get_language() or "id").startswith("en")


def _term_choices(terms) -> list[tuple[str, str]]:
    return [(t.code, t.label_en if _en() else t.label_id) for t in terms.values()]


def rupiah(value: str, required: bool = True) -> int | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise forms.ValidationError(_("Give the amount in Rupiah, e.g. 1.500.000."))
        return None
    try:
        return parse_rupiah(value)
    except AmountInvalid:
        raise forms.ValidationError(
            _("“%(v)s” is not an amount in Rupiah; write whole Rupiah, e.g. 1.500.000.")
            % {"v": value}
        ) from None


def refused_on(form: forms.Form, e: Refused, names: dict[str, str] | None = None) -> None:
    """A service's refusal on the form field it names (above the form when none fits)."""
    where = (names or {}).get(e.field or "", e.field)
    form.add_error(where if where in form.fields else None, e.message)


# -- finding the membership ----------------------------------------------------------------------


class LookupFields(AsciiDigitsForm):
    digit_fields = ("lookup",)

    lookup = forms.CharField(
        label=gettext_lazy("Membership number or the worker's NIK"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("The number on the membership card, or the 16 digits of the NIK."),
    )
    membership = forms.CharField(required=False, widget=forms.HiddenInput)


class FileForm(LookupFields):
    type = forms.ChoiceField(
        label=gettext_lazy("Claim type"),
        choices=Claim.Type.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Choose the claim type: JKK (work accident) or JKM (death).")
        },
    )
    event_date = date_field(gettext_lazy("Event date (accident or death)"))
    place = forms.CharField(label=gettext_lazy("Place"), max_length=200, required=False)
    description = forms.CharField(
        label=gettext_lazy("What happened"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    hospital = forms.CharField(
        label=gettext_lazy("Treating hospital"), max_length=150, required=False
    )
    injuries = forms.CharField(
        label=gettext_lazy("Injuries"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    cause = forms.CharField(
        label=gettext_lazy("Cause of death (JKM)"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("As the death certificate or the doctor's letter states it."),
    )


class ReportForm(LookupFields):
    lookup = forms.CharField(
        label=gettext_lazy("Patient's NIK or membership number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    event_date = date_field(gettext_lazy("Date of the accident"))
    place = forms.CharField(
        label=gettext_lazy("Place of the accident"), max_length=200, required=False
    )
    description = forms.CharField(
        label=gettext_lazy("What happened"), widget=forms.Textarea(attrs={"rows": 3})
    )
    injuries = forms.CharField(
        label=gettext_lazy("Injuries"), widget=forms.Textarea(attrs={"rows": 2})
    )
    hospital = forms.CharField(label=gettext_lazy("Hospital"), max_length=150)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lookup"].help_text = ""
        for name in ("description", "injuries", "hospital"):
            self.fields[name].error_messages["required"] = {
                "description": gettext_lazy("Describe what happened."),
                "injuries": gettext_lazy("Describe the injuries."),
                "hospital": gettext_lazy("Give the hospital's name."),
            }[name]


# -- facts -----------------------------------------------------------------------------------------


class IncapacityForm(AsciiDigitsForm):
    months = number_field(gettext_lazy("Months unable to work"))
    days = number_field(gettext_lazy("and days"))
    first_day = date_field(gettext_lazy("or from the first day"), required=False)
    last_day = date_field(gettext_lazy("to the last day"), required=False)


class AssessmentForm(AsciiDigitsForm):
    item = forms.ChoiceField(label=gettext_lazy("Disability table entry"))
    assessed_on = date_field(gettext_lazy("Assessed on"))
    percent = number_field(
        gettext_lazy("Percent assessed"),
        help_text=gettext_lazy("For an entry with a range of percents."),
    )
    units = number_field(
        gettext_lazy("Units (fingers, joints)"),
        help_text=gettext_lazy("For an entry counted per unit."),
    )
    function_loss_percent = number_field(
        gettext_lazy("Function lost (%)"),
        help_text=gettext_lazy("If the limb is kept but lost part of its function."),
    )
    doctor = forms.CharField(label=gettext_lazy("Assessing doctor"), max_length=150, required=False)

    def __init__(self, *args, on: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        items = default_rules().disability_table(on).items
        self.fields["item"].choices = [("", "—")] + [
            (code, item.label_en if _en() else item.label_id) for code, item in items.items()
        ]


class CostForm(AsciiDigitsForm):
    digit_fields = ("amount",)

    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Cost.Kind.choices)
    mode = forms.ChoiceField(
        label=gettext_lazy("Transport by"),
        required=False,
        choices=[
            ("", "—"),
            ("land", gettext_lazy("land")),
            ("sea", gettext_lazy("sea")),
            ("air", gettext_lazy("air")),
        ],
    )
    amount = forms.CharField(
        label=gettext_lazy("Amount (Rp)"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "Rp 1.500.000"}),
    )
    incurred_on = date_field(gettext_lazy("Date"))
    document = forms.CharField(
        label=gettext_lazy("Receipt or bill number"), max_length=80, required=False
    )

    def clean_amount(self) -> int | None:
        return rupiah(self.cleaned_data["amount"])


class OutcomeForm(AsciiDigitsForm):
    digit_fields = ("home_care",)

    death_date = date_field(gettext_lazy("Date of death"), required=False)
    total_disability = forms.BooleanField(
        label=gettext_lazy("Total permanent disability"), required=False
    )
    recovered_on = date_field(gettext_lazy("Recovered on"), required=False)
    left_handed = forms.BooleanField(label=gettext_lazy("Left-handed"), required=False)
    home_care = forms.CharField(
        label=gettext_lazy("Home care claimed (Rp)"), max_length=30, required=False
    )

    def clean_home_care(self) -> int | None:
        return rupiah(self.cleaned_data["home_care"], required=False)


# -- the family --------------------------------------------------------------------------------


class PartyForm(AsciiDigitsForm):
    digit_fields = ("account_number",)

    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=150)
    relation = forms.ChoiceField(label=gettext_lazy("Relation to the worker"))
    birth_date = date_field(gettext_lazy("Birth date"), required=False)
    share_percent = number_field(gettext_lazy("Share (%)"))
    bank_code = forms.ChoiceField(label=gettext_lazy("Bank"), required=False)
    account_number = forms.CharField(
        label=gettext_lazy("Account number"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    account_name = forms.CharField(
        label=gettext_lazy("Account holder"), max_length=150, required=False
    )
    level = forms.ChoiceField(
        label=gettext_lazy("A child: school level at the event"), required=False
    )
    year_in_level = number_field(gettext_lazy("Year in that level"))
    married = forms.BooleanField(label=gettext_lazy("Married"), required=False)
    working = forms.ChoiceField(label=gettext_lazy("Work"), required=False)
    pu_consecutive_months = number_field(
        gettext_lazy("Months in a row as a wage earner"),
        help_text=gettext_lazy("Only for a child working as a wage earner."),
    )
    chosen = forms.BooleanField(
        label=gettext_lazy("Chosen by the heirs for the scholarship"), required=False
    )

    def __init__(self, *args, on: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        vocabulary = default_rules().vocabulary(on)
        self.fields["relation"].choices = [
            (v, label) for v, label in Party.Relation.choices if v != Party.Relation.SELF
        ]
        self.fields["bank_code"].choices = [("", "—"), *bank_choices()]
        self.fields["level"].choices = [("", "—"), *_term_choices(vocabulary.education_levels)]
        self.fields["working"].choices = _term_choices(vocabulary.working_statuses)

    def values(self) -> dict:
        d = self.cleaned_data
        return {
            "full_name": d["full_name"].strip(),
            "relation": d["relation"],
            "birth_date": d.get("birth_date"),
            "share_percent": d.get("share_percent") or 0,
            "bank_code": d.get("bank_code") or "",
            "account_number": d.get("account_number") or "",
            "account_name": (d.get("account_name") or "").strip(),
            "level": d.get("level") or "",
            "year_in_level": d.get("year_in_level"),
            "married": bool(d.get("married")),
            "working": d.get("working") or "no",
            "pu_consecutive_months": d.get("pu_consecutive_months") or 0,
            "chosen": bool(d.get("chosen")),
        }

    def clean_share_percent(self):
        value = self.cleaned_data.get("share_percent")
        if value is not None and value < 0:
            raise forms.ValidationError(_("A share is a percent from 0 to 100."))
        return value

    def clean_year_in_level(self):
        value = self.cleaned_data.get("year_in_level")
        if value is not None and value < 1:
            raise forms.ValidationError(_("The year in the level is 1 or more."))
        return value

    def clean_pu_consecutive_months(self):
        value = self.cleaned_data.get("pu_consecutive_months")
        if value is not None and value < 0:
            raise forms.ValidationError(_("The number must not be negative."))
        return value


def party_initial(party: Party) -> dict:
    return {
        "full_name": party.full_name,
        "relation": party.relation,
        "birth_date": party.birth_date,
        "share_percent": party.share_percent,
        "bank_code": party.bank_code,
        "account_number": party.account_number,
        "account_name": party.account_name,
        "level": party.level,
        "year_in_level": party.year_in_level,
        "married": party.married,
        "working": party.working,
        "pu_consecutive_months": party.pu_consecutive_months,
        "chosen": party.chosen,
    }


# -- workflow ----------------------------------------------------------------------------------


class NoteForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("Note"), max_length=500, required=False)


class RejectForm(forms.Form):
    code = forms.ChoiceField(
        label=gettext_lazy("Reason"), choices=[("", "—"), *list(Claim.RejectReason.choices)]
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].error_messages["required"] = gettext_lazy(
            "Choose the reason for the rejection."
        )


# -- scholarships ------------------------------------------------------------------------------


class ProofForm(AsciiDigitsForm):
    school = forms.CharField(label=gettext_lazy("School"), max_length=150)
    level = forms.ChoiceField(label=gettext_lazy("Level"))
    year_in_level = number_field(gettext_lazy("Year in level"), required=True)
    document = forms.CharField(label=gettext_lazy("Letter or report card number"), max_length=80)

    def __init__(self, *args, on: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        levels = default_rules().vocabulary(on).education_levels
        paid = {lv.code for lv in default_rules().scholarship(on).levels}
        self.fields["level"].choices = [
            (t.code, t.label_en if _en() else t.label_id) for t in levels.values() if t.code in paid
        ]
        self.fields["school"].error_messages["required"] = gettext_lazy("Give the school's name.")
        self.fields["document"].error_messages["required"] = gettext_lazy(
            "Give the number of the enrolment letter or report card."
        )


class StopForm(AsciiDigitsForm):
    reason = forms.ChoiceField(
        label=gettext_lazy("Why it stops"),
        choices=[
            ("married", gettext_lazy("The child married")),
            ("working", gettext_lazy("The child works")),
            ("died", gettext_lazy("The child died")),
        ],
    )
    stopped_on = date_field(gettext_lazy("Since"))
    work = forms.ChoiceField(label=gettext_lazy("Work (if working)"), required=False)
    pu_months = number_field(gettext_lazy("Months in a row as a wage earner"))

    def __init__(self, *args, on: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        statuses = default_rules().vocabulary(on).working_statuses
        self.fields["work"].choices = [("", "—")] + [
            (c, label) for c, label in _term_choices(statuses) if c != "no"
        ]
