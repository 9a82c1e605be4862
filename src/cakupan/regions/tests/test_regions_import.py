"""Region import: built-in Kota Malang, the national list, idempotency, retirement, bad files."""

from __future__ import annotations

import pytest

from cakupan.regions.models import Level, Region
from cakupan.regions.services import (
    RegionImportError,
    parse_region_csv,
    regions_import,
    regions_import_file,
    regions_load_builtin,
)

pytestmark = pytest.mark.django_db


def test_builtin_kota_malang_has_5_kecamatan_and_57_kelurahan() -> None:
    regions_load_builtin()
    kec = Region.objects.filter(parent_id="35.73", level=Level.KECAMATAN)
    assert [k.name for k in kec] == ["Blimbing", "Klojen", "Kedungkandang", "Sukun", "Lowokwaru"]
    kel = Region.objects.filter(code__startswith="35.73.", level=Level.VILLAGE)
    assert kel.count() == 57
    assert Region.objects.get(code="35.73.05.1012").name == "Tasik Madu"
    assert Region.objects.get(code="35.73.01.1011").parent_id == "35.73.01"


def test_builtin_load_is_idempotent() -> None:
    first = regions_load_builtin()
    second = regions_load_builtin()
    # 38 provinces, 514 regencies/cities, Kota Malang's 5 kecamatan and 57 kelurahan
    assert first.created == 38 + 514 + 5 + 57
    assert not second.changed and second.unchanged == first.created
    assert Region.objects.filter(level=1).count() == 38
    assert Region.objects.get(code="96.03").name == "Kabupaten Raja Ampat"


def test_import_renames_retires_and_reactivates() -> None:
    regions_load_builtin()
    rows = parse_region_csv(
        "kode,nama\n35,Jawa Timur\n35.73,Kota Malang\n35.73.05,Lowokwaru Baru\n"
    )
    # Jawa Timur's 38 regencies/cities and Kota Malang's 62 codes are built in: retiring 98 of
    # 101 active codes looks like a partial list, only done when forced
    result = regions_import(rows=rows, source="test", force=True)
    assert result.renamed == 1
    # every other Jawa Timur code known before is missing from this list: retired, not deleted
    assert result.retired == 98
    assert Region.objects.get(code="35.73.01").retired_on is not None
    assert Region.objects.filter(code__startswith="35").count() == 101
    back = regions_import(
        rows=parse_region_csv("kode,nama\n35.73.01,Blimbing\n"), source="t", force=True
    )
    assert back.reactivated == 1 and Region.objects.get(code="35.73.01").retired_on is None


def test_a_partial_list_does_not_retire_the_rest_of_its_province() -> None:
    regions_load_builtin()
    with pytest.raises(RegionImportError) as exc:
        regions_import(rows=parse_region_csv("kode,nama\n35.73,Kota Malang Baru\n"), source="t")
    (problem,) = exc.value.problems
    assert (problem.row, problem.field) == (1, "kode")
    assert "1 dari 101 kode" in problem.message and "35 (Jawa Timur)" in problem.message
    assert "--keep-missing" in problem.message
    # nothing was written: no rename, no retirement
    assert Region.objects.get(code="35.73").name == "Kota Malang"
    assert not Region.objects.filter(retired_on__isnull=False).exists()


def test_retiring_a_few_codes_of_a_full_list_needs_no_force() -> None:
    regions_load_builtin()
    east_java = [r for r in parse_region_csv(_builtin_csv("provinsi_kabkota")) if r[1][:2] == "35"]
    malang = [r for r in parse_region_csv(_builtin_csv()) if r[1] not in {"35", "35.73"}]
    rows = [r for r in east_java + malang if r[1] != "35.73.05.1011"]
    result = regions_import(rows=rows, source="t")
    assert result.retired == 1 and Region.objects.get(code="35.73.05.1011").is_retired


def test_keep_missing_is_not_guarded() -> None:
    regions_load_builtin()
    result = regions_import(
        rows=parse_region_csv("kode,nama\n35.73,Kota Malang\n"), source="t", retire_missing=False
    )
    assert result.retired == 0 and result.unchanged == 1


def _builtin_csv(name: str = "kota_malang") -> str:
    from importlib import resources

    return resources.files("cakupan.regions").joinpath(f"data/{name}.csv").read_text("utf-8")


def test_codes_of_provinces_outside_the_file_are_not_retired() -> None:
    regions_load_builtin()
    jakarta = [r for r in parse_region_csv(_builtin_csv("provinsi_kabkota")) if r[1][:2] == "31"]
    regions_import(rows=jakarta, source="t")
    assert not Region.objects.filter(code__startswith="35", retired_on__isnull=False).exists()


@pytest.mark.parametrize(
    ("text", "row", "field", "fragment"),
    [
        ("nama,x\nA,b\n", 1, "kode", "Kolom 'kode'"),
        ("kode,nama\n35.7,Salah\n", 2, "kode", "tidak sah"),
        ("kode,nama\n35,\n", 2, "nama", "kosong"),
        ("kode,nama\n35,Jawa Timur\n35,Jatim\n", 3, "kode", "baris 2"),
    ],
)
def test_bad_files_name_the_row_and_write_nothing(
    text: str, row: int, field: str, fragment: str
) -> None:
    with pytest.raises(RegionImportError) as exc:
        regions_import(rows=parse_region_csv(text), source="t")
    problem = exc.value.problems[0]
    assert (problem.row, problem.field) == (row, field) and fragment in problem.message
    assert not Region.objects.exists()


def test_orphan_code_aborts_the_whole_import() -> None:
    with pytest.raises(RegionImportError) as exc:
        regions_import(rows=parse_region_csv("kode,nama\n11,Aceh\n99.01,Tanpa Induk\n"), source="t")
    assert exc.value.problems[0].row == 3
    assert not Region.objects.exists()


@pytest.mark.slow
def test_national_list_imports_set_based_and_idempotently(shared_data) -> None:
    regions_load_builtin()
    result = regions_import_file(path=shared_data / "wilayah_kepmendagri_2025.csv")
    assert result.total == 91_599
    assert Region.objects.count() == 91_599
    assert result.created == 91_599 - 614 and result.retired == 0
    assert Region.objects.filter(level=Level.PROVINCE).count() == 38
    again = regions_import_file(path=shared_data / "wilayah_kepmendagri_2025.csv")
    assert not again.changed and again.unchanged == 91_599
