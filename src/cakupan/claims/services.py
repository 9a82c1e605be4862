"""Every write of a claim: filing (by an officer, or a hospital clerk's first report at the
desk), facts as they arrive, the family, each recomputation of the entitlement, the workflow
with maker-checker, and the payment instructions an approval or a release creates.

The amounts are the rules engine's (`cakupan.rules.benefits`) at the claim's facts, the
eligibility the ledger's (`eligibility.py`); this module only records, audits and moves the
claim on. Every function is keyword-only and atomic; bad input raises ClaimRefused naming the
field, and nothing is written.

Workflow: submitted → verified → approved → paid, or rejected with a coded reason. The approver
is never the user who submitted or verified the claim. A fact that changes an amount of an
approved claim sends it back to submitted, to be verified and approved again; a release of
cash held for arrears (the ledger shows them paid) keeps the approved amounts and pays them.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cakupan.accounts.models import User
from cakupan.claims.banks import ACCOUNT_MAX, ACCOUNT_MIN, BANKS
from cakupan.claims.eligibility import HOLD_OUTCOME, REFUSED_OUTCOME, Eligibility, eligibility
from cakupan.claims.instruct import instruct
from cakupan.claims.models import (
    Assessment,
    Claim,
    ClaimEvent,
    Cost,
    Entitlement,
    Incapacity,
    Instalment,
    Instruction,
    Party,
)
from cakupan.claims.scholarships import instalments_sync
from cakupan.contributions.selectors import PROTECTED, STATE_LABELS, membership_state
from cakupan.digits import ascii_digits
from cakupan.errors import Bilingual, Refused
from cakupan.membership.models import Membership
from cakupan.rules import RuleInputError, benefits_from_dict

AFTER_ARREARS, NOW, NOT_PAYABLE = "after_arrears", "now", "not_payable"


class ClaimRefused(Refused):
    pass


def today() -> dt.date:
    return timezone.localdate()


def _audit(
    claim: Claim,
    user: User | None,
    action: str,
    before: dict | None = None,
    after: dict | None = None,
    note: str = "",
) -> None:
    ClaimEvent.objects.create(
        claim=claim, user=user, action=action, before=before or {}, after=after or {}, note=note
    )


def _date_checks(value: dt.date | None, field: str, claim_or_event: dt.date, on: dt.date) -> None:
    """A fact's date: not before the event, not after today."""
    if value is None:
        return
    if value > on:
        raise ClaimRefused(
            "date_in_future",
            _("The date %(d)s is after today; give the date it happened.")
            % {"d": value.strftime("%d/%m/%Y")},
            field,
        )
    if value < claim_or_event:
        raise ClaimRefused(
            "date_before_event",
            _("The date %(d)s is before the event (%(e)s); check it.")
            % {"d": value.strftime("%d/%m/%Y"), "e": claim_or_event.strftime("%d/%m/%Y")},
            field,
        )


# -- the rules engine's input ------------------------------------------------------------------

# engine field path → the claim's field, for an error the engine finds in a fact
_FIELD = {
    "event_date": "event_date",
    "home_care": "home_care",
    "wage": "event_date",
    "income": "event_date",
}


def _children(claim: Claim) -> list[Party]:
    return claim.scholarship_children()


def _child_dict(p: Party) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": p.full_name,
        "birth_date": p.birth_date.isoformat() if p.birth_date else None,
        "level": p.level or None,
        "married": p.married,
        "working": p.working or "no",
        "pu_consecutive_months": p.pu_consecutive_months,
        "chosen": p.chosen,
    }
    if p.year_in_level:
        data["year_in_level"] = p.year_in_level
    if p.school_start_year:
        data["school_start_year"] = p.school_start_year
    return data


