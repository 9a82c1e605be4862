"""Reads of the claims pages: the list with its filters, and one claim explained for an officer
and for the family: the eligibility and entitlement lines with their payable state, the
children's scholarships, the versions, the audit in plain words and what is still needed.

Text the rules engine or the eligibility wrote comes in both languages; the page's language
picks one here, so templates show what they are given."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from babel.dates import format_date
from django.db.models import Q, QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cakupan.claims.models import Claim, ClaimEvent, Entitlement, Instalment, Instruction, Party
from cakupan.claims.scholarships import (
    PROOF_EARLY_MONTHS,
    STOP_REASONS,
    level_label,
    schedule_end,
    year_start,
)
from cakupan.claims.services import line_payable
from cakupan.errors import Bilingual
from cakupan.money import format_rupiah
from cakupan.months import add_months
from cakupan.rules import default_rules

PER_PAGE = 50


def _en() -> bool:
    return (get_language() or "id").startswith("en")


def _pick(id_text: str, en_text: str) -> str:
    return str(Bilingual(id_text or en_text, en_text or id_text))


def months_words(months: list[str]) -> str:
    """["2026-09", "2026-10"] → "September 2026, Oktober 2026" in the page's language."""
    words = []
    for m in months:
        try:
            day = dt.date.fromisoformat(f"{m}-01")
        except ValueError:
            words.append(m)
            continue
        words.append(format_date(day, "MMMM y", locale="en" if _en() else "id"))
    return ", ".join(words)


def _rp(amount: int | None) -> str:
    if amount is None:
        return "—"
    return format_rupiah(int(amount), locale="en" if _en() else "id")


# -- the list ----------------------------------------------------------------------------------


def claims_search(*, status: str = "", claim_type: str = "", q: str = "") -> QuerySet[Claim]:
    """Claims, newest first, filtered by status and type; `q` finds a claim number, part of the
    worker's name or a membership number."""
    claims = Claim.objects.select_related("worker", "membership").order_by("-id")
    if status in Claim.Status.values:
        claims = claims.filter(status=status)
    if claim_type in Claim.Type.values:
        claims = claims.filter(type=claim_type)
    q = q.strip()
    if q:
        claims = claims.filter(
            Q(number__icontains=q)
            | Q(membership__number__iexact=q)
            | Q(worker__full_name__icontains=q)
        )
    return claims


def latest_totals(claims: list[Claim]) -> dict[int, Entitlement]:
    """The latest entitlement of each claim on a page, in one query."""
    latest: dict[int, Entitlement] = {}
    for e in Entitlement.objects.filter(claim__in=claims).order_by("claim_id", "version"):
        latest[e.claim_id] = e
    return latest


# -- labels ------------------------------------------------------------------------------------

