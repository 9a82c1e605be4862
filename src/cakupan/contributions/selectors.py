"""Reads of the ledger: a membership's state on any date, its months, a programme's money.

The state on date D is a query over the bills' paid periods (models.BillPaid), with the
arrears rule set (docs/regulations.md §3): nothing is stored, so the answer for a past date
can be asked again. A month counts as paid on D when its live bill was fully paid on or
before D and no reversal had reopened it by D. With M the month of D:
- active: M is paid, or M is not yet due (before the due day) and the month before is paid;
- arrears: 1 to max_months (3) consecutive unpaid months up to M: medical care and the JKM
  funeral cost are still given, cash benefits wait until the arrears are paid;
- lapsed: more than max_months: a new registration is needed;
- pending: no month paid yet (a membership is active only once its first month is paid);
- not_started / ended: M lies outside the membership's months.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.utils.translation import gettext_lazy as _

from cakupan.contributions.models import Bill
from cakupan.contributions.sql import T, bill_paid_as_of, day, fetch, paid_as_of
from cakupan.membership.models import FundingAssignment, Membership
from cakupan.months import add_months, month_range
from cakupan.rules import default_rules

ACTIVE, ARREARS, LAPSED, PENDING = "active", "arrears", "lapsed", "pending"
NOT_STARTED, ENDED = "not_started", "ended"
PROTECTED = (ACTIVE, ARREARS)

STATE_LABELS = {
    ACTIVE: _("Active"),
    ARREARS: _("In arrears"),
    LAPSED: _("Lapsed"),
    PENDING: _("Not active yet: first month unpaid"),
    NOT_STARTED: _("Not started yet"),
    ENDED: _("Ended"),
}


@dataclass(frozen=True)
class Arrears:
    max_months: int
    due_day: int
    rule_id: str


def arrears_rules(on: dt.date) -> Arrears:
    rules = default_rules().arrears(on, "date")
    return Arrears(rules.max_months, rules.due_day, rules.meta.id)


def month_index(column: str) -> str:
    """SQL: a month column as year*12 + month - 1, to count months between two."""
    if connection.vendor == "postgresql":
        return f"(EXTRACT(YEAR FROM {column})::int * 12 + EXTRACT(MONTH FROM {column})::int - 1)"
    return (
        f"(CAST(strftime('%%Y', {column}) AS INTEGER) * 12 "
        f"+ CAST(strftime('%%m', {column}) AS INTEGER) - 1)"
    )


def state_sql(
    on: dt.date, *, where: str = "", membership_ids: list[int] | None = None
) -> tuple[str, dict]:
    """SQL selecting (membership_id, state, months_unpaid, last_paid) for every membership
    (or those `where` keeps, a condition on `m`; or just `membership_ids`), and its
    parameters. Wrap it to count or join: `SELECT state, COUNT(*) FROM (<sql>) s GROUP BY
    state`."""
    if membership_ids is not None:
        ids = ",".join(str(int(i)) for i in membership_ids) or "NULL"
        where = " AND ".join(w for w in (where, f"m.id IN ({ids})") if w)
        only_bills = f"AND bp.membership_id IN ({ids})"
    else:
        only_bills = ""
    rules = arrears_rules(on)
    month = on.replace(day=1)
    not_due = 1 if on.day <= rules.due_day else 0
    gap = f"(%(month_index)s - {month_index('pd.last_paid')} - {not_due})"
    # The state compares the last paid month with two dates (the gap of months, computed per
    # row from the date's parts, is only evaluated where months_unpaid is read: it halved the
    # count of a million memberships): active from the month, less one when not yet due;
    # in arrears up to max_months before that.
    sql = f"""
        SELECT m.id AS membership_id,
          CASE WHEN m.start_month > %(month)s THEN '{NOT_STARTED}'
               WHEN m.end_month IS NOT NULL AND m.end_month < %(month)s THEN '{ENDED}'
               WHEN pd.last_paid IS NULL THEN '{PENDING}'
               WHEN pd.last_paid >= %(active_from)s THEN '{ACTIVE}'
               WHEN pd.last_paid >= %(arrears_from)s THEN '{ARREARS}'
               ELSE '{LAPSED}' END AS state,
          CASE WHEN pd.last_paid IS NULL OR {gap} <= 0 THEN 0 ELSE {gap} END AS months_unpaid,
          pd.last_paid AS last_paid
        FROM {T.membership} m
        LEFT JOIN (
            SELECT bp.membership_id, MAX(bp.month) AS last_paid FROM {T.paid} bp
            WHERE bp.month <= %(month)s AND {paid_as_of()} {only_bills}
            GROUP BY bp.membership_id
        ) pd ON pd.membership_id = m.id
        {"WHERE " + where if where else ""}
    """
    params = {
        "on": day(on),
        "month": day(month),
        "month_index": month.year * 12 + month.month - 1,
        "active_from": day(add_months(month, -not_due)),
        "arrears_from": day(add_months(month, -(rules.max_months + not_due))),
    }
    return sql, params


def state_counts(on: dt.date) -> dict[str, int]:
    """How many memberships are in each state on `on`."""
    sql, params = state_sql(on)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT state, COUNT(*) FROM ({sql}) s GROUP BY state", params)
        return {state: n for state, n in cursor.fetchall()}


def _as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def states_of(membership_ids: list[int], on: dt.date) -> dict[int, tuple[str, int]]:
    """membership → (state, months unpaid) on `on`, for a few memberships."""
    if not membership_ids:
        return {}
    sql, params = state_sql(on, membership_ids=membership_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {mid: (state, unpaid) for mid, state, unpaid, _last in cursor.fetchall()}


def state_row(membership_id: int, on: dt.date) -> tuple[str, int, dt.date | None]:
    """(state, months unpaid, last month paid) of one membership on `on`."""
    sql, params = state_sql(on, membership_ids=[membership_id])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        _mid, state, unpaid, last_paid = cursor.fetchone()
    return state, unpaid, _as_date(last_paid)


@dataclass(frozen=True)
class MembershipState:
    """A membership's standing on a date, as the hospital desk and the worker page show it."""

    membership: Membership
    on: dt.date
    state: str
    months_unpaid: int
    since: dt.date | None  # first day of the run of paid months the protection rests on
    through: dt.date | None  # last day it lasts without another payment
    payer_type: str  # the sponsor type paying the month ("csr", "apbd", ...) or "self"; "" if none
    payer_name: str
    covers: dict[str, str] = field(default_factory=dict)  # benefit → "yes" | "after_arrears" | "no"
    rule_id: str = ""

    @property
    def protected(self) -> bool:
        return self.state in PROTECTED

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])