def event_dict(claim: Claim, elig: Eligibility) -> dict[str, Any]:
    """The claim's facts as the rules engine's JSON event (cakupan.rules docstring)."""
    event: dict[str, Any] = {
        "type": claim.type,
        "event_date": claim.event_date.isoformat(),
        # A refused claim is still computed, to show what it would have paid.
        "months_in_arrears": min(elig.months_in_arrears, 99),
        "contribution_months": elig.contribution_months,
    }
    children = [_child_dict(p) for p in _children(claim)]
    if claim.type == Claim.Type.JKK:
        event["income"] = claim.membership.declared_income
        medical = [c.amount for c in claim.costs.all() if c.kind == Cost.Kind.MEDICAL]
        if medical:
            event["medical_bills"] = medical
        # The transport cap is read as a cap per mode for the whole claim [M]: the trips of
        # one mode are summed before the engine caps them, and each mode is one line.
        by_mode: dict[str, int] = {}
        for c in claim.costs.all():
            if c.kind == Cost.Kind.TRANSPORT:
                by_mode[c.mode] = by_mode.get(c.mode, 0) + c.amount
        if by_mode:
            event["transport"] = [{"mode": m, "amount": a} for m, a in sorted(by_mode.items())]
        periods = list(claim.incapacities.all())
        if periods:
            event["stmb"] = {
                "months": sum(p.months for p in periods if not p.first_day),
                "days": sum(p.total_days for p in periods),
            }
        if claim.death_date is not None:
            event["death"] = True
        elif claim.total_disability:
            event["total_disability"] = True
        else:
            disability = []
            for a in claim.assessments.all():
                entry: dict[str, Any] = {"item": a.item}
                if a.percent is not None:
                    entry["percent"] = a.percent
                if a.units is not None:
                    entry["units"] = a.units
                if a.function_loss_percent is not None:
                    entry["function_loss_percent"] = a.function_loss_percent
                disability.append(entry)
            if disability:
                event["disability"] = disability
        if claim.left_handed:
            event["left_handed"] = True
        if claim.home_care is not None:
            event["home_care"] = claim.home_care
        if children and (claim.death_date is not None or claim.total_disability):
            event["children"] = children
    elif children:
        event["children"] = children
    return event


def _engine(event: dict[str, Any], on: dt.date, field: str | None = None) -> dict[str, Any]:
    """The engine's result as JSON; its input error names `field` (the fact being added) or
    the claim's own field."""
    try:
        return benefits_from_dict(event, as_of=on).to_dict()
    except RuleInputError as e:
        where = field or _FIELD.get(e.field, e.field)
        raise ClaimRefused(e.code, Bilingual(e.message, e.message_en), where) from None


# -- entitlements ------------------------------------------------------------------------------


def line_payable(claim: Claim, line: dict[str, Any], outcome: str) -> str:
    """now | held | no: whether a computed line can be paid today. A line the engine holds
    until the arrears are paid is released once the ledger shows them paid (and, for a work
    accident the worker survived, once he has recovered)."""
    if outcome == REFUSED_OUTCOME or line["payable"] == NOT_PAYABLE:
        return "no"
    if line["payable"] == AFTER_ARREARS:
        recovered = claim.type == Claim.Type.JKM or claim.died or claim.recovered_on is not None
        return "now" if claim.released_on and recovered else "held"
    return "now"


def _totals(claim: Claim, result: dict[str, Any], outcome: str) -> tuple[int, int, int]:
    now = held = 0
    for line in result["lines"]:
        state = line_payable(claim, line, outcome)
        if state == "now":
            now += line["amount"] or 0
        elif state == "held":
            held += line["amount"] or 0
    later = (
        0
        if outcome == REFUSED_OUTCOME
        else sum(x["amount"] or 0 for x in result["schedule"] if x["payable"] == "later")
    )
    return now, held, later


def _amounts(result: dict[str, Any]) -> dict[str, int | None]:
    return {x["code"]: x["amount"] for x in (*result["lines"], *result["schedule"])}


def latest(claim: Claim) -> Entitlement | None:
    return claim.entitlements.order_by("-version").first()


def entitlement_compute(
    *,
    claim: Claim,
    user: User | None,
    reason: str,
    on: dt.date | None = None,
    field: str | None = None,
) -> Entitlement:
    """`reason` is the code of what changed (an audit action: "submitted", "party_changed",
    "arrears_paid", …), shown in words by the pages. The engine checks the facts first: a fact
    it refuses raises ClaimRefused on `field` (the fact just written, which the caller's
    transaction then takes back) before anything is stored.

    Recompute the claim's entitlement at its facts and the ledger today; a new version only
    when something changed. Moves an approved claim back to submitted when an amount changed,
    and pays what became payable when only the arrears were released."""
    on = on or today()
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        elig = eligibility(
            membership=claim.membership,
            claim_type=claim.type,
            event_date=claim.event_date,
            today=on,
        )
        if elig.released_on != claim.released_on:
            claim.released_on = elig.released_on
            claim.save(update_fields=["released_on", "updated_at"])
        event = event_dict(claim, elig)
        result = _engine(event, on, field)
        previous = latest(claim)
        eligibility_data = elig.to_dict()
        if (
            previous is not None
            and previous.event == event
            and previous.eligibility == eligibility_data
            and previous.result == result
        ):
            return previous
        now, held, later = _totals(claim, result, elig.outcome)
        version = Entitlement.objects.create(
            claim=claim,
            version=(previous.version + 1) if previous else 1,
            computed_on=on,
            computed_by=user,
            reason=reason[:200],
            outcome=elig.outcome,
            event=event,
            eligibility=eligibility_data,
            result=result,
            total_now=now,
            total_held=held,
            total_later=later,
        )
        before = (
            {
                "version": previous.version,
                "outcome": previous.outcome,
                "total_now": previous.total_now,
                "total_held": previous.total_held,
                "total_later": previous.total_later,
            }
            if previous
            else {}
        )
        after = {
            "version": version.version,
            "outcome": version.outcome,
            "total_now": now,
            "total_held": held,
            "total_later": later,
        }
        _audit(claim, user, "computed", before, after, reason)
        if claim.status in (Claim.Status.APPROVED, Claim.Status.PAID):
            approved = claim.approved
            same = approved is not None and _amounts(approved.result) == _amounts(result)
            if same and version.outcome != REFUSED_OUTCOME:
                claim.approved = version
                claim.save(update_fields=["approved", "updated_at"])
                _audit(claim, user, "approved_carried", {}, {"version": version.version}, reason)
                instructions_create(claim=claim, user=user)
            else:
                _reopen(claim, user, reason)
        elif claim.status == Claim.Status.VERIFIED:
            # verified figures changed: verify again
            claim.status = Claim.Status.SUBMITTED
            claim.verified_by = None
            claim.save(update_fields=["status", "verified_by", "updated_at"])
            _audit(claim, user, "reopened", {"status": "verified"}, {"status": "submitted"}, reason)
        instalments_sync(claim=claim, entitlement=version, on=on)
        return version


