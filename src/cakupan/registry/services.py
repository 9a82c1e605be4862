"""Writes on the registry: workers, heirs, the occupation catalogue and the NIK access log."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cakupan.accounts.models import User
from cakupan.accounts.roles import VIEW_FULL_NIK, VIEW_FULL_PHONE
from cakupan.digits import ascii_digits
from cakupan.regions.models import Level, Region
from cakupan.registry.models import Heir, NikAccessLog, Occupation, Worker
from cakupan.registry.names import name_problem
from cakupan.registry.nik import NikProblem, is_nik_shaped, mask_nik, normalise_nik
from cakupan.registry.phones import is_valid_phone, mask_phone, normalise_phone
from cakupan.registry.selectors import nik_check, nik_search_digits
from cakupan.rules.inputs import age_on

# Which form field a NIK problem belongs to, so a message stands next to what must change.
_PROBLEM_FIELD = {"sex_mismatch": "sex", "birth_date_mismatch": "birth_date"}


class WorkerInvalid(Exception):
    """Field errors (Indonesian messages naming the fix); nothing was written."""

    def __init__(self, errors: dict[str, list[str]], *, existing: Worker | None = None):
        self.errors = errors
        self.existing = existing
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


@dataclass
class WorkerData:
    nik: str
    full_name: str
    birth_date: dt.date
    sex: str
    kelurahan: str  # region code of the kelurahan/desa
    occupation: str  # occupation code
    phone: str = ""
    welfare_decile: int | None = None
    disability: str = ""
    warnings: list[NikProblem] = field(default_factory=list)

    @classmethod
    def from_worker(cls, worker: Worker) -> WorkerData:
        """The data as stored, to edit: form initial values, or the base of a partial update."""
        return cls(
            nik=worker.nik,
            full_name=worker.full_name,
            birth_date=worker.birth_date,
            sex=worker.sex,
            kelurahan=worker.kelurahan_id,
            occupation=worker.occupation.code,
            phone=worker.phone,
            welfare_decile=worker.welfare_decile,
            disability=worker.disability,
        )


def worker_validate(*, data: WorkerData, instance: Worker | None = None) -> dict[str, list[str]]:
    """Every problem with a worker's data, by field; fills data.warnings with NIK warnings."""
    errors: dict[str, list[str]] = {}

    def err(fld: str, msg: str) -> None:
        errors.setdefault(fld, []).append(msg)

    # Whatever the caller passed, only ASCII digits are checked and stored (see cakupan.digits).
    data.nik = normalise_nik(data.nik)
    data.kelurahan = ascii_digits(str(data.kelurahan or "")).strip()
    data.welfare_decile = _decile(data.welfare_decile, err)
    data.full_name = " ".join(str(data.full_name or "").split())
    if not data.full_name:
        err("full_name", "Nama lengkap wajib diisi, sesuai KTP.")
    elif len(data.full_name) > 150:
        err("full_name", "Nama lengkap paling panjang 150 karakter.")
    elif problem := name_problem(data.full_name):
        err("full_name", problem)
    min_age = getattr(settings, "CAKUPAN_WORKER_MIN_AGE", 15)
    if not isinstance(data.birth_date, dt.date):
        err("birth_date", "Tanggal lahir wajib diisi, mis. 1990-03-12.")
        data.birth_date = None
    check = nik_check(data.nik, sex=data.sex or None, birth_date=data.birth_date, min_age=min_age)
    data.warnings = [p for p in check.problems if p.severity == "warning"]
    for p in check.errors:
        err(_PROBLEM_FIELD.get(p.code, "nik"), p.message)
    today = timezone.localdate()
    if data.birth_date and data.birth_date > today:
        err("birth_date", "Tanggal lahir tidak boleh di masa depan.")
    elif data.birth_date and age_on(data.birth_date, today) < min_age:
        err("birth_date", f"Pekerja harus berusia minimal {min_age} tahun.")
    if data.sex not in ("L", "P"):
        err("sex", "Pilih jenis kelamin: L (laki-laki) atau P (perempuan).")
    region = Region.objects.filter(code=data.kelurahan).only("level", "retired_on").first()
    if region is None or region.level != Level.VILLAGE:
        err(
            "kelurahan", f"Kelurahan '{data.kelurahan}' tidak dikenal. Pilih kelurahan dari daftar."
        )
    elif region.retired_on is not None:
        err(
            "kelurahan",
            f"Kelurahan {data.kelurahan} sudah tidak berlaku. Pilih kelurahan yang berlaku.",
        )
    if not Occupation.objects.filter(code=data.occupation, active=True).exists():
        err("occupation", f"Pekerjaan '{data.occupation}' tidak ada di katalog. Pilih dari daftar.")
    if data.phone:
        phone = normalise_phone(data.phone)
        if not is_valid_phone(phone):
            err("phone", "Nomor HP tidak sah. Contoh yang benar: 081234567890.")
        else:
            data.phone = phone
    if data.welfare_decile is not None and not 1 <= data.welfare_decile <= 10:
        err("welfare_decile", _DECILE_MSG)
    return errors


