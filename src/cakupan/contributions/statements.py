"""Payment statements (a bank's or a sponsor's list of transfers, CSV or XLSX) read through the
same stages as list imports, set-based from end to end:

1. read: the file as text cells (`membership.imports.read_table`), its headers mapped to
   reference, payer, amount, date, invoice, membership (English or Indonesian names);
2. check: every row at once with Polars: a reference (unique within the file), a whole Rupiah
   amount above 0 (`money.parse_rupiah`), a date DD/MM/YYYY or YYYY-MM-DD not in the future;
3. match: references already recorded are skipped and counted; payers and targets resolved
   with the rules of `services.payer_match`, by a few queries over the whole file (temporary
   tables and joins, never one query per row); what matches nothing waits in the unmatched
   queue with its reason (unknown_reference, unknown_payer, no_bill);
4. save: one transaction: the payers' accounts that do not exist yet, every payment in one COPY
   (PostgreSQL) or executemany (SQLite), and one `ledger.settle(account_ids=…,
   statement_id=…)` that spends them and credits each account what is left. All-or-nothing, unless `partial`: then the good
   rows are saved and the refused ones listed.

Each stage logs its seconds at DEBUG (logger cakupan.contributions.statements).

`statement_import` drives the stages for the web page, the API and `cakupan payments import`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cakupan.accounts.models import User
from cakupan.contributions.billing import PREPAY_MONTHS
from cakupan.contributions.ledger import settle
from cakupan.contributions.models import Payment, PaymentStatement
from cakupan.contributions.sql import (
    T,
    bill_unpaid,
    bulk_cache,
    copy_frame,
    drop_temp,
    execute,
    fetch,
    foreign_key_checks_off,
    now,
    temp_table,
    timed,
)
from cakupan.errors import Refused
from cakupan.membership.imports import FileProblem, read_table
from cakupan.membership.imports.problems import PROBLEM_SCHEMA, REJECTED, WARNING, problems
from cakupan.membership.imports.read import header_key
from cakupan.money import AmountInvalid, parse_rupiah
from cakupan.months import add_months
from cakupan.rules import contribution

log = logging.getLogger(__name__)

# The statement's columns and the headers accepted for each (compared after header_key).
COLUMNS: dict[str, tuple[str, ...]] = {
    "reference": (
        "reference",
        "ref",
        "referensi",
        "no_referensi",
        "nomor_referensi",
        "no_ref",
        "reference_number",
    ),
    "payer": ("payer", "pembayar", "nama_pembayar", "payer_name"),
    "amount": ("amount", "jumlah", "nominal", "jumlah_bayar", "amount_(rp)", "jumlah_(rp)"),
    "date": ("date", "tanggal", "tanggal_bayar", "paid_on", "payment_date", "tgl"),
    "invoice": ("invoice", "no_invoice", "nomor_invoice", "invoice_number"),
    "membership": (
        "membership",
        "kepesertaan",
        "no_kepesertaan",
        "nomor_kepesertaan",
        "membership_number",
    ),
}
REQUIRED = ("reference", "payer", "amount", "date")
COLUMN_LABELS = {
    "reference": gettext_lazy("Reference"),
    "payer": gettext_lazy("Payer"),
    "amount": gettext_lazy("Amount"),
    "date": gettext_lazy("Date"),
    "invoice": gettext_lazy("Invoice"),
    "membership": gettext_lazy("Membership number"),
}
# Problems kept with a statement for its page (the counts hold how many there were in all).
KEEP_PROBLEMS = 1000
_DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")
_REASONS = {
    Payment.Unmatched.UNKNOWN_REFERENCE.value: gettext_lazy(
        "The invoice or membership number is unknown: it waits for an officer to assign it."
    ),
    Payment.Unmatched.UNKNOWN_PAYER.value: gettext_lazy(
        "The payer is unknown: it waits for an officer to assign it."
    ),
    Payment.Unmatched.NO_BILL.value: gettext_lazy(
        "The payer owes nothing and the amount fits no months ahead: it waits for an officer."
    ),
}


class StatementRefused(Refused):
    pass


def column_label(column: str) -> str:
    return str(COLUMN_LABELS.get(column, column))


@dataclass
class StatementResult:
    """What a statement holds and what became of it. `counts`: rows, blank, rejected,
    already_recorded, duplicate_in_file, to_record, matched, unmatched, unmatched_<reason>,
    prepaid, amount, amount_matched, amount_unmatched; after a save also recorded, allocated,
    bills_paid. `problems`: the row report (row, column, severity, code, problem, fix), the
    first KEEP_PROBLEMS of `counts["problems"]`."""

    counts: dict[str, int]
    problems: list[dict[str, Any]]
    saved: bool = False
    statement: PaymentStatement | None = None
    refused_reason: str = ""


# -- 1. read ---------------------------------------------------------------------------------


def map_columns(
    frame: pl.DataFrame,
    columns: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    *,
    label: Any,
    hint: Any,
    error: type[Refused],
) -> pl.DataFrame:
    """A file's headers mapped to `columns` (each accepted name compared after header_key),
    every cell a stripped text; a missing required column refuses the file with `hint` (how
    to name them). Also used by the claims app for the bank's return."""
    rename: dict[str, str] = {}
    for header in frame.columns:
        if header == "_row":
            continue
        key = header_key(header)
        column = next((c for c, names in columns.items() if key in names), None)
        if column and column not in rename.values():
            rename[header] = column
    missing = [c for c in required if c not in rename.values()]
    if missing:
        raise error(
            "columns_missing",
            _("Required columns not found: %(missing)s. Columns in the file: %(headers)s. %(hint)s")
            % {
                "missing": ", ".join(str(label(c)) for c in missing),
                "headers": ", ".join(c for c in frame.columns if c != "_row"),
                "hint": hint,
            },
            "file",
        )
    frame = frame.select(["_row", *rename]).rename(rename)
    for column in columns:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    return frame.with_columns(pl.col(c).fill_null("").str.strip_chars() for c in columns)