def _reopen(claim: Claim, user: User | None, reason: str) -> None:
    before = claim.status
    claim.status = Claim.Status.SUBMITTED
    claim.verified_by = None
    claim.approved_by = None
    claim.save(update_fields=["status", "verified_by", "approved_by", "updated_at"])
    _audit(claim, user, "reopened", {"status": before}, {"status": claim.status}, reason)


def holds_refresh(*, on: dt.date | None = None) -> int:
    """Recompute every claim whose cash waits for arrears; the ledger may now show them paid.
    Returns how many were released."""
    released = 0
    waiting = Claim.objects.filter(
        released_on__isnull=True,
        entitlements__outcome=HOLD_OUTCOME,
    ).exclude(status=Claim.Status.REJECTED)
    for claim in waiting.distinct():
        version = entitlement_compute(claim=claim, user=None, reason="arrears_paid", on=on)
        if version.eligibility.get("released_on"):
            released += 1
    return released


# -- filing ------------------------------------------------------------------------------------


def _event_date_checks(membership: Membership, event_date: dt.date, on: dt.date) -> None:
    if event_date > on:
        raise ClaimRefused(
            "event_in_future",
            _("The event date %(d)s is after today; a claim is filed for what has happened.")
            % {"d": event_date.strftime("%d/%m/%Y")},
            "event_date",
        )
    born = membership.worker.birth_date
    if event_date < born:
        raise ClaimRefused(
            "event_before_birth",
            _("The event date %(d)s is before the worker was born (%(b)s); check the year.")
            % {"d": event_date.strftime("%d/%m/%Y"), "b": born.strftime("%d/%m/%Y")},
            "event_date",
        )


def heirs_import(*, claim: Claim, user: User | None) -> list[Party]:
    """Every heir registered for the worker becomes a party of a death (or total disability)
    claim, so each child is listed: relation and birth date from the registry, no share and no
    account yet (the heirship letter and the passbooks give them), a child's school level left
    for the officer. An heir already on the claim is not added twice."""
    if not claim.has_scholarship:
        return []
    have = set(claim.parties.exclude(heir=None).values_list("heir_id", flat=True))
    added = []
    for heir in claim.worker.heirs.order_by("birth_date", "id"):
        if heir.pk in have:
            continue
        relation = heir.relation if heir.relation in Party.Relation.values else "other"
        added.append(
            Party.objects.create(
                claim=claim,
                heir=heir,
                role=Party.Role.HEIR,
                full_name=heir.full_name,
                relation=relation,
                birth_date=heir.birth_date,
            )
        )
    if added:
        _audit(
            claim,
            user,
            "heirs_imported",
            {},
            {"heirs": [f"{p.full_name} ({p.relation})" for p in added]},
        )
    return added


def _number(claim: Claim) -> str:
    return f"{claim.type.upper()}-{claim.event_date.year}-{claim.pk:06d}"