_DECILE_MSG = "Desil kesejahteraan harus 1 sampai 10 (kosongkan bila tidak tahu)."


def _decile(value: object, err: Callable[[str, str], None]) -> int | None:
    """The welfare decile as an int, whatever a caller passed ('３' from a form included)."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = ascii_digits(str(value)).strip()
    if text.isascii() and text.isdigit() and len(text) <= 2:
        return int(text)
    err("welfare_decile", _DECILE_MSG)
    return None


def _duplicate(nik: str, exclude_pk: int | None) -> Worker | None:
    qs = Worker.objects.filter(nik=nik)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.first()


_DUPLICATE_MSG = (
    "NIK {nik} sudah terdaftar atas nama {name}. Buka data pekerja itu, jangan mendaftar dua kali."
)


@transaction.atomic
def worker_create(
    *, data: WorkerData, created_by: User | None = None, source: str = Worker.Source.MANUAL
) -> Worker:
    errors = worker_validate(data=data)
    existing = _duplicate(data.nik, None) if "nik" not in errors else None
    if existing:
        errors.setdefault("nik", []).append(
            _DUPLICATE_MSG.format(nik=data.nik, name=existing.full_name)
        )
    if errors:
        raise WorkerInvalid(errors, existing=existing)
    worker = Worker(
        nik=data.nik,
        full_name=data.full_name,
        birth_date=data.birth_date,
        sex=data.sex,
        kelurahan_id=data.kelurahan,
        occupation=Occupation.objects.get(code=data.occupation),
        phone=data.phone,
        welfare_decile=data.welfare_decile,
        disability=data.disability or "",
        source=source,
        created_by=created_by,
    )
    try:
        # A savepoint: a concurrent insert of the same NIK becomes a field error, not a 500.
        with transaction.atomic():
            worker.save()
    except IntegrityError:
        existing = _duplicate(data.nik, None)
        raise WorkerInvalid(
            {
                "nik": [
                    _DUPLICATE_MSG.format(
                        nik=data.nik, name=existing.full_name if existing else "?"
                    )
                ]
            },
            existing=existing,
        ) from None
    return worker


@transaction.atomic
def worker_update(*, worker: Worker, data: WorkerData) -> Worker:
    errors = worker_validate(data=data, instance=worker)
    existing = _duplicate(data.nik, worker.pk) if "nik" not in errors else None
    if existing:
        errors.setdefault("nik", []).append(
            _DUPLICATE_MSG.format(nik=data.nik, name=existing.full_name)
        )
    if errors:
        raise WorkerInvalid(errors, existing=existing)
    worker.nik = data.nik
    worker.full_name = data.full_name
    worker.birth_date = data.birth_date
    worker.sex = data.sex
    worker.kelurahan_id = data.kelurahan
    worker.occupation = Occupation.objects.get(code=data.occupation)
    worker.phone = data.phone
    worker.welfare_decile = data.welfare_decile
    worker.disability = data.disability or ""
    worker.save()
    return worker


@dataclass
class HeirData:
    full_name: str
    birth_date: dt.date
    relation: str
    nik: str = ""
    sex: str = ""


@transaction.atomic
def heir_add(*, worker: Worker, data: HeirData) -> Heir:
    errors: dict[str, list[str]] = {}
    name = " ".join((data.full_name or "").split())
    if not name:
        errors["full_name"] = ["Nama ahli waris wajib diisi."]
    elif problem := name_problem(name):
        errors["full_name"] = [problem]
    if data.relation not in Heir.Relation.values:
        errors["relation"] = ["Pilih hubungan keluarga dari daftar."]
    if data.birth_date and data.birth_date > timezone.localdate():
        errors["birth_date"] = ["Tanggal lahir tidak boleh di masa depan."]
    nik = normalise_nik(data.nik)
    if nik:
        check = nik_check(nik, sex=data.sex or None, birth_date=data.birth_date, min_age=0)
        for p in check.errors:
            errors.setdefault(_PROBLEM_FIELD.get(p.code, "nik"), []).append(p.message)
        if nik == worker.nik:
            errors.setdefault("nik", []).append("NIK ahli waris sama dengan NIK pekerja.")
    if errors:
        raise WorkerInvalid(errors)
    return Heir.objects.create(
        worker=worker,
        full_name=name,
        nik=nik,
        birth_date=data.birth_date,
        sex=data.sex or "",
        relation=data.relation,
    )


@transaction.atomic
def heir_remove(*, heir: Heir) -> None:
    heir.delete()


@dataclass(frozen=True)
class Shown:
    """A worker's NIK and phone as one user may see them (whole or masked)."""

    nik: str
    phone: str