def paid_months(membership_id: int, on: dt.date) -> set[dt.date]:
    """The months of a membership paid as of `on` (a reversal by then unpays its month)."""
    rows = fetch(
        f"SELECT DISTINCT bp.month FROM {T.paid} bp "
        f"WHERE bp.membership_id = %(mid)s AND {paid_as_of()}",
        {"mid": membership_id, "on": day(on)},
    )
    return {_as_date(r[0]) for r in rows}


def _month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def _payer(membership: Membership, month: dt.date) -> tuple[str, str]:
    bill = (
        Bill.objects.filter(membership=membership, month=month, voided_at__isnull=True)
        .select_related("programme__sponsor")
        .first()
    )
    programme = bill.programme if bill else None
    if bill is None:
        funding = (
            FundingAssignment.objects.filter(membership=membership, first_month__lte=month)
            .exclude(last_month__lt=month)
            .select_related("programme__sponsor")
            .first()
        )
        if funding is None:
            return "", ""
        programme = funding.programme
    if programme is None:
        return "self", ""
    return programme.sponsor.type, programme.sponsor.name


def membership_state(membership: Membership, on: dt.date) -> MembershipState:
    """The state of one membership on `on`, with since/through, payer and what is covered."""
    rules = arrears_rules(on)
    month = on.replace(day=1)
    state, unpaid, _last = state_row(membership.pk, on)
    paid = paid_months(membership.pk, on)
    since = through = None
    if state == ACTIVE:
        anchor = month if month in paid else add_months(month, -1)
        first = anchor
        while add_months(first, -1) in paid:
            first = add_months(first, -1)
        last = anchor
        while add_months(last, 1) in paid:
            last = add_months(last, 1)
        since = first
        through = _month_end(last) if last >= month else month.replace(day=rules.due_day)
    elif state == ARREARS:
        last = max(p for p in paid if p <= month)
        first = last
        while add_months(first, -1) in paid:
            first = add_months(first, -1)
        since = first
        # care and the funeral cost last until the arrears pass max_months
        through = _month_end(add_months(last, rules.max_months))
    payer_type, payer_name = _payer(membership, month)
    cash = {ACTIVE: "yes", ARREARS: "after_arrears"}.get(state, "no")
    care = "yes" if state in PROTECTED else "no"
    covers = {"jkk_care": care, "jkm_funeral": care, "jkk_cash": cash, "jkm_cash": cash}
    return MembershipState(
        membership=membership,
        on=on,
        state=state,
        months_unpaid=unpaid,
        since=since,
        through=through,
        payer_type=payer_type,
        payer_name=payer_name,
        covers=covers,
        rule_id=rules.rule_id,
    )