def claim_file(
    *,
    claim_type: str,
    membership: Membership,
    event_date: dt.date,
    user: User | None,
    place: str = "",
    description: str = "",
    hospital: str = "",
    injuries: str = "",
    cause: str = "",
    on: dt.date | None = None,
) -> Claim:
    """Open a claim and compute its first entitlement. A work accident makes the worker the
    payee (his bank account is added later); a death is paid to the heirs added next."""
    on = on or today()
    if claim_type not in Claim.Type.values:
        raise ClaimRefused(
            "unknown_type", _("Choose the claim type: JKK (work accident) or JKM (death)."), "type"
        )
    _event_date_checks(membership, event_date, on)
    with transaction.atomic():
        live = Claim.objects.filter(membership=membership).exclude(status=Claim.Status.REJECTED)
        same = live.filter(type=claim_type, event_date=event_date).first()
        if same is None and claim_type == Claim.Type.JKM:
            same = live.filter(type=claim_type).first()
        if same is not None:
            raise ClaimRefused(
                "duplicate",
                _("Claim %(n)s was already filed for this event; add the facts to it.")
                % {"n": same.number},
                "event_date",
            )
        claim = Claim.objects.create(
            number=f"tmp-{uuid.uuid4().hex[:20]}",
            type=claim_type,
            membership=membership,
            worker=membership.worker,
            event_date=event_date,
            place=place.strip(),
            description=description.strip(),
            hospital=hospital.strip(),
            injuries=injuries.strip(),
            cause=cause.strip(),
            submitted_by=user,
        )
        claim.number = _number(claim)
        claim.save(update_fields=["number"])
        if claim_type == Claim.Type.JKK:
            Party.objects.create(
                claim=claim,
                role=Party.Role.WORKER,
                full_name=membership.worker.full_name,
                relation=Party.Relation.SELF,
                birth_date=membership.worker.birth_date,
                share_percent=100,
            )
        _audit(
            claim,
            user,
            "submitted",
            {},
            {"status": claim.status, "type": claim_type, "event_date": event_date.isoformat()},
        )
        heirs_import(claim=claim, user=user)
        entitlement_compute(claim=claim, user=user, reason="submitted", on=on)
        return claim


def claim_report_accident(
    *,
    membership: Membership,
    event_date: dt.date,
    user: User,
    place: str,
    description: str,
    injuries: str,
    hospital: str,
    on: dt.date | None = None,
) -> Claim:
    """The first report of a work accident, opened by a hospital clerk at the desk: only for a
    worker protected on that day (active, or in arrears within the limit)."""
    on = on or today()
    _event_date_checks(membership, event_date, on)
    state = membership_state(membership, event_date)
    if state.state not in PROTECTED:
        raise ClaimRefused(
            "not_protected",
            _(
                "This worker was not protected on %(d)s (%(state)s): the hospital cannot open "
                "a work accident report. Refer the family to the BPJS Ketenagakerjaan office."
            )
            % {"d": event_date.strftime("%d/%m/%Y"), "state": STATE_LABELS[state.state]},
            "event_date",
        )
    for name, value in (("description", description), ("injuries", injuries)):
        if not value.strip():
            raise ClaimRefused("required", _("Describe what happened and the injuries."), name)
    return claim_file(
        claim_type=Claim.Type.JKK,
        membership=membership,
        event_date=event_date,
        user=user,
        place=place,
        description=description,
        hospital=hospital,
        injuries=injuries,
        on=on,
    )


def _open(claim: Claim) -> None:
    if claim.status == Claim.Status.REJECTED:
        raise ClaimRefused(
            "claim_closed", _("Claim %(n)s was rejected; it takes no more facts.") % {"n": claim}
        )


def _after_fact(
    claim: Claim,
    user: User | None,
    action: str,
    after: dict,
    on: dt.date,
    before: dict | None = None,
    field: str | None = None,
) -> None:
    """Audit a fact just written and recompute; the engine refusing it names `field`."""
    _audit(claim, user, action, before, after)
    entitlement_compute(claim=claim, user=user, reason=action, on=on, field=field)


def _jkk_only(claim: Claim, what: str) -> None:
    if claim.type != Claim.Type.JKK:
        raise ClaimRefused(
            "not_jkk", _("%(what)s belongs to a work accident claim (JKK).") % {"what": what}
        )


def incapacity_add(
    *,
    claim: Claim,
    user: User | None,
    months: int = 0,
    days: int = 0,
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
    on: dt.date | None = None,
) -> Incapacity:
    """A period of temporary incapacity (STMB): whole months and days, or first and last day."""
    on = on or today()
    _open(claim)
    _jkk_only(claim, _("Temporary incapacity"))
    if first_day or last_day:
        if not (first_day and last_day):
            raise ClaimRefused(
                "required",
                _("Give both the first and the last day."),
                "last_day" if first_day else "first_day",
            )
        _date_checks(first_day, "first_day", claim.event_date, on)
        _date_checks(last_day, "last_day", claim.event_date, on)
        if last_day < first_day:
            raise ClaimRefused(
                "before_start", _("The last day is before the first day; check both."), "last_day"
            )
        months, days = 0, 0
    else:
        for name, value in (("months", months), ("days", days)):
            if value < 0:
                raise ClaimRefused(
                    "negative",
                    _("The number must not be negative; give 0 or more."),
                    name,
                )
        if days > 31:
            raise ClaimRefused(
                "too_many_days", _("Give whole months as months and at most 31 days."), "days"
            )
        if months == 0 and days == 0:
            raise ClaimRefused(
                "empty", _("Give the months or days the worker could not work."), "months"
            )
    with transaction.atomic():
        period = Incapacity.objects.create(
            claim=claim,
            months=months,
            days=days,
            first_day=first_day,
            last_day=last_day,
            reported_on=on,
            reported_by=user,
        )
        _after_fact(
            claim,
            user,
            "incapacity_reported",
            {"months": months, "days": period.total_days if first_day else days},
            on,
            field="months",
        )
        return period


