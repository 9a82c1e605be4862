"""Billing a month: one bill per membership and month, to whoever pays that month.

Set-based from start to end: every price key a bill can have (a programme's by occupation; a
self-payer's by income, JHT and occupation, read off the membership table) is priced by the
rules engine into a small temporary table, and one INSERT … SELECT over the month's
assignments writes every bill, in membership order; credit is then spent through
`ledger.settle`. Running a month again adds only what is missing; a bill nobody paid whose
month has changed payer (or left the membership) is voided and billed to the right payer.

One run at a time: BillingRun.lock is a unique column that is True while a run is in
progress, so a second run fails to take it and is told who runs which month since when. A
run whose process died (psutil, as for list imports) gives the lock up to the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cakupan.accounts.models import User
from cakupan.contributions.ledger import Settled, settle
from cakupan.contributions.models import BillingRun, Invoice, PayerAccount
from cakupan.contributions.sql import (
    T,
    analyze_stale,
    bill_unpaid,
    bulk_cache,
    copy_rows,
    day,
    drop_temp,
    execute,
    fetch,
    foreign_key_checks_off,
    json_has,
    now,
    temp_table,
    timed,
)
from cakupan.errors import Refused
from cakupan.funding.models import RULES_FUNDING
from cakupan.membership.runs import process_alive, this_process
from cakupan.months import add_months, fmt_month, parse_month
from cakupan.rules import contributions_for_month

Progress = Callable[[str], None]

log = logging.getLogger(__name__)

# The day of the contribution month by which it is due (docs/regulations.md §3, PP 44/2015
# Art. 24(3)) is in the arrears rule set; an invoice issued later is due a week after issue.
LATE_INVOICE_DAYS = 7


class BillingInProgress(Refused):
    status = 409

    def __init__(self, run: BillingRun) -> None:
        who = run.started_by.get_full_name() or run.started_by.username if run.started_by else "-"
        super().__init__(
            "billing_in_progress",
            _(
                "Billing of %(month)s is already running (started by %(who)s at %(at)s). "
                "Wait for it to finish, then look at its result."
            )
            % {
                "month": fmt_month(run.month),
                "who": who,
                "at": timezone.localtime(run.created_at).strftime("%d/%m/%Y %H:%M"),
            },
        )


@dataclass(frozen=True)
class BillingResult:
    run_id: int
    month: dt.date
    bills_added: int
    amount_added: int
    bills_voided: int
    invoices_added: int
    credit_applied: int


def _covering(p: dict) -> str:
    """SQL: the funding assignment `fa` and the membership `m` both cover month %(month)s;
    with p["only"] set, of that one membership only (written as an equality the database can
    look up, not an OR it would have to test on every row)."""
    return (
        "fa.first_month <= %(month)s AND (fa.last_month IS NULL OR fa.last_month >= %(month)s) "
        "AND m.start_month <= %(month)s AND (m.end_month IS NULL OR m.end_month >= %(month)s)"
        + (" AND m.id = %(only)s AND fa.membership_id = %(only)s" if p["only"] else "")
    )


def _only_bills(p: dict, alias: str = "b") -> str:
    return f" AND {alias}.membership_id = %(only)s" if p["only"] else ""


def run_start(*, month: dt.date, user: User | None, task_id: str = "") -> BillingRun:
    """Take the billing lock for `month` (committed at once), or refuse: BillingInProgress."""
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return BillingRun.objects.create(
                    month=month,
                    status=BillingRun.Status.RUNNING,
                    lock=True,
                    started_by=user,
                    task_id=task_id,
                    **{k: v for k, v in this_process().items() if k != "heartbeat_at"},
                )
        except IntegrityError:
            running = BillingRun.objects.select_related("started_by").filter(lock=True).first()
            if running is None:
                continue  # it finished meanwhile
            if (
                running.run_pid
                and process_alive(
                    host=running.run_host, pid=running.run_pid, started=running.run_started
                )
                is False
            ):
                run_fail(running, "The process running this billing stopped; nothing was billed.")
                continue
            raise BillingInProgress(running) from None
    running = BillingRun.objects.select_related("started_by").filter(lock=True).first()
    raise BillingInProgress(running) if running else RuntimeError("billing lock contention")


def run_fail(run: BillingRun, message: str) -> None:
    BillingRun.objects.filter(pk=run.pk).update(
        status=BillingRun.Status.FAILED, lock=None, message=message, finished_at=timezone.now()
    )


PRICES = "tmp_bill_prices"
SELF = 0  # the programme of a self-payer's price key
# Above this many self-payer price keys (distinct income and JHT choice, times occupations) the
# keys are read from the month's memberships instead of the whole membership table
SUPERSET_KEYS = 50_000


def _billed_before(p: dict) -> bool:
    """Has the month (of p["only"], when set) any live bill yet?"""
    return bool(
        fetch(
            f"SELECT 1 FROM {T.bill} b WHERE b.month = %(month)s AND b.voided_at IS NULL"
            f"{_only_bills(p)} LIMIT 1",
            p,
        )
    )


def _void_changed(p: dict) -> int:
    """Void the month's unpaid bills whose payer is no longer the one funding the month (an
    anti-join against the month's current payers)."""
    return execute(
        f"""
        UPDATE {T.bill} SET voided_at = %(now)s, void_reason = 'payer_changed'
        WHERE id IN (
            SELECT b.id FROM {T.bill} b
            LEFT JOIN (
                SELECT fa.membership_id, COALESCE(fa.programme_id, 0) AS payer
                FROM {T.funding} fa JOIN {T.membership} m ON m.id = fa.membership_id
                WHERE {_covering(p)}
            ) cur ON cur.membership_id = b.membership_id
            WHERE b.month = %(month)s AND b.voided_at IS NULL
              {_only_bills(p)}
              AND (cur.membership_id IS NULL OR cur.payer <> COALESCE(b.programme_id, 0))
              AND NOT EXISTS (SELECT 1 FROM {T.allocation} al WHERE al.bill_id = b.id)
        )
        """,
        p,
    )


