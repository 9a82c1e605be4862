"""The contributions ledger: what each membership is billed for each month, who paid what, and
how each payment was spent.

Entries are appended, never edited or deleted, with three exceptions written once each and
checked by `cakupan ledger check`:
- a bill that nobody paid is *voided* when its month's payer changes (voided_at);
- a paid period (BillPaid) is appended when allocations complete a bill, and closed
  (unpaid_from) when a reversal reopens it: derived from the allocations so that "protected
  on date D" is one indexed query;
- an unmatched payment gets its payer account once, when a second officer approves the
  assignment (maker-checker, PaymentAssignment).
A correction is a reversal: a negative payment pointing at the one it reverses, and negative
allocations pointing at the allocations they undo.

Invariants (contributions.check): per payer account, payments = allocations + credit; no
allocation without a bill; allocations of a bill never exceed its amount; one live bill per
membership and month; a bill's open paid period agrees with its allocations.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PayerAccount(models.Model):
    """Who pays: a sponsor (all its programmes' bills) or a worker paying his own membership.
    `credit` is money received and not yet spent on a bill, carried to the next bills."""

    sponsor = models.OneToOneField(
        "funding.Sponsor", null=True, blank=True, on_delete=models.PROTECT, related_name="account"
    )
    membership = models.OneToOneField(
        "membership.Membership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="account",
    )
    credit = models.BigIntegerField(_("credit (Rp)"), default=0)

    class Meta:
        verbose_name = _("payer account")
        verbose_name_plural = _("payer accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(sponsor__isnull=True, membership__isnull=False)
                | Q(sponsor__isnull=False, membership__isnull=True),
                name="account_one_payer",
            ),
            models.CheckConstraint(condition=Q(credit__gte=0), name="account_credit_not_negative"),
        ]
        permissions = [
            ("run_billing", "Can bill a month"),
            ("record_payment", "Can record payments and upload payment statements"),
            ("approve_payment", "Can approve the assignment of an unmatched payment"),
            ("view_ledger", "Can see bills, payments and invoices"),
        ]

    def __str__(self) -> str:
        return f"account {self.pk}"


class BillingRun(models.Model):
    """One billing of one month. `lock` is True only while a run is in progress: a unique
    column, so a second run started meanwhile fails to insert and is told who is running."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Billing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    month = models.DateField(_("month"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    lock = models.BooleanField(null=True, unique=True, default=True)
    stage = models.CharField(max_length=20, blank=True)
    bills_added = models.PositiveIntegerField(default=0)
    amount_added = models.BigIntegerField(default=0)
    bills_voided = models.PositiveIntegerField(default=0)
    credit_applied = models.BigIntegerField(default=0)
    invoices_added = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    run_host = models.CharField(max_length=255, blank=True)
    run_pid = models.PositiveIntegerField(null=True, blank=True)
    run_started = models.FloatField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")

    def __str__(self) -> str:
        return f"billing {self.month:%Y-%m} ({self.status})"


class Invoice(models.Model):
    """A sponsor's bill for one programme and month: the sum of its bill lines."""

    programme = models.ForeignKey(
        "funding.FundingProgramme", on_delete=models.PROTECT, related_name="invoices"
    )
    month = models.DateField(_("month"))
    number = models.CharField(_("invoice number"), max_length=40, unique=True)
    issued_on = models.DateField(_("issued on"))
    due_on = models.DateField(_("due on"))
    run = models.ForeignKey(BillingRun, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-month", "number"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.UniqueConstraint(fields=["programme", "month"], name="one_invoice_per_month"),
        ]

    def __str__(self) -> str:
        return self.number


class Bill(models.Model):
    """What one membership owes for one month, and to whose account it is billed; priced by the
    rules engine (rule_ids cite the rule sets)."""

    # Indexes are few on purpose (each one costs every insert of a million-row billing run):
    # membership and account are served by the composite indexes below, programme through
    # the invoice. A bill is never updated when it is paid (BillPaid holds that). The references are not
    # database constraints either: PostgreSQL checks each one row by row at commit, locking
    # the referenced row (a million-row run spent more time there than inserting). Bills are
    # only ever inserted by INSERT … SELECT from the rows they reference, Django still
    # enforces on_delete, and `cakupan ledger check` (the bill_without_… link checks) finds a bill
    # whose reference is gone.
    membership = models.ForeignKey(
        "membership.Membership",
        on_delete=models.PROTECT,
        related_name="bills",
        db_index=False,
        db_constraint=False,
    )
    month = models.DateField(_("month"))
    account = models.ForeignKey(
        PayerAccount,
        on_delete=models.PROTECT,
        related_name="bills",
        db_index=False,
        db_constraint=False,
    )
    programme = models.ForeignKey(
        "funding.FundingProgramme",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bills",
        db_index=False,
        db_constraint=False,
    )
    invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bills",
        db_index=False,
        db_constraint=False,
    )
    gross = models.BigIntegerField()
    discount = models.BigIntegerField(default=0)
    amount = models.BigIntegerField(_("amount (Rp)"))
    rule_ids = models.CharField(max_length=200)
    run = models.ForeignKey(
        BillingRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bills",
        db_index=False,
        db_constraint=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["month", "id"]
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        constraints = [
            models.UniqueConstraint(
                fields=["membership", "month"],
                condition=Q(voided_at__isnull=True),
                name="one_live_bill_per_month",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="bill_amount_not_negative"),
        ]
        indexes = [
            models.Index(fields=["account", "month"], name="bill_account_month"),
            # a worker's own bills have no invoice: kept out of the index (every paid bill's
            # new row version is written to each index it is in)
            models.Index(
                fields=["invoice"], condition=Q(invoice__isnull=False), name="bill_invoice"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.month:%Y-%m} Rp {self.amount}"

    def _latest_paid(self) -> BillPaid | None:
        return self.paid_periods.order_by("-id").first()

    @property
    def paid_on(self) -> dt.date | None:
        """The day its latest paid period began (None: never paid)."""
        latest = self._latest_paid()
        return latest.paid_on if latest else None

    @property
    def unpaid_from(self) -> dt.date | None:
        """The day a reversal reopened its latest paid period (None: paid, or never paid)."""
        latest = self._latest_paid()
        return latest.unpaid_from if latest else None


class BillPaid(models.Model):
    """A period in which a bill's month counts as paid: from `paid_on` (the day of the money
    that completed it) until `unpaid_from` (a reversal reopened it), or still open. Appended
    when allocations complete the bill (never by updating the bill: on PostgreSQL a million
    bills marked paid were a million new row versions in every index of the bill table), and
    closed once when a reversal reopens it; a later payment appends another period, so what
    was paid on any past date can still be asked.

    Only a bill with allocations is ever paid, and such a bill is never voided (billing voids
    only bills without allocations), so a period belongs to the live bill of its membership
    and month: the state on a date (selectors.state_sql) reads this table's one index alone.
    `cakupan ledger check` verifies both (paid_period_mismatch, paid_date_drift)."""

    bill = models.ForeignKey(
        Bill,
        on_delete=models.PROTECT,
        related_name="paid_periods",
        db_index=False,
        db_constraint=False,
    )
    membership = models.ForeignKey(
        "membership.Membership",
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    month = models.DateField(_("month"))
    paid_on = models.DateField(_("paid on"))
    unpaid_from = models.DateField(_("unpaid from"), null=True, blank=True)

    class Meta:
        ordering = ["month", "paid_on", "id"]
        verbose_name = _("paid period")
        verbose_name_plural = _("paid periods")
        indexes = [
            models.Index(
                fields=["membership", "month", "paid_on", "unpaid_from"], name="billpaid_state"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} {self.month:%Y-%m} {self.paid_on}–{self.unpaid_from or ''}"


class PaymentStatement(models.Model):
    """An uploaded payment statement (bank or sponsor transfer list), read like a list import:
    checked, previewed, then saved all at once (or the good rows only, when partial)."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Checked, waiting for confirmation")
        SAVED = "saved", _("Saved")
        DISCARDED = "discarded", _("Discarded")
        FAILED = "failed", _("Failed")

    file = models.FileField(upload_to="statements/%Y/%m/", blank=True)
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    partial = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    rows_total = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    problems = models.JSONField(default=list, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("payment statement")
        verbose_name_plural = _("payment statements")

    def __str__(self) -> str:
        return self.original_name


class Payment(models.Model):
    """Money received (or, negative, a reversal of money received). The reference is the
    idempotency key: a payment with a reference already recorded is not recorded again."""

    class Source(models.TextChoices):
        FORM = "form", _("Form")
        API = "api", "API"
        STATEMENT = "statement", _("Payment statement")
        REVERSAL = "reversal", _("Reversal")

    class Unmatched(models.TextChoices):
        UNKNOWN_REFERENCE = "unknown_reference", _("The invoice or membership named is unknown")
        UNKNOWN_PAYER = "unknown_payer", _("The payer is unknown")
        NO_BILL = "no_bill", _("The amount fits no bill")

    # Indexes are few on purpose, as on Bill: a million-row statement pays for each one. The
    # reference is unique by a constraint (no second pattern index on PostgreSQL); account
    # queries use payment_account_paid; invoice and reversal links are indexed only where
    # set. A payment's membership is read from the payment alone (no page lists a
    # membership's payments: a worker's money is found through his account), so it has no
    # index (a million entries a statement of self-payers paid for). The links a statement writes on every row (account, membership,
    # statement, recorded_by; and an allocation's payment and bill) have no foreign-key
    # constraint in the database: PostgreSQL checks one by a trigger per row and key at
    # commit, which locks the row pointed at (a third of a million-row statement's time).
    # `cakupan ledger check` verifies each of them instead (contributions.check, LINKS).
    reference = models.CharField(_("reference"), max_length=80)
    account = models.ForeignKey(
        PayerAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        db_index=False,
        db_constraint=False,
    )
    amount = models.BigIntegerField(_("amount (Rp)"))
    paid_on = models.DateField(_("paid on"))
    source = models.CharField(max_length=10, choices=Source.choices)
    # what the payer named, as given (kept also when it matched nothing)
    payer_text = models.CharField(_("payer as given"), max_length=200, blank=True)
    invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        db_index=False,
    )
    membership = models.ForeignKey(
        "membership.Membership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        db_index=False,
        db_constraint=False,
    )
    target_text = models.CharField(_("invoice or membership as given"), max_length=80, blank=True)
    unmatched_reason = models.CharField(max_length=20, choices=Unmatched.choices, blank=True)
    statement = models.ForeignKey(
        PaymentStatement,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
        db_constraint=False,
    )
    reverses = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        db_index=False,
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        indexes = [
            models.Index(fields=["account", "paid_on"], name="payment_account_paid"),
            models.Index(
                fields=["unmatched_reason"],
                condition=Q(account__isnull=True),
                name="payment_unmatched",
            ),
            models.Index(
                fields=["invoice"], condition=Q(invoice__isnull=False), name="payment_invoice"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["reference"], name="payment_reference_unique"),
            models.UniqueConstraint(
                fields=["reverses"],
                condition=Q(reverses__isnull=False),
                name="payment_reversed_once",
            ),
            # money that matched nothing waits with its reason; a reversal carries no reason
            models.CheckConstraint(
                condition=Q(account__isnull=False) | ~Q(unmatched_reason=""),
                name="payment_matched_or_reason",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0, reverses__isnull=True)
                | Q(amount__lt=0, reverses__isnull=False),
                name="payment_sign",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} Rp {self.amount}"


class Allocation(models.Model):
    """Part of a payment spent on a bill (negative: undoing an earlier allocation).
    `effective_on` is the day the money counts for the bill: the payment's date."""

    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="allocations", db_constraint=False
    )
    bill = models.ForeignKey(
        Bill, on_delete=models.PROTECT, related_name="allocations", db_constraint=False
    )
    amount = models.BigIntegerField()
    effective_on = models.DateField()
    reverses = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        constraints = [
            models.UniqueConstraint(
                fields=["reverses"],
                condition=Q(reverses__isnull=False),
                name="allocation_reversed_once",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0, reverses__isnull=True)
                | Q(amount__lt=0, reverses__isnull=False),
                name="allocation_sign",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} → bill {self.bill_id}: Rp {self.amount}"


class PaymentAssignment(models.Model):
    """An officer's proposal that an unmatched payment belongs to a payer (and an invoice or
    membership); another officer approves or rejects it (maker-checker)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="assignments")
    account = models.ForeignKey(PayerAccount, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    membership = models.ForeignKey(
        "membership.Membership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(status="proposed"),
                name="one_open_assignment_per_payment",
            ),
            models.CheckConstraint(
                condition=~Q(decided_by=models.F("proposed_by")), name="assignment_four_eyes"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} → account {self.account_id} ({self.status})"


class SigningKey(models.Model):
    """An Ed25519 key of the branch that signs card tokens. Only the public half is stored
    here (published for offline checking); the private half is a file under the var
    directory. One key signs at a time; a retired key's cards are refused."""

    kid = models.CharField(_("key id"), max_length=8, unique=True)
    public_key = models.CharField(max_length=64, help_text="raw 32 bytes, base64url")
    created_at = models.DateTimeField(auto_now_add=True)
    active = models.BooleanField(default=False)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="one_active_signing_key"
            ),
        ]

    def __str__(self) -> str:
        return self.kid


class Card(models.Model):
    """A printed membership card: its serial is inside the signed token, so a card can be
    revoked (lost, replaced, membership ended) while the others stay valid."""

    membership = models.ForeignKey(
        "membership.Membership", on_delete=models.PROTECT, related_name="cards"
    )
    key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="cards")
    issued_on = models.DateField(_("issued on"))
    valid_through = models.DateField(_("valid through"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=200, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = _("membership card")
        verbose_name_plural = _("membership cards")
        permissions = [("issue_card", "Can print membership cards")]

    def __str__(self) -> str:
        return f"card {self.pk} of {self.membership_id}"


class ForecastRun(models.Model):
    """One stored count of the lapse forecast (contributions.forecast, docs/contributions.md
    "Stored forecast"): who stops being protected in the month after `on`, counted once (a
    daily job, or an officer's recount) so that pages read it instead of computing it. Only
    the latest finished run is kept with its rows."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Counting")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    on = models.DateField(_("asked on"))
    month = models.DateField(_("forecast month"))
    check_date = models.DateField(_("check date"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    total = models.IntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("lapse forecast count")
        verbose_name_plural = _("lapse forecast counts")

    def __str__(self) -> str:
        return f"forecast {self.pk} on {self.on}"


class ForecastEntry(models.Model):
    """A membership a stored forecast lists. `position` is its place in the list's order
    (kelurahan name, kelurahan code, worker name, membership): each kelurahan's entries are one
    run of positions, so a page of any region is read by position (ForecastTally holds where
    each kelurahan starts). Plain ids, not foreign keys: a count made at a moment, not a link
    of the ledger; names and phones are read from the registry when shown."""

    run = models.ForeignKey(
        ForecastRun, on_delete=models.CASCADE, related_name="entries", db_index=False
    )
    position = models.IntegerField()
    membership_id = models.BigIntegerField()
    worker_id = models.BigIntegerField()
    kelurahan_code = models.CharField(max_length=13)
    sponsor_id = models.BigIntegerField(null=True)
    reason = models.CharField(max_length=20)
    state_now = models.CharField(max_length=10)
    state_next = models.CharField(max_length=10)
    months_unpaid = models.SmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "position"], name="forecast_entry_position"),
        ]
        indexes = [
            models.Index(fields=["run", "reason", "position"], name="forecast_entry_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.position}: membership {self.membership_id} ({self.reason})"


class ForecastTally(models.Model):
    """A stored forecast's count per kelurahan, reason and sponsor (none: self-paid), and the
    position where the kelurahan's entries start."""

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="tallies")
    kelurahan_code = models.CharField(max_length=13)
    reason = models.CharField(max_length=20)
    sponsor_id = models.BigIntegerField(null=True)
    n = models.IntegerField()
    first_position = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.kelurahan_code} {self.reason}: {self.n}"