def assessment_add(
    *,
    claim: Claim,
    user: User | None,
    item: str,
    assessed_on: dt.date,
    percent: int | None = None,
    units: int | None = None,
    function_loss_percent: int | None = None,
    doctor: str = "",
    on: dt.date | None = None,
) -> Assessment:
    """A disability assessment, checked against the disability table by the rules engine."""
    on = on or today()
    _open(claim)
    _jkk_only(claim, _("A disability assessment"))
    _date_checks(assessed_on, "assessed_on", claim.event_date, on)
    if claim.death_date or claim.total_disability:
        raise ClaimRefused(
            "conflicting_outcomes",
            _(
                "This claim already records a death or total disability, which replaces partial "
                "disability."
            ),
            "item",
        )
    for name, value in (("percent", percent), ("units", units)):
        if value is not None and value < 0:
            raise ClaimRefused("negative", _("The number must not be negative."), name)
    if function_loss_percent is not None and not 0 <= function_loss_percent <= 100:
        raise ClaimRefused(
            "above_maximum",
            _("Function loss is a percent from 0 to 100."),
            "function_loss_percent",
        )
    with transaction.atomic():
        assessment = Assessment.objects.create(
            claim=claim,
            item=item.strip(),
            percent=percent,
            units=units,
            function_loss_percent=function_loss_percent,
            assessed_on=assessed_on,
            doctor=doctor.strip(),
            recorded_by=user,
        )
        try:
            _after_fact(
                claim,
                user,
                "disability_assessed",
                {"item": item, "percent": percent, "units": units, "loss": function_loss_percent},
                on,
            )
        except ClaimRefused as e:
            # the engine names disability[n].percent etc.: the form's field is the last part
            e.field = str(e.field).rsplit(".", 1)[1] if "." in str(e.field) else "item"
            raise
        return assessment


def cost_add(
    *,
    claim: Claim,
    user: User | None,
    kind: str,
    amount: int,
    incurred_on: dt.date,
    mode: str = "",
    document: str = "",
    on: dt.date | None = None,
) -> Cost:
    """A medical or transport cost as it arrives; transport is capped by the rule set."""
    on = on or today()
    _open(claim)
    _jkk_only(claim, _("A medical or transport cost"))
    if kind not in Cost.Kind.values:
        raise ClaimRefused("unknown_kind", _("Choose medical care or transport."), "kind")
    if amount <= 0:
        raise ClaimRefused("not_positive", _("Give the amount in Rupiah, above 0."), "amount")
    _date_checks(incurred_on, "incurred_on", claim.event_date, on)
    if kind == Cost.Kind.TRANSPORT and mode not in ("land", "sea", "air"):
        raise ClaimRefused("unknown_mode", _("Choose land, sea or air transport."), "mode")
    with transaction.atomic():
        cost = Cost.objects.create(
            claim=claim,
            kind=kind,
            mode=mode if kind == Cost.Kind.TRANSPORT else "",
            amount=amount,
            incurred_on=incurred_on,
            document=document.strip(),
            recorded_by=user,
        )
        _after_fact(
            claim,
            user,
            "cost_recorded",
            {"kind": kind, "mode": mode, "amount": amount},
            on,
            field="amount",
        )
        return cost


def claim_outcome(
    *,
    claim: Claim,
    user: User | None,
    death_date: dt.date | None = None,
    total_disability: bool | None = None,
    recovered_on: dt.date | None = None,
    left_handed: bool | None = None,
    home_care: int | None = None,
    on: dt.date | None = None,
) -> Claim:
    """What followed a work accident: death, total disability, recovery, left-handedness,
    home care claimed. Only the arguments given change."""
    on = on or today()
    _open(claim)
    _jkk_only(claim, _("The outcome of an accident"))
    _date_checks(death_date, "death_date", claim.event_date, on)
    _date_checks(recovered_on, "recovered_on", claim.event_date, on)
    if home_care is not None and home_care < 0:
        raise ClaimRefused("negative", _("The amount must not be negative."), "home_care")
    fields = {
        "death_date": death_date,
        "total_disability": total_disability,
        "recovered_on": recovered_on,
        "left_handed": left_handed,
        "home_care": home_care,
    }
    changes = {k: v for k, v in fields.items() if v is not None and getattr(claim, k) != v}
    if not changes:
        return claim
    died = changes.get("death_date", claim.death_date)
    recovered = changes.get("recovered_on", claim.recovered_on)
    if died and recovered:
        raise ClaimRefused(
            "conflicting_outcomes",
            _("A worker who died cannot also have recovered; clear one of the two."),
            "recovered_on" if "recovered_on" in changes else "death_date",
        )
    originals = {k: getattr(claim, k) for k in changes}
    with transaction.atomic():
        before = {k: _json(v) for k, v in originals.items()}
        for k, v in changes.items():
            setattr(claim, k, v)
        claim.save()
        heirs_import(claim=claim, user=user)
        after = {k: _json(v) for k, v in changes.items()}
        try:
            _after_fact(claim, user, "outcome_recorded", after, on, before, next(iter(changes)))
        except ClaimRefused:
            for k, v in originals.items():  # the caller's object as it was (the row rolls back)
                setattr(claim, k, v)
            raise
        return claim


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


