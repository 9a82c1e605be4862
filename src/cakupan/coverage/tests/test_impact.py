"""A sponsor's impact, on the small city of conftest.py: its programme funds Citra (active in
October 2026, her October paid by the sponsor), another sponsor's funds Budi. A sponsor sees
its own figures only; the lapse-risk page adds up the ledger's own forecast."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client
from django.utils import timezone

from cakupan.claims.models import Claim, Instalment, Instruction, Party
from cakupan.claims.tests.factories import bill_and_pay
from cakupan.contributions.forecast import forecast_store, lapse_forecast, lapse_rows
from cakupan.contributions.models import Bill, ForecastRun
from cakupan.contributions.tasks import forecast_count
from cakupan.contributions.tests.factories import M, make_membership, make_programme
from cakupan.coverage import selectors
from cakupan.coverage.snapshots import snapshot_build
from cakupan.coverage.tests.conftest import BLIMBING, TODAY
from cakupan.months import add_months
from cakupan.registry.models import NikAccessLog, Worker


@pytest.fixture
def months(city):
    snapshot_build(M("2026-10"), today=TODAY)
    snapshot_build(M("2026-11"), today=TODAY)
    return city


def paid_claim(membership, *, event: dt.date, paid: list[int], pending: int = 0) -> Claim:
    claim = Claim.objects.create(
        number=f"K-{membership.pk}-{event:%m%d}",
        type=Claim.Type.JKM,
        membership=membership,
        worker=membership.worker,
        event_date=event,
        status=Claim.Status.PAID,
    )
    heir = Party.objects.create(claim=claim, full_name="Ahli Waris", relation="spouse")
    for i, amount in enumerate([*paid, pending]):
        if amount:
            Instruction.objects.create(
                claim=claim,
                party=heir,
                line_code="jkm",
                amount=amount,
                reference=f"R{claim.pk}-{i}",
                status=Instruction.Status.PAID if i < len(paid) else Instruction.Status.PENDING,
                bank_code="002",
                account_number="1234567890",
                account_name="Ahli Waris",
            )
    return claim


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_impact_of_a_programme_by_hand(months) -> None:
    city = months
    programme, other = city["programme"], city["other"]
    citra_claim = paid_claim(
        city["citra"], event=dt.date(2026, 10, 20), paid=[42_000_000, 3_000_000], pending=500_000
    )
    child = Party.objects.create(claim=citra_claim, full_name="Anak", relation="child")
    for year, status in ((2026, "paid"), (2027, "scheduled"), (2028, "stopped")):
        Instalment.objects.create(
            claim=citra_claim,
            child=child,
            start_year=year,
            school_year=f"{year}/{year + 1}",
            level="sd",
            year_in_level=1,
            amount=1_500_000,
            status=status,
        )
    paid_claim(city["budi"], event=dt.date(2026, 10, 5), paid=[7_000_000])  # the other's
    # a claim before the programme funded her is not the programme's
    paid_claim(city["citra"], event=dt.date(2026, 9, 3), paid=[1_000_000])

    [row] = selectors.impact(programme.sponsor)
    assert row.active_by_month == [(M("2026-10"), "closed", 1), (M("2026-11"), "provisional", 0)]
    # the latest closed month counts (November is provisional: its 0 is not a drop)
    assert row.months_protected == 1 and row.active_latest == 1
    october = Bill.objects.get(membership=city["citra"], month=M("2026-10"), voided_at__isnull=True)
    assert row.contributions_paid == october.amount > 0
    assert (row.claims_paid, row.claims_paid_amount) == (1, 45_000_000)
    assert (row.scholarships_running, row.scholarships_to_pay) == (1, 1_500_000)
    [theirs] = selectors.impact(other.sponsor)
    assert (theirs.months_protected, theirs.contributions_paid) == (0, 0)
    assert (theirs.claims_paid, theirs.claims_paid_amount) == (1, 7_000_000)


def test_a_sponsor_sees_its_own_impact_only(months, make_user) -> None:
    city = months
    mine, theirs = city["programme"].sponsor, city["other"].sponsor
    clerk = make_user("sponsor", username="csr_mine")
    clerk.sponsor = mine
    clerk.save()
    client = client_for(clerk)
    response = client.get("/cakupan/dampak/")
    assert response.status_code == 302 and response["Location"] == f"/cakupan/dampak/{mine.pk}/"
    page = client.get(f"/cakupan/dampak/{mine.pk}/")
    assert page.status_code == 200
    assert city["programme"].name in page.content.decode()
    assert city["other"].name not in page.content.decode()
    assert client.get(f"/cakupan/dampak/{theirs.pk}/").status_code == 404
    assert client.get(f"/cakupan/dampak/{theirs.pk}/ekspor.csv").status_code == 404
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(f"/cakupan/dampak/{mine.pk}/ekspor.csv").content.decode("utf-8-sig")
            )
        )
    )
    assert rows[1][0] == city["programme"].name and rows[1][2] == "1"
    # nor the dashboard
    assert client.get("/cakupan/").status_code == 403
    # a sponsor user with no sponsor sees nobody's
    lost = make_user("sponsor", username="csr_lost")
    assert client_for(lost).get(f"/cakupan/dampak/{mine.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("role", "status"), [("bpjs_officer", 200), ("city_officer", 200), ("hospital", 403)]
)
def test_officers_see_any_sponsors_impact(months, make_user, role, status) -> None:
    client = client_for(make_user(role, username=f"i_{role}"))
    theirs = months["other"].sponsor
    assert client.get(f"/cakupan/dampak/{theirs.pk}/").status_code == status
    assert client.get("/cakupan/dampak/").status_code == status


def test_lapse_risk_adds_up_the_ledgers_forecast(months, make_user) -> None:
    """Fajar (Blimbing) is paid through this month by a programme whose assignment of him
    ends this month: the forecast lists him (programme ends), and the page counts him under
    Blimbing."""
    today = timezone.localdate()
    this, previous = today.replace(day=1), add_months(today.replace(day=1), -1)
    ending = make_programme(
        type="csr", first=f"{previous:%Y-%m}", last=f"{add_months(this, 12):%Y-%m}"
    )
    fajar = make_membership(fundings=[(ending, f"{previous:%Y-%m}", f"{this:%Y-%m}")], name="Fajar")
    Worker.objects.filter(pk=fajar.worker_id).update(
        kelurahan_id="35.73.01.1005", phone="081234567890"
    )
    bill_and_pay(fajar, f"{previous:%Y-%m}", f"{this:%Y-%m}", day=1)
    client = client_for(make_user("bpjs_officer", username="o_lapse"))
    # not counted yet: the page says so and offers to count it
    empty = client.get("/cakupan/risiko-putus/")
    assert empty.status_code == 200 and "risk" not in empty.context
    assert 'data-testid="lapse-none"' in empty.content.decode()
    assert client.get("/cakupan/risiko-putus/ekspor.csv").status_code == 404
    run = forecast_store(today)
    forecast = lapse_forecast(today)
    risk = selectors.lapse_risk(run)
    blimbing = next(a for a in risk.areas if a.code == BLIMBING)
    assert blimbing.by_reason.get("programme_ends", 0) >= 1
    assert "Fajar" in {r.name for r in lapse_rows(today, region=BLIMBING, reason="programme_ends")}
    kelurahan = selectors.lapse_risk(run, BLIMBING)
    assert [a.code for a in kelurahan.areas] == ["35.73.01.1005"]
    assert kelurahan.total == blimbing.total
    assert risk.total == forecast.total == run.total
    assert sum(a.total for a in risk.areas) == forecast.total
    for area in risk.areas:
        listed = list(lapse_rows(today, region=area.code))
        assert len(listed) == area.total
        assert all(r.kelurahan_code.startswith(area.code + ".") for r in listed)
        for reason, n in area.by_reason.items():
            assert len(list(lapse_rows(today, region=area.code, reason=reason))) == n
    page = client.get("/cakupan/risiko-putus/")
    assert page.status_code == 200 and page.context["risk"].total == forecast.total
    assert len(page.context["rows"]) == min(forecast.total, 50)
    assert 'data-testid="lapse-counted"' in page.content.decode()
    assert 'data-testid="lapse-stale"' not in page.content.decode()
    page = client.get(f"/cakupan/risiko-putus/?wilayah={BLIMBING}&alasan=programme_ends")
    # the page's list masks the phone; the file to call shows it whole, and logs it
    assert ("Fajar", "0812••••••90") in {(r.name, phone) for r, phone in page.context["rows"]}
    export = client.get(f"/cakupan/risiko-putus/ekspor.csv?wilayah={BLIMBING}")
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "Fajar,081234567890," in text
    log = NikAccessLog.objects.get(worker_id=fajar.worker_id)
    assert (log.action, log.fields) == ("export", "phone")
    # the dashboard's headline counts it too
    assert client.get("/cakupan/").context["lapse"] == run


def test_the_lapse_page_recounts_through_the_task_worker(months, make_user) -> None:
    """A count made on an earlier day is marked so; "count again" queues a recount, the page
    asks again every few seconds while it runs (htmx), and shows the new count when done."""
    today = timezone.localdate()
    earlier = forecast_store(today - dt.timedelta(days=1))
    client = client_for(make_user("city_officer", username="o_recount"))
    page = client.get(f"/cakupan/risiko-putus/?wilayah={BLIMBING}").content.decode()
    assert 'data-testid="lapse-stale"' in page and 'data-testid="lapse-recount"' in page
    response = client.post(f"/cakupan/risiko-putus/hitung/?wilayah={BLIMBING}")
    assert response.status_code == 302
    assert response["Location"] == f"/cakupan/risiko-putus/?wilayah={BLIMBING}"
    queued = ForecastRun.objects.get(status="queued")
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="lapse-pending"' in page and 'hx-trigger="every 3s"' in page
    assert 'data-testid="lapse-recount"' not in page  # no second recount meanwhile
    assert 'data-testid="lapse-stale"' in page  # the earlier count stays shown
    forecast_count.call(queued.pk)
    polled = client.get(f"/cakupan/risiko-putus/?wilayah={BLIMBING}", HTTP_HX_REQUEST="true")
    text = polled.content.decode()
    assert "<html" not in text and "hx-trigger" not in text
    assert polled.context["run"].pk == queued.pk and polled.context["run"].on == today
    assert not ForecastRun.objects.filter(pk=earlier.pk).exists()
    # a hospital clerk may not ask for it
    clerk = client_for(make_user("hospital", username="h_recount"))
    assert clerk.post("/cakupan/risiko-putus/hitung/").status_code == 403
    assert clerk.get("/cakupan/risiko-putus/hitung/").status_code in (403, 405)


def test_a_sponsor_downloads_its_own_impact_report(months, make_user, pdf_text) -> None:
    city = months
    mine, theirs = city["programme"].sponsor, city["other"].sponsor
    paid_claim(city["citra"], event=dt.date(2026, 10, 20), paid=[42_000_000])
    clerk = make_user("sponsor", username="csr_pdf")
    clerk.sponsor = mine
    clerk.save()
    client = client_for(clerk)
    page = client.get(f"/cakupan/dampak/{mine.pk}/")
    assert f"/cakupan/dampak/{mine.pk}/laporan.pdf" in page.content.decode()
    response = client.get(f"/cakupan/dampak/{mine.pk}/laporan.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    _pages, text = pdf_text(response.content)
    assert f"Dampak {mine.name}" in text and city["programme"].name in text
    assert "42.000.000" in text  # paid to Citra's family
    assert city["other"].name not in text
    assert client.get(f"/cakupan/dampak/{theirs.pk}/laporan.pdf").status_code == 404


def test_the_impact_report_by_command(months, tmp_path, pdf_text) -> None:
    from typer.testing import CliRunner

    from cakupan.cli import app

    sponsor = months["programme"].sponsor
    out = tmp_path / "dampak.pdf"
    result = CliRunner().invoke(
        app, ["coverage", "report", "--sponsor", str(sponsor.pk), "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert months["programme"].name in pdf_text(out.read_bytes())[1]
    missing = CliRunner().invoke(app, ["coverage", "report", "--sponsor", "999999"])
    assert missing.exit_code == 2 and "999999" in missing.output
