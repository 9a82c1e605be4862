"""Claims after a work accident (JKK) or a death not from work (JKM): the facts as they arrive,
the family, every computed entitlement (versions kept), the workflow and its audit, payment
instructions with their bank batches, and the children's scholarship instalments with their
proofs of enrolment.

Nothing is edited away: a fact is added, an entitlement is a new version, a transition is an
audit row (ClaimEvent) holding who, when, before and after; a failed bank transfer stays and a
new instruction replaces it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Claim(models.Model):
    class Type(models.TextChoices):
        JKK = "jkk", _("Work accident (JKK)")
        JKM = "jkm", _("Death not from work (JKM)")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        VERIFIED = "verified", _("Verified")
        APPROVED = "approved", _("Approved")
        PAID = "paid", _("Paid")
        REJECTED = "rejected", _("Rejected")

    class RejectReason(models.TextChoices):
        NOT_ELIGIBLE = "not_eligible", _("Not eligible on the event date (see the eligibility)")
        NOT_AT_WORK = "not_at_work", _("The accident did not happen at work")
        NO_EVIDENCE = "no_evidence", _("The documents do not support the claim")
        DUPLICATE = "duplicate", _("The same event was already claimed")
        FALSE_REPORT = "false_report", _("The report is false")
        WITHDRAWN = "withdrawn", _("Withdrawn by the family")

    number = models.CharField(_("claim number"), max_length=24, unique=True)
    type = models.CharField(_("type"), max_length=3, choices=Type.choices)
    membership = models.ForeignKey(
        "membership.Membership", on_delete=models.PROTECT, related_name="claims"
    )
    worker = models.ForeignKey("registry.Worker", on_delete=models.PROTECT, related_name="claims")
    event_date = models.DateField(_("event date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    description = models.TextField(_("what happened"), blank=True)
    hospital = models.CharField(_("treating hospital"), max_length=150, blank=True)
    injuries = models.TextField(_("injuries"), blank=True)
    cause = models.CharField(_("cause of death"), max_length=200, blank=True)  # JKM
    # JKK: what followed the accident (each recomputes the entitlement)
    death_date = models.DateField(_("date of death"), null=True, blank=True)
    total_disability = models.BooleanField(_("total permanent disability"), default=False)
    left_handed = models.BooleanField(_("left-handed"), default=False)
    recovered_on = models.DateField(_("recovered on"), null=True, blank=True)
    home_care = models.BigIntegerField(_("home care claimed (Rp)"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED
    )
    reject_code = models.CharField(max_length=20, choices=RejectReason.choices, blank=True)
    reject_note = models.TextField(blank=True)
    # Cash held for arrears at the event is released once the ledger shows those months paid.
    released_on = models.DateField(_("arrears paid on"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    approved = models.ForeignKey(
        "Entitlement", on_delete=models.SET_NULL, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        indexes = [models.Index(fields=["status", "type"], name="claim_status")]

    def __str__(self) -> str:
        return self.number

    @property
    def died(self) -> bool:
        return self.type == self.Type.JKM or self.death_date is not None

    @property
    def has_scholarship(self) -> bool:
        """A death, or a total disability after a work accident: the children are looked at."""
        return self.died or self.total_disability

    def scholarship_children(self) -> list[Party]:
        """The children given to the rules engine, in this order (its child index): those whose
        school level at the event is recorded. A child imported from the registry without one
        waits for the officer to record it."""
        return [p for p in self.parties.order_by("id") if p.is_child and p.level]


class Party(models.Model):
    """Who is paid, and the children the scholarship looks at: the worker himself (a work
    accident he survived) or an heir with relation, share and bank account. A child's school
    facts are as they stood at the event."""

    class Role(models.TextChoices):
        WORKER = "worker", _("The worker")
        HEIR = "heir", _("Heir")

    class Relation(models.TextChoices):
        SELF = "self", _("Self")
        SPOUSE = "spouse", _("Spouse")
        CHILD = "child", _("Child")
        PARENT = "parent", _("Parent")
        SIBLING = "sibling", _("Sibling")
        GRANDCHILD = "grandchild", _("Grandchild")
        OTHER = "other", _("Other")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="parties")
    heir = models.ForeignKey(
        "registry.Heir", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    role = models.CharField(max_length=6, choices=Role.choices, default=Role.HEIR)
    full_name = models.CharField(_("full name"), max_length=150)
    relation = models.CharField(_("relation"), max_length=12, choices=Relation.choices)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    share_percent = models.PositiveSmallIntegerField(_("share (%)"), default=0)
    bank_code = models.CharField(_("bank"), max_length=3, blank=True)
    account_number = models.CharField(_("account number"), max_length=18, blank=True)
    account_name = models.CharField(_("account holder"), max_length=150, blank=True)
    # a child, for the scholarship
    level = models.CharField(_("school level at the event"), max_length=16, blank=True)
    year_in_level = models.PositiveSmallIntegerField(_("year in level"), null=True, blank=True)
    school_start_year = models.PositiveSmallIntegerField(null=True, blank=True)
    married = models.BooleanField(_("married"), default=False)
    working = models.CharField(_("work"), max_length=8, default="no")
    pu_consecutive_months = models.PositiveSmallIntegerField(default=0)
    chosen = models.BooleanField(_("chosen by the heirs for the scholarship"), default=False)
    # a scholarship stopped after the event (marriage, work, death); age and level limits are
    # the schedule's own end
    stopped_on = models.DateField(null=True, blank=True)
    stop_reason = models.CharField(max_length=12, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("claim party")
        verbose_name_plural = _("claim parties")

    def __str__(self) -> str:
        return f"{self.full_name} ({self.get_relation_display()})"

    @property
    def is_child(self) -> bool:
        return self.relation == self.Relation.CHILD

    @property
    def has_account(self) -> bool:
        return bool(self.bank_code and self.account_number and self.account_name)


class Incapacity(models.Model):
    """A period of temporary incapacity to work (STMB), reported as it runs: whole months and
    days, or the first and last day."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="incapacities")
    months = models.PositiveSmallIntegerField(default=0)
    days = models.PositiveSmallIntegerField(default=0)
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    reported_on = models.DateField()
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"STMB {self.months} bulan {self.total_days} hari"

    @property
    def total_days(self) -> int:
        if self.first_day and self.last_day:
            return (self.last_day - self.first_day).days + 1
        return self.days