# -- the family --------------------------------------------------------------------------------


def _account_checks(bank_code: str, account_number: str, account_name: str) -> str:
    """The account number as digits; the bank chosen from the list; a holder's name."""
    number = re.sub(r"[\s.\-]", "", ascii_digits(account_number or ""))
    if not (bank_code or number or account_name.strip()):
        return ""
    if bank_code not in BANKS:
        raise ClaimRefused("unknown_bank", _("Choose the bank from the list."), "bank_code")
    bank = BANKS[bank_code]
    if not re.fullmatch(r"[0-9]+", number):
        raise ClaimRefused(
            "account_not_digits",
            _(
                "The account number has only digits (spaces and dots are dropped); check it "
                "on the passbook."
            ),
            "account_number",
        )
    if bank.length and len(number) != bank.length:
        raise ClaimRefused(
            "account_length",
            _(
                "A %(bank)s account number has %(n)s digits; this one has %(got)s. Check it on "
                "the passbook."
            )
            % {"bank": bank.name, "n": bank.length, "got": len(number)},
            "account_number",
        )
    if not ACCOUNT_MIN <= len(number) <= ACCOUNT_MAX:
        raise ClaimRefused(
            "account_length",
            _("An account number has %(lo)s to %(hi)s digits; this one has %(got)s.")
            % {"lo": ACCOUNT_MIN, "hi": ACCOUNT_MAX, "got": len(number)},
            "account_number",
        )
    if not account_name.strip():
        raise ClaimRefused(
            "required", _("Give the account holder's name as the bank has it."), "account_name"
        )
    return number


PARTY_FIELDS = (
    "full_name",
    "relation",
    "birth_date",
    "share_percent",
    "bank_code",
    "account_number",
    "account_name",
    "level",
    "year_in_level",
    "school_start_year",
    "married",
    "working",
    "pu_consecutive_months",
    "chosen",
)


def _party_checks(claim: Claim, party: Party, on: dt.date) -> None:
    if not party.full_name.strip():
        raise ClaimRefused("required", _("Give the full name."), "full_name")
    if party.relation not in Party.Relation.values or (
        party.role == Party.Role.HEIR and party.relation == Party.Relation.SELF
    ):
        raise ClaimRefused("unknown_relation", _("Choose the relation to the worker."), "relation")
    if party.birth_date and party.birth_date > on:
        raise ClaimRefused(
            "born_in_future", _("The birth date is after today; check it."), "birth_date"
        )
    if not 0 <= party.share_percent <= 100:
        raise ClaimRefused("share_range", _("A share is a percent from 0 to 100."), "share_percent")
    # the heirs share a death benefit among themselves; the worker's own share stands apart
    others = (
        claim.parties.filter(role=party.role)
        .exclude(pk=party.pk)
        .aggregate(s=Sum("share_percent"))["s"]
        or 0
    )
    if others + party.share_percent > 100:
        raise ClaimRefused(
            "shares_over_100",
            _(
                "The heirs' shares would add up to %(total)s%%; together they may be at most "
                "100%%. Lower this share to %(left)s%% or less."
            )
            % {"total": others + party.share_percent, "left": 100 - others},
            "share_percent",
        )
    party.account_number = _account_checks(
        party.bank_code, party.account_number, party.account_name
    )
    if party.is_child:
        if party.birth_date is None:
            raise ClaimRefused(
                "required",
                _("Give the child's birth date (the scholarship needs it)."),
                "birth_date",
            )
        if not party.level:
            raise ClaimRefused(
                "required",
                _("Choose the child's school level at the time of the event."),
                "level",
            )
    if party.pu_consecutive_months < 0 or (party.year_in_level or 0) < 0:
        raise ClaimRefused("negative", _("The number must not be negative."), "year_in_level")


