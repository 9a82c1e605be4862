"""Coverage: the figures UCJ is measured against, with their sources (denominators, the
participants the registry does not hold, targets), and the frozen monthly snapshots of who was
covered (docs/coverage.md).

A figure is never bare: each input row names its source and the date of that source. A
snapshot copies the inputs it used (the denominator's value, source and date) so a later edit
of an input, the registry or the ledger does not change a closed month; rebuilding one is a
deliberate act, recorded with who and why (SnapshotRebuild).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Sourced(models.Model):
    """Where a figure comes from: the publication or file, and its date."""

    source = models.CharField(_("source"), max_length=200)
    source_date = models.DateField(_("source date"))
    url = models.URLField(_("link"), max_length=300, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def cite(self) -> str:
        return f"{self.source}, {self.source_date:%d-%m-%Y}"


class Denominator(Sourced):
    """The employed population of a region in a survey period (BPS Sakernas), optionally split
    by sex or by formal/informal work. A month's UCJ uses the latest period on or before it."""

    class Split(models.TextChoices):
        ALL = "", _("All workers")
        MALE = "male", _("Men")
        FEMALE = "female", _("Women")
        FORMAL = "formal", _("Formal work")
        INFORMAL = "informal", _("Informal work")

    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    period = models.DateField(_("survey month"), help_text=_("First day of the month"))
    split = models.CharField(_("split"), max_length=10, choices=Split.choices, blank=True)
    employed = models.PositiveIntegerField(_("employed population"))

    class Meta:
        ordering = ["region", "-period", "split"]
        verbose_name = _("denominator")
        verbose_name_plural = _("denominators")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "period", "split"], name="denominator_one_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.period:%Y-%m} {self.split or 'all'}: {self.employed}"


class Aggregate(Sourced):
    """Participants the registry does not hold, counted by the agency per region and month:
    wage earners (PU), construction projects (Jakon), migrant workers (PMI)."""

    class Category(models.TextChoices):
        PU = "pu", _("Wage earners (PU)")
        JAKON = "jakon", _("Construction (Jakon)")
        PMI = "pmi", _("Migrant workers (PMI)")

    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    month = models.DateField(_("month"), help_text=_("First day of the month"))
    category = models.CharField(_("category"), max_length=6, choices=Category.choices)
    participants = models.PositiveIntegerField(_("active participants"))

    class Meta:
        ordering = ["-month", "region", "category"]
        verbose_name = _("participant count")
        verbose_name_plural = _("participant counts")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "month", "category"], name="aggregate_one_per_month"
            )
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.month:%Y-%m} {self.category}: {self.participants}"


