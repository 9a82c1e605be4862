"""The children's scholarships of a claim: one instalment per child per school year, from the
rules engine's schedule, paid only against a recorded proof of enrolment.

- Which children receive it, the schedule and its end at age 23 or the level's year limit are
  the rules engine's (`cakupan.rules.scholarship`); every child left out keeps the engine's
  reason on the entitlement.
- An instalment is *scheduled* until its school year begins, then *awaiting proof*; with the
  proof it is *payable*, and an approved claim whose cash is not held for arrears instructs it
  to the child's account (a guardian's account may be given as the child's). The bank's return
  marks it *paid*.
- Proof is accepted from two months before the school year starts (the reminder list goes out
  then); its level and year must be the schedule's.
- Marriage, work (except as the Permenaker 1/2025 exceptions allow) or death stops the later
  instalments, with the reason; the engine's schedule itself ends at the age or level limit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from cakupan.accounts.models import User
from cakupan.claims.instruct import instruct
from cakupan.claims.models import (
    Claim,
    ClaimEvent,
    EnrolmentProof,
    Entitlement,
    Instalment,
    Instruction,
    Party,
)
from cakupan.errors import Bilingual, Refused
from cakupan.months import add_months
from cakupan.rules import default_rules
from cakupan.rules.inputs import age_on

STOP_REASONS = {
    "married": _("The child married"),
    "working": _("The child works (not as an allowed exception)"),
    "died": _("The child died"),
    "not_entitled": _("No longer in the schedule after a recomputation"),
    "rejected": _("The claim was rejected"),
}
END_REASONS = {
    "age_limit": _("ends before the child turns %(age)s"),
    "level_limit": _("ends after the last year of S1/vocational school"),
    "max_per_child": _("ends at the most one child can receive"),
}
PROOF_EARLY_MONTHS = 2


class ScholarshipRefused(Refused):
    pass


def _rules(claim: Claim):
    return default_rules().scholarship(claim.event_date)


def school_year_of(day: dt.date, start_month: int) -> int:
    return day.year if day.month >= start_month else day.year - 1


def year_start(start_year: int, start_month: int) -> dt.date:
    return dt.date(start_year, start_month, 1)


def _held(claim: Claim, entitlement: Entitlement | None) -> bool:
    return entitlement is not None and entitlement.outcome == "hold" and not claim.released_on


def instalments_sync(*, claim: Claim, entitlement: Entitlement, on: dt.date) -> None:
    """Bring the claim's instalments in line with an entitlement: create the schedule's years,
    update the amounts of years not yet paid, stop the years it no longer holds; then set each
    one's status for today and instruct the payable ones of an approved claim."""
    result = entitlement.result
    children = claim.scholarship_children()
    wanted: dict[tuple[int, int], dict] = {}
    scholarships = result.get("scholarships")
    if scholarships and entitlement.outcome != "refused" and "children" in entitlement.event:
        for outcome in scholarships["children"]:
            if not outcome["eligible"] or outcome["index"] >= len(children):
                continue
            party = children[outcome["index"]]
            for year in outcome["schedule"]:
                wanted[(party.pk, int(year["school_year"][:4]))] = year
    existing = {(i.child_id, i.start_year): i for i in claim.instalments.all()}
    for key, year in wanted.items():
        instalment = existing.get(key)
        if instalment is None:
            Instalment.objects.create(
                claim=claim,
                child_id=key[0],
                start_year=key[1],
                school_year=year["school_year"],
                level=year["level"],
                year_in_level=year["year_in_level"],
                amount=year["amount"],
                status=Instalment.Status.SCHEDULED,
            )
        elif instalment.status != Instalment.Status.PAID and not has_proof(instalment):
            instalment.level = year["level"]
            instalment.year_in_level = year["year_in_level"]
            instalment.amount = year["amount"]
            if instalment.stop_reason == "not_entitled":
                instalment.status, instalment.stop_reason = Instalment.Status.SCHEDULED, ""
            instalment.save()
    for key, instalment in existing.items():
        if key not in wanted and instalment.status not in (
            Instalment.Status.PAID,
            Instalment.Status.STOPPED,
        ):
            instalment.status = Instalment.Status.STOPPED
            instalment.stop_reason = "not_entitled"
            instalment.save(update_fields=["status", "stop_reason"])
    statuses_refresh(claim=claim, on=on, entitlement=entitlement)


def has_proof(instalment: Instalment) -> bool:
    return EnrolmentProof.objects.filter(instalment=instalment).exists()


