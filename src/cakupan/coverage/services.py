"""Writes on the coverage inputs (docs/coverage.md, "Inputs"): denominators (employed
population), the agency's participant counts and targets, one at a time or from a CSV/XLSX.

Every row names its source and the source's date; a month is stored as its first day; a
region is the city or one of its kecamatan/kelurahan; a target is 0–100%. A file is read with
`contributions.statements.read_columns` (Indonesian headers, English aliases), checked whole,
and written all or nothing: one bad cell and nothing is written, and every bad cell is named
by row and column with its fix. Rows are upserted on their unique keys, so reading the same
file twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cakupan.accounts.models import User
from cakupan.contributions.statements import read_columns
from cakupan.coverage.models import Aggregate, Denominator, Target
from cakupan.errors import Refused
from cakupan.months import MonthInvalid, parse_month
from cakupan.regions.models import Level, Region
from cakupan.regions.selectors import city_code


class InputRefused(Refused):
    pass


SOURCE_COLUMNS: dict[str, tuple[str, ...]] = {
    "source": ("sumber", "source", "sumber_data"),
    "source_date": ("tanggal_sumber", "source_date", "tgl_sumber", "tanggal_terbit"),
    "url": ("tautan", "url", "link"),
    "note": ("catatan", "note", "keterangan", "notes"),
}
REGION_COLUMN = {"region": ("wilayah", "region", "kode_wilayah", "kode", "code", "nama_wilayah")}


@dataclass(frozen=True)
class InputKind:
    """One kind of input: its model, unique key, value fields and file columns."""

    slug: str
    model: type[models.Model]
    key: tuple[str, ...]  # with "region" (region_id)
    values: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    label: Any
    hint: Any


DENOMINATOR = InputKind(
    slug="penyebut",
    model=Denominator,
    key=("region", "period", "split"),
    values=("employed",),
    columns={
        **REGION_COLUMN,
        "period": ("periode", "period", "bulan_survei", "survey_month", "bulan", "month"),
        "split": ("rincian", "split", "kelompok", "group"),
        "employed": ("bekerja", "employed", "penduduk_bekerja", "jumlah_bekerja"),
        **SOURCE_COLUMNS,
    },
    required=("region", "period", "employed", "source", "source_date"),
    label=_("denominators"),
    hint=_(
        "Name the columns wilayah, periode, bekerja, sumber, tanggal_sumber (or region, "
        "period, employed, source, source_date); rincian (split), tautan and catatan are "
        "optional."
    ),
)
AGGREGATE = InputKind(
    slug="peserta",
    model=Aggregate,
    key=("region", "month", "category"),
    values=("participants",),
    columns={
        **REGION_COLUMN,
        "month": ("bulan", "month", "periode", "period"),
        "category": ("kategori", "category", "jenis"),
        "participants": ("peserta", "participants", "peserta_aktif", "jumlah_peserta"),
        **SOURCE_COLUMNS,
    },
    required=("region", "month", "category", "participants", "source", "source_date"),
    label=_("participant counts"),
    hint=_(
        "Name the columns wilayah, bulan, kategori, peserta, sumber, tanggal_sumber (or "
        "region, month, category, participants, source, source_date)."
    ),
)
TARGET = InputKind(
    slug="target",
    model=Target,
    key=("region", "year", "kind"),
    values=("percent",),
    columns={
        **REGION_COLUMN,
        "year": ("tahun", "year"),
        "kind": ("rencana", "kind", "plan", "dokumen"),
        "percent": ("persen", "percent", "target", "target_ucj", "target_persen"),
        **SOURCE_COLUMNS,
    },
    required=("region", "year", "kind", "percent", "source", "source_date"),
    label=_("targets"),
    hint=_(
        "Name the columns wilayah, tahun, rencana, persen, sumber, tanggal_sumber (or region, "
        "year, kind, percent, source, source_date)."
    ),
)
KINDS = {k.slug: k for k in (DENOMINATOR, AGGREGATE, TARGET)}

COLUMN_LABELS = {
    "region": _("region"),
    "period": _("survey month"),
    "month": _("month"),
    "split": _("split"),
    "employed": _("employed population"),
    "category": _("category"),
    "participants": _("active participants"),
    "year": _("year"),
    "kind": _("plan"),
    "percent": _("target UCJ (%)"),
    "source": _("source"),
    "source_date": _("source date"),
    "url": _("link"),
    "note": _("note"),
}

# Words accepted for the choice columns, besides the stored codes.
SPLIT_WORDS = {
    "": "",
    "semua": "",
    "all": "",
    "total": "",
    "male": "male",
    "laki-laki": "male",
    "laki_laki": "male",
    "l": "male",
    "female": "female",
    "perempuan": "female",
    "p": "female",
    "formal": "formal",
    "informal": "informal",
}
CATEGORY_WORDS = {"pu": "pu", "jakon": "jakon", "pmi": "pmi", "ppu": "pu"}
KIND_WORDS = {"rpjmn": "rpjmn", "rpjmd": "rpjmd", "city": "city", "kota": "city"}


# -- one value -------------------------------------------------------------------------------


def city_regions() -> models.QuerySet[Region]:
    """The city and every region below it."""
    city = city_code()
    return Region.objects.filter(Q(code=city) | Q(code__startswith=city + "."))


def _problem(column: str, message: Any) -> InputRefused:
    return InputRefused("input_invalid", message, column)


def check_region(code: str) -> str:
    if not city_regions().filter(code=code).exists():
        raise _problem(
            "region",
            _("Region %(code)s is not the city or one of its kecamatan or kelurahan.")
            % {"code": code},
        )
    return code


def check_month(value: dt.date, column: str) -> dt.date:
    if value.day != 1:
        raise _problem(column, _("A month is stored as its first day; give YYYY-MM."))
    return value


def check_source(source: str, source_date: dt.date | None) -> None:
    if not " ".join((source or "").split()):
        raise _problem("source", _("Name the source: the publication or file it comes from."))
    if source_date is None:
        raise _problem("source_date", _("Give the date of the source."))


def check_percent(percent: Decimal) -> None:
    if not Decimal(0) <= percent <= Decimal(100):
        raise _problem("percent", _("A target is between 0 and 100%."))


def _validate(kind: InputKind, data: dict) -> dict:
    """The checked values of one row (the keys of kind.key + values + source fields)."""
    check_region(data["region"])
    check_source(data.get("source", ""), data.get("source_date"))
    if kind is DENOMINATOR:
        check_month(data["period"], "period")
        if data.get("split", "") not in Denominator.Split.values:
            raise _problem("split", _("Choose the split from the list."))
    elif kind is AGGREGATE:
        check_month(data["month"], "month")
        if data["category"] not in Aggregate.Category.values:
            raise _problem("category", _("The category is pu, jakon or pmi."))
    else:
        check_percent(Decimal(data["percent"]))
        if data["kind"] not in Target.Kind.values:
            raise _problem("kind", _("The plan is rpjmn, rpjmd or city."))
        if not 2000 <= int(data["year"]) <= 2100:
            raise _problem("year", _("Give a year between 2000 and 2100."))
    for value in kind.values:
        if data[value] is None or (not isinstance(data[value], Decimal) and int(data[value]) < 0):
            raise _problem(value, _("Give a number of 0 or more."))
    return data


def _fields(kind: InputKind, data: dict) -> dict:
    values = {("region_id" if k == "region" else k): data[k] for k in (*kind.key, *kind.values)}
    values["source"] = " ".join(data["source"].split())[:200]
    values["source_date"] = data["source_date"]
    values["url"] = data.get("url", "") or ""
    values["note"] = (data.get("note", "") or "")[:300]
    return values


@transaction.atomic
def input_save(
    kind: InputKind, *, data: dict, user: User | None = None, pk: int | None = None
) -> models.Model:
    """Create one input row, or update row `pk`; refused when another row has the same key."""
    if kind is DENOMINATOR:
        data.setdefault("split", "")
    values = _fields(kind, _validate(kind, data))
    try:
        with transaction.atomic():
            if pk is None:
                return kind.model.objects.create(created_by=user, **values)
            row = kind.model.objects.select_for_update().get(pk=pk)
            for k, v in values.items():
                setattr(row, k, v)
            row.save()
            return row
    except IntegrityError:
        raise _problem(
            kind.key[1],
            _("There is already a row for this region and %(what)s; edit that one.")
            % {"what": COLUMN_LABELS[kind.key[1]]},
        ) from None


@transaction.atomic
def input_delete(kind: InputKind, *, pk: int) -> None:
    kind.model.objects.filter(pk=pk).delete()


# -- a file ----------------------------------------------------------------------------------


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[dict] = field(default_factory=list)
    saved: bool = False


_THOUSANDS = re.compile(r"^[0-9]{1,3}([.,][0-9]{3})+$")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y")


def _whole(text: str) -> int | None:
    text = text.replace(" ", "")
    if _THOUSANDS.match(text):
        text = re.sub(r"[.,]", "", text)
    return int(text) if text.isascii() and text.isdigit() else None


def _date(text: str) -> dt.date | None:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _regions_by_name() -> tuple[set[str], dict[str, list[str]]]:
    codes: set[str] = set()
    names: dict[str, list[str]] = {}
    prefixes = {Level.KECAMATAN: ("kecamatan", "kec"), Level.VILLAGE: ("kelurahan", "kel", "desa")}
    for code, name, level in city_regions().values_list("code", "name", "level"):
        codes.add(code)
        plain = " ".join(name.lower().split())
        names.setdefault(plain, []).append(code)
        for prefix in prefixes.get(level, ()):
            names.setdefault(f"{prefix} {plain}", []).append(code)
    return codes, names


def read_inputs(kind: InputKind, path: Path | str, *, original_name: str | None = None):
    return read_columns(
        path,
        kind.columns,
        kind.required,
        original_name=original_name,
        label=lambda c: COLUMN_LABELS.get(c, c),
        hint=kind.hint,
        error=InputRefused,
    )


def _parse_row(kind: InputKind, row: dict, regions: tuple, headers: dict) -> tuple[dict, list]:
    """One file row as values, and its problems (column header as in the file)."""
    codes, names = regions
    out: dict[str, Any] = {}
    problems: list[tuple[str, str, Any]] = []

    def bad(column: str, message: Any) -> None:
        problems.append((headers.get(column, column), row.get(column, ""), message))

    for column in kind.required:
        if not row.get(column):
            bad(column, _("Empty: fill it in."))
    text = row.get("region", "")
    if text:
        key = " ".join(text.lower().replace(".", " ").split())
        if text in codes:
            out["region"] = text
        elif len(names.get(key, [])) == 1:
            out["region"] = names[key][0]
        elif len(names.get(key, [])) > 1:
            bad(
                "region",
                _(
                    "Several regions have this name (%(codes)s): give the code, or write "
                    "Kecamatan or Kelurahan before the name."
                )
                % {"codes": ", ".join(names[key])},
            )
        else:
            bad(
                "region",
                _("Not the city or one of its kecamatan or kelurahan: give a code or name."),
            )
    for column in ("period", "month"):
        if column in kind.columns and row.get(column):
            try:
                out[column] = parse_month(
                    row[column][:7] if len(row[column]) == 10 else row[column]
                )
            except MonthInvalid:
                bad(column, _("Not a month: write YYYY-MM, e.g. 2024-08."))
    if row.get("source_date"):
        if (when := _date(row["source_date"])) is None:
            bad("source_date", _("Not a date: write YYYY-MM-DD or DD/MM/YYYY."))
        out["source_date"] = when
    for column in ("employed", "participants"):
        if column in kind.columns and row.get(column):
            if (n := _whole(row[column])) is None:
                bad(column, _("Not a whole number: write digits only, e.g. 425000."))
            out[column] = n
    if kind is DENOMINATOR:
        split = SPLIT_WORDS.get(row.get("split", "").lower())
        if split is None:
            bad("split", _("Write one of: semua, laki-laki, perempuan, formal, informal."))
        out["split"] = split or ""
    if kind is AGGREGATE and row.get("category"):
        if (cat := CATEGORY_WORDS.get(row["category"].lower())) is None:
            bad("category", _("Write one of: pu, jakon, pmi."))
        out["category"] = cat
    if kind is TARGET:
        if row.get("kind"):
            if (plan := KIND_WORDS.get(row["kind"].lower())) is None:
                bad("kind", _("Write one of: rpjmn, rpjmd, kota."))
            out["kind"] = plan
        if row.get("year"):
            year = _whole(row["year"])
            if year is None or not 2000 <= year <= 2100:
                bad("year", _("Write a year between 2000 and 2100."))
            out["year"] = year
        if row.get("percent"):
            try:
                percent = Decimal(row["percent"].replace("%", "").replace(",", ".").strip())
            except InvalidOperation:
                percent = None
            if percent is None or not Decimal(0) <= percent <= Decimal(100):
                bad("percent", _("Write a percentage between 0 and 100, e.g. 72,5."))
            else:
                out["percent"] = percent.quantize(Decimal("0.01"))
    for column in ("source", "url", "note"):
        out[column] = row.get(column, "")
    if len(out.get("source", "")) > 200:
        bad("source", _("At most 200 characters."))
    return out, problems


def input_import(
    kind: InputKind,
    path: Path | str,
    *,
    original_name: str | None = None,
    user: User | None = None,
    check_only: bool = False,
) -> ImportResult:
    """Read a file of inputs, check every row and write them all, or none when any is bad."""
    frame = read_inputs(kind, path, original_name=original_name)
    raw_headers = {}
    for header in read_inputs_headers(kind, path, original_name=original_name):
        raw_headers.setdefault(header[1], header[0])
    regions = _regions_by_name()
    result = ImportResult()
    parsed: dict[tuple, tuple[int, dict]] = {}
    for row in frame.iter_rows(named=True):
        cells = {c: row[c] for c in kind.columns}
        if not any(cells.values()):
            continue
        result.rows += 1
        values, problems = _parse_row(kind, cells, regions, raw_headers)
        for column, value, message in problems:
            result.problems.append(
                {"row": row["_row"], "column": column, "value": value, "problem": message}
            )
        if problems:
            continue
        key = tuple(values[k] for k in kind.key)
        if key in parsed:
            result.problems.append(
                {
                    "row": row["_row"],
                    "column": raw_headers.get("region", "region"),
                    "value": cells["region"],
                    "problem": _("Same region and period as row %(row)s: keep one of them.")
                    % {"row": parsed[key][0]},
                }
            )
            continue
        parsed[key] = (row["_row"], values)
    if result.problems or check_only:
        return result
    _upsert(kind, [v for _r, v in parsed.values()], user, result)
    result.saved = True
    return result


def read_inputs_headers(kind: InputKind, path: Path | str, *, original_name: str | None = None):
    """(header as in the file, column) pairs, to name a bad cell's column as the user wrote it."""
    from cakupan.membership.imports import read_table
    from cakupan.membership.imports.read import header_key

    for header in read_table(path, original_name=original_name).columns:
        key = header_key(header)
        for column, names in kind.columns.items():
            if key in names:
                yield header, column


@transaction.atomic
def _upsert(kind: InputKind, rows: list[dict], user: User | None, result: ImportResult) -> None:
    """Insert the new keys and update the changed rows; one read of the existing rows."""
    regions = {r["region"] for r in rows}
    existing = {
        tuple(getattr(o, "region_id" if k == "region" else k) for k in kind.key): o
        for o in kind.model.objects.select_for_update().filter(region_id__in=regions)
    }
    new, changed = [], []
    now = timezone.now()
    compared = (*kind.values, "source", "source_date", "url", "note")
    for data in rows:
        values = _fields(kind, data)
        key = tuple(data[k] for k in kind.key)
        row = existing.get(key)
        if row is None:
            new.append(kind.model(created_by=user, **values))
        elif any(getattr(row, k) != values[k] for k in compared):
            for k in compared:
                setattr(row, k, values[k])
            row.updated_at = now
            changed.append(row)
        else:
            result.unchanged += 1
    kind.model.objects.bulk_create(new)
    kind.model.objects.bulk_update(changed, [*compared, "updated_at"])
    result.created, result.updated = len(new), len(changed)