PAYABLE_LABELS = {
    "now": _("Can be paid now"),
    "held": _("Held until the arrears are paid"),
    "no": _("Not payable"),
}
OUTCOME_LABELS = {
    Entitlement.Outcome.PAYABLE: _("Can be paid"),
    Entitlement.Outcome.HOLD: _("Cash held until the arrears are paid"),
    Entitlement.Outcome.REFUSED: _("Not eligible"),
}
FAMILY_TRANSFER_LABELS = {
    Instruction.Status.PENDING: _("Being prepared for transfer"),
    Instruction.Status.EXPORTED: _("Sent to the bank"),
    Instruction.Status.PAID: _("Transferred"),
}
ELIGIBILITY_LABELS = {
    "ok": _("fulfilled"),
    "hold": _("held"),
    "refused": _("refused"),
    "info": _("note"),
}
INSTALMENT_LABELS = {
    Instalment.Status.SCHEDULED: _("Scheduled (school year not begun)"),
    Instalment.Status.AWAITING_PROOF: _("Waiting for the proof of enrolment"),
    Instalment.Status.PAYABLE: _("Can be paid"),
    Instalment.Status.PAID: _("Paid"),
    Instalment.Status.STOPPED: _("Stopped"),
}
ACTION_LABELS = {
    "submitted": _("Claim filed"),
    "computed": _("Entitlement computed"),
    "reopened": _("Sent back for checking"),
    "verified": _("Verified"),
    "approved": _("Approved"),
    "approved_carried": _("Approval carried to the new calculation"),
    "rejected": _("Rejected"),
    "instructed": _("Payment instructions made"),
    "reissued": _("Failed transfer sent again"),
    "party_added": _("Heir added"),
    "party_changed": _("Heir's details changed"),
    "incapacity_reported": _("Incapacity to work reported"),
    "disability_assessed": _("Disability assessed"),
    "cost_recorded": _("Cost recorded"),
    "outcome_recorded": _("Outcome of the accident recorded"),
    "proof_recorded": _("Proof of enrolment recorded"),
    "scholarship_stopped": _("Scholarship stopped"),
    "batched": _("Sent to the bank in a batch"),
    "transfer_paid": _("Transfer paid"),
    "transfer_failed": _("Transfer failed"),
    "paid": _("Claim paid in full"),
    "arrears_paid": _("The arrears were paid in the ledger"),
    "heirs_imported": _("Heirs taken from the registry"),
}
KEY_LABELS = {
    "status": _("status"),
    "type": _("type"),
    "event_date": _("event date"),
    "version": _("calculation"),
    "outcome": _("result"),
    "total_now": _("paid now"),
    "total_held": _("held"),
    "total_later": _("later"),
    "total": _("total"),
    "instructions": _("instructions"),
    "name": _("name"),
    "relation": _("relation"),
    "share": _("share (%)"),
    "share_percent": _("share (%)"),
    "months": _("months"),
    "days": _("days"),
    "item": _("item"),
    "percent": _("percent"),
    "units": _("units"),
    "loss": _("function loss (%)"),
    "kind": _("kind"),
    "mode": _("transport"),
    "amount": _("amount"),
    "death_date": _("date of death"),
    "total_disability": _("total permanent disability"),
    "recovered_on": _("recovered on"),
    "left_handed": _("left-handed"),
    "home_care": _("home care"),
    "child": _("child"),
    "school_year": _("school year"),
    "school": _("school"),
    "document": _("document"),
    "reason": _("reason"),
    "on": _("date"),
    "reference": _("reference"),
    "account": _("account"),
    "account_number": _("account number"),
    "bank_code": _("bank"),
    "account_name": _("account holder"),
    "full_name": _("full name"),
    "birth_date": _("birth date"),
    "level": _("school level"),
    "year_in_level": _("year in level"),
    "married": _("married"),
    "working": _("work"),
    "chosen": _("chosen"),
    "code": _("reason"),
    "heirs": _("heirs"),
}
_MONEY_KEYS = {"total_now", "total_held", "total_later", "total", "amount", "home_care"}