def party_add(
    *, claim: Claim, user: User | None, on: dt.date | None = None, heir=None, **fields: Any
) -> Party:
    """Add an heir (or a child for the scholarship) with share and bank account."""
    on = on or today()
    _open(claim)
    unknown = set(fields) - set(PARTY_FIELDS)
    if unknown:
        raise TypeError(f"unknown party fields: {sorted(unknown)}")
    if heir is not None and claim.parties.filter(heir=heir).exists():
        raise ClaimRefused(
            "heir_on_claim",
            _("%(name)s is already on this claim; change the details there.")
            % {"name": heir.full_name},
            "full_name",
        )
    with transaction.atomic():
        party = Party(claim=claim, heir=heir, role=Party.Role.HEIR, **fields)
        if heir is not None:
            party.full_name = party.full_name or heir.full_name
            party.birth_date = party.birth_date or heir.birth_date
            party.relation = party.relation or heir.relation
        _party_checks(claim, party, on)
        party.save()
        _after_fact(
            claim,
            user,
            "party_added",
            {"name": party.full_name, "relation": party.relation, "share": party.share_percent},
            on,
            field="birth_date",
        )
        return party


def party_update(
    *, party: Party, user: User | None, on: dt.date | None = None, **fields: Any
) -> Party:
    """Change an heir's details (a bank account, a school level): audited before and after."""
    on = on or today()
    claim = party.claim
    _open(claim)
    unknown = set(fields) - set(PARTY_FIELDS)
    if unknown:
        raise TypeError(f"unknown party fields: {sorted(unknown)}")
    with transaction.atomic():
        before = {k: _json(getattr(party, k)) for k in fields}
        for k, v in fields.items():
            setattr(party, k, v)
        _party_checks(claim, party, on)
        party.save()
        after = {k: _json(getattr(party, k)) for k in fields}
        _audit(claim, user, "party_changed", before, after, party.full_name)
        entitlement_compute(
            claim=claim,
            user=user,
            reason="party_changed",
            on=on,
            field=next(iter(fields), "full_name"),
        )
        return party


# -- workflow ----------------------------------------------------------------------------------


def _status(claim: Claim, *allowed: str) -> None:
    if claim.status not in allowed:
        raise ClaimRefused(
            "wrong_status",
            _("Claim %(n)s is %(status)s; this step is not open to it.")
            % {"n": claim.number, "status": claim.get_status_display()},
        )


def claim_verify(*, claim: Claim, user: User, note: str = "") -> Claim:
    """An officer checked the documents and the facts: the claim goes to approval."""
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        _status(claim, Claim.Status.SUBMITTED)
        claim.status = Claim.Status.VERIFIED
        claim.verified_by = user
        claim.save(update_fields=["status", "verified_by", "updated_at"])
        _audit(claim, user, "verified", {"status": "submitted"}, {"status": "verified"}, note)
        return claim


def _payees(claim: Claim) -> list[Party]:
    parties = [p for p in claim.parties.all() if p.share_percent > 0]
    if claim.died:
        return [p for p in parties if p.role == Party.Role.HEIR]
    return [p for p in parties if p.role == Party.Role.WORKER]


def _payee_checks(claim: Claim) -> list[Party]:
    payees = _payees(claim)
    total = sum(p.share_percent for p in payees)
    if claim.died and total != 100:
        raise ClaimRefused(
            "shares_not_100",
            _(
                "The heirs' shares add up to %(total)s%%; they must add up to 100%% before the "
                "claim is approved."
            )
            % {"total": total},
            "share_percent",
        )
    if not payees:
        raise ClaimRefused("no_payee", _("Add who is to be paid before approving."))
    unknown = [p.full_name for p in claim.parties.all() if p.is_child and not p.level]
    if claim.has_scholarship and unknown:
        raise ClaimRefused(
            "level_missing",
            _(
                "Record the school level at the event of %(names)s before approving (the "
                "scholarship needs it)."
            )
            % {"names": ", ".join(unknown)},
            "level",
        )
    missing = [p.full_name for p in payees if not p.has_account]
    if missing:
        raise ClaimRefused(
            "account_missing",
            _("Add the bank account of %(names)s before approving.")
            % {"names": ", ".join(missing)},
            "account_number",
        )
    return payees


def claim_approve(*, claim: Claim, user: User, note: str = "") -> Claim:
    """Approve the latest entitlement (maker-checker: never the submitter or the verifier) and
    create the payment instructions of what is payable now."""
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        _status(claim, Claim.Status.VERIFIED)
        if user.pk in (claim.submitted_by_id, claim.verified_by_id):
            raise ClaimRefused(
                "same_officer",
                _("You submitted or verified this claim; another officer must approve it."),
            )
        version = latest(claim)
        if version is None or version.outcome == REFUSED_OUTCOME:
            raise ClaimRefused(
                "not_eligible",
                _(
                    "Nothing is payable on this claim (see the eligibility); reject it with the "
                    "reason Not eligible."
                ),
            )
        _payee_checks(claim)
        claim.status = Claim.Status.APPROVED
        claim.approved_by = user
        claim.approved = version
        claim.save(update_fields=["status", "approved_by", "approved", "updated_at"])
        _audit(
            claim,
            user,
            "approved",
            {"status": "verified"},
            {
                "status": "approved",
                "version": version.version,
                "total_now": version.total_now,
                "total_held": version.total_held,
            },
            note,
        )
        instructions_create(claim=claim, user=user)
        instalments_sync(claim=claim, entitlement=version, on=today())
        return claim