def statuses_refresh(
    *, claim: Claim, on: dt.date, entitlement: Entitlement | None = None, user: User | None = None
) -> list[Instruction]:
    """Each unpaid instalment's status for `on`; the payable ones of an approved claim (cash not
    held, account given, none instructed yet) get their payment instruction."""
    rules = _rules(claim)
    current = school_year_of(on, rules.school_year_start_month)
    entitlement = entitlement or claim.entitlements.order_by("-version").first()
    approved = claim.status in (Claim.Status.APPROVED, Claim.Status.PAID)
    held = _held(claim, entitlement)
    made = []
    for instalment in claim.instalments.select_related("child").order_by("id"):
        if instalment.status == Instalment.Status.PAID:
            continue
        child = instalment.child
        if instalment.stop_reason in ("not_entitled", "rejected"):
            continue
        if child.stopped_on and instalment.start_year > school_year_of(
            child.stopped_on, rules.school_year_start_month
        ):
            status, reason = Instalment.Status.STOPPED, child.stop_reason
        elif instalment.start_year > current:
            status, reason = Instalment.Status.SCHEDULED, ""
        elif not has_proof(instalment):
            status, reason = Instalment.Status.AWAITING_PROOF, ""
        else:
            status, reason = Instalment.Status.PAYABLE, ""
        if (status, reason) != (instalment.status, instalment.stop_reason):
            instalment.status, instalment.stop_reason = status, reason
            instalment.save(update_fields=["status", "stop_reason"])
        live = instalment.instructions.exclude(status=Instruction.Status.FAILED).exists()
        if (
            status == Instalment.Status.PAYABLE
            and approved
            and not held
            and child.has_account
            and not live
        ):
            made.append(
                instruct(
                    claim,
                    child,
                    f"scholarship_{instalment.start_year}",
                    instalment.amount,
                    instalment,
                )
            )
    if made:
        ClaimEvent.objects.create(
            claim=claim,
            user=user,
            action="instructed",
            after={
                "instructions": [i.reference for i in made],
                "total": sum(i.amount for i in made),
            },
            note="beasiswa",
        )
    return made


def proof_record(
    *,
    instalment: Instalment,
    user: User | None,
    school: str,
    level: str,
    year_in_level: int,
    document: str,
    on: dt.date,
) -> EnrolmentProof:
    """Record the proof of enrolment for one school year; the instalment becomes payable in
    its school year (and is instructed at once on an approved claim)."""
    claim = instalment.claim
    rules = _rules(claim)
    with transaction.atomic():
        instalment = Instalment.objects.select_for_update().get(pk=instalment.pk)
        if instalment.status in (Instalment.Status.PAID, Instalment.Status.STOPPED):
            raise ScholarshipRefused(
                "instalment_closed",
                _("This instalment is %(status)s; it takes no proof.")
                % {"status": instalment.get_status_display()},
            )
        if has_proof(instalment):
            raise ScholarshipRefused(
                "proof_exists", _("The proof for this school year is already recorded.")
            )
        opens = add_months(
            year_start(instalment.start_year, rules.school_year_start_month), -PROOF_EARLY_MONTHS
        )
        if on < opens:
            raise ScholarshipRefused(
                "too_early",
                _("School year %(year)s has not begun; record its proof from %(d)s.")
                % {"year": instalment.school_year, "d": opens.strftime("%d/%m/%Y")},
            )
        if not school.strip():
            raise ScholarshipRefused("required", _("Give the school's name."), "school")
        if not document.strip():
            raise ScholarshipRefused(
                "required",
                _("Give the number of the enrolment letter or report card."),
                "document",
            )
        if (level, year_in_level) != (instalment.level, instalment.year_in_level):
            raise ScholarshipRefused(
                "level_mismatch",
                _(
                    "The schedule has %(level)s year %(year)s for %(sy)s; the proof gives "
                    "%(plevel)s year %(pyear)s. If the child's school level at the event was "
                    "recorded wrong, correct it on the child (the schedule is recomputed)."
                )
                % {
                    "level": instalment.level.upper(),
                    "year": instalment.year_in_level,
                    "sy": instalment.school_year,
                    "plevel": level.upper(),
                    "pyear": year_in_level,
                },
                "level",
            )
        proof = EnrolmentProof.objects.create(
            instalment=instalment,
            school=school.strip(),
            level=level,
            year_in_level=year_in_level,
            document=document.strip(),
            recorded_by=user,
        )
        ClaimEvent.objects.create(
            claim=claim,
            user=user,
            action="proof_recorded",
            after={
                "child": instalment.child.full_name,
                "school_year": instalment.school_year,
                "school": proof.school,
                "document": proof.document,
            },
        )
        statuses_refresh(claim=claim, on=on, user=user)
        return proof


def scholarship_stop(
    *,
    child: Party,
    user: User | None,
    reason: str,
    stopped_on: dt.date,
    today: dt.date,
    work: str = "",
    pu_months: int = 0,
) -> int:
    """Stop a child's instalments of the school years after `stopped_on`: married, working (not
    as an allowed exception) or died. Returns how many instalments stopped."""
    claim = child.claim
    rules = _rules(claim)
    if reason not in ("married", "working", "died"):
        raise ScholarshipRefused("unknown_reason", _("Choose why the scholarship stops."), "reason")
    if reason == "working":
        allowed = work in rules.working_allowed or (
            work == "pu" and pu_months <= rules.working_pu_max_consecutive_months
        )
        if allowed:
            raise ScholarshipRefused(
                "working_exception",
                _(
                    "Working as a non-wage earner, as an intern, or as a wage earner for at most "
                    "%(n)s consecutive months keeps the scholarship (%(basis)s); it does not stop."
                )
                % {"n": rules.working_pu_max_consecutive_months, "basis": rules.meta.citation},
                "work",
            )
    if stopped_on < claim.event_date or stopped_on > today:
        raise ScholarshipRefused(
            "date_out_of_range",
            _("The date must lie between the event and today; check it."),
            "stopped_on",
        )
    with transaction.atomic():
        child.stopped_on, child.stop_reason = stopped_on, reason
        child.save(update_fields=["stopped_on", "stop_reason"])
        statuses_refresh(claim=claim, on=today, user=user)
        stopped = child.instalments.filter(status=Instalment.Status.STOPPED, stop_reason=reason)
        ClaimEvent.objects.create(
            claim=claim,
            user=user,
            action="scholarship_stopped",
            after={
                "child": child.full_name,
                "reason": reason,
                "on": stopped_on.isoformat(),
                "instalments": stopped.count(),
            },
        )
        return stopped.count()


