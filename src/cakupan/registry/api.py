"""API for the worker registry and NIK checks."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Literal

from django.http import Http404, HttpRequest
from ninja import Field, Path, Query, Router, Schema
from ninja.responses import Status

from cakupan.accounts.roles import ADD_WORKER, CHANGE_WORKER, CHECK_NIK, VIEW_FULL_NIK, VIEW_WORKER
from cakupan.apikit import FieldErrors, Text, auth_for
from cakupan.registry.models import NikAccessLog, Worker
from cakupan.registry.nik import mask_nik
from cakupan.registry.selectors import (
    WorkerFilters,
    nik_check_many,
    nik_search_digits,
    occupation_list,
    worker_get,
    worker_list,
)
from cakupan.registry.services import (
    HeirData,
    Shown,
    WorkerData,
    WorkerInvalid,
    heir_add,
    nik_display,
    nik_search_log,
    personal_display,
    worker_create,
    worker_update,
)
from cakupan.throttle import throttle

router = Router(tags=["workers"])

WorkerId = Path(..., ge=1, le=2**53, description="Worker id")
SexIn = Literal["L", "P"]
DisabilityIn = Literal["", "physical", "sensory", "intellectual", "mental", "multiple"]


class OccupationOut(Schema):
    code: str
    name: str
    name_en: str
    sector: str
    vulnerable: bool


class WorkerIn(Schema):
    nik: Text = Field(..., max_length=40, examples=["3573054512900001"])
    full_name: Text = Field(..., max_length=150)
    birth_date: dt.date
    sex: SexIn = Field(..., description="L = laki-laki (male), P = perempuan (female)")
    kelurahan: Text = Field(..., max_length=13, examples=["35.73.05.1011"])
    occupation: Text = Field(..., max_length=40, examples=["ojol"])
    phone: Text = Field("", max_length=20)
    welfare_decile: int | None = Field(None, ge=1, le=10)
    disability: DisabilityIn = ""


class WorkerPatch(Schema):
    nik: Text | None = Field(None, max_length=40)
    full_name: Text | None = Field(None, max_length=150)
    birth_date: dt.date | None = None
    sex: SexIn | None = None
    kelurahan: Text | None = Field(None, max_length=13)
    occupation: Text | None = Field(None, max_length=40)
    phone: Text | None = Field(None, max_length=20)
    welfare_decile: int | None = Field(None, ge=1, le=10)
    disability: DisabilityIn | None = None


class HeirIn(Schema):
    full_name: Text = Field(..., max_length=150)
    birth_date: dt.date
    relation: Literal["child", "spouse", "parent", "sibling", "grandchild", "other"]
    nik: Text = Field("", max_length=40)
    sex: Literal["", "L", "P"] = ""


class HeirOut(Schema):
    id: int
    full_name: str
    birth_date: dt.date
    relation: str
    sex: str
    nik: str


class WorkerOut(Schema):
    id: int
    nik: str = Field(..., description="Whole for roles allowed to see it (logged), else masked")
    nik_masked: bool
    full_name: str
    birth_date: dt.date
    sex: str
    kelurahan: str
    kelurahan_name: str
    kecamatan: str
    kecamatan_name: str
    occupation: str
    sector: str
    phone: str = Field(..., description="Whole for roles that call workers (logged), else masked")
    welfare_decile: int | None
    disability: str
    vulnerable: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class WorkerPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[WorkerOut]


class ProblemOut(Schema):
    code: str
    severity: str
    message: str
    message_en: str


class WorkerSaved(Schema):
    worker: WorkerOut
    warnings: list[ProblemOut]


class NikCheckIn(Schema):
    niks: list[Text] = Field(..., min_length=1, max_length=1000)


class NikCheckOut(Schema):
    nik: str
    valid: bool
    sex: str | None
    birth_date: dt.date | None
    region_code: str | None
    problems: list[ProblemOut]


class WorkerQuery(Schema):
    q: Text = Field(
        "",
        max_length=100,
        description="Part of the name, or a NIK: whole, or its first 6+ digits for roles that "
        "see whole NIKs. NIK searches are rate-limited per user (429) and logged.",
    )
    kecamatan: Text = Field("", max_length=13)
    kelurahan: Text = Field("", max_length=13)
    occupation: Text = Field("", max_length=40)
    sector: Text = Field("", max_length=20)
    sex: Literal["", "L", "P"] = ""
    vulnerable: bool | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)


def _out(worker: Worker, shown: Shown) -> dict:
    kel = worker.kelurahan
    return {
        "id": worker.pk,
        "nik": shown.nik,
        "nik_masked": shown.nik != worker.nik,
        "full_name": worker.full_name,
        "birth_date": worker.birth_date,
        "sex": worker.sex,
        "kelurahan": kel.code,
        "kelurahan_name": kel.name,
        "kecamatan": kel.parent_id or "",
        "kecamatan_name": kel.parent.name if kel.parent else "",
        "occupation": worker.occupation.code,
        "sector": worker.occupation.sector,
        "phone": shown.phone,
        "welfare_decile": worker.welfare_decile,
        "disability": worker.disability,
        "vulnerable": worker.is_vulnerable,
        "created_at": worker.created_at,
        "updated_at": worker.updated_at,
    }


def _one(request: HttpRequest, worker: Worker) -> dict:
    shown = personal_display(
        user=request.auth,
        workers=[worker],
        action=NikAccessLog.Action.API,
        path=request.path,
    )
    return _out(worker, shown[worker.pk])


def _invalid(e: WorkerInvalid) -> FieldErrors:
    existing = f"/api/v1/workers/{e.existing.pk}" if e.existing is not None else None
    return FieldErrors(e.errors, existing=existing)


def _get(request: HttpRequest, worker_id: int) -> Worker:
    worker = worker_get(user=request.auth, pk=worker_id)
    if worker is None:
        raise Http404(f"Pekerja dengan id {worker_id} tidak ditemukan.")
    return worker


@router.get(
    "/occupations",
    response=list[OccupationOut],
    summary="Occupation catalogue",
    auth=auth_for(VIEW_WORKER),
)
def occupations(request: HttpRequest) -> list:
    return list(occupation_list())


@router.get(
    "/workers", response=WorkerPage, summary="List and search workers", auth=auth_for(VIEW_WORKER)
)
def workers(request: HttpRequest, query: Query[WorkerQuery]) -> dict:
    user = request.auth
    filters = WorkerFilters(
        q=query.q,
        kecamatan=query.kecamatan,
        kelurahan=query.kelurahan,
        occupation=query.occupation,
        sector=query.sector,
        sex=query.sex,
        vulnerable=query.vulnerable,
    )
    if query.q and nik_search_digits(query.q):
        throttle(request, "nik-search")
    qs = worker_list(user=user, filters=filters)  # SearchRefused: a 422 naming the query
    page = list(qs[query.offset : query.offset + query.limit])
    nik_search_log(user=user, q=query.q, workers=page, path=request.path)
    shown = personal_display(
        user=user, workers=page, action=NikAccessLog.Action.API, path=request.path
    )
    return {
        "count": qs.count(),
        "limit": query.limit,
        "offset": query.offset,
        "items": [_out(w, shown[w.pk]) for w in page],
    }


@router.get(
    "/workers/{worker_id}", response=WorkerOut, summary="Get a worker", auth=auth_for(VIEW_WORKER)
)
def worker(request: HttpRequest, worker_id: int = WorkerId) -> dict:
    return _one(request, _get(request, worker_id))


@router.post(
    "/workers", response={201: WorkerSaved}, summary="Register a worker", auth=auth_for(ADD_WORKER)
)
def worker_post(request: HttpRequest, payload: WorkerIn) -> Status:
    user = request.auth
    data = WorkerData(**payload.dict())
    try:
        created = worker_create(data=data, created_by=user, source=Worker.Source.API)
    except WorkerInvalid as e:
        raise _invalid(e) from None
    created = _get(request, created.pk)
    return Status(
        201, {"worker": _one(request, created), "warnings": [p.to_dict() for p in data.warnings]}
    )


def _update(request: HttpRequest, worker_id: int, values: dict) -> dict:
    existing = _get(request, worker_id)
    data = dataclasses.replace(WorkerData.from_worker(existing), **values)
    try:
        worker_update(worker=existing, data=data)
    except WorkerInvalid as e:
        raise _invalid(e) from None
    return {
        "worker": _one(request, _get(request, worker_id)),
        "warnings": [p.to_dict() for p in data.warnings],
    }


@router.put(
    "/workers/{worker_id}",
    response=WorkerSaved,
    summary="Replace a worker's data",
    auth=auth_for(CHANGE_WORKER),
)
def worker_put(request: HttpRequest, payload: WorkerIn, worker_id: int = WorkerId) -> dict:
    return _update(request, worker_id, payload.dict())


@router.patch(
    "/workers/{worker_id}",
    response=WorkerSaved,
    summary="Change some of a worker's data",
    auth=auth_for(CHANGE_WORKER),
)
def worker_patch(request: HttpRequest, payload: WorkerPatch, worker_id: int = WorkerId) -> dict:
    values = {
        k: v
        for k, v in payload.dict(exclude_unset=True).items()
        if v is not None or k == "welfare_decile"
    }
    return _update(request, worker_id, values)


@router.get(
    "/workers/{worker_id}/heirs",
    response=list[HeirOut],
    summary="A worker's heirs",
    auth=auth_for(VIEW_WORKER),
)
def heirs(request: HttpRequest, worker_id: int = WorkerId) -> list:
    user = request.auth
    worker = _get(request, worker_id)
    heirs = list(worker.heirs.all())
    whole = user.has_perm(VIEW_FULL_NIK)
    if whole and any(h.nik for h in heirs):
        # whole heir NIKs are read: logged against the worker they belong to
        nik_display(user=user, workers=[worker], action=NikAccessLog.Action.API, path=request.path)
    return [
        {
            "id": h.pk,
            "full_name": h.full_name,
            "birth_date": h.birth_date,
            "relation": h.relation,
            "sex": h.sex,
            "nik": h.nik if whole or not h.nik else mask_nik(h.nik),
        }
        for h in heirs
    ]


@router.post(
    "/workers/{worker_id}/heirs",
    response={201: HeirOut},
    summary="Add an heir",
    auth=auth_for(CHANGE_WORKER),
)
def heir_post(request: HttpRequest, payload: HeirIn, worker_id: int = WorkerId) -> Status:
    worker = _get(request, worker_id)
    try:
        heir = heir_add(worker=worker, data=HeirData(**payload.dict()))
    except WorkerInvalid as e:
        raise _invalid(e) from None
    return Status(201, heir)


@router.post(
    "/nik/check", response=list[NikCheckOut], summary="Check NIKs", auth=auth_for(CHECK_NIK)
)
def nik_check(request: HttpRequest, payload: NikCheckIn) -> list:
    return [r.to_dict() for r in nik_check_many(payload.niks)]