def personal_display(
    *,
    user: User,
    workers: Iterable[Worker],
    action: str,
    path: str = "",
    nik_masked: bool = False,
) -> dict[int, Shown]:
    """The NIK and phone each worker should be shown with: whole for users with the right,
    masked for the others. Every display of a whole NIK or phone is written to the access log,
    in one bulk insert whatever the number of workers. `nik_masked`: the NIK masked whatever
    the user's right (an outreach list needs the phone, not the NIK)."""
    workers = list(workers)
    whole_nik = user.has_perm(VIEW_FULL_NIK) and not nik_masked
    whole_phone = user.has_perm(VIEW_FULL_PHONE)
    fields = ",".join(f for f, whole in (("nik", whole_nik), ("phone", whole_phone)) if whole)
    if fields:
        NikAccessLog.objects.bulk_create(
            [
                NikAccessLog(user=user, worker=w, action=action, path=path[:300], fields=fields)
                for w in workers
                if whole_nik or w.phone
            ],
            batch_size=2000,
        )
    return {
        w.pk: Shown(
            nik=w.nik if whole_nik else mask_nik(w.nik),
            phone=w.phone if whole_phone else mask_phone(w.phone),
        )
        for w in workers
    }


def nik_display(
    *, user: User, workers: Iterable[Worker], action: str, path: str = ""
) -> dict[int, str]:
    """The NIK each worker should be shown with (see `personal_display`, which logs)."""
    return {
        pk: shown.nik
        for pk, shown in personal_display(
            user=user, workers=workers, action=action, path=path
        ).items()
    }


def nik_search_log(*, user: User, q: str, workers: Iterable[Worker], path: str = "") -> None:
    """A search by NIK that found workers is written to the access log, one row per worker."""
    if q and nik_search_digits(q):
        access_log_write(user=user, action=NikAccessLog.Action.SEARCH, workers=workers, path=path)


def access_log_write(
    *, user: User | None, action: str, workers: Iterable[Worker | None], path: str = ""
) -> None:
    """Record that `user` reached these workers without a whole NIK being shown: a NIK search
    that found them, or a protection check at a hospital desk (None: the NIK found nobody).
    An anonymous user (a scanned membership card, no login) is recorded as no user."""
    if user is not None and not user.is_authenticated:
        user = None
    NikAccessLog.objects.bulk_create(
        [NikAccessLog(user=user, worker=w, action=action, path=path[:300]) for w in workers],
        batch_size=2000,
    )


@dataclass(frozen=True)
class AccessLogEntry:
    """One access-log row waiting to be written: who reached which worker (None: nobody found),
    how, where and when (the time of the call, not of the write)."""

    user_id: int | None
    worker_id: int | None
    action: str
    path: str
    at: dt.datetime


def access_log_write_entries(entries: list[AccessLogEntry]) -> None:
    """Write many access-log rows in one transaction (one commit, one wait for the disk),
    keeping each row's own time: `bulk_create` would stamp them all with the time of the
    write (the field is auto_now_add). On PostgreSQL the rows go in by COPY: the lean verify
    path's writer thread (registry.accesslog) shares its process's interpreter lock with the
    threads answering requests, and psycopg's executemany held it 28–40 µs a row (COPY: 13,
    measured back to back)."""
    if not entries:
        return
    meta = NikAccessLog._meta
    columns = [meta.get_field(f).column for f in ("user", "worker", "action", "fields", "at")]
    columns.append(meta.get_field("path").column)
    quote = connection.ops.quote_name
    table, names = quote(meta.db_table), ", ".join(quote(c) for c in columns)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for e in entries:
                    copy.write_row((e.user_id, e.worker_id, e.action, "", e.at, e.path[:300]))
            return
        adapt = connection.ops.adapt_datetimefield_value
        rows = [(e.user_id, e.worker_id, e.action, "", adapt(e.at), e.path[:300]) for e in entries]
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * 6)})"
        cursor.executemany(sql, rows)