class Assessment(models.Model):
    """A disability assessment: one entry of the disability table (its code), the percent a
    range item was assessed at, units of a per-unit item, or the function lost (0–100%)."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="assessments")
    item = models.CharField(_("disability table entry"), max_length=40)
    percent = models.PositiveSmallIntegerField(null=True, blank=True)
    units = models.PositiveSmallIntegerField(null=True, blank=True)
    function_loss_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    assessed_on = models.DateField()
    doctor = models.CharField(_("assessing doctor"), max_length=150, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.item


class Cost(models.Model):
    """A medical or transport cost as it arrives (care has no ceiling; transport is capped per
    trip by the rule set)."""

    class Kind(models.TextChoices):
        MEDICAL = "medical", _("Medical care")
        TRANSPORT = "transport", _("Transport")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="costs")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    mode = models.CharField(max_length=4, blank=True)  # transport: land, sea, air
    amount = models.BigIntegerField()
    incurred_on = models.DateField()
    document = models.CharField(_("receipt or bill number"), max_length=80, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class Entitlement(models.Model):
    """One computation of what the claim owes: the event as given to the rules engine, the
    eligibility read from the ledger, and the engine's itemised, cited result. Every
    recomputation is a new version; none is changed."""

    class Outcome(models.TextChoices):
        PAYABLE = "payable", _("Payable now")
        HOLD = "hold", _("Cash held until the arrears are paid")
        REFUSED = "refused", _("Refused")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="entitlements")
    version = models.PositiveIntegerField()
    computed_on = models.DateField()  # the as-of date given to the engine
    computed_at = models.DateTimeField(auto_now_add=True)
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    reason = models.CharField(max_length=200)
    outcome = models.CharField(max_length=8, choices=Outcome.choices)
    event = models.JSONField()
    eligibility = models.JSONField()
    result = models.JSONField()
    total_now = models.BigIntegerField()
    total_held = models.BigIntegerField()
    total_later = models.BigIntegerField()

    class Meta:
        ordering = ["claim", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "version"], name="entitlement_version")
        ]

    def __str__(self) -> str:
        return f"{self.claim_id} v{self.version}"


class ClaimEvent(models.Model):
    """The audit: every transition, fact and amount change, with who, when, before, after."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    action = models.CharField(max_length=24)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.action


