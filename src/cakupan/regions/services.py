"""Writes on the region tree: the built-in Kota Malang list and the official list import."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from cakupan.regions.codes import is_valid_code, level_of, parent_of
from cakupan.regions.models import Region

BUILTIN_SOURCE = "Kepmendagri 300.2.2-2138/2025 (bawaan cakupan)"
_BATCH = 5000
# A list that would retire more than this share of a province's active codes is taken to be
# partial (a single city, say), not a newer official list: the import stops unless forced.
RETIRE_LIMIT = 0.05


@dataclass
class RegionProblem:
    row: int
    field: str
    message: str


class RegionImportError(Exception):
    """The file cannot be imported; nothing was written. Carries every problem found."""

    def __init__(self, problems: list[RegionProblem]):
        self.problems = problems
        super().__init__(f"{len(problems)} masalah pada berkas wilayah")


@dataclass
class RegionImportResult:
    created: int = 0
    renamed: int = 0
    unchanged: int = 0
    retired: int = 0
    reactivated: int = 0
    total: int = 0
    problems: list[RegionProblem] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.renamed or self.retired or self.reactivated)


def parse_region_csv(text: str) -> list[tuple[int, str, str]]:
    """Rows (row number, code, name) of a `kode,nama` CSV; raises RegionImportError listing
    every problem (row numbers count the header as row 1, as a spreadsheet shows them)."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(reader, [])]
    problems: list[RegionProblem] = []
    aliases = {"kode": {"kode", "code", "kode_wilayah"}, "nama": {"nama", "name", "nama_wilayah"}}
    idx: dict[str, int] = {}
    for key, names in aliases.items():
        found = [i for i, h in enumerate(header) if h in names]
        if not found:
            problems.append(
                RegionProblem(
                    1, key, f"Kolom '{key}' tidak ada. Baris pertama harus berisi: kode,nama"
                )
            )
        else:
            idx[key] = found[0]
    if problems:
        raise RegionImportError(problems)
    rows: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    for n, rec in enumerate(reader, start=2):
        if not rec or all(not c.strip() for c in rec):
            continue
        code = rec[idx["kode"]].strip() if len(rec) > idx["kode"] else ""
        name = rec[idx["nama"]].strip() if len(rec) > idx["nama"] else ""
        if not is_valid_code(code):
            problems.append(
                RegionProblem(
                    n,
                    "kode",
                    f"Kode '{code}' tidak sah. Bentuk yang benar: 35, 35.73, 35.73.05 atau 35.73.05.1011",
                )
            )
            continue
        if not name:
            problems.append(
                RegionProblem(n, "nama", f"Nama untuk kode {code} kosong. Isi nama wilayahnya.")
            )
            continue
        if code in seen:
            problems.append(
                RegionProblem(
                    n, "kode", f"Kode {code} sudah ada di baris {seen[code]}. Hapus salah satunya."
                )
            )
            continue
        seen[code] = n
        rows.append((n, code, name))
    if problems:
        raise RegionImportError(problems)
    return rows