@dataclass
class StoredNikRepair:
    """What `stored_niks_normalise` did: NIKs rewritten as ASCII, and the workers it left."""

    workers_fixed: int = 0
    heirs_fixed: int = 0
    # (worker id, name, its NIK as stored, id of the worker already holding the ASCII NIK)
    twins: list[tuple[int, str, str, int]] = field(default_factory=list)
    # (worker id, name, its NIK as stored): not 16 digits even after normalising
    unreadable: list[tuple[int, str, str]] = field(default_factory=list)


# Matched by SQLite (through Django's REGEXP function, fine in a query) and by PostgreSQL's ~;
# [0-9] is by code point in both, so a full-width digit does not match.
_STORED_SHAPE = r"^[0-9]{16}$"


@transaction.atomic
def stored_niks_normalise(
    *, worker_model: type = Worker, heir_model: type = Heir
) -> StoredNikRepair:
    """Rewrite NIKs stored with non-ASCII digits (written before `normalise_nik` read them as
    ASCII) in ASCII, for workers and heirs. A worker whose ASCII NIK is already held by another
    worker is the same person registered twice: it is left as it is and listed in `twins`, for
    an officer to merge by hand (memberships, funding and heirs may hang on either record, and
    which of them is right is a judgement). Idempotent; the models are parameters so that the
    data migration can pass its historical ones."""
    repair = StoredNikRepair()
    odd = worker_model.objects.exclude(nik__regex=_STORED_SHAPE).order_by("pk")
    for pk, name, stored in odd.values_list("pk", "full_name", "nik"):
        nik = normalise_nik(stored)
        if not is_nik_shaped(nik):
            repair.unreadable.append((pk, name, stored))
            continue
        holder = worker_model.objects.filter(nik=nik).values_list("pk", flat=True).first()
        if holder is not None:
            repair.twins.append((pk, name, stored, holder))
            continue
        worker_model.objects.filter(pk=pk).update(nik=nik)
        repair.workers_fixed += 1
    heirs = heir_model.objects.exclude(nik="").exclude(nik__regex=_STORED_SHAPE)
    for pk, stored in heirs.values_list("pk", "nik"):
        nik = normalise_nik(stored)
        if nik != stored and is_nik_shaped(nik):
            heir_model.objects.filter(pk=pk).update(nik=nik)
            repair.heirs_fixed += 1
    return repair


def nik_constraints_validate() -> None:
    """On PostgreSQL, mark the NIK CHECK constraints valid for the old rows too, once nothing
    violates them (migration 0004 adds them NOT VALID when twins were left). SQLite checks
    a CHECK constraint on every write and has nothing to mark."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Worker, Heir):
            for constraint in model._meta.constraints:
                if not model.objects.exclude(constraint.condition).exists():
                    cursor.execute(
                        f"ALTER TABLE {connection.ops.quote_name(model._meta.db_table)} "
                        f"VALIDATE CONSTRAINT {connection.ops.quote_name(constraint.name)}"
                    )


@transaction.atomic
def occupations_load_builtin() -> int:
    """Create or update the built-in occupation catalogue; returns how many rows it holds."""
    text = resources.files("cakupan.registry").joinpath("data/occupations.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    existing = {o.code: o for o in Occupation.objects.all()}
    new, changed = [], []
    for r in rows:
        values = {
            "name": r["name_id"],
            "name_en": r["name_en"],
            "sector": r["sector"],
            "vulnerable": r["vulnerable"] == "1",
            "aliases": r["aliases"],
        }
        if r["code"] not in existing:
            # The accident risk is the operator's to change (admin): set only on creation.
            new.append(Occupation(code=r["code"], accident_risk=int(r["accident_risk"]), **values))
        else:
            o = existing[r["code"]]
            if any(getattr(o, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(o, k, v)
                changed.append(o)
    Occupation.objects.bulk_create(new)
    Occupation.objects.bulk_update(changed, ["name", "name_en", "sector", "vulnerable", "aliases"])
    return len(rows)