# -- reads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleEnd:
    code: str
    text: str


def schedule_end(child: Party, claim: Claim) -> ScheduleEnd | None:
    """Why a receiving child's schedule ends where it does: the age limit, the level's year
    limit, the most per child, or a stop after the event."""
    if child.stopped_on:
        return ScheduleEnd(child.stop_reason, str(STOP_REASONS.get(child.stop_reason, "")))
    years = list(child.instalments.exclude(stop_reason="not_entitled").order_by("start_year"))
    if not years or child.birth_date is None:
        return None
    rules = _rules(claim)
    last = years[-1]
    following = year_start(last.start_year + 1, rules.school_year_start_month)
    limit = rules.max_age_exclusive
    if limit is not None and age_on(child.birth_date, following) >= limit:
        return ScheduleEnd("age_limit", str(END_REASONS["age_limit"] % {"age": limit}))
    levels = [lv.code for lv in rules.levels]
    top = rules.levels[-1]
    if last.level == levels[-1] and last.year_in_level >= top.max_years:
        return ScheduleEnd("level_limit", str(END_REASONS["level_limit"]))
    return ScheduleEnd("max_per_child", str(END_REASONS["max_per_child"]))


def due_instalments(*, start_year: int) -> QuerySet[Instalment]:
    """Instalments of one school year not yet paid nor stopped, with their child, claim and
    the worker's kelurahan and kecamatan."""
    return (
        Instalment.objects.filter(start_year=start_year)
        .exclude(status__in=[Instalment.Status.PAID, Instalment.Status.STOPPED])
        .exclude(claim__status=Claim.Status.REJECTED)
        .select_related(
            "child", "claim", "claim__worker", "claim__worker__kelurahan__parent", "proof"
        )
        .order_by("claim__worker__kelurahan__parent__name", "claim__number", "child_id")
    )


def reminder_window(on: dt.date, start_month: int | None = None) -> tuple[int, dt.date]:
    """(the next school year's start year, the day its reminders go out: two months before)."""
    start_month = start_month or default_rules().scholarship(on).school_year_start_month
    next_year = school_year_of(on, start_month) + 1
    return next_year, add_months(year_start(next_year, start_month), -PROOF_EARLY_MONTHS)


DUE_COLUMNS = (
    "kecamatan",
    "kelurahan",
    "claim",
    "worker",
    "child",
    "school_year",
    "level",
    "year_in_level",
    "amount",
    "status",
    "missing",
)


def _missing(instalment: Instalment) -> str:
    """What still stands between the instalment and its payment, for the officer who chases it."""
    if instalment.status == Instalment.Status.SCHEDULED:
        return str(_("proof of enrolment (from the school year's start)"))
    if instalment.status == Instalment.Status.AWAITING_PROOF:
        return str(_("proof of enrolment"))
    if not instalment.child.has_account:
        return str(_("the bank account"))
    if instalment.claim.status not in (Claim.Status.APPROVED, Claim.Status.PAID):
        return str(_("the claim's approval"))
    return ""


def level_label(code: str, on: dt.date) -> str:
    """A school level in words ("TK–SD", "SMA/SMK"), in the active language, by the vocabulary
    in force on `on`."""
    term = default_rules().vocabulary(on).education_levels.get(code)
    return str(Bilingual(term.label_id, term.label_en)) if term else code.upper()


def due_rows(*, start_year: int) -> list[dict]:
    """One row per instalment of a school year not yet paid nor stopped (DUE_COLUMNS), by
    kecamatan, for the page and the export."""
    rows = []
    on = dt.date(start_year, 7, 1)
    for i in due_instalments(start_year=start_year):
        kelurahan = i.claim.worker.kelurahan
        rows.append(
            {
                "id": i.pk,
                "kecamatan": kelurahan.parent.name if kelurahan.parent_id else "",
                "kelurahan": kelurahan.name,
                "claim": i.claim.number,
                "claim_id": i.claim_id,
                "worker": i.claim.worker.full_name,
                "child": i.child.full_name,
                "school_year": i.school_year,
                "level": i.level,
                "level_label": level_label(i.level, on),
                "year_in_level": i.year_in_level,
                "amount": i.amount,
                "status": i.get_status_display(),
                "status_code": i.status,
                "missing": _missing(i),
            }
        )
    return rows