def _value(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if key in _MONEY_KEYS and isinstance(value, int):
        return _rp(value)
    if key == "status" and value in Claim.Status.values:
        return str(Claim.Status(value).label)
    if key == "type" and value in Claim.Type.values:
        return str(Claim.Type(value).label)
    if key == "relation" and value in Party.Relation.values:
        return str(Party.Relation(value).label)
    if key == "outcome" and value in OUTCOME_LABELS:
        return str(OUTCOME_LABELS[value])
    if key == "code" and value in Claim.RejectReason.values:
        return str(Claim.RejectReason(value).label)
    if key == "reason" and value in STOP_REASONS:
        return str(STOP_REASONS[value])
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action.replace("_", " ")


@dataclass
class AuditRow:
    at: dt.datetime
    user: str
    action: str
    changes: list[tuple[str, str, str]]  # (what, before, after)
    note: str


def audit_rows(claim: Claim) -> list[AuditRow]:
    rows = []
    for e in ClaimEvent.objects.filter(claim=claim).select_related("user").order_by("id"):
        keys = list(dict.fromkeys([*e.before, *e.after]))
        changes = [
            (
                str(KEY_LABELS.get(k, k.replace("_", " "))),
                _value(k, e.before.get(k)) if k in e.before else "",
                _value(k, e.after.get(k)) if k in e.after else "",
            )
            for k in keys
        ]
        note = action_label(e.note) if e.note in ACTION_LABELS else e.note
        rows.append(
            AuditRow(
                at=e.at,
                user=e.user.get_username() if e.user else str(_("the system")),
                action=action_label(e.action),
                changes=changes,
                note=note,
            )
        )
    return rows


# -- one claim ---------------------------------------------------------------------------------


@dataclass
class Line:
    code: str
    label: str
    amount: int | None
    calculation: str
    rule_id: str
    basis: str
    state: str
    state_label: str
    note: str
    child: Any = None
    school_year: str | None = None


def entitlement_lines(claim: Claim, version: Entitlement) -> list[Line]:
    lines = []
    for x in version.result["lines"]:
        state = line_payable(claim, x, version.outcome)
        lines.append(
            Line(
                code=x["code"],
                label=_pick(x["label_id"], x["label_en"]),
                amount=x["amount"],
                calculation=x.get("calculation") or "",
                rule_id=x.get("rule_id") or "",
                basis=x.get("basis") or "",
                state=state,
                state_label=str(PAYABLE_LABELS[state]),
                note=_pick(x.get("note") or "", x.get("note_en") or ""),
                child=x.get("child"),
                school_year=x.get("school_year"),
            )
        )
    return lines


@dataclass
class EligibilityLine:
    status: str
    status_label: str
    text: str
    rule_id: str
    months: list[str]


def eligibility_lines(version: Entitlement) -> list[EligibilityLine]:
    return [
        EligibilityLine(
            status=x["status"],
            status_label=str(ELIGIBILITY_LABELS.get(x["status"], x["status"])),
            text=_pick(x["text"], x["text_en"]),
            rule_id=x.get("rule_id") or "",
            months=x.get("months") or [],
        )
        for x in version.eligibility.get("lines", [])
    ]


@dataclass
class ChildScholarship:
    party: Party
    receiving: bool
    reasons: list[str]
    instalments: list[dict[str, Any]] = field(default_factory=list)
    end: str = ""
    stopped: str = ""


def scholarship_children(
    claim: Claim, version: Entitlement | None, on: dt.date
) -> list[ChildScholarship]:
    """Each child of the claim: receiving the scholarship or not with the engine's reasons;
    for the receiving, the instalments (status, proof) and why the schedule ends there."""
    children = [p for p in claim.parties.order_by("id") if p.is_child]
    if not children:
        return []
    outcomes: dict[int, dict] = {}
    scholarships = (version.result.get("scholarships") if version else None) or {}
    for outcome in scholarships.get("children", []):
        outcomes[outcome["index"]] = outcome
    refused = version is not None and version.outcome == "refused"
    start_month = default_rules().scholarship(claim.event_date).school_year_start_month
    instalments: dict[int, list[Instalment]] = {}
    for i in (
        Instalment.objects.filter(claim=claim)
        .select_related("proof")
        .prefetch_related("instructions")
        .order_by("child_id", "start_year")
    ):
        instalments.setdefault(i.child_id, []).append(i)
    result = []
    # the engine's child index counts only the children whose school level is recorded
    engine_index = {p.pk: n for n, p in enumerate(claim.scholarship_children())}
    for child in children:
        index = engine_index.get(child.pk)
        outcome = outcomes.get(index) if index is not None else None
        receiving = bool(outcome and outcome["eligible"]) and not refused
        reasons = [_pick(r["message"], r["message_en"]) for r in (outcome or {}).get("reasons", [])]
        if not child.level and not refused:
            reasons.append(
                str(
                    _(
                        "The school level at the event is not recorded yet: record it to "
                        "assess the scholarship."
                    )
                )
            )
        elif outcome is None and not refused:
            reasons.append(str(_("Not assessed for a scholarship on this claim.")))
        if refused:
            reasons.append(str(_("The claim is not eligible (see the eligibility).")))
        rows = []
        for i in instalments.get(child.pk, []):
            if i.stop_reason == "not_entitled" and not receiving:
                continue
            proof = getattr(i, "proof", None)
            rows.append(
                {
                    "obj": i,
                    "school_year": i.school_year,
                    "level": level_label(i.level, claim.event_date),
                    "year_in_level": i.year_in_level,
                    "amount": i.amount,
                    "status": i.status,
                    "status_label": str(INSTALMENT_LABELS.get(i.status, i.status)),
                    "stop_reason": str(STOP_REASONS.get(i.stop_reason, "")),
                    "proof": proof,
                    "open_for_proof": proof is None
                    and i.status in (Instalment.Status.SCHEDULED, Instalment.Status.AWAITING_PROOF)
                    and on
                    >= add_months(year_start(i.start_year, start_month), -PROOF_EARLY_MONTHS),
                    "instructions": list(i.instructions.all()),
                }
            )
        end = schedule_end(child, claim) if receiving else None
        result.append(
            ChildScholarship(
                party=child,
                receiving=receiving,
                reasons=reasons,
                instalments=rows,
                end=end.text if end else "",
                stopped=str(STOP_REASONS.get(child.stop_reason, "")) if child.stopped_on else "",
            )
        )
    return result


def versions(claim: Claim) -> list[Entitlement]:
    return list(claim.entitlements.select_related("computed_by").order_by("-version"))


def version_reason(version: Entitlement) -> str:
    return action_label(version.reason) if version.reason in ACTION_LABELS else version.reason


def instructions(claim: Claim) -> list[Instruction]:
    """The claim's payment instructions, each with `purpose` (the benefit it pays, in words)
    and `family_status` (its state as the family is told)."""
    labels: dict[str, str] = {}
    for version in claim.entitlements.order_by("version"):
        for x in version.result["lines"]:
            labels[x["code"]] = _pick(x["label_id"], x["label_en"])
    rows = list(claim.instructions.select_related("party", "batch", "instalment").order_by("id"))
    for i in rows:
        if i.instalment_id:
            i.purpose = f"{_('Scholarship')} {i.instalment.school_year}"
        else:
            i.purpose = labels.get(i.line_code, i.line_code)
        i.family_status = str(FAMILY_TRANSFER_LABELS.get(i.status, i.get_status_display()))
        i.replaced = i.status == Instruction.Status.FAILED and replaced(i)
    return rows


def replaced(instruction: Instruction) -> bool:
    """A failed transfer already sent again: a later instruction for the same party and line
    that has not failed."""
    return instruction.resends().exclude(status=Instruction.Status.FAILED).exists()


# -- the family's view -------------------------------------------------------------------------


def family_needs(
    claim: Claim, version: Entitlement | None, children: list[ChildScholarship]
) -> list[str]:
    """What the family still has to bring or do, in plain words."""
    needs: list[str] = []
    if claim.status == Claim.Status.REJECTED:
        return needs
    parties = list(claim.parties.order_by("id"))
    heirs = [p for p in parties if p.role == Party.Role.HEIR]
    if claim.died:
        if not heirs:
            needs.append(
                str(
                    _(
                        "The heirs' details: name, relation to the worker, birth date, with "
                        "the family card (KK) and the death certificate."
                    )
                )
            )
        shares = sum(p.share_percent for p in heirs)
        if heirs and shares != 100:
            needs.append(
                str(
                    _(
                        "The heirs' shares add up to %(n)s%%; they must add up to 100%%. "
                        "Agree on them with the officer."
                    )
                    % {"n": shares}
                )
            )
    payees = [
        p
        for p in parties
        if p.share_percent > 0 and (p.role == Party.Role.HEIR) == bool(claim.died)
    ]
    for p in payees:
        if not p.has_account:
            needs.append(
                str(
                    _(
                        "A bank account in the name of %(name)s (a copy of the passbook's "
                        "first page)."
                    )
                    % {"name": p.full_name}
                )
            )
    for c in children:
        if claim.has_scholarship and not c.party.level and not c.party.stopped_on:
            needs.append(
                str(
                    _(
                        "Which school %(name)s was in when it happened (level and year), or "
                        "that the child was not yet in school."
                    )
                    % {"name": c.party.full_name}
                )
            )
        if not c.receiving or c.party.stopped_on:
            continue
        if not c.party.has_account:
            needs.append(
                str(
                    _("A bank account for %(name)s's scholarship (the child's or the guardian's).")
                    % {"name": c.party.full_name}
                )
            )
        for row in c.instalments:
            if row["status"] == Instalment.Status.AWAITING_PROOF:
                needs.append(
                    str(
                        _(
                            "Proof that %(name)s is enrolled in school year %(year)s (a letter "
                            "from the school or the report card)."
                        )
                        % {"name": c.party.full_name, "year": row["school_year"]}
                    )
                )
    if version is not None and version.outcome == "hold" and not claim.released_on:
        months = months_words(version.eligibility.get("arrears", []))
        needs.append(
            str(
                _(
                    "The unpaid contributions of %(months)s must be paid; then the held "
                    "benefit is paid."
                )
                % {"months": months}
            )
        )
    if claim.type == Claim.Type.JKK and not claim.died and claim.recovered_on is None:
        needs.append(
            str(
                _(
                    "The doctor's letter when the worker has recovered or the treatment has "
                    "ended (the held benefit and the final amounts wait for it)."
                )
            )
        )
    return needs