def claim_reject(*, claim: Claim, user: User, code: str, note: str = "") -> Claim:
    """Reject with a coded reason; a claim with money already sent cannot be rejected."""
    if code not in Claim.RejectReason.values:
        raise ClaimRefused("unknown_reason", _("Choose the reason for the rejection."), "code")
    with transaction.atomic():
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        _status(claim, Claim.Status.SUBMITTED, Claim.Status.VERIFIED)
        before = claim.status
        claim.status = Claim.Status.REJECTED
        claim.reject_code = code
        claim.reject_note = note.strip()
        claim.save(update_fields=["status", "reject_code", "reject_note", "updated_at"])
        claim.instalments.exclude(status=Instalment.Status.PAID).update(
            status=Instalment.Status.STOPPED, stop_reason="rejected"
        )
        _audit(
            claim, user, "rejected", {"status": before}, {"status": "rejected", "code": code}, note
        )
        return claim


# -- payment instructions ----------------------------------------------------------------------


def _split(amount: int, payees: list[Party]) -> list[tuple[Party, int]]:
    """Shares of an amount in whole Rupiah; the rounding remainder goes to the largest share."""
    parts = [(p, amount * p.share_percent // 100) for p in payees]
    left = amount - sum(a for _p, a in parts)
    if left and parts:
        top = max(range(len(parts)), key=lambda i: (parts[i][0].share_percent, -i))
        parts[top] = (parts[top][0], parts[top][1] + left)
    return [(p, a) for p, a in parts if a > 0]


def instructions_create(*, claim: Claim, user: User | None) -> list[Instruction]:
    """Instructions for every line of the approved entitlement payable now, less what earlier
    instructions (not failed) already cover: running it again adds nothing. Scholarship
    instalments are instructed on their proof of enrolment (scholarships.py)."""
    version = claim.approved
    if version is None or claim.status not in (Claim.Status.APPROVED, Claim.Status.PAID):
        return []
    payees = _payees(claim)
    made: list[Instruction] = []
    for line in version.result["lines"]:
        if line["code"].startswith("scholarship_") or not line["amount"]:
            continue
        if line_payable(claim, line, version.outcome) != "now":
            continue
        for party, amount in _split(line["amount"], payees):
            covered = (
                Instruction.objects.filter(claim=claim, party=party, line_code=line["code"])
                .exclude(status=Instruction.Status.FAILED)
                .aggregate(s=Sum("amount"))["s"]
                or 0
            )
            if amount - covered > 0:
                made.append(instruct(claim, party, line["code"], amount - covered))
    if made:
        if claim.status == Claim.Status.PAID:
            claim.status = Claim.Status.APPROVED
            claim.save(update_fields=["status", "updated_at"])
        _audit(
            claim,
            user,
            "instructed",
            {},
            {"instructions": [i.reference for i in made], "total": sum(i.amount for i in made)},
        )
    return made


def instruction_reissue(*, instruction: Instruction, user: User) -> Instruction:
    """A failed transfer is sent again to the party's account as it is now (fix it first)."""
    with transaction.atomic():
        instruction = Instruction.objects.select_for_update().get(pk=instruction.pk)
        if instruction.status != Instruction.Status.FAILED:
            raise ClaimRefused("not_failed", _("Only a failed transfer can be sent again."))
        again = instruction.resends().exclude(status=Instruction.Status.FAILED)
        if again.exists():
            raise ClaimRefused(
                "already_reissued",
                _("This transfer was already sent again (%(ref)s).") % {"ref": again.first()},
            )
        party = instruction.party
        if not party.has_account:
            raise ClaimRefused(
                "account_missing", _("Add the bank account first."), "account_number"
            )
        if (
            party.bank_code == instruction.bank_code
            and party.account_number == instruction.account_number
        ):
            raise ClaimRefused(
                "same_account",
                _("The account is the one that failed (%(why)s); correct it first.")
                % {"why": instruction.failure or "-"},
                "account_number",
            )
        new = instruct(
            instruction.claim,
            party,
            instruction.line_code,
            instruction.amount,
            instruction.instalment,
        )
        _audit(
            instruction.claim,
            user,
            "reissued",
            {"reference": instruction.reference, "account": instruction.account_number},
            {"reference": new.reference, "account": new.account_number},
        )
        return new
