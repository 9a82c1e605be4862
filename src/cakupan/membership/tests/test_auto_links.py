"""NIK typos corrected automatically in a bulk import: the registered worker is enrolled, the
link is recorded with its evidence and listed in the report, and an officer can undo it from
the worker page, which sends the row back to the review queue."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from cakupan.membership.imports import enrol_import
from cakupan.membership.models import (
    AutoLink,
    FundingAssignment,
    ImportProblem,
    Membership,
    ReviewCase,
)
from cakupan.membership.services import AutoLinkInvalid, auto_link_reverse, review_decide
from cakupan.membership.tests.test_imports import NOV, line, programme, write
from cakupan.registry.models import Worker
from cakupan.registry.tests.factories import make_worker

pytestmark = pytest.mark.usefixtures("malang")


def typo_row(known: Worker, name: str | None = None) -> tuple[str, str]:
    """A row of the list for `known` with one serial digit mistyped (far beyond the serials
    issued, so it cannot be right as typed), and that NIK."""
    typo = known.nik[:13] + ("9" if known.nik[13] != "9" else "8") + known.nik[14:]
    row = f"{typo},{name or known.full_name},{known.birth_date:%d-%m-%Y},L,Lowokwaru,ojol,,\n"
    return row, typo


@pytest.fixture
def known() -> Worker:
    return make_worker(full_name="Moch. Rizki Pratama", kelurahan="35.73.05.1011")


def test_a_sure_typo_enrols_the_registered_worker_and_is_recorded(
    tmp_path: Path, known: Worker
) -> None:
    row, typo = typo_row(known, "Muhammad Rizki Pratama")
    p = programme()
    outcome = enrol_import(path=write(tmp_path, [row, line(1)]), programme=p, as_of=NOV)
    assert outcome.committed
    assert {k: outcome.counts[k] for k in ("new", "existing", "corrected", "review")} == {
        "new": 1,
        "existing": 1,
        "corrected": 1,
        "review": 0,
    }
    assert "1 di antaranya dengan NIK yang diperbaiki otomatis" in outcome.message
    # the registered worker is funded by this list; no worker is made with the typo NIK
    assert FundingAssignment.objects.filter(
        batch=outcome.batch, programme=p, membership__worker=known
    ).exists()
    assert not Worker.objects.filter(nik=typo).exists()
    assert not ReviewCase.objects.exists()
    link = AutoLink.objects.get()
    assert (link.batch, link.row, link.worker, link.incoming_nik) == (
        outcome.batch,
        2,
        known,
        typo,
    )
    assert link.evidence.startswith("NIK diperbaiki otomatis: NIK beda 1 angka (posisi 14)")
    assert link.incoming["name"] == "Muhammad Rizki Pratama" and link.reversed_at is None
    # listed in the report, as its own kind of line
    shown = ImportProblem.objects.get(batch=outcome.batch, row=2)
    assert (shown.severity, shown.code, shown.column) == ("corrected", "corrected_typo", "nik")
    assert shown.get_severity_display() == "NIK diperbaiki otomatis"
    assert shown.message == link.evidence


def test_a_dry_run_records_no_automatic_link(tmp_path: Path, known: Worker) -> None:
    row, _typo = typo_row(known)
    outcome = enrol_import(
        path=write(tmp_path, [row]), programme=programme(), as_of=NOV, dry_run=True
    )
    assert outcome.counts["corrected"] == 1 and not outcome.committed
    assert not AutoLink.objects.exists() and not FundingAssignment.objects.exists()
    assert outcome.problems.filter(outcome.problems["severity"] == "corrected").height == 1


def test_the_same_person_twice_with_a_typo_is_one_enrolment_and_no_question(
    tmp_path: Path, known: Worker
) -> None:
    """Without partial saving: the repeat is a warning, not a rejection or a review."""
    right = f"{known.nik},{known.full_name},{known.birth_date:%d-%m-%Y},L,Lowokwaru,ojol,,\n"
    row, _typo = typo_row(known)
    outcome = enrol_import(path=write(tmp_path, [row, right]), programme=programme(), as_of=NOV)
    assert outcome.committed
    assert (outcome.counts["review"], outcome.counts["rejected"], outcome.counts["existing"]) == (
        0,
        0,
        1,
    )
    assert FundingAssignment.objects.filter(membership__worker=known).count() == 1
    warning = ImportProblem.objects.get(batch=outcome.batch, row=2)
    assert (warning.severity, warning.code) == ("warning", "duplicate_typo")
    assert "baris 3" in warning.message
    assert not AutoLink.objects.exists() and not ReviewCase.objects.exists()


def test_undoing_an_automatic_link_removes_its_funding_and_opens_a_review(
    tmp_path: Path, known: Worker, make_user
) -> None:
    row, typo = typo_row(known)
    p = programme()
    outcome = enrol_import(path=write(tmp_path, [row, line(1)]), programme=p, as_of=NOV)
    other = Worker.objects.exclude(pk=known.pk).get()
    officer = make_user("bpjs_officer")
    link = AutoLink.objects.get()

    case = auto_link_reverse(link=link, user=officer)

    assert not FundingAssignment.objects.filter(membership__worker=known).exists()
    # the rest of that list stays enrolled
    assert FundingAssignment.objects.filter(batch=outcome.batch, membership__worker=other).exists()
    assert Membership.objects.filter(worker=known).exists()  # the membership itself stays
    assert (case.status, case.batch, case.row, case.candidate, case.reason) == (
        ReviewCase.Status.OPEN,
        outcome.batch,
        2,
        known,
        "probable",
    )
    assert case.incoming["nik"] == typo
    assert case.evidence.startswith(f"Tautan otomatis dibatalkan oleh {officer.get_username()}")
    link.refresh_from_db()
    assert (link.reversed_by, link.review) == (officer, case) and link.reversed_at is not None
    with pytest.raises(AutoLinkInvalid, match="sudah dibatalkan"):
        auto_link_reverse(link=link, user=officer)
    # the officer who looks again can still say it is the same person
    review_decide(case=case, decision="same", user=officer)
    assert FundingAssignment.objects.filter(membership__worker=known, programme=p).exists()


# --- the worker page ------------------------------------------------------------------------


def _imported(tmp_path: Path, known: Worker):
    row, typo = typo_row(known)
    p = programme()
    enrol_import(path=write(tmp_path, [row]), programme=p, as_of=NOV)
    return p, typo


def test_an_officer_undoes_an_automatic_link_from_the_worker_page(
    tmp_path: Path, known: Worker, make_user
) -> None:
    _p, typo = _imported(tmp_path, known)
    client = Client()
    client.force_login(make_user("bpjs_officer"))
    link = AutoLink.objects.get()
    report = client.get(f"/pendaftaran/impor/{link.batch_id}/").content.decode()
    assert "di antaranya NIK diperbaiki otomatis" in report
    assert 'data-testid="count-corrected">1<' in report
    assert "NIK diperbaiki otomatis: NIK beda 1 angka (posisi 14)" in report
    page = client.get(f"/pekerja/{known.pk}/").content.decode()
    assert "NIK diperbaiki otomatis" in page and typo in page
    assert "Batalkan tautan otomatis" in page
    response = client.post(f"/pendaftaran/tautan-otomatis/{link.pk}/batalkan/", follow=True)
    assert response.redirect_chain[-1][0] == f"/pekerja/{known.pk}/"
    body = response.content.decode()
    assert "Tautan otomatis dibatalkan" in body and "Dibatalkan oleh u_bpjs_officer" in body
    assert "Batalkan tautan otomatis</button>" not in body
    assert ReviewCase.objects.filter(status=ReviewCase.Status.OPEN, candidate=known).count() == 1
    assert not FundingAssignment.objects.filter(membership__worker=known).exists()
    # a second click says so and changes nothing
    again = client.post(f"/pendaftaran/tautan-otomatis/{link.pk}/batalkan/", follow=True)
    assert "sudah dibatalkan" in again.content.decode()
    assert ReviewCase.objects.count() == 1


def test_a_sponsor_sees_its_automatic_links_masked_and_cannot_undo_them(
    tmp_path: Path, known: Worker, make_user
) -> None:
    p, typo = _imported(tmp_path, known)
    sponsor = make_user("sponsor")
    sponsor.sponsor = p.sponsor
    sponsor.save()
    client = Client()
    client.force_login(sponsor)
    page = client.get(f"/pekerja/{known.pk}/").content.decode()
    assert "NIK diperbaiki otomatis" in page
    assert typo not in page and typo[:4] + "••" in page
    assert "Batalkan tautan otomatis" not in page
    link = AutoLink.objects.get()
    assert client.post(f"/pendaftaran/tautan-otomatis/{link.pk}/batalkan/").status_code == 403
    assert AutoLink.objects.get().reversed_at is None


def test_another_sponsors_automatic_links_are_not_shown(
    tmp_path: Path, known: Worker, make_user
) -> None:
    from cakupan.membership.services import membership_enrol

    _imported(tmp_path, known)
    mine = programme(
        kind="apbd",
        name="Kota",
        fiscal_year=2027,
        first_month=NOV.replace(year=2027, month=1),
        last_month=NOV.replace(year=2027, month=12),
    )
    membership_enrol(worker=known, programme=mine)
    sponsor = make_user("sponsor")
    sponsor.sponsor = mine.sponsor
    sponsor.save()
    client = Client()
    client.force_login(sponsor)
    page = client.get(f"/pekerja/{known.pk}/")
    assert page.status_code == 200
    assert "NIK diperbaiki otomatis" not in page.content.decode()