def read_columns(
    path: Path | str,
    columns: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    *,
    original_name: str | None = None,
    label: Any,
    hint: Any,
    error: type[Refused],
) -> pl.DataFrame:
    """A CSV/XLSX file as text cells under `columns` (see map_columns); an unreadable or
    vanished file is refused with `error`."""
    try:
        frame = read_table(path, original_name=original_name)
    except FileProblem as e:
        raise error("file_unreadable", str(e), "file") from None
    except OSError:
        raise error(
            "file_missing", _("The uploaded file is gone; upload it again."), "file"
        ) from None
    return map_columns(frame, columns, required, label=label, hint=hint, error=error)


def read_statement(path: Path | str, *, original_name: str | None = None) -> pl.DataFrame:
    return read_columns(
        path,
        COLUMNS,
        REQUIRED,
        original_name=original_name,
        label=column_label,
        hint=_(
            "Name the columns reference, payer, amount, date (or referensi, pembayar, jumlah, "
            "tanggal); invoice and membership (no_invoice, no_kepesertaan) are optional."
        ),
        error=StatementRefused,
    )


# -- 2. check --------------------------------------------------------------------------------


def amounts(column: pl.Series) -> tuple[pl.Series, set[str]]:
    """Whole Rupiah per cell (null when unreadable) and the unreadable cells. Plain digits are
    cast at once; every other distinct spelling goes through parse_rupiah once."""
    plain = column.str.contains(r"^[0-9]{1,13}$")
    others = column.filter(~plain & (column != "")).unique().to_list()
    found: dict[str, int] = {}
    bad: set[str] = set()
    for value in others:
        try:
            found[value] = parse_rupiah(value)
        except AmountInvalid:
            bad.add(value)
    parsed = (
        pl.select(
            pl.when(plain)
            .then(column.cast(pl.Int64, strict=False))
            .otherwise(column.replace_strict(found, default=None, return_dtype=pl.Int64))
        )
        .to_series()
        .alias("amount_rp")
    )
    return parsed, bad


def dates(col: pl.Expr) -> pl.Expr:
    attempts = [col.str.strptime(pl.Date, fmt, strict=False) for fmt in _DATE_FORMATS]
    serial = pl.when(col.str.contains(r"^[0-9]{5}(\.0+)?$")).then(
        pl.lit(dt.date(1899, 12, 30))
        + pl.duration(days=col.str.extract(r"^([0-9]{5})").cast(pl.Int64))
    )
    parsed = pl.coalesce([*attempts, serial])
    return pl.when(parsed.dt.year().is_between(2000, 9999)).then(parsed)