def _not_billed(p: dict, *, billed_before: bool) -> str:
    """SQL: membership `m` has no live bill for the month (nothing to test on the month's
    first run)."""
    if not billed_before:
        return ""
    return (
        f"AND NOT EXISTS (SELECT 1 FROM {T.bill} b WHERE b.membership_id = m.id "
        "AND b.month = %(month)s AND b.voided_at IS NULL)"
    )


def _in_membership_order() -> str:
    """Rows written in membership order, so that each index of the rows written is filled
    from one end, not all over (SQLite reads the memberships in that order and sorts
    nothing; PostgreSQL sorts the joined rows in memory)."""
    return "ORDER BY m.id"


def _jht(alias: str) -> str:
    return f"CASE WHEN {json_has(f'{alias}.programmes', 'jht')} THEN 1 ELSE 0 END"


def _programmes(p: dict) -> list[tuple]:
    """The programmes paying some membership's month: (id, sponsor, sponsor type, declared
    income, JHT). Each programme's first covering assignment is looked up by index (a scalar
    subquery with LIMIT 1: asked as EXISTS, PostgreSQL hashed all of a programme's
    assignments)."""
    return fetch(
        f"""
        SELECT pr.id, pr.sponsor_id, s.type, pr.declared_income, {_jht("pr")}
        FROM {T.programme} pr JOIN {T.sponsor} s ON s.id = pr.sponsor_id
        WHERE (
            SELECT fa.id FROM {T.funding} fa JOIN {T.membership} m ON m.id = fa.membership_id
            WHERE fa.programme_id = pr.id AND {_covering(p)} LIMIT 1) IS NOT NULL
        ORDER BY pr.id
        """,
        p,
    )


def _sponsor_accounts(sponsors: set[int]) -> dict[int, int]:
    """Each sponsor's payer account (created for a sponsor billed the first time)."""
    have = dict(
        PayerAccount.objects.filter(sponsor_id__in=sponsors).values_list("sponsor_id", "id")
    )
    if missing := sponsors - have.keys():
        PayerAccount.objects.bulk_create(
            [PayerAccount(sponsor_id=s, credit=0) for s in sorted(missing)]
        )
        have = dict(
            PayerAccount.objects.filter(sponsor_id__in=sponsors).values_list("sponsor_id", "id")
        )
    return have


def _self_accounts(p: dict) -> int:
    """A payer account for every worker paying his own month who has none yet (one pass over
    the month's self-paid assignments; in their order, so that the accounts, and the bills'
    account index after them, follow the memberships)."""
    return execute(
        f"""
        INSERT INTO {T.account} (sponsor_id, membership_id, credit)
        SELECT CAST(NULL AS bigint), m.id, 0
        FROM {T.funding} fa JOIN {T.membership} m ON m.id = fa.membership_id
        WHERE fa.programme_id IS NULL AND {_covering(p)}
          AND NOT EXISTS (SELECT 1 FROM {T.account} a WHERE a.membership_id = m.id)
        {_in_membership_order()}
        """,
        p,
    )


