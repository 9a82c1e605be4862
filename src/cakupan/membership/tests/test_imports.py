"""Bulk enrolment end to end: all-or-nothing, --partial, idempotent re-import, double funding,
budget and cap refusals with the count that fits, in-file duplicates, cancel, dry run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cakupan.funding.services import programme_create, sponsor_create
from cakupan.membership.imports import ImportCancelled, enrol_import
from cakupan.membership.models import FundingAssignment, ImportBatch, ImportProblem, Membership
from cakupan.membership.services import membership_enrol
from cakupan.registry.models import Worker
from cakupan.registry.nik import make_nik
from cakupan.registry.tests.factories import make_worker

pytestmark = pytest.mark.usefixtures("malang")
NOV = dt.date(2026, 11, 1)
HEAD = "nik,nama,tanggal_lahir,jenis_kelamin,kelurahan,pekerjaan,no_hp,penghasilan\n"


def line(i: int, name: str = "Pekerja", occupation: str = "ojol", sex: str = "L") -> str:
    born = dt.date(1980 + i % 20, 1 + i % 12, 1 + i % 28)
    nik = make_nik(kecamatan_code="35.73.05", birth_date=born, sex=sex, serial=100 + i)
    return f"{nik},{name} {i},{born:%d-%m-%Y},{sex},Lowokwaru,{occupation},,\n"


def write(tmp_path: Path, lines: list[str], name: str = "daftar.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + "".join(lines), encoding="utf-8")
    return path


def programme(kind: str = "csr", budget: int = 100_000_000, **kw):
    sponsor = sponsor_create(type=kind, name=f"Sponsor {kind} {kw.get('name', '')}")
    values = {
        "name": "Program",
        "fiscal_year": 2026,
        "first_month": dt.date(2026, 1, 1),
        "last_month": dt.date(2026, 12, 1),
        "budget": budget,
        **kw,
    }
    return programme_create(sponsor=sponsor, **values)


def test_a_clean_list_is_saved_and_a_second_import_changes_nothing(tmp_path: Path) -> None:
    p = programme()
    path = write(tmp_path, [line(i) for i in range(5)])
    first = enrol_import(path=path, programme=p, as_of=NOV)
    assert first.committed and first.counts["new"] == 5 and first.counts["rejected"] == 0
    assert Worker.objects.filter(source="import").count() == 5
    assert (
        Membership.objects.count() == 5
        and FundingAssignment.objects.filter(programme=p).count() == 5
    )
    m = Membership.objects.select_related("worker").first()
    assert m.number == f"BPU-{m.worker_id:09d}" and m.bracket == 1
    again = enrol_import(path=path, programme=p, as_of=NOV)
    assert again.counts["already_enrolled"] == 5 and again.counts["new"] == 0
    assert "Tidak ada perubahan" in again.message and again.unchanged
    assert Worker.objects.count() == 5 and FundingAssignment.objects.count() == 5


def test_any_rejected_row_writes_nothing_without_partial(tmp_path: Path) -> None:
    p = programme()
    path = write(tmp_path, [line(1), line(2).replace("Lowokwaru", "Atlantis"), line(3)])
    outcome = enrol_import(path=path, programme=p, as_of=NOV)
    assert not outcome.committed and outcome.counts["rejected"] == 1
    assert "tidak ada yang disimpan" in outcome.message
    assert not Worker.objects.exists() and not Membership.objects.exists()
    assert list(ImportProblem.objects.values_list("row", "column", "code")) == [
        (3, "kelurahan", "unknown_kelurahan")
    ]
    assert outcome.batch.status == ImportBatch.Status.FAILED


def test_partial_saves_the_valid_rows_and_reports_the_rest(tmp_path: Path) -> None:
    p = programme()
    path = write(tmp_path, [line(1), line(2).replace("ojol", "astronot"), line(3)])
    outcome = enrol_import(path=path, programme=p, partial=True, as_of=NOV)
    assert outcome.committed and outcome.counts["new"] == 2 and outcome.counts["rejected"] == 1
    assert Worker.objects.count() == 2
    assert outcome.problems["row"].to_list() == [3]


def test_duplicates_inside_the_file_are_caught(tmp_path: Path) -> None:
    outcome = enrol_import(
        path=write(tmp_path, [line(1), line(2), line(1)]), programme=programme(), as_of=NOV
    )
    row = outcome.problems.row(0, named=True)
    assert (row["row"], row["code"]) == (4, "duplicate_in_file") and "baris 2" in row["message"]


def test_registered_worker_is_enrolled_and_one_funded_elsewhere_is_refused(tmp_path: Path) -> None:
    registered = make_worker(full_name="Sudah Ada")
    funded = make_worker(full_name="Didanai Pemkot", birth_date=dt.date(1985, 5, 5))
    membership_enrol(worker=funded, programme=programme("apbd", name="Pemkot"), start=NOV)
    rows = [
        f"{w.nik},{w.full_name},{w.birth_date:%d-%m-%Y},L,Lowokwaru,ojol,,\n"
        for w in (registered, funded)
    ]
    outcome = enrol_import(
        path=write(tmp_path, rows), programme=programme("csr", name="RS"), partial=True, as_of=NOV
    )
    assert outcome.counts["existing"] == 1 and outcome.counts["rejected"] == 1
    problem = outcome.problems.row(0, named=True)
    # the report is the uploading sponsor's to read: the other sponsor is never named
    assert problem["code"] == "double_funding" and "pemberi dana lain" in problem["message"]
    assert "Pemkot" not in problem["message"]
    assert Membership.objects.count() == 2


def test_budget_and_cap_refuse_the_list_with_the_count_that_fits(tmp_path: Path) -> None:
    # CSR-funded ojol in 2026-11..12: 2 × 8,400 = 16,800 each; 50,000 covers 2 of 3
    outcome = enrol_import(
        path=write(tmp_path, [line(i) for i in range(3)]),
        programme=programme(budget=50_000),
        as_of=NOV,
    )
    assert (
        not outcome.committed
        and outcome.fits == 2
        and "cukup untuk 2 peserta lagi" in outcome.message
    )
    capped = programme(name="Capped", cohort_cap=1)
    outcome = enrol_import(
        path=write(tmp_path, [line(i) for i in range(3)], "b.csv"), programme=capped, as_of=NOV
    )
    assert outcome.fits == 1 and "batas program 1 peserta" in outcome.message
    assert not Worker.objects.exists()


def test_rows_outside_the_programme_are_counted_apart_naming_the_rule(tmp_path: Path) -> None:
    p = programme(name="Ojol", eligibility={"occupations": ["ojol", "kurir"]})
    rows = [line(1), line(2, occupation="petani"), line(3).replace("Lowokwaru", "Atlantis")]
    outcome = enrol_import(path=write(tmp_path, rows), programme=p, as_of=NOV)
    assert not outcome.committed
    assert (outcome.counts["new"], outcome.counts["rejected"], outcome.counts["not_eligible"]) == (
        1,
        1,
        1,
    )
    assert outcome.message == (
        "1 baris ditolak karena datanya dan 1 baris di luar sasaran program: "
        "tidak ada yang disimpan."
    )
    assert "--partial" not in outcome.message
    outside = outcome.problems.filter(outcome.problems["severity"] == "not_eligible").row(
        0, named=True
    )
    assert (outside["row"], outside["column"], outside["code"]) == (3, "pekerjaan", "not_eligible")
    assert outside["message"] == (
        "Program ini hanya untuk pekerjaan: Pengemudi ojek online (ojol), Kurir (kurir)."
    )
    stored = ImportProblem.objects.get(code="not_eligible")
    assert (stored.severity, stored.column) == ("not_eligible", "pekerjaan")


def test_a_kelurahan_outside_the_programme_names_its_kecamatan(tmp_path: Path) -> None:
    p = programme(name="Klojen", eligibility={"kecamatan": ["35.73.02"]})
    outcome = enrol_import(path=write(tmp_path, [line(1)]), programme=p, partial=True, as_of=NOV)
    row = outcome.problems.row(0, named=True)
    assert (row["column"], row["severity"]) == ("kelurahan", "not_eligible")
    assert row["message"] == "Program ini hanya untuk kelurahan di Kec. Klojen."
    assert outcome.counts["not_eligible"] == 1 and outcome.counts["rejected"] == 0


def test_dry_run_writes_nothing_but_the_report(tmp_path: Path) -> None:
    outcome = enrol_import(
        path=write(tmp_path, [line(1), line(2)]), programme=programme(), dry_run=True, as_of=NOV
    )
    assert not outcome.committed and outcome.counts["new"] == 2
    assert not Worker.objects.exists() and outcome.batch.status == ImportBatch.Status.PREVIEWED


def test_cancelling_during_save_leaves_the_database_as_before(tmp_path: Path) -> None:
    calls = {"n": 0}

    def cancel_at_save() -> bool:
        calls["n"] += 1
        return calls["n"] > 2  # passes the checks, stops inside the save transaction

    with pytest.raises(ImportCancelled):
        enrol_import(
            path=write(tmp_path, [line(i) for i in range(4)]),
            programme=programme(),
            as_of=NOV,
            cancelled=cancel_at_save,
        )
    assert not Worker.objects.exists() and not Membership.objects.exists()
    assert not FundingAssignment.objects.exists()


def typo_with_a_rival() -> tuple[Worker, str]:
    """A registered worker, a NIK typo of his, and a namesake born the same day in the same
    kelurahan: the typo cannot be corrected without a person."""
    known = make_worker(full_name="Moch. Rizki Pratama", kelurahan="35.73.05.1011")
    make_worker(
        full_name="Moch. Rizki Pratama", birth_date=known.birth_date, kelurahan="35.73.05.1011"
    )
    return known, known.nik[:13] + ("9" if known.nik[13] != "9" else "8") + known.nik[14:]


def test_a_nik_typo_of_a_registered_worker_with_a_rival_goes_to_review(tmp_path: Path) -> None:
    from cakupan.membership.models import ReviewCase

    known, typo = typo_with_a_rival()
    rows = [
        f"{typo},Muhammad Rizki Pratama,{known.birth_date:%d-%m-%Y},L,Lowokwaru,ojol,,\n",
        line(1),
    ]
    outcome = enrol_import(path=write(tmp_path, rows), programme=programme(), as_of=NOV)
    assert outcome.committed and (outcome.counts["review"], outcome.counts["new"]) == (1, 1)
    case = ReviewCase.objects.get()
    assert (case.row, case.candidate, case.reason) == (2, known, "probable")
    assert "NIK beda 1 angka" in case.evidence
    assert not Worker.objects.filter(nik=typo).exists()  # nothing decided for the officer


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_the_templates_example_row_is_never_enrolled(tmp_path: Path, suffix: str) -> None:
    from cakupan.membership.template_file import write_template

    path = tmp_path / f"templat.{suffix}"
    write_template(path)
    outcome = enrol_import(path=path, programme=programme(), as_of=NOV)
    assert outcome.counts == {
        "total": 0,
        "blank": 0,
        "example": 1,
        "new": 0,
        "existing": 0,
        "corrected": 0,
        "already_enrolled": 0,
        "review": 0,
        "rejected": 0,
        "not_eligible": 0,
        "warnings": 0,
    }
    assert "baris contoh templat" in outcome.message
    assert not Worker.objects.exists()


def test_the_example_row_is_skipped_among_real_rows_and_in_old_templates(tmp_path: Path) -> None:
    # the template's marked example, and the unmarked one of templates handed out before
    rows = [
        "3573055203900001,CONTOH Siti Aminah,12-03-1990,P,Lowokwaru,ojol,081234567890,1000000\n",
        line(1),
        "3573055203900001,Siti Aminah,12-03-1990,P,Lowokwaru,ojol,081234567890,1000000\n",
        line(2),
    ]
    outcome = enrol_import(path=write(tmp_path, rows), programme=programme(), as_of=NOV)
    assert outcome.committed
    assert (outcome.counts["example"], outcome.counts["total"], outcome.counts["new"]) == (2, 2, 2)
    assert not Worker.objects.filter(nik="3573055203900001").exists()


def test_a_programme_that_has_ended_takes_no_list(tmp_path: Path) -> None:
    ended = programme(
        name="2025",
        fiscal_year=2025,
        first_month=dt.date(2025, 1, 1),
        last_month=dt.date(2025, 12, 1),
    )
    with pytest.raises(ValueError, match="sudah berakhir pada 2025-12"):
        enrol_import(path=write(tmp_path, [line(1)]), programme=ended, as_of=NOV)
    assert not ImportBatch.objects.exists()


def test_funding_made_while_the_list_was_checked_stops_the_save(tmp_path: Path) -> None:
    from cakupan.membership.imports import ImportConflict

    worker = make_worker(full_name="Rebutan")
    rows = [
        f"{worker.nik},{worker.full_name},{worker.birth_date:%d-%m-%Y},L,Lowokwaru,ojol,,\n",
        line(1),
    ]
    city = programme("apbd", name="Pemkot")
    calls = {"n": 0}

    def officer_enrols_meanwhile() -> bool:
        calls["n"] += 1
        if calls["n"] == 2:  # after the checks, before the save
            membership_enrol(worker=worker, programme=city, start=NOV)
        return False

    with pytest.raises(ImportConflict, match="didanai pihak lain"):
        enrol_import(
            path=write(tmp_path, rows),
            programme=programme("csr", name="RS"),
            as_of=NOV,
            cancelled=officer_enrols_meanwhile,
        )
    assert FundingAssignment.objects.count() == 1  # only the officer's
    assert Worker.objects.count() == 1


def test_registered_worker_is_judged_on_the_registry_record(tmp_path: Path) -> None:
    farmer = make_worker(full_name="Pak Tani", occupation="petani")
    rows = [f"{farmer.nik},{farmer.full_name},{farmer.birth_date:%d-%m-%Y},L,Lowokwaru,ojol,,\n"]
    p = programme(name="Ojol", eligibility={"occupations": ["ojol"]})
    outcome = enrol_import(path=write(tmp_path, rows), programme=p, partial=True, as_of=NOV)
    assert outcome.counts["not_eligible"] == 1 and outcome.counts["rejected"] == 0
    problem = outcome.problems.row(0, named=True)
    assert problem["code"] == "not_eligible" and "sudah terdaftar" in problem["message"]


def test_a_self_paying_worker_on_a_list_is_taken_over_by_the_sponsor(tmp_path: Path) -> None:
    from cakupan.membership.models import Membership as M
    from cakupan.membership.services import funding_assign

    worker = make_worker(full_name="Bayar Sendiri")
    m = M.objects.create(
        worker=worker,
        programmes=["jkk", "jkm"],
        declared_income=1_000_000,
        bracket=1,
        start_month=dt.date(2026, 3, 1),
        number=f"BPU-{worker.pk:09d}",
    )
    funding_assign(membership=m, programme=None, first_month=dt.date(2026, 3, 1), last_month=None)
    rows = [f"{worker.nik},{worker.full_name},{worker.birth_date:%d-%m-%Y},L,Lowokwaru,ojol,,\n"]
    outcome = enrol_import(path=write(tmp_path, rows), programme=programme(), as_of=NOV)
    assert outcome.committed and outcome.counts["existing"] == 1
    months = [
        (f.programme_id is None, f"{f.first_month:%Y-%m}", f.last_month and f"{f.last_month:%Y-%m}")
        for f in m.fundings.order_by("first_month")
    ]
    assert months == [
        (True, "2026-03", "2026-10"),
        (False, "2026-11", "2026-12"),
        (True, "2027-01", None),
    ]


def test_reimporting_does_not_open_the_same_review_twice(tmp_path: Path) -> None:
    from cakupan.membership.models import ReviewCase

    known, typo = typo_with_a_rival()
    path = write(
        tmp_path,
        [f"{typo},Muhammad Rizki Pratama,{known.birth_date:%d-%m-%Y},L,Lowokwaru,ojol,,\n"],
    )
    p = programme()
    enrol_import(path=path, programme=p, as_of=NOV)
    enrol_import(path=path, programme=p, as_of=NOV)
    assert ReviewCase.objects.count() == 1


def test_blank_lines_are_skipped_and_rows_keep_their_numbers(tmp_path: Path) -> None:
    outcome = enrol_import(
        path=write(
            tmp_path, [line(1), ",,,,,,,\n", "\n", line(2).replace("Lowokwaru", "Atlantis")]
        ),
        programme=programme(),
        partial=True,
        as_of=NOV,
    )
    assert (
        outcome.counts["blank"] == 2 and outcome.counts["total"] == 2 and outcome.counts["new"] == 1
    )
    assert outcome.problems["row"].to_list() == [5]


def test_an_age_outside_the_programme_is_reported_on_the_birth_date(tmp_path: Path) -> None:
    p = programme(name="Muda", eligibility={"max_age": 30})
    outcome = enrol_import(path=write(tmp_path, [line(1)]), programme=p, partial=True, as_of=NOV)
    row = outcome.problems.row(0, named=True)
    assert (row["column"], row["code"]) == ("tanggal_lahir", "not_eligible")
    assert row["message"] == "Program ini hanya untuk pekerja berusia paling tinggi 30 tahun."