def _check(frame: pl.DataFrame, today: dt.date) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """(rows with typed amount_rp and paid_on, problems, blank rows). Every check is a column
    expression over the whole file."""
    cells = [pl.col(c) != "" for c in COLUMNS]
    blank = frame.filter(~pl.any_horizontal(cells))
    frame = frame.filter(pl.any_horizontal(cells))
    amount, bad_amounts = amounts(frame["amount"])
    frame = frame.with_columns(amount, paid_on=dates(pl.col("date")))
    found: list[pl.DataFrame] = []

    def add(rows: pl.DataFrame, column: str, code: str, message: list[str] | str, fix: str):
        if rows.height:
            found.append(
                problems(
                    rows["_row"],
                    column,
                    REJECTED,
                    code,
                    message,
                    fix,
                    value=rows[column].to_list() if column in rows.columns else None,
                )
            )

    add(
        frame.filter(pl.col("reference") == ""),
        "reference",
        "required",
        _("The reference is empty."),
        _("Write the transfer's reference as the bank statement shows it."),
    )
    long_refs = frame.filter(pl.col("reference").str.len_chars() > 80)
    add(
        long_refs,
        "reference",
        "too_long",
        _("The reference is longer than 80 characters."),
        _("Shorten it to the bank's transfer number."),
    )
    # a reference repeated within the file: the first row stands, the others are refused
    refs = frame.filter(pl.col("reference") != "").with_columns(
        first=pl.col("_row").min().over("reference")
    )
    repeated = refs.filter(pl.col("_row") != pl.col("first"))
    add(
        repeated,
        "reference",
        "duplicate_in_file",
        [
            _("The reference %(ref)s is already on row %(row)s of this file.")
            % {"ref": ref, "row": first}
            for ref, first in repeated.select("reference", "first").iter_rows()
        ],
        _("A reference is recorded once: delete the repeated row or correct its reference."),
    )
    add(
        frame.filter(pl.col("amount") == ""),
        "amount",
        "required",
        _("The amount is empty."),
        _("Write whole Rupiah, e.g. 16.800."),
    )
    bad = frame.filter(pl.col("amount").is_in(list(bad_amounts)))
    add(
        bad,
        "amount",
        "invalid_amount",
        [_("“%(v)s” is not an amount in Rupiah.") % {"v": v} for v in bad["amount"].to_list()],
        _("Write whole Rupiah, e.g. 16.800 or Rp 16.800."),
    )
    add(
        frame.filter(pl.col("amount_rp") == 0),
        "amount",
        "amount_not_positive",
        _("The amount is 0."),
        _("The amount must be more than 0."),
    )
    add(
        frame.filter(pl.col("date") == ""),
        "date",
        "required",
        _("The date is empty."),
        _("Write the payment date as DD/MM/YYYY, e.g. 03/11/2026."),
    )
    bad = frame.filter((pl.col("date") != "") & pl.col("paid_on").is_null())
    add(
        bad,
        "date",
        "invalid_date",
        [_("“%(v)s” is not a date.") % {"v": v} for v in bad["date"].to_list()],
        _("Write the payment date as DD/MM/YYYY, e.g. 03/11/2026."),
    )
    add(
        frame.filter(pl.col("paid_on") > today),
        "date",
        "future_date",
        _("The payment date is in the future."),
        _("Check the date: a payment is recorded once it has been made."),
    )
    problem_frame = pl.concat(found) if found else pl.DataFrame(schema=PROBLEM_SCHEMA)
    return frame, problem_frame, blank.height


# -- 3. match --------------------------------------------------------------------------------


def _fill(table: str, column: str, values: list | pl.Series) -> None:
    """Fill a one-column temporary table in one COPY (Polars writes the text on PostgreSQL),
    and give the planner its size: PostgreSQL never analyses a temporary table by itself."""
    copy_frame(table, pl.DataFrame({column: values}))
    if connection.vendor == "postgresql":
        execute(f"ANALYZE {table}")


