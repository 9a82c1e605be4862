"""Billing a month: one bill per membership and month, to whoever pays that month.

Set-based from start to end: the few distinct price keys (income, sector, funder, JHT) are
priced by the rules engine, put in a temporary table, and every bill is inserted by one
INSERT … SELECT per kind of payer; credit is then spent through `ledger.settle`. Running a
month again adds only what is missing; a bill nobody paid whose month has changed payer (or
left the membership) is voided and billed to the right payer.

One run at a time: BillingRun.lock is a unique column that is True while a run is in
progress, so a second run fails to take it and is told who runs which month since when. A
run whose process died (psutil, as for list imports) gives the lock up to the next run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cakupan.accounts.models import User
from cakupan.contributions.ledger import settle
from cakupan.contributions.models import BillingRun, Invoice
from cakupan.contributions.sql import (
    T,
    analyze_stale,
    bill_unpaid,
    copy_rows,
    day,
    drop_temp,
    execute,
    fetch,
    foreign_key_checks_off,
    json_has,
    now,
    temp_table,
)
from cakupan.errors import Refused
from cakupan.funding.models import RULES_FUNDING
from cakupan.membership.runs import process_alive, this_process
from cakupan.months import add_months, fmt_month, parse_month
from cakupan.rules import contributions_for_month

Progress = Callable[[str], None]

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


CANDIDATES = "tmp_bill_candidates"
PRICES = "tmp_prices"


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


def _candidates(p: dict, *, billed_before: bool) -> int:
    """The memberships to bill (the month has a payer, no live bill yet) with what prices
    them: the income (the programme's package, or what the worker declared), sector, funder
    and JHT; in a temporary table every later step reads instead of the big join. The month's
    first run (`billed_before` False) skips the look-up of each membership's bill."""
    temp_table(
        CANDIDATES,
        # no key: every later step scans it, and an index would cost its million inserts
        "membership_id bigint, programme_id bigint, sponsor_id bigint, "
        "funder varchar(20), income bigint, sector varchar(40), jht integer",
    )
    jht = (
        f"CASE WHEN (pr.id IS NULL AND {json_has('m.programmes', 'jht')}) "
        f"OR (pr.id IS NOT NULL AND {json_has('pr.programmes', 'jht')}) THEN 1 ELSE 0 END"
    )
    not_billed = (
        f"AND NOT EXISTS (SELECT 1 FROM {T.bill} b WHERE b.membership_id = m.id "
        "AND b.month = %(month)s AND b.voided_at IS NULL)"
        if billed_before
        else ""
    )
    return execute(
        f"""
        INSERT INTO {CANDIDATES}
            (membership_id, programme_id, sponsor_id, funder, income, sector, jht)
        SELECT m.id, pr.id, pr.sponsor_id, COALESCE(s.type, 'self'),
               COALESCE(pr.declared_income, m.declared_income), o.sector, {jht}
        FROM {T.funding} fa
        JOIN {T.membership} m ON m.id = fa.membership_id
        JOIN {T.worker} w ON w.id = m.worker_id
        JOIN {T.occupation} o ON o.id = w.occupation_id
        LEFT JOIN {T.programme} pr ON pr.id = fa.programme_id
        LEFT JOIN {T.sponsor} s ON s.id = pr.sponsor_id
        WHERE {_covering(p)}
        {not_billed}
        """,
        p,
    )


def _ensure_accounts() -> None:
    """A payer account for every sponsor and self-payer about to be billed."""
    execute(
        f"""
        INSERT INTO {T.account} (sponsor_id, membership_id, credit)
        SELECT DISTINCT c.sponsor_id, CAST(NULL AS bigint), 0 FROM {CANDIDATES} c
        WHERE c.sponsor_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM {T.account} a WHERE a.sponsor_id = c.sponsor_id)
        """,
        {},
    )
    execute(
        f"""
        INSERT INTO {T.account} (sponsor_id, membership_id, credit)
        SELECT CAST(NULL AS bigint), c.membership_id, 0 FROM {CANDIDATES} c
        WHERE c.sponsor_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM {T.account} a WHERE a.membership_id = c.membership_id)
        """,
        {},
    )


def _invoices(month: dt.date, run: BillingRun | None, programmes: set[int]) -> int:
    """One invoice per programme with a member to bill this month (the few programmes, not
    the rows, are looped over)."""
    have = set(
        Invoice.objects.filter(month=month, programme_id__in=programmes).values_list(
            "programme_id", flat=True
        )
    )
    today = timezone.localdate()
    due = month.replace(day=due_day(month))
    if today > due:
        due = today + dt.timedelta(days=LATE_INVOICE_DAYS)
    new = sorted(programmes - have)
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
    return len(new)


def due_day(month: dt.date) -> int:
    from cakupan.rules import default_rules

    return default_rules().arrears(month, "month").due_day


def _prices(month: dt.date) -> tuple[set[int], int]:
    """Price every distinct (income, sector, funder, JHT) of the month's bills with the rules
    engine, into a temporary table the inserts join. One pass over the candidates also gives
    the programmes to invoice and the amount about to be billed: (programmes, amount)."""
    groups = fetch(
        f"SELECT income, sector, funder, jht, programme_id, COUNT(*) FROM {CANDIDATES} "
        "GROUP BY income, sector, funder, jht, programme_id",
        {},
    )
    temp_table(
        PRICES,
        "income bigint, sector varchar(40), funder varchar(20), jht integer, "
        "gross bigint, discount bigint, amount bigint, rule_ids varchar(200), "
        "PRIMARY KEY (income, sector, funder, jht)",
    )
    if not groups:
        return set(), 0
    keys = sorted({g[:4] for g in groups})
    incomes, sectors, funders, jhts = zip(*keys, strict=True)
    result = contributions_for_month(
        month=month,
        income=np.array(incomes, dtype=np.int64),
        sector=list(sectors),
        funding=[RULES_FUNDING.get(f, f) for f in funders],
        jht=np.array(jhts, dtype=bool),
    )
    contribution_id, *discount_ids = result.rule_ids
    gross = sum(result.gross.values())
    discount = sum(result.discount.values())
    rows, price = [], {}
    for i, key in enumerate(keys):
        ids = [contribution_id, *(discount_ids if discount[i] > 0 else [])]
        price[key] = int(result.total[i])
        rows.append((*key, int(gross[i]), int(discount[i]), price[key], " ".join(ids)))
    copy_rows(
        PRICES,
        ["income", "sector", "funder", "jht", "gross", "discount", "amount", "rule_ids"],
        rows,
    )
    programmes = {g[4] for g in groups if g[4] is not None}
    return programmes, sum(price[g[:4]] * g[5] for g in groups)


def _insert_bills(p: dict) -> int:
    """The month's missing bills, one INSERT … SELECT per kind of payer."""
    columns = (
        "membership_id, month, account_id, programme_id, invoice_id, gross, discount, amount, "
        "rule_ids, run_id, created_at, void_reason"
    )
    priced = (
        f"JOIN {PRICES} px ON px.income = c.income AND px.sector = c.sector "
        "AND px.funder = c.funder AND px.jht = c.jht"
    )
    added = execute(
        f"""
        INSERT INTO {T.bill} ({columns})
        SELECT c.membership_id, %(month)s, a.id, c.programme_id, i.id, px.gross, px.discount,
               px.amount, px.rule_ids, %(run)s, %(now)s, ''
        FROM {CANDIDATES} c
        JOIN {T.account} a ON a.sponsor_id = c.sponsor_id
        JOIN {T.invoice} i ON i.programme_id = c.programme_id AND i.month = %(month)s
        {priced}
        WHERE c.sponsor_id IS NOT NULL
        """,
        p,
    )
    added += execute(
        f"""
        INSERT INTO {T.bill} ({columns})
        SELECT c.membership_id, %(month)s, a.id, CAST(NULL AS bigint), CAST(NULL AS bigint),
               px.gross, px.discount, px.amount, px.rule_ids, %(run)s, %(now)s, ''
        FROM {CANDIDATES} c
        JOIN {T.account} a ON a.membership_id = c.membership_id
        {priced}
        WHERE c.sponsor_id IS NULL
        """,
        p,
    )
    return added


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
    with transaction.atomic():
        try:
            say("void")
            billed_before = _billed_before(p)
            voided = _void_changed(p) if billed_before else 0
            say("candidates")
            _candidates(p, billed_before=billed_before)
            say("accounts")
            _ensure_accounts()
            say("prices")
            programmes, amount = _prices(month)
            say("invoices")
            invoices = _invoices(month, run, programmes)
            say("bills")
            added = _insert_bills(p)
        finally:
            drop_temp(PRICES, CANDIDATES)
        say("credit")
        credited = fetch(
            f"""
            SELECT a.id FROM {T.account} a WHERE a.credit > 0 AND EXISTS (
                SELECT 1 FROM {T.bill} b WHERE b.account_id = a.id AND b.month = %(month)s
                AND b.voided_at IS NULL AND {bill_unpaid("b")}
                {_only_bills(p)})
            """,
            p,
        )
        settled = settle(account_ids=[r[0] for r in credited]) if credited else None
    return BillingResult(
        run_id=run.pk if run else 0,
        month=month,
        bills_added=added,
        amount_added=amount,
        bills_voided=voided,
        invoices_added=invoices,
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
        with foreign_key_checks_off():
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