def _invoices(
    p: dict, month: dt.date, run: BillingRun | None, programmes: set[int], *, billed_before: bool
) -> tuple[dict[int, int], int]:
    """One invoice per programme with a member to bill this month (the few programmes, not
    the rows, are looped over): ({programme: invoice id}, invoices added)."""
    have = dict(
        Invoice.objects.filter(month=month, programme_id__in=programmes).values_list(
            "programme_id", "id"
        )
    )
    new = sorted(programmes - have.keys())
    if billed_before:
        # a programme without an invoice whose members were all billed (an invoice removed):
        # none is added, as no bill would be on it
        new = [pid for pid in new if _unbilled({**p, "programme": pid})]
    today = timezone.localdate()
    due = month.replace(day=due_day(month))
    if today > due:
        due = today + dt.timedelta(days=LATE_INVOICE_DAYS)
    Invoice.objects.bulk_create(
        [
            Invoice(
                programme_id=pid,
                month=month,
                number=f"INV/{month:%Y%m}/{pid:05d}",
                issued_on=today,
                due_on=due,
                run=run,
            )
            for pid in new
        ]
    )
    if new:
        have = dict(
            Invoice.objects.filter(month=month, programme_id__in=programmes).values_list(
                "programme_id", "id"
            )
        )
    return have, len(new)


def _unbilled(p: dict) -> bool:
    """Has a membership (of programme p["programme"], when given) its month to bill? Asked
    membership by membership, so that a membership already billed costs one look-up in the
    bills' index; a programme's, by its assignments."""
    if p.get("programme"):
        sql = f"""
            SELECT 1 FROM {T.funding} fa JOIN {T.membership} m ON m.id = fa.membership_id
            WHERE fa.programme_id = %(programme)s AND {_covering(p)}
            {_not_billed(p, billed_before=True)} LIMIT 1
        """
    else:
        only = " AND m.id = %(only)s" if p["only"] else ""
        sql = f"""
            SELECT 1 FROM {T.membership} m
            WHERE m.start_month <= %(month)s AND (m.end_month IS NULL OR m.end_month >= %(month)s)
            {only} {_not_billed(p, billed_before=True)}
            AND EXISTS (
                SELECT 1 FROM {T.funding} fa WHERE fa.membership_id = m.id
                AND fa.first_month <= %(month)s
                AND (fa.last_month IS NULL OR fa.last_month >= %(month)s))
            LIMIT 1
        """
    return bool(fetch(sql, p))


def _spend_credit(p: dict) -> Settled | None:
    """Spend the credit of the accounts that have some on the month's unpaid bills. The few
    accounts in credit are read first, then those of them with such a bill (by the bills'
    account index; asked the other way round, a planner that has not seen the new bills yet
    walks all of them)."""
    if p["only"]:
        credited = fetch(
            f"""
            SELECT DISTINCT a.id FROM {T.bill} b JOIN {T.account} a ON a.id = b.account_id
            WHERE b.membership_id = %(only)s AND b.month = %(month)s AND b.voided_at IS NULL
            AND {bill_unpaid("b")} AND a.credit > 0
            """,
            p,
        )
        return settle(account_ids=[r[0] for r in credited]) if credited else None
    in_credit = [r[0] for r in fetch(f"SELECT id FROM {T.account} WHERE credit > 0", {})]
    credited: list[tuple] = []
    for start in range(0, len(in_credit), 10_000):
        chunk = in_credit[start : start + 10_000]
        marks = ", ".join(["%s"] * len(chunk))
        credited += fetch(
            f"""
            SELECT a.id FROM {T.account} a WHERE a.id IN ({marks}) AND EXISTS (
                SELECT 1 FROM {T.bill} b WHERE b.account_id = a.id AND b.month = %s
                AND b.voided_at IS NULL AND {bill_unpaid("b")})
            """,
            [*chunk, p["month"]],
        )
    return settle(account_ids=[r[0] for r in credited]) if credited else None


def due_day(month: dt.date) -> int:
    from cakupan.rules import default_rules

    return default_rules().arrears(month, "month").due_day


