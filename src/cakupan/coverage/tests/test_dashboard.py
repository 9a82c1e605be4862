"""The coverage dashboard on the small city of conftest.py, figures computed by hand:
October 2026 closed, with Ani (Lowokwaru, self-paid) and Citra (Blimbing, CSR) active, Budi
(Lowokwaru) a member not active, Dedi (Blimbing, petani) registered only; Eko registered in
December, after October."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from cakupan.claims.tests.factories import pay_bill
from cakupan.contributions.billing import billing_run
from cakupan.contributions.models import Bill
from cakupan.contributions.services import account_of_sponsor
from cakupan.contributions.tests.factories import M
from cakupan.coverage import selectors
from cakupan.coverage.models import Snapshot, SnapshotRebuild
from cakupan.coverage.snapshots import snapshot_build
from cakupan.coverage.tests.conftest import BLIMBING, CITY, LOWOKWARU, TODAY, client_as
from cakupan.coverage.tests.factories import target
from cakupan.registry.models import NikAccessLog, Occupation, Worker
from cakupan.registry.nik import mask_nik


@pytest.fixture
def october(city):
    return snapshot_build(M("2026-10"), today=TODAY)


def names(response) -> list[str]:
    return [w.full_name for w, _nik in response.context["rows"]]


# -- selectors --------------------------------------------------------------------------------


def test_headline_and_trend_by_hand(october) -> None:
    target(CITY, 2026, "25.00", kind="city")
    target(CITY, 2026, "30.00", kind="rpjmn")
    november = snapshot_build(M("2026-11"), today=TODAY)
    assert november.status == Snapshot.Status.PROVISIONAL
    # the headline is the latest closed month, not the provisional one after it
    assert selectors.snapshot_of(None) == october
    head = selectors.headline(october)
    assert head.ucj == pytest.approx(20.0)  # (2 BPU + 5 PU + 1 PMI) / 40
    assert head.target.kind == "city" and head.target.percent == 25.0
    assert head.gap == pytest.approx(5.0)
    assert "RPJMD" in head.target.source
    assert [(k, n) for k, _label, n in head.split] == [
        ("bpu", 2),
        ("pu", 5),
        ("jakon", 0),
        ("pmi", 1),
    ]
    points = selectors.trend()
    assert [(p.month, p.status) for p in points] == [
        (M("2026-10"), "closed"),
        (M("2026-11"), "provisional"),
    ]
    assert points[0].ucj == pytest.approx(20.0)


def test_coverage_by_kecamatan_ucj_where_there_is_a_denominator(october) -> None:
    rows = {r.code: r for r in selectors.area_rows(october, CITY)}
    # Blimbing: no denominator, its bar is the share of registered who are active (1 of 2)
    assert rows[BLIMBING].ucj is None and rows[BLIMBING].value == pytest.approx(50.0)
    # Lowokwaru: Ani of 10 employed
    assert rows[LOWOKWARU].ucj == pytest.approx(10.0) and rows[LOWOKWARU].value == 10.0
    assert [r.code for r in selectors.area_rows(october, CITY)][:2] == [BLIMBING, LOWOKWARU]
    kelurahan = selectors.area_rows(october, BLIMBING)
    assert [(r.code, r.registered, r.active) for r in kelurahan] == [("35.73.01.1005", 2, 1)]


def test_bpu_coverage_breakdowns_by_hand(october, city) -> None:
    by_occupation = {g.label: g.count for g in selectors.breakdown(october, "occupation")}
    ojol = Occupation.objects.get(code="ojol").name
    petani = Occupation.objects.get(code="petani").name
    assert (by_occupation[ojol].registered, by_occupation[ojol].active) == (3, 2)
    assert (by_occupation[petani].registered, by_occupation[petani].active) == (1, 0)
    by_sex = {
        g.key: (g.count.registered, g.count.active) for g in selectors.breakdown(october, "sex")
    }
    assert by_sex == {"L": (3, 1), "P": (1, 1)}
    by_age = {g.key: g.count.share for g in selectors.breakdown(october, "age_band")}
    assert by_age == {2: pytest.approx(50.0)}  # everyone born 1988: 38 in October
    assert {g.key: g.count.registered for g in selectors.breakdown(october, "decile")} == {0: 4}
    share = {g.key: g.count.active for g in selectors.programme_share(october)}
    assert share == {selectors.SELF_PAID: 1, city["programme"].pk: 1}
    # a filter narrows the cells
    assert selectors.counts(october, selectors.Filters(region=BLIMBING)).registered == 2


def test_the_lists_match_the_counts(october, city) -> None:
    def listed(status: str, **filters) -> set[int]:
        return {int(i) for i in selectors.list_ids(october, status, selectors.Filters(**filters))}

    ani, budi, citra = city["ani"].worker_id, city["budi"].worker_id, city["citra"].worker_id
    dedi = city["dedi"].pk
    assert listed("registered") == {ani, budi, citra, dedi}  # not Eko, registered in December
    assert listed("member") == {ani, budi, citra}
    assert listed("active") == {ani, citra}
    assert listed("not_active") == {budi, dedi}
    assert listed("registered", region=BLIMBING) == {citra, dedi}
    assert listed("active", programme=city["programme"].pk) == {citra}
    assert listed("active", programme=selectors.SELF_PAID) == {ani}
    assert listed("registered", sex="P") == {ani}
    assert listed("registered", age_band=2) == {ani, budi, citra, dedi}
    assert listed("registered", age_band=1) == set()
    petani = Occupation.objects.get(code="petani").pk
    assert listed("not_active", occupation=petani) == {dedi}
    # every cell filter gives a list as long as its count
    for filters in (
        selectors.Filters(),
        selectors.Filters(region=LOWOKWARU),
        selectors.Filters(region="35.73.01.1005"),
        selectors.Filters(occupation=petani),
        selectors.Filters(sex="L"),
        selectors.Filters(decile=0),
    ):
        count = selectors.counts(october, filters)
        assert len(selectors.list_ids(october, "registered", filters)) == count.registered
        assert len(selectors.list_ids(october, "active", filters)) == count.active
        assert len(selectors.list_ids(october, "not_active", filters)) == count.not_active


def test_a_closed_months_list_is_the_one_counted(october, city) -> None:
    """Budi's October paid afterwards (backdated) and a new worker: October's lists do not
    change, as its figures do not."""
    billing_run(month=M("2026-11"))
    bill = Bill.objects.get(membership=city["budi"], month=M("2026-10"), voided_at__isnull=True)
    pay_bill(account_of_sponsor(city["other"].sponsor), bill, dt.date(2026, 11, 10))
    Worker.objects.filter(pk=city["dedi"].pk).update(
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    active = set(selectors.list_ids(october, "active"))
    assert active == {city["ani"].worker_id, city["citra"].worker_id}
    assert city["budi"].worker_id in set(selectors.list_ids(october, "not_active"))


# -- pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("bpjs_officer", 200), ("city_officer", 200), ("sponsor", 403), ("hospital", 403)],
)
def test_who_may_see_the_dashboard(october, make_user, role, status) -> None:
    client = client_as(make_user, role)
    for url in (
        "/cakupan/",
        f"/cakupan/wilayah/{BLIMBING}/",
        "/cakupan/pekerja/?status=active",
        "/cakupan/belum-terlindungi/",
        "/cakupan/grafik/kecamatan.csv",
    ):
        assert client.get(url).status_code == status, url


def test_the_hospital_sees_no_coverage_page(october, make_user) -> None:
    client = client_as(make_user, "hospital")
    for url in (
        "/cakupan/",
        "/cakupan/dampak/",
        "/cakupan/risiko-putus/",
        "/cakupan/pekerja/ekspor.csv",
    ):
        assert client.get(url).status_code == 403, url
    assert client.post("/cakupan/bangun/").status_code == 403


def test_dashboard_shows_the_closed_month_with_its_sources(october, make_user) -> None:
    target(CITY, 2026, "25.00")
    snapshot_build(M("2026-11"), today=TODAY)
    response = client_as(make_user, "bpjs_officer").get("/cakupan/")
    assert response.status_code == 200
    page = response.content.decode()
    assert response.context["snapshot"] == october
    assert (
        'data-testid="headline-ucj">20,00%' in page or 'data-testid="headline-ucj">20.00%' in page
    )
    assert "BPS Sakernas Agustus 2024" in page  # the denominator's source
    assert "RPJMD Kota Malang" in page  # the target's source
    assert "16-11-2026" in page  # cakupan ledger, as of the close
    # the figures go to the page as JSON for charts.js, never as inline script
    charts = response.context["charts"]
    figure = json.loads(charts["kecamatan"].figure)
    assert figure["data"][0]["customdata"][0].startswith(f"/cakupan/wilayah/{BLIMBING}/")
    assert 'id="kecamatan-figure" type="application/json"' in page
    assert "<script>" not in page


def test_drill_down_from_kecamatan_to_kelurahan_to_workers(october, city, make_user) -> None:
    client = client_as(make_user, "bpjs_officer")
    region = client.get(f"/cakupan/wilayah/{BLIMBING}/?bulan=2026-10")
    assert region.status_code == 200
    link = region.context["chart"].links[0]
    assert "wilayah=35.73.01.1005" in link
    listed = client.get(link)
    assert sorted(names(listed)) == ["Citra", "Dedi"]
    # masked NIK, as the registry's list shows it
    dedi = city["dedi"]
    assert (dedi, mask_nik(dedi.nik)) in listed.context["rows"]
    assert dedi.nik not in listed.content.decode()
    active = client.get(link.replace("status=registered", "status=active"))
    assert names(active) == ["Citra"]
    # a kelurahan's own page is its list
    assert client.get("/cakupan/wilayah/35.73.01.1005/?bulan=2026-10").status_code == 302
    assert client.get("/cakupan/wilayah/35.07.01/").status_code == 404  # not the city


def test_chart_csv_has_the_figures(october, make_user) -> None:
    response = client_as(make_user, "bpjs_officer").get(
        "/cakupan/grafik/kecamatan.csv?bulan=2026-10"
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert response["Content-Disposition"].endswith('.csv"')
    by_name = {r[0]: r for r in rows[1:] if r}
    assert by_name["Lowokwaru"][1:5] == ["10.0", "50.0", "1", "2"]
    assert by_name["Blimbing"][1:5] == ["", "50.0", "1", "2"]
    assert any("BPS Sakernas" in " ".join(r) for r in rows)
    # a kecamatan page's chart: the figures of that kecamatan only (Citra and Dedi)
    client = client_as(make_user, "city_officer")
    region = client.get(f"/cakupan/wilayah/{BLIMBING}/?bulan=2026-10")
    url = region.context["occupations_chart"].csv_url
    assert f"wilayah={BLIMBING}" in url
    rows = list(csv.reader(io.StringIO(client.get(url).content.decode("utf-8-sig"))))
    assert sum(int(r[4]) for r in rows[1:] if r and r[0] != "Sumber") == 2  # registered


def test_list_csv_and_xlsx_mask_the_nik_and_log_the_phone(october, city, make_user) -> None:
    Worker.objects.filter(pk=city["dedi"].pk).update(phone="081234567890")
    client = client_as(make_user, "bpjs_officer")
    response = client.get("/cakupan/pekerja/ekspor.csv?bulan=2026-10&status=not_active")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    # by kelurahan, then name: Dedi (Blimbing, 35.73.01) before Budi (Lowokwaru, 35.73.05)
    assert [r[0] for r in rows[1:]] == ["Dedi", "Budi"]
    dedi = next(r for r in rows if r[0] == "Dedi")
    assert dedi[1] == mask_nik(city["dedi"].nik) and dedi[2] == "081234567890"
    log = NikAccessLog.objects.filter(worker=city["dedi"], action="export").get()
    assert log.fields == "phone"
    xlsx = client.get("/cakupan/pekerja/ekspor.xlsx?bulan=2026-10&status=active")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [row[0] for row in sheet.iter_rows(min_row=4, values_only=True)]
    assert values == ["Citra", "Ani"]  # Blimbing's before Lowokwaru's


def test_a_sponsor_may_not_export_coverage_lists(october, make_user) -> None:
    client = client_as(make_user, "sponsor")
    assert client.get("/cakupan/pekerja/ekspor.csv?status=active").status_code == 403


def test_who_is_not_covered(october, city, make_user) -> None:
    snapshot_build(M("2026-11"), today=TODAY)
    client = client_as(make_user, "city_officer")
    response = client.get("/cakupan/belum-terlindungi/")
    # the latest month, provisional November: Eko registered since, Citra's November unpaid
    assert response.context["snapshot"].month == M("2026-11")
    assert "November 2026" in response.content.decode()
    october_page = client.get(f"/cakupan/belum-terlindungi/?bulan=2026-10&wilayah={BLIMBING}")
    assert names(october_page) == ["Dedi"]
    groups = response.context["charts"]["belum_kelurahan"].rows
    assert sum(r[1] for r in groups) == response.context["count"].not_active


def test_no_snapshot_tells_what_to_do_and_the_button_builds(malang, make_user) -> None:
    clerk = client_as(make_user, "city_officer")
    page = clerk.get("/cakupan/").content.decode()
    assert 'data-testid="no-snapshot"' in page and "build-form" not in page
    officer = client_as(make_user, "bpjs_officer")
    page = officer.get("/cakupan/").content.decode()
    assert "build-form" in page and "--" not in page.split('data-testid="no-snapshot"')[1][:600]
    response = officer.post("/cakupan/bangun/")
    assert response.status_code == 302
    assert Snapshot.objects.count() == 2
    assert officer.get("/cakupan/").status_code == 200


def test_rebuilding_a_closed_month_needs_a_reason(malang, make_user) -> None:
    officer = client_as(make_user, "bpjs_officer")
    today = timezone.localdate()
    previous = selectors.months_to_build(today)[0]
    snapshot_build(previous, today=today + dt.timedelta(days=62))  # closed
    response = officer.post("/cakupan/bangun/")
    # refused on the form, in words, and nothing built
    assert response.status_code == 422
    assert 'data-testid="build-error"' in response.content.decode()
    assert "ditutup" in response.context["build_error"]
    assert Snapshot.objects.count() == 1  # neither month built
    response = officer.post("/cakupan/bangun/", {"reason": "Statement entered late"})
    assert response.status_code == 302
    assert SnapshotRebuild.objects.get().reason == "Statement entered late"
    assert Snapshot.objects.count() == 2


def test_a_page_of_a_list_read_in_chunks_is_the_whole_lists_slice(city, monkeypatch) -> None:
    """The list a page shows (read a chunk at a time, kept through the bitmaps) is the same
    slice of the same order as the whole list an export reads, for every status and region."""
    snapshot = snapshot_build(M("2026-10"), today=TODAY)
    monkeypatch.setattr(selectors.LazyIds, "CHUNK", 1)  # every worker its own chunk
    for region in ("", "35.73.05", "35.73.01.1005"):
        filters = selectors.Filters(region=region)
        for status in selectors.STATUSES:
            whole = [int(i) for i in selectors.list_ids(snapshot, status, filters)]
            lazy = selectors.list_page_ids(snapshot, status, filters)
            assert len(lazy) == len(whole), (region, status)
            assert lazy[0:2] == whole[0:2] and lazy[1:50] == whole[1:50], (region, status)


def test_every_chart_is_a_valid_plotly_figure(october, city, make_user) -> None:
    """The figures are written as plain dicts (no validation on a request): plotly.io reads
    each one back with every property checked, so a misspelt property fails here."""
    import plotly.io as pio

    snapshot_build(M("2026-11"), today=TODAY)  # a provisional month: the dashed line
    target(CITY, 2026, "25.00", kind="city")
    client = client_as(make_user, "bpjs_officer")
    pages = [
        "/cakupan/",
        f"/cakupan/wilayah/{BLIMBING}/",
        "/cakupan/belum-terlindungi/",
        f"/cakupan/dampak/{city['programme'].sponsor.pk}/",
    ]
    seen = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        found = []
        for name in response.context.keys():  # noqa: SIM118 (a ContextList)
            value = response.context[name]
            values = value.values() if isinstance(value, dict) else [value]
            found += [v for v in values if hasattr(v, "figure") and hasattr(v, "rows")]
        assert found, url
        for chart in found:
            figure = pio.from_json(chart.figure)  # raises on any unknown property
            assert figure.data, (url, chart.key)
            seen += 1
    assert seen >= 8