class Target(Sourced):
    """A UCJ target for a region by the end of a year, from a plan (RPJMN, RPJMD, the city's)."""

    class Kind(models.TextChoices):
        RPJMN = "rpjmn", _("National plan (RPJMN)")
        RPJMD = "rpjmd", _("Regional plan (RPJMD)")
        CITY = "city", _("City's own target")

    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region")
    )
    year = models.PositiveSmallIntegerField(
        _("target year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    kind = models.CharField(_("plan"), max_length=6, choices=Kind.choices)
    percent = models.DecimalField(
        _("target UCJ (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )

    class Meta:
        ordering = ["region", "year", "kind"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.UniqueConstraint(fields=["region", "year", "kind"], name="target_one_per_plan")
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.year} {self.kind}: {self.percent}%"

    # Which plan a region is held to when it has several for a year, first first: the city's
    # own target, else its regional plan's (RPJMD), else the national plan's (RPJMN).
    PRECEDENCE = (Kind.CITY, Kind.RPJMD, Kind.RPJMN)

    @classmethod
    def rank(cls, kind: str) -> int:
        return cls.PRECEDENCE.index(kind) if kind in cls.PRECEDENCE else len(cls.PRECEDENCE)


class Snapshot(models.Model):
    """Who was covered in a month, as the ledger stood on `as_of`.

    Provisional while the month's contributions may still be paid (until the day after the
    next month's due day): rebuilt freely. Closed once built on or after that day: frozen, and
    rebuilt only on purpose (`cakupan coverage snapshot --rebuild`), with a SnapshotRebuild
    row. `active` holds the ids of the workers counted active, as a compressed bitmap, so the
    list behind a closed month's figure is the list that was counted."""

    class Status(models.TextChoices):
        PROVISIONAL = "provisional", _("Provisional")
        CLOSED = "closed", _("Closed")

    month = models.DateField(_("month"), unique=True)
    as_of = models.DateField(_("ledger as of"))
    status = models.CharField(max_length=12, choices=Status.choices)
    built_at = models.DateTimeField()
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    seconds = models.FloatField(default=0)
    registered = models.PositiveIntegerField(default=0)
    members = models.PositiveIntegerField(default=0)
    active = models.PositiveIntegerField(default=0)
    active_ids = models.BinaryField(default=b"")
    member_ids = models.BinaryField(default=b"")

    class Meta:
        ordering = ["-month"]
        verbose_name = _("coverage snapshot")
        verbose_name_plural = _("coverage snapshots")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} ({self.status})"


class Cell(models.Model):
    """One cell of a snapshot: the registered workers of a kelurahan with one occupation, sex,
    age band, welfare decile (0: not recorded) and funder (programme; none: self-paid or not a
    member), with how many were members that month and how many were active (the month paid)."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="cells")
    kelurahan = models.CharField(max_length=13)
    occupation = models.PositiveIntegerField()
    sex = models.CharField(max_length=1)
    age_band = models.PositiveSmallIntegerField()
    decile = models.PositiveSmallIntegerField()
    programme = models.PositiveIntegerField(null=True)
    registered = models.PositiveIntegerField()
    members = models.PositiveIntegerField()
    active = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["snapshot", "kelurahan"], name="cell_snapshot_kelurahan")]

    def __str__(self) -> str:
        return f"{self.kelurahan} {self.occupation} {self.sex}: {self.active}/{self.registered}"


class Rollup(models.Model):
    """A snapshot's cells summed by one of their columns for one region (the city, each
    kecamatan, each kelurahan): what the dashboard's breakdowns read — a few dozen rows instead
    of the month's hundreds of thousands of cells. `key` is the column's value as text (a
    programme's blank key: self-paid or no programme)."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="rollups")
    region = models.CharField(max_length=13)
    dimension = models.CharField(max_length=12)
    key = models.CharField(max_length=20, blank=True)
    registered = models.PositiveIntegerField()
    members = models.PositiveIntegerField()
    active = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["snapshot", "region", "dimension"], name="rollup_lookup")]

    def __str__(self) -> str:
        return f"{self.region} {self.dimension}={self.key}: {self.active}/{self.registered}"


class Area(models.Model):
    """A snapshot's UCJ for one region (the city, a kecamatan, a kelurahan): the registry's
    active BPU participants, the agency's counts of the others, and the denominator it was
    divided by, copied with its source so the month stays as it was."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="areas")
    region = models.CharField(max_length=13)
    level = models.PositiveSmallIntegerField()
    registered = models.PositiveIntegerField()
    members = models.PositiveIntegerField()
    bpu_active = models.PositiveIntegerField()
    pu = models.PositiveIntegerField(default=0)
    jakon = models.PositiveIntegerField(default=0)
    pmi = models.PositiveIntegerField(default=0)
    aggregates_source = models.CharField(max_length=400, blank=True)
    employed = models.PositiveIntegerField(null=True)
    employed_source = models.CharField(max_length=260, blank=True)
    employed_period = models.DateField(null=True)

    class Meta:
        ordering = ["snapshot", "region"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "region"], name="area_one_per_region")
        ]

    def __str__(self) -> str:
        return f"{self.region}: {self.participants}/{self.employed}"

    @property
    def participants(self) -> int:
        return self.bpu_active + self.pu + self.jakon + self.pmi

    @property
    def ucj(self) -> float | None:
        """UCJ in percent, or None without a denominator."""
        return 100 * self.participants / self.employed if self.employed else None


class SnapshotRebuild(models.Model):
    """A closed month rebuilt on purpose: who, when, why, and the figures before and after."""

    month = models.DateField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_name = models.CharField(max_length=150)
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=300)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} by {self.by_name}: {self.reason}"


class Scenario(models.Model):
    """A budget plan kept to compare and to act on: its parameters, the figures it gave and
    the workers it chose (a compressed bitmap, snapshots.pack_ids). Once made a funding
    programme, `programme` points to it and it is not made one again."""

    class Kind(models.TextChoices):
        FORWARD = "forward", _("From a budget")
        INVERSE = "inverse", _("From a target")

    name = models.CharField(_("name"), max_length=150)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    parameters = models.JSONField(default=dict)
    summary = models.JSONField(default=dict)
    chosen = models.PositiveIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    chosen_ids = models.BinaryField(default=b"")
    programme = models.ForeignKey(
        "funding.FundingProgramme",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("scenario")
        verbose_name_plural = _("scenarios")

    def __str__(self) -> str:
        return self.name