def _lookup(values: pl.Series, sql: str) -> list[tuple]:
    """Rows of `sql` (which joins the temporary table tmp_stmt_keys(k)) for the values."""
    values = values.filter(values.is_not_null() & (values != "")).unique()
    if not len(values):
        return []
    temp_table("tmp_stmt_keys", "k varchar(200) NOT NULL")
    try:
        _fill("tmp_stmt_keys", "k", values)
        return fetch(sql)
    finally:
        drop_temp("tmp_stmt_keys")


def _ids_lookup(ids: list[int], sql: str) -> list[tuple]:
    """Rows of `sql` (which joins the temporary table tmp_stmt_ids(id)) for the ids."""
    ids = sorted({int(i) for i in ids})
    if not ids:
        return []
    temp_table("tmp_stmt_ids", "id bigint NOT NULL")
    try:
        _fill("tmp_stmt_ids", "id", ids)
        return fetch(sql)
    finally:
        drop_temp("tmp_stmt_ids")


def _already_recorded(references: pl.Series) -> set[str]:
    return {
        r[0]
        for r in _lookup(
            references,
            f"SELECT p.reference FROM {T.payment} p JOIN tmp_stmt_keys t ON t.k = p.reference",
        )
    }


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _frame(rows: list[tuple], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


def _owes(account: str) -> str:
    """SQL: the account `account` (an id expression) has a live bill not fully paid. Same as
    services.outstanding(account) > 0: a bill is paid (an open paid period) only once its
    allocations reach its amount, so an unpaid or reopened bill is money still owed."""
    return f"""EXISTS (SELECT 1 FROM {T.bill} b WHERE b.account_id = {account}
        AND b.voided_at IS NULL AND b.amount > 0 AND {bill_unpaid("b")})"""


_ACCOUNT = {"account_id": pl.Int64, "owes": pl.Boolean}


def _match(frame: pl.DataFrame) -> pl.DataFrame:
    """Add account_sponsor / account_membership (whose account the money goes to), its
    account_id (null: to be opened) and whether it owes anything (owes), invoice_id,
    membership_id and reason, with the rules of services.payer_match, for every row at once:
    one query for the invoices named, one for the membership numbers (with their accounts),
    one for the sponsors."""
    frame = frame.with_columns(
        target=pl.when(pl.col("invoice") != "")
        .then(pl.col("invoice"))
        .otherwise(pl.col("membership")),
        payer_key=pl.col("payer").str.replace_all(r"\s+", " ").str.to_lowercase(),
    )
    targets = frame["target"].unique()
    with timed(log, "match invoices"):
        invoices = _frame(
            _lookup(
                targets,
                f"""SELECT i.number, i.id, pr.sponsor_id FROM {T.invoice} i
                    JOIN tmp_stmt_keys t ON t.k = i.number
                    JOIN {T.programme} pr ON pr.id = i.programme_id""",
            ),
            {"target": pl.String, "inv_id": pl.Int64, "inv_sponsor": pl.Int64},
        )
    with timed(log, "match membership numbers"):
        numbers = _frame(
            _lookup(
                pl.concat([targets, frame["payer"].unique()]),
                f"""SELECT m.number, m.id, a.id
                    FROM {T.membership} m JOIN tmp_stmt_keys t ON t.k = m.number
                    LEFT JOIN {T.account} a ON a.membership_id = m.id""",
            ),
            {"number": pl.String, "mem_id": pl.Int64, "account_id": pl.Int64},
        )
    with timed(log, "match accounts owing"):
        # apart, as a WHERE EXISTS that PostgreSQL joins set-wise (in the select list it was
        # a sub-plan run once per account: 7 s of a 200,000-row statement)
        owing = _ids_lookup(
            numbers["account_id"].drop_nulls().to_list(),
            f"SELECT t.id FROM tmp_stmt_ids t WHERE {_owes('t.id')}",
        )
        numbers = numbers.with_columns(
            owes=pl.col("account_id")
            .is_in(pl.Series([r[0] for r in owing], dtype=pl.Int64).implode())
            .fill_null(False)
        )
    with timed(log, "match sponsors"):
        sponsors = _frame(
            [
                (_norm(name), pk, account, bool(owes))
                for pk, name, account, owes in fetch(
                    f"""SELECT s.id, s.name, a.id, CASE WHEN {_owes("a.id")} THEN 1 ELSE 0 END
                        FROM {T.sponsor} s LEFT JOIN {T.account} a ON a.sponsor_id = s.id"""
                )
            ],
            {"payer_key": pl.String, "sponsor_id": pl.Int64, **_ACCOUNT},
        ).unique("payer_key", keep="first")
    # payer_key: Python's casefold and Polars' to_lowercase agree on what sponsor names hold
    frame = (
        frame.join(invoices, on="target", how="left")
        .join(
            numbers.select(pl.col("number").alias("target"), pl.col("mem_id").alias("tmem")),
            on="target",
            how="left",
        )
        .join(
            numbers.select(pl.col("number").alias("payer"), pl.col("mem_id").alias("own")),
            on="payer",
            how="left",
        )
        .join(sponsors.select("payer_key", "sponsor_id"), on="payer_key", how="left")
        .with_columns(tmem=pl.when(pl.col("inv_id").is_null()).then(pl.col("tmem")))
    )
    has_payer, has_target = pl.col("payer") != "", pl.col("target") != ""
    inv, tmem, own, sponsor = (pl.col(c) for c in ("inv_id", "tmem", "own", "sponsor_id"))
    unknown_ref = has_target & inv.is_null() & tmem.is_null()
    own_case = (
        ~unknown_ref
        & has_payer
        & sponsor.is_null()
        & inv.is_null()
        & (tmem.is_null() | (tmem == own))
        & own.is_not_null()
    )
    inv_case = ~unknown_ref & ~own_case & inv.is_not_null()
    inv_other = inv_case & sponsor.is_not_null() & (sponsor != pl.col("inv_sponsor"))
    sponsor_case = ~unknown_ref & ~own_case & ~inv_case & sponsor.is_not_null()
    self_case = (
        ~unknown_ref & ~own_case & ~inv_case & ~sponsor_case & tmem.is_not_null() & ~has_payer
    )
    U = Payment.Unmatched
    frame = frame.with_columns(
        account_sponsor=pl.when(inv_case & ~inv_other)
        .then(pl.col("inv_sponsor"))
        .when(sponsor_case)
        .then(sponsor),
        account_membership=pl.when(own_case).then(own).when(self_case).then(tmem),
        invoice_id=pl.when(~unknown_ref).then(inv),
        membership_id=pl.when(own_case)
        .then(own)
        .when(unknown_ref | inv_case)
        .then(None)
        .otherwise(tmem),
        reason=pl.when(unknown_ref)
        .then(pl.lit(U.UNKNOWN_REFERENCE.value))
        .when(own_case | (inv_case & ~inv_other) | sponsor_case | self_case)
        .then(pl.lit(""))
        .otherwise(pl.lit(U.UNKNOWN_PAYER.value)),
    ).drop("payer_key", "inv_sponsor", "tmem", "own", "sponsor_id", "inv_id")
    # the account of whoever pays, and whether it owes anything before this statement
    by_sponsor = sponsors.select(pl.col("sponsor_id").alias("account_sponsor"), *_ACCOUNT)
    by_member = numbers.select(pl.col("mem_id").alias("account_membership"), *_ACCOUNT)
    frame = frame.join(by_sponsor.unique("account_sponsor"), on="account_sponsor", how="left").join(
        by_member.unique("account_membership"), on="account_membership", how="left", suffix="_m"
    )
    return frame.with_columns(
        account_id=pl.coalesce("account_id", "account_id_m"),
        owes=pl.coalesce("owes", "owes_m", pl.lit(False)),
    ).drop("account_id_m", "owes_m")


def _account_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """Fill account_id where it is null from the accounts now in the database."""
    for column, key in (("sponsor_id", "account_sponsor"), ("membership_id", "account_membership")):
        ids = frame.filter(pl.col("account_id").is_null())[key].drop_nulls().unique().to_list()
        found = _frame(
            _ids_lookup(
                ids,
                f"SELECT a.{column}, a.id FROM {T.account} a "
                f"JOIN tmp_stmt_ids t ON t.id = a.{column}",
            ),
            {key: pl.Int64, "new_id": pl.Int64},
        )
        frame = (
            frame.join(found, on=key, how="left")
            .with_columns(account_id=pl.coalesce("account_id", "new_id"))
            .drop("new_id")
        )
    return frame


@lru_cache(maxsize=4096)
def _month_price(income: int, jht: bool, sector: str, month: dt.date) -> int:
    return contribution(
        category="bpu",
        income=income,
        month=month,
        programmes=["jht"] if jht else [],
        sector=sector,
        funding="self",
    ).total


def _prepay(frame: pl.DataFrame, today: dt.date) -> pl.DataFrame:
    """A matched payer who owed nothing before this statement: a worker paying exactly his next
    1, 3, 6 or 12 months (each priced by the rules, as services._months_paid_ahead) is a
    prepayment (prepay_months); anything else is unmatched, no_bill. A worker's first such row
    in the file only. Unlike the form, a statement does not bill those months at once (that is
    one billing per worker, a loop over rows): the money is the worker's credit, which each
    month's billing run spends on the new bill, effective on the payment's date."""
    owes_nothing = (pl.col("reason") == "") & ~pl.col("owes")
    frame = frame.with_columns(prepay_months=pl.lit(0, dtype=pl.Int64))
    candidates = frame.filter(owes_nothing & pl.col("account_membership").is_not_null())
    candidates = candidates.unique("account_membership", keep="first", maintain_order=True)
    if candidates.height:
        members = {
            r[0]: r[1:]
            for r in _ids_lookup(
                candidates["account_membership"].to_list(),
                f"""
                SELECT m.id, m.declared_income, m.programmes, o.sector,
                       (SELECT MAX(b.month) FROM {T.bill} b
                        WHERE b.membership_id = m.id AND b.voided_at IS NULL)
                FROM {T.membership} m
                JOIN tmp_stmt_ids t ON t.id = m.id
                JOIN {T.worker} w ON w.id = m.worker_id
                JOIN {T.occupation} o ON o.id = w.occupation_id
                """,
            )
        }
        found: list[tuple[int, int, dt.date]] = []
        for row, member_id, amount in candidates.select(
            "_row", "account_membership", "amount_rp"
        ).iter_rows():
            income, programmes, sector, last = members[member_id]
            if isinstance(programmes, str):
                programmes = json.loads(programmes)
            if isinstance(last, str):
                last = dt.date.fromisoformat(last[:10])
            first = add_months(last, 1) if last else today.replace(day=1)
            total = 0
            for n in range(1, max(PREPAY_MONTHS) + 1):
                total += _month_price(
                    int(income), "jht" in programmes, sector, add_months(first, n - 1)
                )
                if total == amount and n in PREPAY_MONTHS:
                    found.append((row, n, first))
                    break
                if total > amount:
                    break
        if found:
            ahead = pl.DataFrame(
                found,
                schema={"_row": pl.Int64, "n": pl.Int64, "start": pl.Date},
                orient="row",
            )
            frame = (
                frame.join(ahead, on="_row", how="left")
                .with_columns(
                    prepay_months=pl.coalesce("n", "prepay_months"),
                )
                .drop("n", "start")
            )
    unspent = owes_nothing & (pl.col("prepay_months") == 0)
    return frame.with_columns(
        reason=pl.when(unspent).then(pl.lit(Payment.Unmatched.NO_BILL.value)).otherwise("reason")
    ).with_columns(
        account_sponsor=pl.when(pl.col("reason") == "").then("account_sponsor"),
        account_membership=pl.when(pl.col("reason") == "").then("account_membership"),
        account_id=pl.when(pl.col("reason") == "").then("account_id"),
    )


# -- 4. save ---------------------------------------------------------------------------------


def _create_accounts(frame: pl.DataFrame) -> pl.DataFrame:
    """Open the accounts the matched payers do not have yet, in bulk, and fill account_id."""
    missing = frame.filter((pl.col("reason") == "") & pl.col("account_id").is_null())
    if not missing.height:
        return frame
    new = (
        missing.select("account_sponsor", "account_membership")
        .unique()
        .rename({"account_sponsor": "sponsor_id", "account_membership": "membership_id"})
        .with_columns(credit=pl.lit(0, dtype=pl.Int64))
    )
    copy_frame(T.account, new)
    return _account_ids(frame)


def _save(frame: pl.DataFrame, *, user: User | None, statement: PaymentStatement) -> dict[str, int]:
    with timed(log, "statement accounts"):
        frame = _create_accounts(frame)
    recorded_at = now()
    payments = frame.select(
        pl.col("reference"),
        pl.col("account_id"),
        pl.col("amount_rp").alias("amount"),
        pl.col("paid_on"),
        pl.lit(Payment.Source.STATEMENT.value).alias("source"),
        pl.col("payer").str.slice(0, 200).alias("payer_text"),
        pl.col("invoice_id"),
        pl.col("membership_id"),
        pl.col("target").str.slice(0, 80).alias("target_text"),
        pl.col("reason").alias("unmatched_reason"),
        pl.lit(statement.pk, dtype=pl.Int64).alias("statement_id"),
        pl.lit("").alias("note"),
        pl.lit(user.pk if user else None, dtype=pl.Int64).alias("recorded_by_id"),
        pl.lit(recorded_at).alias("recorded_at"),
    )
    with timed(log, "statement payments insert"):
        # in reference order, the unique index grows at its end instead of all over its pages
        copy_frame(T.payment, payments.sort("reference"))
    with timed(log, "statement settle"):
        # the payers just written: the accounts of the statement's payments
        payers = frame["account_id"].drop_nulls().to_list()
        settled = settle(statement_id=statement.pk, account_ids=payers)
    allocated, bills_paid = settled.amount, settled.bills_paid
    return {"recorded": frame.height, "allocated": int(allocated), "bills_paid": int(bills_paid)}


# -- the stages together ---------------------------------------------------------------------


def _problem_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "row": p["row"],
            "column": column_label(p["column"]),
            "severity": p["severity"],
            "code": p["code"],
            "problem": p["message"],
            "fix": p["suggestion"],
        }
        for p in frame.sort("row").head(KEEP_PROBLEMS).iter_rows(named=True)
    ]


