"""Memberships, who pays which months of them, and the bulk imports that create them.

BPU (bukan penerima upah): a non-wage earner; the category every membership here has for now.
A person-month has at most one payer: FundingAssignment rows of one membership never overlap.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Membership(models.Model):
    """A worker's Jamsostek membership in one category (one per worker and category)."""

    class Category(models.TextChoices):
        BPU = "bpu", _("Non-wage earner (BPU)")

    worker = models.ForeignKey(
        "registry.Worker", on_delete=models.PROTECT, related_name="memberships"
    )
    category = models.CharField(
        _("category"), max_length=10, choices=Category.choices, default=Category.BPU
    )
    programmes = models.JSONField(_("programmes"), default=list)
    declared_income = models.BigIntegerField(_("declared income (Rp)"))
    bracket = models.PositiveSmallIntegerField(_("bracket"))
    start_month = models.DateField(_("start month"))
    end_month = models.DateField(_("end month"), null=True, blank=True)
    number = models.CharField(_("membership number"), max_length=20, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        permissions = [
            ("enrol", "Can enrol workers and import lists"),
            # A sponsor uploads lists to its own programmes; enrolling one worker and deciding
            # review cases stay with officers (enrol, review_links).
            ("upload_list", "Can upload lists of workers to the programmes in its scope"),
            ("review_links", "Can decide whether two records are the same person"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["worker", "category"], name="one_membership_per_category"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class FundingAssignment(models.Model):
    """Who pays the months first_month..last_month (inclusive; open-ended when null)."""

    # indexed by `funding_membership_months` (its first column), not by an index of its own
    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="fundings", db_index=False
    )
    programme = models.ForeignKey(
        "funding.FundingProgramme",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assignments",
        help_text=_("Empty: the worker pays the months himself or herself"),
    )
    first_month = models.DateField(_("first month"))
    last_month = models.DateField(_("last month"), null=True, blank=True)
    # What the programme is expected to pay for these months (Rp), priced by the rules engine
    # when the assignment is written (funding.selectors.cost_of); 0 for a self-payer's months.
    committed = models.BigIntegerField(_("committed (Rp)"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    batch = models.ForeignKey(
        "membership.ImportBatch",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assignments",
    )

    class Meta:
        ordering = ["first_month", "id"]
        verbose_name = _("funding assignment")
        verbose_name_plural = _("funding assignments")
        indexes = [
            models.Index(fields=["programme", "first_month"]),
            # a membership's assignments with what a month's payer is read from: "who pays
            # month M" (the coverage snapshot, the lapse forecast, billing) is answered from
            # the index alone, not a look-up of each assignment's row (docs/benchmarks.md:
            # the snapshot's members stage on a million workers, 3.8 s to 1.7 s on SQLite)
            models.Index(
                fields=["membership", "first_month", "last_month", "programme"],
                name="funding_membership_months",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership_id}: {self.first_month:%Y-%m}..{self.last_month or '…'}"


class ImportBatch(models.Model):
    """One uploaded list of workers for a funding programme, from upload to commit."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        VALIDATING = "validating", _("Checking")
        PREVIEWED = "previewed", _("Checked, waiting for confirmation")
        COMMITTING = "committing", _("Saving")
        COMMITTED = "committed", _("Saved")
        CANCELLED = "cancelled", _("Cancelled")
        FAILED = "failed", _("Failed")
        DISCARDED = "discarded", _("Discarded")

    programme = models.ForeignKey(
        "funding.FundingProgramme", on_delete=models.PROTECT, related_name="imports"
    )
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    column_map = models.JSONField(default=dict, blank=True)
    partial = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UPLOADED)
    stage = models.CharField(max_length=10, blank=True, help_text="read, check, link or save")
    dry_run = models.BooleanField(default=True)
    task_id = models.CharField(max_length=64, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    # The lease of the run now checking or saving the list: which process on which computer,
    # and when that process started (a pid can be reused by another process later). A run whose
    # process is gone is marked failed by cakupan.membership.runs, so no list stays "running".
    run_id = models.CharField(max_length=64, blank=True)
    run_host = models.CharField(max_length=255, blank=True)
    run_pid = models.PositiveIntegerField(null=True, blank=True)
    run_started = models.FloatField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Set when the message is one the page words itself (in the reader's language): see
    # ImportBatch.status_message.
    message_code = models.CharField(max_length=20, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    # message_code values
    STOPPED = "stopped"  # its process ended before it finished: nothing was saved
    STOPPED_SAVED = "stopped_saved"  # its process ended right after the save committed

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    def status_message(self) -> str:
        """What the page, the API or the CLI says under the status, in the active language."""
        if self.message_code == self.STOPPED:
            if self.file:  # an upload from the web: the page can start it again
                return gettext(
                    "The process running this list stopped before it finished (the server or "
                    "the background worker was stopped or crashed). Nothing from this list was "
                    "saved. Start it again with “Check again”."
                )
            return gettext(
                "The process running this list stopped before it finished (the import command "
                "was stopped or the computer restarted). Nothing from this list was saved. Run "
                "the import again."
            )
        if self.message_code == self.STOPPED_SAVED:
            return gettext(
                "The process running this list stopped right after saving it. Enrolments saved: "
                "%(n)s. Nothing needs to be started again."
            ) % {"n": self.assignments.count()}
        return self.message


class ImportProblem(models.Model):
    """A rejected or flagged row of an import: what is wrong, in which column, and the fix."""

    class Severity(models.TextChoices):
        REJECTED = "rejected", _("Rejected")
        NOT_ELIGIBLE = "not_eligible", _("Outside the programme's target")
        REVIEW = "review", _("To review")
        WARNING = "warning", _("Warning")
        # not a problem: what the linkage did on its own, listed so that it can be checked
        CORRECTED = "corrected", _("NIK corrected automatically")

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField()
    column = models.CharField(max_length=40)
    severity = models.CharField(max_length=12, choices=Severity.choices)
    code = models.CharField(max_length=40)
    message = models.TextField()
    suggestion = models.CharField(max_length=200, blank=True)
    # The cell as the file has it (for the columns whose values can be mapped), and the value
    # the suggestion stands for: the preview groups rows by value with it pre-selected.
    value = models.CharField(max_length=200, blank=True)
    suggested = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["batch", "severity"])]

    def __str__(self) -> str:
        return f"row {self.row} {self.column}: {self.code}"


class ImportValueMap(models.Model):
    """A person's choice for every row of a list holding a value: "Mitra Gojek" in the
    occupation column means ojol. Kept with the list (who, when) and offered again for the
    same sponsor's next list."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="value_maps")
    column = models.CharField(max_length=40)
    value = models.CharField(_("value in the file"), max_length=200)
    key = models.CharField(max_length=200, help_text="the value, case and spacing aside")
    mapped_to = models.CharField(_("means"), max_length=40)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["column", "value"]
        verbose_name = _("value mapping")
        verbose_name_plural = _("value mappings")
        constraints = [
            models.UniqueConstraint(fields=["batch", "column", "key"], name="one_map_per_value"),
        ]

    def __str__(self) -> str:
        return f"{self.column}: {self.value} → {self.mapped_to}"


class ReviewCase(models.Model):
    """An incoming row that is probably someone already registered: an officer decides."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MERGED = "merged", _("Same person: merged")
        KEPT_APART = "kept_apart", _("Different people: kept apart")
        REJECTED = "rejected", _("Row rejected: nothing enrolled")

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="reviews")
    row = models.PositiveIntegerField()
    incoming = models.JSONField()
    candidate = models.ForeignKey(
        "registry.Worker", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=40)
    evidence = models.TextField()
    score = models.FloatField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    resulting_worker = models.ForeignKey(
        "registry.Worker", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["batch", "row"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"review of row {self.row} ({self.get_status_display()})"


class AutoLink(models.Model):
    """A row of an import linked to a registered worker without a person: its NIK was a typo
    of the worker's, and name, birth date, sex and kelurahan agreed with no other candidate
    (linkage status `corrected_typo`). Kept with the evidence, and reversible from the
    worker page: the reversal removes the funding that batch gave the worker and opens the
    row as a review case, recording who reversed it and when."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="auto_links")
    row = models.PositiveIntegerField()
    worker = models.ForeignKey(
        "registry.Worker", on_delete=models.CASCADE, related_name="auto_links"
    )
    # the row as the list gave it (NIK, name, birth date, sex, kelurahan, occupation), so
    # that a reversal can open a review case with it
    incoming = models.JSONField()
    incoming_nik = models.CharField(_("NIK in the list"), max_length=32)
    reason = models.CharField(max_length=40)
    evidence = models.TextField()
    score = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reversed_at = models.DateTimeField(null=True, blank=True)
    review = models.ForeignKey(
        ReviewCase, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("automatic link")
        verbose_name_plural = _("automatic links")
        constraints = [
            models.UniqueConstraint(fields=["batch", "row"], name="one_auto_link_per_row"),
        ]

    def __str__(self) -> str:
        return f"row {self.row} of import {self.batch_id} → worker {self.worker_id}"
