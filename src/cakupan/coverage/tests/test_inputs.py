"""Coverage inputs: one row at a time with its source, and files read all or nothing, naming
the row and column of every bad cell, and read twice without changing anything."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cakupan.coverage.models import Aggregate, Denominator, Target
from cakupan.coverage.services import (
    AGGREGATE,
    DENOMINATOR,
    TARGET,
    InputRefused,
    input_delete,
    input_import,
    input_save,
)
from cakupan.coverage.tests.conftest import client_as

SOURCE = {"source": "BPS Sakernas Agustus 2024", "source_date": dt.date(2024, 11, 5)}


def write(tmp_path, text: str, name: str = "masukan.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_save_update_and_delete_a_denominator(malang) -> None:
    row = input_save(
        DENOMINATOR,
        data={"region": "35.73", "period": dt.date(2024, 8, 1), "employed": 450_000, **SOURCE},
    )
    assert (row.region_id, row.split, row.employed) == ("35.73", "", 450_000)
    input_save(
        DENOMINATOR,
        data={"region": "35.73", "period": dt.date(2024, 8, 1), "employed": 451_000, **SOURCE},
        pk=row.pk,
    )
    assert Denominator.objects.get().employed == 451_000
    with pytest.raises(InputRefused) as refused:
        input_save(
            DENOMINATOR,
            data={"region": "35.73", "period": dt.date(2024, 8, 1), "employed": 1, **SOURCE},
        )
    assert refused.value.field == "period"
    input_delete(DENOMINATOR, pk=row.pk)
    assert not Denominator.objects.exists()


@pytest.mark.parametrize(
    ("kind", "data", "field"),
    [
        # Surabaya is not Kota Malang or below it
        (DENOMINATOR, {"region": "35.78", "period": dt.date(2024, 8, 1), "employed": 1}, "region"),
        (DENOMINATOR, {"region": "35.73", "period": dt.date(2024, 8, 5), "employed": 1}, "period"),
        (
            AGGREGATE,
            {"region": "35.73", "month": dt.date(2026, 10, 1), "category": "pu",
             "participants": 5, "source": " ", "source_date": dt.date(2026, 11, 1)},
            "source",
        ),
        (
            AGGREGATE,
            {"region": "35.73", "month": dt.date(2026, 10, 1), "category": "pu",
             "participants": 5, "source": "BPJS", "source_date": None},
            "source_date",
        ),
        (TARGET, {"region": "35.73", "year": 2029, "kind": "rpjmd", "percent": Decimal("100.5")}, "percent"),
    ],
)  # fmt: skip
def test_a_row_is_refused_on_its_field(malang, kind, data, field) -> None:
    with pytest.raises(InputRefused) as refused:
        input_save(kind, data={**SOURCE, **data})
    assert refused.value.field == field
    assert not kind.model.objects.exists()


def test_a_file_of_denominators_read_twice_changes_nothing(malang, tmp_path) -> None:
    path = write(
        tmp_path,
        "wilayah,periode,rincian,bekerja,sumber,tanggal_sumber\n"
        "35.73,2024-08,,452.310,BPS Sakernas Agustus 2024,05/11/2024\n"
        "Kecamatan Lowokwaru,2024-08,,98500,BPS Sakernas Agustus 2024,2024-11-05\n"
        "35.73,2024-08,perempuan,190000,BPS Sakernas Agustus 2024,2024-11-05\n",
    )
    first = input_import(DENOMINATOR, path)
    assert first.saved and (first.rows, first.created, first.updated) == (3, 3, 0)
    city = Denominator.objects.get(region_id="35.73", split="")
    assert city.employed == 452_310 and city.source_date == dt.date(2024, 11, 5)
    # by name: Lowokwaru is a kecamatan and one of its kelurahan
    assert Denominator.objects.get(region_id="35.73.05").employed == 98_500
    stamp = city.updated_at
    again = input_import(DENOMINATOR, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert Denominator.objects.count() == 3
    assert Denominator.objects.get(pk=city.pk).updated_at == stamp
    # a corrected figure updates its row only
    path.write_text(path.read_text().replace("98500", "98600"))
    fixed = input_import(DENOMINATOR, path)
    assert (fixed.created, fixed.updated, fixed.unchanged) == (0, 1, 2)


def test_english_headers_for_counts_and_targets(malang, tmp_path) -> None:
    counts = write(
        tmp_path,
        "region,month,category,participants,source,source_date\n"
        "35.73,2026-10,PU,120000,BPJS Ketenagakerjaan Cabang Malang,2026-11-20\n",
    )
    assert input_import(AGGREGATE, counts).created == 1
    assert Aggregate.objects.get().participants == 120_000
    targets = write(
        tmp_path,
        "wilayah;tahun;rencana;persen;sumber;tanggal_sumber\n"
        "35.73;2029;RPJMD;72,5;RPJMD Kota Malang 2025-2029;01/07/2025\n",
        name="target.csv",
    )
    assert input_import(TARGET, targets).created == 1
    assert Target.objects.get().percent == Decimal("72.50")


def test_a_bad_file_writes_nothing_and_names_row_and_column(malang, tmp_path) -> None:
    path = write(
        tmp_path,
        "Wilayah,Periode,Bekerja,Sumber,Tanggal Sumber\n"
        "35.73,2024-08,450000,BPS,2024-11-05\n"
        "Atlantis,2024-08,1000,BPS,2024-11-05\n"
        "Lowokwaru,2024-08,1000,BPS,2024-11-05\n"
        "35.73.05,Agustus 2024,banyak,,2024-11-05\n"
        "35.73,2024-08,450000,BPS,2024-11-05\n",
    )
    result = input_import(DENOMINATOR, path)
    assert not result.saved and not Denominator.objects.exists()
    found = {(p["row"], p["column"]) for p in result.problems}
    assert found == {
        (3, "Wilayah"),
        (4, "Wilayah"),  # a kecamatan and a kelurahan
        (5, "Periode"),
        (5, "Bekerja"),
        (5, "Sumber"),
        (6, "Wilayah"),  # the same region and period as row 2
    }
    assert all(str(p["problem"]) for p in result.problems)


def test_a_file_without_a_required_column_is_refused(malang, tmp_path) -> None:
    path = write(tmp_path, "wilayah,periode,bekerja\n35.73,2024-08,1\n")
    with pytest.raises(InputRefused) as refused:
        input_import(DENOMINATOR, path)
    assert refused.value.field == "file"
    assert "tanggal_sumber" in str(refused.value.message)


# -- pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("bpjs_officer", 200), ("city_officer", 200), ("sponsor", 403), ("hospital", 403)],
)
def test_input_pages_per_role(malang, make_user, role, status) -> None:
    client = client_as(make_user, role)
    for url in (
        "/cakupan/masukan/",
        "/cakupan/masukan/penyebut/baru/",
        "/cakupan/masukan/target/unggah/",
    ):
        assert client.get(url).status_code == status


def test_add_edit_and_delete_on_the_pages(malang, make_user) -> None:
    client = client_as(make_user, "city_officer")
    form = {
        "region": "35.73",
        "year": "2029",
        "kind": "rpjmd",
        "percent": "72,5",
        "source": "RPJMD Kota Malang 2025-2029",
        "source_date": "2025-07-01",
    }
    assert client.post("/cakupan/masukan/target/baru/", form).status_code == 302
    target = Target.objects.get()
    assert target.percent == Decimal("72.50") and target.created_by.role == "city_officer"
    listing = client.get("/cakupan/masukan/").content.decode()
    assert "RPJMD Kota Malang 2025-2029" in listing and "01/07/2025" in listing
    edit = client.get(f"/cakupan/masukan/target/{target.pk}/").content.decode()
    assert 'value="RPJMD Kota Malang 2025-2029"' in edit
    refused = client.post("/cakupan/masukan/target/baru/", {**form, "source": ""})
    assert refused.status_code == 422 and 'id="err-source"' in refused.content.decode()
    again = client.post("/cakupan/masukan/target/baru/", form)  # the same region, year, plan
    assert again.status_code == 422 and Target.objects.count() == 1
    client.post(f"/cakupan/masukan/target/{target.pk}/hapus/")
    assert not Target.objects.exists()


def test_upload_shows_the_problems_and_saves_nothing(malang, make_user) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = client_as(make_user, "bpjs_officer")
    bad = SimpleUploadedFile(
        "peserta.csv",
        b"wilayah,bulan,kategori,peserta,sumber,tanggal_sumber\n"
        b"35.73,2026-10,pu,120000,BPJS,2026-11-20\n"
        b"35.73,2026-10,asuransi,5,BPJS,2026-11-20\n",
    )
    page = client.post("/cakupan/masukan/peserta/unggah/", {"file": bad})
    html = page.content.decode()
    assert page.status_code == 422 and 'id="problems"' in html
    assert "<td>3</td><td>kategori</td>" in html
    assert not Aggregate.objects.exists()
    good = SimpleUploadedFile(
        "peserta.csv",
        b"wilayah,bulan,kategori,peserta,sumber,tanggal_sumber\n"
        b"35.73,2026-10,pu,120000,BPJS,2026-11-20\n",
    )
    done = client.post("/cakupan/masukan/peserta/unggah/", {"file": good})
    assert done.status_code == 302 and Aggregate.objects.get().participants == 120_000