def _unmatched_problems(frame: pl.DataFrame) -> pl.DataFrame:
    """A warning per row that will wait unmatched: its reason in words (one text per reason,
    mapped over the rows, so a million such rows cost no loop)."""
    waiting = frame.filter(pl.col("reason") != "")
    if not waiting.height:
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    U = Payment.Unmatched
    column = {U.UNKNOWN_REFERENCE.value: "invoice", U.UNKNOWN_PAYER.value: "payer"}
    words = {reason: str(text) for reason, text in _REASONS.items()}
    fix = _("Saved and shown in the unmatched queue, where an officer assigns the payer.")
    return waiting.select(
        pl.col("_row").alias("row"),
        pl.col("reason")
        .replace_strict(column, default="amount", return_dtype=pl.String)
        .alias("column"),
        pl.lit(WARNING).alias("severity"),
        pl.col("reason").alias("code"),
        pl.col("reason").replace_strict(words, return_dtype=pl.String).alias("message"),
        pl.lit(fix).alias("suggestion"),
        pl.lit(None, dtype=pl.String).alias("value"),
        pl.lit(None, dtype=pl.String).alias("suggested"),
    ).cast(PROBLEM_SCHEMA)


def sha256_of(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def statement_import(
    path: Path | str,
    *,
    user: User | None,
    partial: bool = False,
    dry_run: bool = False,
    original_name: str | None = None,
    statement: PaymentStatement | None = None,
) -> StatementResult:
    """Check a statement and, unless `dry_run`, save it: every row, or nothing when a row is
    refused, unless `partial` (then the good rows). `statement` is the upload the page keeps
    between preview and save; without one a PaymentStatement is created when rows are saved.
    Raises StatementRefused when the file cannot be read or lacks a required column."""
    with bulk_cache():
        return _import(path, user, partial, dry_run, original_name, statement)


def _import(
    path: Path | str,
    user: User | None,
    partial: bool,
    dry_run: bool,
    original_name: str | None,
    statement: PaymentStatement | None,
) -> StatementResult:
    path = Path(path)
    name = original_name or (statement.original_name if statement else path.name)
    today = timezone.localdate()
    with timed(log, "statement read"):
        read = read_statement(path, original_name=name)
    with timed(log, "statement check"):
        frame, problem_frame, blank = _check(read, today)
    rejected_rows = set(problem_frame["row"].to_list())
    good = frame.filter(~pl.col("_row").is_in(list(rejected_rows)))
    with timed(log, "statement already recorded"):
        done = _already_recorded(good["reference"])
        skipped = good.filter(pl.col("reference").is_in(list(done)))
        todo = good.filter(~pl.col("reference").is_in(list(done)))
    with timed(log, "statement match"):
        todo = _match(todo)
    with timed(log, "statement prepay"):
        todo = _prepay(todo, today)
    all_problems = pl.concat([problem_frame, _unmatched_problems(todo)])
    matched = todo.filter(pl.col("reason") == "")
    counts: dict[str, int] = {
        "rows": frame.height + blank,
        "blank": blank,
        "rejected": len(rejected_rows),
        "already_recorded": skipped.height,
        "duplicate_in_file": int((problem_frame["code"] == "duplicate_in_file").sum()),
        "to_record": todo.height,
        "matched": matched.height,
        "unmatched": todo.height - matched.height,
        "prepaid": int((todo["prepay_months"] > 0).sum()),
        "amount": int(todo["amount_rp"].sum() or 0),
        "amount_matched": int(matched["amount_rp"].sum() or 0),
        "problems": all_problems.height,
    }
    counts["amount_unmatched"] = counts["amount"] - counts["amount_matched"]
    for reason in Payment.Unmatched.values:
        counts[f"unmatched_{reason}"] = int((todo["reason"] == reason).sum())
    result = StatementResult(counts, _problem_rows(all_problems), statement=statement)

    if dry_run or (counts["rejected"] and not partial) or not todo.height:
        if not dry_run and counts["rejected"] and not partial:
            result.refused_reason = _(
                "Nothing was saved: %(n)s rows have problems. Correct them and upload the "
                "file again, or save the good rows only."
            ) % {"n": counts["rejected"]}
        elif not dry_run and not skipped.height:
            result.refused_reason = _("Nothing to record: no row of the file can be saved.")
        elif not dry_run:
            result.refused_reason = _("Nothing new to record: every reference is already recorded.")
        if statement is not None:
            statement.counts, statement.problems = counts, result.problems
            statement.rows_total = counts["rows"]
            statement.save(update_fields=["counts", "problems", "rows_total"])
        return result

    try:
        saving = timed(log, "statement save (commit included)")
        with saving, foreign_key_checks_off(), transaction.atomic():
            if statement is None:
                statement = PaymentStatement.objects.create(
                    original_name=name[:255],
                    sha256=sha256_of(path),
                    uploaded_by=user,
                )
            else:
                statement = PaymentStatement.objects.select_for_update().get(pk=statement.pk)
                if statement.status != PaymentStatement.Status.PREVIEWED:
                    raise StatementRefused(
                        "statement_done",
                        _("This statement was already saved or discarded."),
                    )
            counts.update(_save(todo, user=user, statement=statement))
            statement.partial = partial
            statement.status = PaymentStatement.Status.SAVED
            statement.counts, statement.problems = counts, result.problems
            statement.rows_total = counts["rows"]
            statement.finished_at = timezone.now()
            statement.save()
    except IntegrityError:
        raise StatementRefused(
            "recorded_meanwhile",
            _(
                "Some of these references were recorded by someone else a moment ago; nothing "
                "of this statement was saved. Check it again."
            ),
        ) from None
    result.saved, result.statement = True, statement
    return result


def statement_upload(*, upload: Any, user: User) -> PaymentStatement:
    """Keep an uploaded statement file for its preview and save."""
    statement = PaymentStatement(
        original_name=upload.name[:255], uploaded_by=user, status=PaymentStatement.Status.PREVIEWED
    )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    statement.sha256 = digest.hexdigest()
    statement.file.save(upload.name, upload, save=False)
    statement.save()
    return statement


def statement_discard(*, statement: PaymentStatement) -> None:
    if statement.status != PaymentStatement.Status.PREVIEWED:
        raise StatementRefused(
            "statement_done", _("This statement was already saved or discarded.")
        )
    statement.status = PaymentStatement.Status.DISCARDED
    statement.finished_at = timezone.now()
    if statement.file:
        statement.file.delete(save=False)
    statement.save()
