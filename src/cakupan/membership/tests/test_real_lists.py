"""Lists as real offices write them: occupations as platform names with role words, values a
person maps once for every row, and a hospital's 103-row list of drivers that goes through in
one sitting (tests/data/daftar_rs_ojol.csv: 86 rows with good data, of which 77 name the
occupation by platform and role words, 6 with a typo and 3 outside an ojol/kurir programme; 17
with bad data: NIKs turned into numbers by Excel, 15-digit NIKs, empty dates, names and sex, an
unknown kelurahan, an income in words, and 3 drivers sent twice)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cakupan.membership.imports import enrol_import, import_catalogue
from cakupan.membership.imports.catalogue import occupation_words
from cakupan.membership.models import ImportBatch, ImportValueMap
from cakupan.membership.tests.test_imports import NOV, programme
from cakupan.registry.models import Worker

pytestmark = pytest.mark.usefixtures("malang")
LIST = Path(__file__).parent / "data" / "daftar_rs_ojol.csv"


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Driver Grab", "ojol"),
        ("Mitra Gojek", "ojol"),
        ("MITRA GO-JEK", "ojol"),
        ("mitra  gojek.", "ojol"),
        ("GRAB BIKE", "ojol"),
        ("ShopeeFood driver", "ojol"),
        ("Shopee Food", "ojol"),
        ("Driver GrabFood", "ojol"),
        ("DRIVER GO-FOOD", "ojol"),
        ("Pengemudi Maxim", "ojol"),
        ("inDrive", "ojol"),
        ("Ojek Online (Grab)", "ojol"),
        ("ojek online", "ojol"),
        ("Kurir Gojek", "ojol"),
        ("Kurir Shopee", "kurir"),
        ("Kurir Shopee Express", "kurir"),
        ("Lalamove", "kurir"),
        ("Driver Lalamove", "kurir"),
        ("Kurir J&T", "kurir"),
        ("kurir jne", "kurir"),
        ("Grab Car", "sopir"),
        ("tukang ojek", "opang"),
        ("Petani", "petani"),
    ],
)
def test_occupations_resolve_as_workers_and_hr_offices_write_them(written: str, code: str) -> None:
    words = import_catalogue().occupation_words()
    assert words.resolve(written) == code


@pytest.mark.parametrize(
    "written",
    ["ojek", "Pedagang Shopee", "Gojek Shopee", "Driver", "astronot"],
)
def test_words_that_name_no_single_occupation_resolve_to_none(written: str) -> None:
    words = import_catalogue().occupation_words()
    # "Driver" alone is the catalogue's alias of sopir; the others name none or several
    assert words.resolve(written) == ("sopir" if written == "Driver" else None)


def test_typos_get_the_occupation_they_probably_mean_as_a_suggestion() -> None:
    words = import_catalogue().occupation_words()
    assert words.resolve("Driver Grap") is None
    assert [words.suggest(v) for v in ("Driver Grap", "Mitra Gojke", "Kurir Shoppe")] == [
        "ojol",
        "ojol",
        "kurir",
    ]


def test_token_rules_are_data_of_the_catalogue() -> None:
    # a new platform is a line of data, not code
    occupations = {
        "ojol": ("Ojol", "transport", (), True),
        "kurir": ("Kurir", "transport", (), True),
    }
    words = occupation_words(
        occupations, {"ojol": (("zoomride",), ("driver",)), "kurir": (("paketku",), ("kurir",))}
    )
    assert words.resolve("Driver ZoomRide") == "ojol"
    assert words.resolve("Kurir PaketKu") == "kurir"
    assert words.resolve("Driver Grab") is None  # not in this catalogue's data


def test_the_hospitals_list_goes_through_in_one_sitting(tmp_path: Path, make_user) -> None:
    p = programme(name="Ojol sehat", eligibility={"occupations": ["ojol", "kurir"]})
    clerk = make_user("sponsor", username="csr_rs")
    first = enrol_import(path=LIST, programme=p, dry_run=True, user=clerk, as_of=NOV)
    counts = first.counts
    # 77 good rows resolve by their words alone; the 6 typos wait for a choice
    assert (counts["total"], counts["new"], counts["not_eligible"]) == (103, 77, 3)
    assert counts["rejected"] == 17 + 6
    unknown = first.problems.filter(pl.col("code") == "unknown_occupation")
    groups = dict(
        unknown.group_by("value")
        .agg(pl.col("suggested").first(), pl.len())
        .select("value", pl.struct("suggested", "len"))
        .iter_rows()
    )
    assert groups == {
        "Driver Grap": {"suggested": "ojol", "len": 2},
        "Mitra Gojke": {"suggested": "ojol", "len": 2},
        "Kurir Shoppe": {"suggested": "kurir", "len": 2},
    }
    # Excel's damage to a NIK is named as such, in both decimal marks
    sci = first.problems.filter(pl.col("code") == "scientific_notation")
    assert sci.height == 3 and "diubah Excel" in sci["message"][0]
    outside = first.problems.filter(pl.col("severity") == "not_eligible")
    assert set(outside["message"]) == {
        "Program ini hanya untuk pekerjaan: Pengemudi ojek online (ojol), Kurir (kurir)."
    }
    assert not Worker.objects.exists()

    # one choice per value maps every row holding it; the next check takes them all
    again = enrol_import(
        path=LIST,
        programme=p,
        value_maps=[
            (c, v, s)
            for v, s in (
                ("Driver Grap", "ojol"),
                ("Mitra Gojke", "ojol"),
                ("Kurir Shoppe", "kurir"),
            )
            for c in ("pekerjaan",)
        ],
        partial=True,
        user=clerk,
        as_of=NOV,
    )
    assert again.committed
    assert (again.counts["new"], again.counts["rejected"], again.counts["not_eligible"]) == (
        83,
        17,
        3,
    )
    assert Worker.objects.count() == 83
    assert set(Worker.objects.values_list("occupation__code", flat=True)) == {"ojol", "kurir"}
    maps = ImportValueMap.objects.filter(batch=again.batch)
    assert maps.count() == 3 and {m.created_by for m in maps} == {clerk}


def test_a_value_mapping_matches_case_and_spacing_aside(tmp_path: Path) -> None:
    from cakupan.membership.tests.test_imports import line, write

    rows = [line(1, occupation="Mitra Gojke"), line(2, occupation="mitra  GOJKE ")]
    outcome = enrol_import(
        path=write(tmp_path, rows),
        programme=programme(),
        value_maps=[("pekerjaan", "Mitra Gojke", "ojol")],
        as_of=NOV,
    )
    assert outcome.committed and outcome.counts["new"] == 2


def test_a_mapping_to_a_value_not_in_the_catalogue_is_refused(tmp_path: Path) -> None:
    from cakupan.membership.tests.test_imports import line, write

    with pytest.raises(ValueError, match=r"'astronot'.*tidak ada di katalog"):
        enrol_import(
            path=write(tmp_path, [line(1)]),
            programme=programme(),
            value_maps=[("pekerjaan", "Mitra Gojke", "astronot")],
            as_of=NOV,
        )
    assert ImportBatch.objects.get().status == ImportBatch.Status.FAILED
    assert not Worker.objects.exists()


def test_excel_damage_to_a_nik_is_named_in_every_form(tmp_path: Path) -> None:
    from cakupan.membership.imports import check_rows, map_columns, read_table

    body = "".join(
        f'"{nik}",Budi,12-03-1990,L,Lowokwaru,ojol,,\n'
        for nik in ("3.57305E+15", "3,57305E+15", "3.573051E15", "3573051203000000")
    )
    path = tmp_path / "daftar.csv"
    path.write_text(
        "nik,nama,tanggal_lahir,jenis_kelamin,kelurahan,pekerjaan,no_hp,penghasilan\n" + body,
        encoding="utf-8",
    )
    checked = check_rows(
        map_columns(read_table(path)), import_catalogue(), default_income=1_000_000
    )
    assert checked.problems["code"].to_list() == ["scientific_notation"] * 4


@pytest.mark.parametrize(
    ("written", "amount"),
    [("Rp 2.500.000", 2_500_000), ("2.000.000,00", 2_000_000), ("1,500,000", 1_500_000)],
)
def test_income_is_read_as_money_reads_rupiah(tmp_path: Path, written: str, amount: int) -> None:
    from cakupan.membership.imports import check_rows, map_columns, read_table

    path = tmp_path / "daftar.csv"
    path.write_text(
        "nik;nama;tanggal_lahir;jenis_kelamin;kelurahan;pekerjaan;no_hp;penghasilan\n"
        f"3573051203900001;Budi;12-03-1990;L;Lowokwaru;ojol;;{written}\n",
        encoding="utf-8",
    )
    checked = check_rows(map_columns(read_table(path)), import_catalogue(), default_income=1)
    assert checked.problems.height == 0 and checked.rows["income"].to_list() == [amount]


def test_cents_in_an_income_are_refused_not_multiplied(tmp_path: Path) -> None:
    from cakupan.membership.imports import check_rows, map_columns, read_table

    path = tmp_path / "daftar.csv"
    path.write_text(
        "nik;nama;tanggal_lahir;jenis_kelamin;kelurahan;pekerjaan;no_hp;penghasilan\n"
        "3573051203900001;Budi;12-03-1990;L;Lowokwaru;ojol;;1.500.000,50\n",
        encoding="utf-8",
    )
    checked = check_rows(map_columns(read_table(path)), import_catalogue(), default_income=1)
    assert checked.problems["code"].to_list() == ["invalid_income"]


def test_the_list_fixture_is_what_its_docstring_says() -> None:
    frame = pl.read_csv(LIST, separator=";", infer_schema=False)
    assert frame.height == 103
    # as in the hospital's list: far more than 47 rows name the occupation by a platform
    assert frame["Pekerjaan"].str.contains("(?i)grab|gojek|go-jek|shopee|lalamove|maxim").sum() > 47
