"""The city's UCJ report (PDF) on the small city of test_snapshots: the month's UCJ against
the year's target and the gap in participants, each kecamatan, every source; only from the
frozen snapshots; by command."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cakupan.cli import app
from cakupan.contributions.tests.factories import M
from cakupan.coverage.models import Denominator
from cakupan.coverage.reports import city_report_data, city_report_pdf
from cakupan.coverage.selectors import target_for
from cakupan.coverage.snapshots import snapshot_build
from cakupan.coverage.tests.conftest import TODAY
from cakupan.coverage.tests.factories import target
from cakupan.errors import Refused

pytestmark = pytest.mark.django_db


def test_the_report_of_a_closed_month(city, pdf_text) -> None:
    snapshot_build(M("2026-09"), today=TODAY)
    snapshot_build(M("2026-10"), today=TODAY)
    snapshot_build(M("2026-11"), today=TODAY)  # provisional: not the report's month
    target("35.73", 2026, "30.00", kind="rpjmd")
    target("35.73", 2026, "25.00", kind="city")  # the city's own target comes first
    report = city_report_data()
    assert report.snapshot.month == M("2026-10")
    assert report.target.percent == 25 and report.target == target_for("35.73", 2026)
    # 25% of 40 employed = 10 participants; 8 now (2 BPU + 5 PU + 1 PMI)
    assert report.gap_participants == 2
    assert [m for m, _u, _c in report.trend] == [M("2026-09"), M("2026-10")]
    _pages, text = pdf_text(city_report_pdf(report))
    assert "UCJ 20,00%" in text and "Oktober 2026 (ditutup)" in text
    assert "Selisih: 5,00 poin, 2 peserta" in text
    assert "BPS Sakernas Agustus 2024" in text and "RPJMD Kota Malang" in text
    assert "Lowokwaru" in text and "10,00%" in text

    # a later correction of an input does not change the closed month's report
    Denominator.objects.filter(region_id="35.73").update(employed=400)
    _pages, again = pdf_text(city_report_pdf(city_report_data(M("2026-10"))))
    assert "UCJ 20,00%" in again


def test_no_closed_month_no_report(city) -> None:
    with pytest.raises(Refused) as refused:
        city_report_data()
    assert refused.value.code == "no_snapshot"
    snapshot_build(M("2026-11"), today=TODAY)
    with pytest.raises(Refused):
        city_report_data()
    assert city_report_data(M("2026-11")).snapshot.status == "provisional"


def test_the_report_by_command(city, tmp_path, pdf_text) -> None:
    snapshot_build(M("2026-10"), today=TODAY)
    runner = CliRunner()
    out = tmp_path / "ucj.pdf"
    result = runner.invoke(app, ["coverage", "report", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "UCJ 20,00%" in pdf_text(out.read_bytes())[1]
    again = runner.invoke(app, ["coverage", "report", "--output", str(out)])
    assert again.exit_code == 2 and "sudah ada" in again.output
    missing = runner.invoke(
        app, ["coverage", "report", "--month", "2026-08", "--output", str(tmp_path / "x.pdf")]
    )
    assert missing.exit_code == 2 and "snapshot" in missing.output


def test_the_report_from_the_dashboard(city, make_user, pdf_text) -> None:
    from django.test import Client

    snapshot_build(M("2026-10"), today=TODAY)
    client = Client()
    client.force_login(make_user("city_officer", "kota_pdf"))
    page = client.get("/cakupan/")
    assert "/cakupan/laporan/ucj.pdf?bulan=2026-10" in page.content.decode()
    response = client.get("/cakupan/laporan/ucj.pdf?bulan=2026-10")
    assert response.status_code == 200
    assert 'filename="laporan-ucj-2026-10.pdf"' in response["Content-Disposition"]
    assert "UCJ 20,00%" in pdf_text(response.content)[1]
    # a month without figures: back to the dashboard with the reason
    missing = client.get("/cakupan/laporan/ucj.pdf?bulan=2026-08", follow=True)
    assert "snapshot" in missing.content.decode()
    hospital = Client()
    hospital.force_login(make_user("hospital", "rs_pdf"))
    assert hospital.get("/cakupan/laporan/ucj.pdf").status_code == 403


def test_the_report_presents_the_plan(city, pdf_text) -> None:
    """The latest saved scenario is the report's plan: Dedi and Eko, the two workers not
    covered, for three months of 2027 from the city budget (no PP 50/2025 discount: Rp 16,800
    a month each): the city's UCJ 20% → (8 + 2) ÷ 40 = 25%."""
    import datetime as dt

    from cakupan.coverage import planner
    from cakupan.coverage.scenarios import scenario_save

    snapshot_build(M("2026-10"), today=TODAY)
    plan = planner.forward(
        budget=10**9,
        first_month=dt.date(2027, 1, 1),
        months=3,
        funder="apbd",
        priority="vulnerability",
    )
    scenario_save(plan=plan, name="Pekerja rentan 2027")
    report = city_report_data()
    assert report.plan.name == "Pekerja rentan 2027"
    _pages, text = pdf_text(city_report_pdf(report))
    assert "Rencana: Pekerja rentan 2027" in text
    assert "100.800" in text  # 2 workers × 3 months × Rp 16.800
    assert "20,00% -> 25,00%" in text


def test_a_chosen_plan_from_its_page_and_by_command(city, make_user, tmp_path, pdf_text) -> None:
    import datetime as dt

    from django.test import Client
    from typer.testing import CliRunner

    from cakupan.cli import app
    from cakupan.coverage import planner
    from cakupan.coverage.scenarios import scenario_save

    snapshot_build(M("2026-10"), today=TODAY)

    def plan(months: int):
        return planner.forward(
            budget=10**9,
            first_month=dt.date(2027, 1, 1),
            months=months,
            funder="apbd",
            priority="vulnerability",
        )

    older = scenario_save(plan=plan(3), name="Tiga bulan")
    scenario_save(plan=plan(6), name="Enam bulan")  # the latest
    client = Client()
    client.force_login(make_user("city_officer", "kota_plan"))
    page = client.get(f"/cakupan/rencana/skenario/{older.pk}/")
    link = f"/cakupan/laporan/ucj.pdf?rencana={older.pk}"
    assert link in page.content.decode()
    assert "Rencana: Tiga bulan" in pdf_text(client.get(link).content)[1]
    assert "Rencana: Enam bulan" in pdf_text(client.get("/cakupan/laporan/ucj.pdf").content)[1]
    out = tmp_path / "ucj.pdf"
    result = CliRunner().invoke(
        app, ["coverage", "report", "--scenario", str(older.pk), "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Rencana: Tiga bulan" in pdf_text(out.read_bytes())[1]