@dataclass(frozen=True)
class MonthCell:
    """One month of a membership's grid: paid, partly paid (shortfall), unpaid, or not billed;
    `arrears` marks the unpaid months counted in arrears on the day asked."""

    month: dt.date
    billed: int | None
    paid: int
    status: str  # "paid" | "partial" | "unpaid" | "not_billed" | "credit"
    arrears: bool = False

    @property
    def shortfall(self) -> int:
        return max(0, (self.billed or 0) - self.paid)


def month_grid(
    membership: Membership, *, first: dt.date, last: dt.date, on: dt.date
) -> list[MonthCell]:
    """The membership's months first..last with what was billed and paid by `on`."""
    rows = fetch(
        f"""
        SELECT b.month, b.amount, COALESCE(SUM(al.amount), 0),
               CASE WHEN {bill_paid_as_of("b")} THEN 1 ELSE 0 END
        FROM {T.bill} b LEFT JOIN {T.allocation} al ON al.bill_id = b.id
             AND al.effective_on <= %(on)s
        WHERE b.membership_id = %(mid)s AND b.voided_at IS NULL
          AND b.month >= %(first)s AND b.month <= %(last)s
        GROUP BY b.id, b.month, b.amount, b.membership_id
        """,
        {"mid": membership.pk, "on": day(on), "first": day(first), "last": day(last)},
    )
    billed = {}
    for m, amount, paid, is_paid in rows:
        m = _as_date(m)
        billed[m] = (int(amount), int(paid), bool(is_paid))
    state, _unpaid, last_paid = state_row(membership.pk, on)
    this_month = on.replace(day=1)
    late = set(_late_months(membership, on, state, last_paid))

    cells = []
    for m in month_range(first, last):
        if m in billed:
            amount, paid, is_paid = billed[m]
            status = "paid" if is_paid else ("partial" if paid > 0 else "unpaid")
            if is_paid and m > this_month:
                status = "credit"  # paid ahead
            cells.append(MonthCell(m, amount, paid, status, arrears=not is_paid and m in late))
        else:
            cells.append(MonthCell(m, None, 0, "not_billed", arrears=m in late))
    return cells


def _late_months(
    membership: Membership, on: dt.date, state: str, last_paid: dt.date | None
) -> list[dt.date]:
    if state not in (ARREARS, LAPSED):
        return []
    this_month = on.replace(day=1)
    late_to = this_month if on.day > arrears_rules(on).due_day else add_months(this_month, -1)
    late_from = add_months(last_paid, 1) if last_paid else membership.start_month
    return list(month_range(late_from, late_to)) if late_from <= late_to else []


def arrears_months(membership: Membership, on: dt.date) -> list[dt.date]:
    """The unpaid months that put a membership in arrears (or lapsed) on `on`, oldest first:
    from the month after the last one paid through the last month already due."""
    state, _unpaid, last_paid = state_row(membership.pk, on)
    return _late_months(membership, on, state, last_paid)
