"""Pages of the children's scholarships (VIEW_CLAIM): the instalments due in a school year,
counted by kecamatan, with what each still needs and its CSV/XLSX list for the officers who
chase the proofs; and the reminder list of the next school year, with when reminders go out."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from cakupan.accounts.roles import VIEW_CLAIM, VIEW_FULL_PHONE, require_any
from cakupan.claims.models import Instalment
from cakupan.claims.pay_reads import (
    DUE_STATUSES,
    due_by_kecamatan,
    due_filter,
    instalment_years,
    reminder_rows,
)
from cakupan.claims.scholarships import due_rows, level_label, reminder_window, school_year_of
from cakupan.digits import ascii_digits
from cakupan.exports import table_file
from cakupan.registry.models import NikAccessLog, Worker
from cakupan.registry.phones import mask_phone
from cakupan.registry.services import access_log_write
from cakupan.rules import default_rules

SHOWN_ROWS = 1000
YEAR_MIN, YEAR_MAX = 2000, 2100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _school_year(start_year: int) -> str:
    return f"{start_year}/{start_year + 1}"


def _year_asked(request: HttpRequest, today: dt.date) -> tuple[int, str]:
    """The school year asked for (?tahun=2026: the year it starts), this school year when none
    is asked; an unreadable one is this school year with the message."""
    start_month = default_rules().scholarship(today).school_year_start_month
    current = school_year_of(today, start_month)
    raw = ascii_digits(request.GET.get("tahun", "")).strip()
    if not raw:
        return current, ""
    if re.fullmatch(r"[0-9]{4}", raw) and YEAR_MIN <= int(raw) <= YEAR_MAX:
        return int(raw), ""
    return current, _(
        "“%(v)s” is not a school year: choose the year it starts, e.g. %(y)s for %(sy)s."
    ) % {"v": raw[:20], "y": current, "sy": _school_year(current)}


def _due(request: HttpRequest) -> dict[str, Any]:
    """The due list of the school year asked for, with the filters applied."""
    today = timezone.localdate()
    year, error = _year_asked(request, today)
    rows = due_rows(start_year=year)
    kecamatans = sorted({r["kecamatan"] for r in rows})
    kecamatan = request.GET.get("kecamatan", "")
    if kecamatan not in kecamatans:
        kecamatan = ""
    status = request.GET.get("status", "")
    if status not in DUE_STATUSES:
        status = ""
    return {
        "year": year,
        "school_year": _school_year(year),
        "error": error,
        "all_rows": rows,
        "rows": due_filter(rows, kecamatan=kecamatan, status=status),
        "kecamatans": kecamatans,
        "kecamatan": kecamatan,
        "status": status,
        "statuses": [(s, Instalment.Status(s).label) for s in DUE_STATUSES],
    }


@login_required
def due_view(request: HttpRequest) -> HttpResponse:
    require_any(request.user, VIEW_CLAIM)
    data = _due(request)
    counts = due_by_kecamatan(data["all_rows"])
    query = {"tahun": data["year"]}
    if data["kecamatan"]:
        query["kecamatan"] = data["kecamatan"]
    if data["status"]:
        query["status"] = data["status"]
    years = sorted({*instalment_years(), data["year"]})
    return render(
        request,
        "claims/due_list.html",
        {
            **data,
            "shown": data["rows"][:SHOWN_ROWS],
            "more": max(len(data["rows"]) - SHOWN_ROWS, 0),
            "counts": counts,
            "total_count": sum(c.instalments for c in counts),
            "total_amount": sum(c.amount for c in counts),
            "total_missing": sum(c.proof_missing for c in counts),
            "years": [(y, _school_year(y)) for y in years],
            "query": query,
        },
        status=400 if data["error"] else 200,
    )


def _due_heading() -> list[str]:
    return [
        _("Kecamatan"),
        _("Kelurahan"),
        _("Claim number"),
        _("Worker"),
        _("Child"),
        _("School year"),
        _("Level"),
        _("Year in level"),
        _("Amount (Rp)"),
        _("Status"),
        _("Still missing"),
    ]


@login_required
def due_export_view(request: HttpRequest, fmt: str) -> HttpResponse:
    require_any(request.user, VIEW_CLAIM)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    data = _due(request)
    if data["error"]:
        return render(
            request, "web/error.html", {"code": 400, "message": data["error"]}, status=400
        )
    rows = (
        [
            r["kecamatan"],
            r["kelurahan"],
            r["claim"],
            r["worker"],
            r["child"],
            r["school_year"],
            r["level_label"],
            r["year_in_level"],
            r["amount"],
            r["status"],
            r["missing"],
        ]
        for r in data["rows"]
    )
    name = f"beasiswa-jatuh-tempo-{data['year']}-{data['year'] + 1}"
    return _file(fmt, name, _("Scholarships due"), _due_heading(), rows)


def _reminder(request: HttpRequest, action: str) -> dict[str, Any]:
    """The next school year's instalments, phones whole for users with the right (each whole
    phone shown or exported is written to the access log), masked for the others."""
    today = timezone.localdate()
    year, send_on = reminder_window(today)
    every = reminder_rows(start_year=year)
    rows = [r for r in every if not r.has_proof]  # a family that brought it needs no reminder
    whole = request.user.has_perm(VIEW_FULL_PHONE)
    if whole:
        access_log_write(
            user=request.user,
            action=action,
            workers=[Worker(pk=pk) for pk in sorted({r.worker_id for r in rows if r.phone})],
            path=request.path,
        )
    shown = []
    for r in rows:
        phone = (r.phone if whole else mask_phone(r.phone)) if r.phone else ""
        shown.append((r, phone, level_label(r.level, today)))
    return {
        "year": year,
        "school_year": _school_year(year),
        "send_on": send_on,
        "sent": today >= send_on,
        "rows": shown,
        "total_amount": sum(r.amount for r in rows),
        "proofs_in": len(every) - len(rows),
    }


@login_required
def reminder_view(request: HttpRequest) -> HttpResponse:
    require_any(request.user, VIEW_CLAIM)
    data = _reminder(request, NikAccessLog.Action.VIEW)
    return render(
        request,
        "claims/due_reminders.html",
        {
            **data,
            "shown": data["rows"][:SHOWN_ROWS],
            "more": max(len(data["rows"]) - SHOWN_ROWS, 0),
        },
    )


def _reminder_heading() -> list[str]:
    return [
        _("Child"),
        _("Worker"),
        _("Phone"),
        _("Kecamatan"),
        _("Kelurahan"),
        _("Claim number"),
        _("School year"),
        _("Level"),
        _("Year in level"),
        _("Amount (Rp)"),
    ]


@login_required
def reminder_export_view(request: HttpRequest, fmt: str) -> HttpResponse:
    require_any(request.user, VIEW_CLAIM)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    data = _reminder(request, NikAccessLog.Action.EXPORT)
    rows = (
        [
            r.child,
            r.worker,
            phone,
            r.kecamatan,
            r.kelurahan,
            r.claim,
            r.school_year,
            level,
            r.year_in_level,
            r.amount,
        ]
        for r, phone, level in data["rows"]
    )
    name = f"pengingat-beasiswa-{data['year']}-{data['year'] + 1}"
    return _file(fmt, name, _("Reminders"), _reminder_heading(), rows)


def _file(
    fmt: str, name: str, title: str, heading: Sequence[str], rows: Iterable[Sequence[Any]]
) -> HttpResponse:
    """The list as CSV (UTF-8 with a BOM, for Excel) or XLSX; every cell through cakupan.exports."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    data = table_file(heading, rows, fmt, title=title, bom=True)
    response = HttpResponse(data, content_type="text/csv; charset=utf-8" if fmt == "csv" else XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
