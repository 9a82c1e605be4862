"""Who pays: sponsors (city budget, village funds, CSR, the worker) and their funding programmes."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class SponsorType(models.TextChoices):
    """The source of the money. APBD/APBN are regional/state budgets (no PP 50/2025 discount);
    APBDes the village budget (Dana Desa); DBHCHT the tobacco-excise revenue share."""

    APBD = "apbd", "APBD"
    APBN = "apbn", "APBN"
    APBDES = "apbdes", "APBDes / Dana Desa"
    DBHCHT = "dbhcht", "DBHCHT"
    CSR = "csr", "CSR"
    BPJS = "bpjs", "BPJS Ketenagakerjaan"
    SELF = "self", _("Self-paid")
    OTHER = "other", _("Other")


# The funding code the rules engine prices with (its vocabulary has no "bpjs").
RULES_FUNDING = {SponsorType.BPJS: "other"}


class Sponsor(models.Model):
    """A payer: the city (APBD), a village, a company's CSR budget, BPJS itself, ..."""

    type = models.CharField(_("type"), max_length=10, choices=SponsorType.choices)
    name = models.CharField(_("name"), max_length=150, unique=True)
    contact_name = models.CharField(_("contact person"), max_length=150, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_demo = models.BooleanField(default=False, help_text="Created by `cakupan demo`")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("sponsor")
        verbose_name_plural = _("sponsors")

    def __str__(self) -> str:
        return self.name

    @property
    def rules_funding(self) -> str:
        return RULES_FUNDING.get(self.type, self.type)


class FundingProgramme(models.Model):
    """A sponsor's scheme: which workers, which months, which package, how much money.

    `eligibility` is data, so a new CSR scheme is configuration, not code:
    {"occupations": ["ojol"], "sectors": [], "kecamatan": [], "kelurahan": [],
     "vulnerable_only": false, "min_age": 15, "max_age": 65}; an empty list means any.
    """

    sponsor = models.ForeignKey(Sponsor, on_delete=models.PROTECT, related_name="programmes")
    name = models.CharField(_("name"), max_length=150)
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    first_month = models.DateField(_("first month"), help_text=_("First day of the month"))
    last_month = models.DateField(_("last month"), help_text=_("First day of the month"))
    budget = models.BigIntegerField(_("budget (Rp)"), validators=[MinValueValidator(0)])
    programmes = models.JSONField(_("programmes"), default=list, help_text='e.g. ["jkk", "jkm"]')
    declared_income = models.BigIntegerField(
        _("declared income (Rp)"),
        default=1_000_000,
        validators=[MinValueValidator(0)],
        help_text=_("Monthly income the package is priced at; it picks the contribution bracket"),
    )
    eligibility = models.JSONField(_("eligibility"), default=dict, blank=True)
    cohort_cap = models.PositiveIntegerField(_("cohort cap"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-fiscal_year", "name"]
        verbose_name = _("funding programme")
        verbose_name_plural = _("funding programmes")
        permissions = [("manage_programme", "Can create sponsors and programmes")]
        constraints = [
            models.UniqueConstraint(
                fields=["sponsor", "name", "fiscal_year"], name="programme_unique_name"
            ),
            models.CheckConstraint(
                condition=models.Q(last_month__gte=models.F("first_month")),
                name="programme_months_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sponsor.name}, {self.fiscal_year})"