def _self_keys(p: dict, occupations: list[int]) -> list[tuple]:
    """What prices a self-payer's month: (income, JHT, occupation). Read from the membership
    table alone (its few distinct incomes and JHT choices, with every occupation: more keys
    than the month bills, priced at once, instead of a pass over the month's join); one
    membership's own, or when the incomes are too many, from the month's self-paid
    assignments."""
    if not p["only"]:
        pairs = fetch(f"SELECT DISTINCT m.declared_income, {_jht('m')} FROM {T.membership} m", {})
        if len(pairs) * len(occupations) <= SUPERSET_KEYS:
            return [(income, jht, o) for income, jht in pairs for o in occupations]
    return fetch(
        f"""
        SELECT DISTINCT m.declared_income, {_jht("m")}, w.occupation_id
        FROM {T.funding} fa
        JOIN {T.membership} m ON m.id = fa.membership_id
        JOIN {T.worker} w ON w.id = m.worker_id
        WHERE fa.programme_id IS NULL AND {_covering(p)}
        """,
        p,
    )


def _prices(
    p: dict,
    month: dt.date,
    programmes: list[tuple],
    accounts: dict[int, int],
    invoices: dict[int, int],
) -> None:
    """Price every key a bill of the month can have with the rules engine, into a temporary
    table the insert joins: a programme's members by (programme, occupation), with the
    sponsor's account and the programme's invoice; a self-payer by (income, JHT,
    occupation). Keyed by the worker's occupation, not its sector, so that the insert needs
    no look-up in the occupation table."""
    temp_table(
        PRICES,
        "programme_id bigint, income bigint, jht integer, occupation_id bigint, "
        "gross bigint, discount bigint, amount bigint, rule_ids varchar(200), "
        "account_id bigint, invoice_id bigint, "
        "PRIMARY KEY (programme_id, income, jht, occupation_id)",
    )
    sector = dict(fetch(f"SELECT id, sector FROM {T.occupation}", {}))
    occupations = sorted(sector)
    # (programme, income, JHT, occupation) of the key (a programme's with income and JHT 0:
    # its package decides them), then the income, JHT and funder it is priced at, account,
    # invoice
    keys = [
        (SELF, income, jht, o, income, jht, "self", None, None)
        for income, jht, o in _self_keys(p, occupations)
    ]
    for pid, sponsor, funder, income, jht in programmes:
        keys += [
            (pid, 0, 0, o, income, jht, funder, accounts[sponsor], invoices[pid])
            for o in occupations
        ]
    if not keys:
        return
    result = contributions_for_month(
        month=month,
        income=np.array([k[4] for k in keys], dtype=np.int64),
        sector=[sector[k[3]] for k in keys],
        funding=[RULES_FUNDING.get(k[6], k[6]) for k in keys],
        jht=np.array([k[5] for k in keys], dtype=bool),
    )
    contribution_id, *discount_ids = result.rule_ids
    gross = sum(result.gross.values())
    discount = sum(result.discount.values())
    rows = []
    for i, key in enumerate(keys):
        ids = [contribution_id, *(discount_ids if discount[i] > 0 else [])]
        total = int(result.total[i])
        rows.append((*key[:4], int(gross[i]), int(discount[i]), total, " ".join(ids), *key[7:]))
    copy_rows(
        PRICES,
        [
            "programme_id",
            "income",
            "jht",
            "occupation_id",
            "gross",
            "discount",
            "amount",
            "rule_ids",
            "account_id",
            "invoice_id",
        ],
        rows,
    )


def _insert_bills(p: dict, *, billed_before: bool) -> tuple[int, int]:
    """The month's missing bills in one INSERT … SELECT over the month's assignments, each
    priced by its key (a key without a price leaves the amount null: refused by the table,
    never a bill skipped) and billed to the sponsor's account or the worker's own:
    (bills added, their amount)."""
    self_paid = "fa.programme_id IS NULL"
    select = f"""
        SELECT m.id, %(month)s, COALESCE(px.account_id, a.id), fa.programme_id, px.invoice_id,
               px.gross, px.discount, px.amount, px.rule_ids, %(run)s, %(now)s, ''
        FROM {T.funding} fa
        JOIN {T.membership} m ON m.id = fa.membership_id
        JOIN {T.worker} w ON w.id = m.worker_id
        LEFT JOIN {PRICES} px ON px.programme_id = COALESCE(fa.programme_id, {SELF})
            AND px.income = CASE WHEN {self_paid} THEN m.declared_income ELSE 0 END
            AND px.jht = CASE WHEN {self_paid} THEN {_jht("m")} ELSE 0 END
            AND px.occupation_id = w.occupation_id
        LEFT JOIN {T.account} a ON {self_paid} AND a.membership_id = m.id
        WHERE {_covering(p)}
        {_not_billed(p, billed_before=billed_before)}
        {_in_membership_order()}
    """
    insert = (
        f"INSERT INTO {T.bill} (membership_id, month, account_id, programme_id, invoice_id, "
        "gross, discount, amount, rule_ids, run_id, created_at, void_reason)"
    )
    if connection.vendor == "postgresql":
        ((added, amount),) = fetch(
            f"WITH added AS ({insert} {select} RETURNING amount) "
            "SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM added",
            p,
        )
        return added, int(amount)
    # SQLite writes one transaction at a time: the bills after the largest id are this insert's
    ((last,),) = fetch(f"SELECT COALESCE(MAX(id), 0) FROM {T.bill}", {})
    execute(f"{insert} {select}", p)
    ((added, amount),) = fetch(
        f"SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM {T.bill} WHERE id > %s", [last]
    )
    return added, int(amount)