@transaction.atomic
def regions_import(
    *,
    rows: Iterable[tuple[int, str, str]],
    source: str,
    retire_missing: bool = True,
    force: bool = False,
) -> RegionImportResult:
    """Upsert regions set-based; codes of the covered provinces missing from the list are retired.

    Idempotent: importing the same list twice changes nothing the second time. All or nothing:
    a row whose parent is neither in the list nor in the database aborts the whole import, and
    so does a list that would retire more than 5% of its provinces' active codes, unless `force`.
    """
    rows = list(rows)
    existing = {
        r[0]: (r[1], r[2]) for r in Region.objects.values_list("code", "name", "retired_on")
    }
    incoming = {code: (n, name) for n, code, name in rows}
    problems = [
        RegionProblem(
            n,
            "kode",
            f"Induk {parent_of(code)} dari kode {code} tidak ada di berkas maupun di basis data.",
        )
        for n, code, _name in rows
        if (p := parent_of(code)) is not None and p not in incoming and p not in existing
    ]
    if problems:
        raise RegionImportError(problems)
    gone: list[str] = []
    if retire_missing:
        provinces = {code.split(".", 1)[0] for code in incoming}
        active = [
            code
            for code, (_name, retired_on) in existing.items()
            if retired_on is None and code.split(".", 1)[0] in provinces
        ]
        gone = [code for code in active if code not in incoming]
        if not force and len(gone) > RETIRE_LIMIT * len(active):
            raise RegionImportError([_partial_list_problem(active, gone, existing)])

    result = RegionImportResult(total=len(rows))
    new: list[Region] = []
    renamed: list[Region] = []
    reactivate: list[str] = []
    for _n, code, name in sorted(rows, key=lambda r: (level_of(r[1]), r[1])):
        if code not in existing:
            new.append(
                Region(
                    code=code,
                    name=name,
                    level=level_of(code),
                    parent_id=parent_of(code),
                    source=source,
                )
            )
            continue
        old_name, retired_on = existing[code]
        if old_name != name:
            renamed.append(Region(code=code, name=name, source=source))
        if retired_on is not None:
            reactivate.append(code)
        if old_name == name and retired_on is None:
            result.unchanged += 1
    Region.objects.bulk_create(new, batch_size=_BATCH)
    Region.objects.bulk_update(renamed, ["name", "source"], batch_size=_BATCH)
    for chunk in _chunks(reactivate):
        Region.objects.filter(code__in=chunk).update(retired_on=None)
    result.created, result.renamed, result.reactivated = len(new), len(renamed), len(reactivate)

    today = timezone.localdate()
    for chunk in _chunks(gone):
        Region.objects.filter(code__in=chunk).update(retired_on=today)
    result.retired = len(gone)
    return result


def _partial_list_problem(
    active: list[str], gone: list[str], existing: dict[str, tuple[str, object]]
) -> RegionProblem:
    covered = sorted({c.split(".", 1)[0] for c in active})
    names = ", ".join(f"{p} ({existing[p][0]})" if p in existing else p for p in covered)
    return RegionProblem(
        1,
        "kode",
        f"Berkas hanya memuat {len(active) - len(gone)} dari {len(active)} kode aktif yang "
        f"dikenal untuk provinsi {names}; {len(gone)} kode lainnya akan dipensiunkan. "
        "Gunakan daftar resmi Kemendagri yang lengkap, atau --keep-missing agar kode yang tidak "
        "ada di berkas tidak dipensiunkan (--force-retire bila memang harus dipensiunkan).",
    )


def regions_import_file(*, path: Path, source: str | None = None) -> RegionImportResult:
    text = Path(path).read_text(encoding="utf-8-sig")
    return regions_import(rows=parse_region_csv(text), source=source or Path(path).name)


# Built in: every province and regency/city of Indonesia (generated from the official list by
# scripts/generate_builtin_regions.py), then Kota Malang down to its kelurahan.
BUILTIN_FILES = ("data/provinsi_kabkota.csv", "data/kota_malang.csv")


def regions_load_builtin() -> RegionImportResult:
    """Load the built-in regions without retiring anything the operator imported."""
    rows: dict[str, tuple[int, str, str]] = {}
    for name in BUILTIN_FILES:
        text = resources.files("cakupan.regions").joinpath(name).read_text("utf-8")
        rows.update((code, (n, code, region)) for n, code, region in parse_region_csv(text))
    return regions_import(rows=rows.values(), source=BUILTIN_SOURCE, retire_missing=False)


def _chunks(items: list[str], size: int = 900) -> Iterable[list[str]]:
    # 900 keeps an IN (...) list under SQLite's default variable limit on old builds.
    for i in range(0, len(items), size):
        yield items[i : i + size]
