"""Eligibility of a claim, explained line by line from the ledger on the event date.

Each line says what was checked, what the ledger showed and which rule decided it:
1. the event lies within the membership's months (after its start, before its end);
2. the membership includes the programme claimed (JKK or JKM);
3. the state on the event date (contributions.selectors.membership_state, the arrears rule
   set): active → payable; 1–3 months in arrears → care and the funeral cost now, cash once
   the arrears are paid (the months are named); more than 3 → refused (the months are named);
   no month ever paid → refused;
4. the months paid up to the event month, which the JKM scholarship needs (at least 36 by the
   scholarship rule set; the rules engine gives the reason when they fall short);
5. once the months in arrears at the event are all paid (read again from the ledger today), the
   held cash is released, dated by the last of those payments.

A line is a plain dict (code, status ok | hold | refused | info, text, text_en, rule_id,
months), so it is kept as it was with each entitlement version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from cakupan.contributions.models import BillPaid
from cakupan.contributions.selectors import (
    ACTIVE,
    ARREARS,
    LAPSED,
    PENDING,
    arrears_months,
    arrears_rules,
    membership_state,
    paid_months,
)
from cakupan.membership.models import Membership
from cakupan.months import fmt_month
from cakupan.rules import default_rules

OK, HOLD, REFUSED, INFO = "ok", "hold", "refused", "info"
PAYABLE_OUTCOME, HOLD_OUTCOME, REFUSED_OUTCOME = "payable", "hold", "refused"


def _months_text(months: list[dt.date]) -> str:
    return ", ".join(fmt_month(m) for m in months)


@dataclass
class Eligibility:
    outcome: str  # payable | hold | refused
    state: str
    months_in_arrears: int
    arrears: list[dt.date]
    contribution_months: int
    released_on: dt.date | None
    lines: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self, code: str, status: str, text: str, text_en: str, rule_id: str = "", months=()
    ) -> None:
        self.lines.append(
            {
                "code": code,
                "status": status,
                "text": text,
                "text_en": text_en,
                "rule_id": rule_id,
                "months": [fmt_month(m) for m in months],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "state": self.state,
            "months_in_arrears": self.months_in_arrears,
            "arrears": [fmt_month(m) for m in self.arrears],
            "contribution_months": self.contribution_months,
            "released_on": self.released_on.isoformat() if self.released_on else None,
            "lines": self.lines,
        }


def _released_on(membership: Membership, months: list[dt.date], today: dt.date) -> dt.date | None:
    """The day the last of `months` was paid, if all are paid as of today."""
    if not months or not set(months) <= paid_months(membership.pk, today):
        return None
    days = BillPaid.objects.filter(
        membership=membership, month__in=months, unpaid_from__isnull=True
    ).values_list("paid_on", flat=True)
    return max(days) if days else None


def eligibility(
    *, membership: Membership, claim_type: str, event_date: dt.date, today: dt.date
) -> Eligibility:
    """Whether the ledger lets the claim pay, on the event date, explained line by line."""
    month = event_date.replace(day=1)
    counted = sorted(m for m in paid_months(membership.pk, today) if m <= month)
    result = Eligibility(REFUSED_OUTCOME, "", 0, [], len(counted), None)
    code = claim_type.upper()
    if membership.start_month > month:
        result.add(
            "before_start",
            REFUSED,
            f"Kejadian {event_date:%d/%m/%Y} sebelum kepesertaan dimulai "
            f"({fmt_month(membership.start_month)}): tidak ada perlindungan.",
            f"The event on {event_date:%d/%m/%Y} is before the membership started "
            f"({fmt_month(membership.start_month)}): there was no protection.",
        )
        return result
    if membership.end_month is not None and membership.end_month < month:
        result.add(
            "after_end",
            REFUSED,
            f"Kejadian {event_date:%d/%m/%Y} setelah kepesertaan berakhir "
            f"({fmt_month(membership.end_month)}).",
            f"The event on {event_date:%d/%m/%Y} is after the membership ended "
            f"({fmt_month(membership.end_month)}).",
        )
        return result
    result.add(
        "within_membership",
        OK,
        f"Kejadian dalam masa kepesertaan {membership.number} (mulai "
        f"{fmt_month(membership.start_month)}).",
        f"The event falls within membership {membership.number} (from "
        f"{fmt_month(membership.start_month)}).",
    )
    if claim_type not in (membership.programmes or []):
        result.add(
            "programme_not_held",
            REFUSED,
            f"Kepesertaan ini tidak mencakup program {code}.",
            f"This membership does not include the {code} programme.",
        )
        return result
    state = membership_state(membership, event_date)
    rules = arrears_rules(event_date)
    result.state = state.state
    result.months_in_arrears = state.months_unpaid
    if state.state == ACTIVE:
        result.outcome = PAYABLE_OUTCOME
        result.add(
            "state_active",
            OK,
            f"Pada {event_date:%d/%m/%Y} kepesertaan aktif: iuran bulan "
            f"{fmt_month(month)} sudah dibayar atau belum jatuh tempo.",
            f"On {event_date:%d/%m/%Y} the membership was active: the month "
            f"{fmt_month(month)} was paid or not yet due.",
            rules.rule_id,
        )
    elif state.state == ARREARS:
        late = arrears_months(membership, event_date)
        result.arrears = late
        result.outcome = HOLD_OUTCOME
        result.add(
            "state_arrears",
            HOLD,
            f"Pada {event_date:%d/%m/%Y} iuran menunggak {len(late)} bulan "
            f"({_months_text(late)}; batas {rules.max_months}): perawatan dan biaya pemakaman "
            "dibayar segera, santunan uang setelah tunggakan dilunasi.",
            f"On {event_date:%d/%m/%Y} contributions were {len(late)} months in arrears "
            f"({_months_text(late)}; limit {rules.max_months}): care and the funeral cost now, "
            "cash once the arrears are paid.",
            rules.rule_id,
            late,
        )
        result.released_on = _released_on(membership, late, today)
        if result.released_on is not None:
            result.add(
                "arrears_paid",
                OK,
                f"Tunggakan {_months_text(late)} lunas pada {result.released_on:%d/%m/%Y}: "
                "santunan uang dapat dibayar.",
                f"The arrears {_months_text(late)} were paid on "
                f"{result.released_on:%d/%m/%Y}: the cash can be paid.",
                rules.rule_id,
                late,
            )
    elif state.state == LAPSED:
        late = arrears_months(membership, event_date)
        result.arrears = late
        result.add(
            "state_lapsed",
            REFUSED,
            f"Pada {event_date:%d/%m/%Y} iuran menunggak {len(late)} bulan "
            f"({_months_text(late)}), lebih dari {rules.max_months}: kepesertaan tidak aktif dan "
            "tidak ada manfaat yang dibayar.",
            f"On {event_date:%d/%m/%Y} contributions were {len(late)} months in arrears "
            f"({_months_text(late)}), more than {rules.max_months}: the membership was not "
            "active and no benefit is payable.",
            rules.rule_id,
            late,
        )
        return result
    else:
        text = (
            ("belum ada iuran yang dibayar", "no month had been paid")
            if state.state == PENDING
            else ("kepesertaan tidak berlaku", "the membership was not in force")
        )
        result.add(
            f"state_{state.state}",
            REFUSED,
            f"Pada {event_date:%d/%m/%Y} {text[0]}: tidak ada perlindungan.",
            f"On {event_date:%d/%m/%Y} {text[1]}: there was no protection.",
            rules.rule_id,
        )
        return result
    if claim_type == "jkm":
        scholarship = default_rules().scholarship(event_date)
        minimum = scholarship.min_contribution_months.get("jkm", 0)
        enough = len(counted) >= minimum
        result.add(
            "contribution_months",
            OK if enough else INFO,
            f"Iuran dibayar {len(counted)} bulan sampai {fmt_month(month)}; beasiswa JKM "
            f"memerlukan paling sedikit {minimum} bulan"
            + ("." if enough else ": tidak ada beasiswa."),
            f"{len(counted)} months paid through {fmt_month(month)}; a JKM scholarship needs at "
            f"least {minimum}" + ("." if enough else ": no scholarship."),
            scholarship.meta.id,
        )
    return result