def _session_settings() -> None:
    """PostgreSQL, for this transaction only: memory enough for the month's hash joins to
    stay in one batch (the 4 MB default spills a million memberships to disk), and no JIT
    compilation (it costs more than it saves on these plans)."""
    if connection.vendor == "postgresql":
        execute("SET LOCAL work_mem = '256MB'")
        execute("SET LOCAL jit = off")


def month_bill(
    *,
    month: dt.date,
    run: BillingRun | None,
    progress: Progress | None = None,
    membership_id: int = 0,
) -> BillingResult:
    """Bill `month` (of one membership only, when given; else under a run holding the lock);
    one transaction: all or nothing."""
    say = progress or (lambda stage: None)
    p = {"month": day(month), "now": now(), "run": run.pk if run else None, "only": membership_id}
    with timed(log, "billing month (stages and commit)"), transaction.atomic():
        _session_settings()
        try:
            say("void")
            with timed(log, "billing void"):
                billed_before = _billed_before(p)
                voided = _void_changed(p) if billed_before else 0
            # a month billed before: is any membership left to bill? (one pass that stops at
            # the first; a run that has nothing to add ends here)
            with timed(log, "billing anything left"):
                left = not billed_before or _unbilled(p)
            if left:
                say("accounts")
                with timed(log, "billing programmes and accounts"):
                    programmes = _programmes(p)
                    accounts = _sponsor_accounts({r[1] for r in programmes})
                    _self_accounts(p)
                say("invoices")
                with timed(log, "billing invoices"):
                    invoices, invoices_added = _invoices(
                        p, month, run, {r[0] for r in programmes}, billed_before=billed_before
                    )
                say("prices")
                with timed(log, "billing prices"):
                    _prices(p, month, programmes, accounts, invoices)
                say("bills")
                with timed(log, "billing bills insert"):
                    added, amount = _insert_bills(p, billed_before=billed_before)
            else:
                invoices_added = added = amount = 0
        finally:
            drop_temp(PRICES)
        say("credit")
        with timed(log, "billing credit"):
            settled = _spend_credit(p)
    return BillingResult(
        run_id=run.pk if run else 0,
        month=month,
        bills_added=added,
        amount_added=amount,
        bills_voided=voided,
        invoices_added=invoices_added,
        credit_applied=settled.amount if settled else 0,
    )


def billing_run(
    *,
    month: dt.date | str,
    user: User | None = None,
    progress: Progress | None = None,
    run: BillingRun | None = None,
) -> BillingResult:
    """Bill a month from start to end: take the lock (or refuse), bill, record the outcome."""
    month = parse_month(month)
    run = run or run_start(month=month, user=user)

    def say(stage: str) -> None:
        if progress:
            progress(stage)

    try:
        analyze_stale(T.membership, T.funding, T.worker, T.bill, T.account)
        with foreign_key_checks_off(), bulk_cache():
            result = month_bill(month=month, run=run, progress=say)
    except BaseException as exc:
        run_fail(run, str(exc)[:500] if isinstance(exc, Refused) else "")
        raise
    BillingRun.objects.filter(pk=run.pk).update(
        status=BillingRun.Status.DONE,
        lock=None,
        stage="",
        bills_added=result.bills_added,
        amount_added=result.amount_added,
        bills_voided=result.bills_voided,
        invoices_added=result.invoices_added,
        credit_applied=result.credit_applied,
        finished_at=timezone.now(),
    )
    return result


PREPAY_MONTHS = (1, 3, 6, 12)


def prepay_bills(*, membership_id: int, first: dt.date, months: int) -> int:
    """Bill one membership's next `months` months from `first` ahead of the month runs (a
    worker paying 1, 3, 6 or 12 months at once, docs/regulations.md §3); months already
    billed, or that nobody is assigned to pay, are skipped. Returns the bills added."""
    added = 0
    for i in range(months):
        result = month_bill(month=add_months(first, i), run=None, membership_id=membership_id)
        added += result.bills_added
    return added