class Batch(models.Model):
    """A bank batch: the payment instructions exported together in one file."""

    number = models.CharField(max_length=24, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    count = models.PositiveIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    returned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.number


class Instalment(models.Model):
    """One school year of one child's scholarship. It is paid only against a recorded proof of
    enrolment, in its own school year (or a year already over), on an approved claim whose
    cash is not held."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        AWAITING_PROOF = "awaiting", _("Awaiting proof of enrolment")
        PAYABLE = "payable", _("Ready to pay")
        PAID = "paid", _("Paid")
        STOPPED = "stopped", _("Stopped")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="instalments")
    child = models.ForeignKey(Party, on_delete=models.CASCADE, related_name="instalments")
    start_year = models.PositiveSmallIntegerField()
    school_year = models.CharField(max_length=9)
    level = models.CharField(max_length=16)
    year_in_level = models.PositiveSmallIntegerField()
    amount = models.BigIntegerField()
    status = models.CharField(max_length=9, choices=Status.choices)
    stop_reason = models.CharField(max_length=12, blank=True)

    class Meta:
        ordering = ["child", "start_year"]
        constraints = [
            models.UniqueConstraint(fields=["child", "start_year"], name="instalment_year")
        ]
        indexes = [models.Index(fields=["start_year", "status"], name="instalment_due")]

    def __str__(self) -> str:
        return f"{self.school_year} {self.level} {self.year_in_level}"


class EnrolmentProof(models.Model):
    """The proof a child was enrolled in a school year: school, level, year, document."""

    instalment = models.OneToOneField(Instalment, on_delete=models.PROTECT, related_name="proof")
    school = models.CharField(_("school"), max_length=150)
    level = models.CharField(_("level"), max_length=16)
    year_in_level = models.PositiveSmallIntegerField(_("year in level"))
    document = models.CharField(_("document (letter or report number)"), max_length=80)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    def __str__(self) -> str:
        return f"{self.school} {self.document}"


class Instruction(models.Model):
    """An order to pay one amount to one party's account: a line of an approved entitlement or
    a scholarship instalment. The bank's return marks it paid or failed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the next bank batch")
        EXPORTED = "exported", _("Sent to the bank")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="instructions")
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="instructions")
    line_code = models.CharField(max_length=60)
    instalment = models.ForeignKey(
        Instalment, on_delete=models.PROTECT, null=True, blank=True, related_name="instructions"
    )
    amount = models.BigIntegerField()
    reference = models.CharField(max_length=32, unique=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    batch = models.ForeignKey(
        Batch, on_delete=models.PROTECT, null=True, blank=True, related_name="instructions"
    )
    bank_code = models.CharField(max_length=3)
    account_number = models.CharField(max_length=18)
    account_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_on = models.DateField(null=True, blank=True)
    bank_reference = models.CharField(max_length=64, blank=True)
    failure = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="instruction_amount_positive")
        ]
        indexes = [models.Index(fields=["status"], name="instruction_status")]

    def __str__(self) -> str:
        return self.reference

    def resends(self) -> models.QuerySet[Instruction]:
        """The later instructions of the same claim, party and line: this transfer sent again
        (one that failed is followed by its resend)."""
        return Instruction.objects.filter(**self.resend_key(self), pk__gt=self.pk)

    @staticmethod
    def resend_key(of: Any) -> dict[str, Any]:
        """What a resend shares with the instruction it replaces; `of` is an instruction or
        `OuterRef` (for a subquery over many)."""
        if isinstance(of, Instruction):
            return {"claim_id": of.claim_id, "party_id": of.party_id, "line_code": of.line_code}
        return {"claim": of("claim"), "party": of("party"), "line_code": of("line_code")}
