"""The budget planner on a small city computed by hand: who is a candidate, the order of each
priority, the price the rules engine gives per funder, forward ↔ inverse agreement."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cakupan.claims.tests.factories import bill_and_pay
from cakupan.contributions.tests.factories import M, make_membership
from cakupan.coverage import planner
from cakupan.coverage.snapshots import snapshot_build
from cakupan.coverage.tests.conftest import client_as
from cakupan.coverage.tests.factories import denominator, target
from cakupan.errors import Refused
from cakupan.registry.models import Occupation, Worker
from cakupan.registry.nik import mask_nik
from cakupan.registry.tests.factories import make_worker
from cakupan.rules import contribution

LOWOKWARU, BLIMBING, CITY = "35.73.05", "35.73.01", "35.73"
TODAY = dt.date(2026, 12, 2)
FIRST = M("2027-01")


@pytest.fixture
def town(malang):
    """Four uncovered workers and two covered ones; October 2026 closed:
    - Ani: ojol (risk 4), decile 3, Lowokwaru;
    - Bayu: petani (risk 3), decile 1, Blimbing;
    - Cahya: tukang_bangunan (risk 5), decile unknown, Lowokwaru;
    - Dewi: pkl (risk 2), decile 2, Blimbing;
    - Eka: active in October (paid), membership ended in December: not a candidate;
    - Fajar: an open membership covering January 2027, never paid: not a candidate.
    City: 20 employed, 1 active (Eka); Lowokwaru: 10 employed."""
    ani = make_worker(full_name="Ani", occupation="ojol", welfare_decile=3)
    bayu = make_worker(
        full_name="Bayu", occupation="petani", welfare_decile=1, kelurahan="35.73.01.1005"
    )
    cahya = make_worker(full_name="Cahya", occupation="tukang_bangunan")
    dewi = make_worker(
        full_name="Dewi", occupation="pkl", welfare_decile=2, kelurahan="35.73.01.1005"
    )
    eka = make_membership(fundings=[(None, "2026-09", "2026-12")], end="2026-12", name="Eka")
    bill_and_pay(eka, "2026-09", "2026-10")
    fajar = make_membership(fundings=[(None, "2026-11", None)], name="Fajar")
    Worker.objects.update(created_at=dt.datetime(2026, 9, 20, tzinfo=dt.UTC))
    denominator(CITY, 20)
    denominator(LOWOKWARU, 10)
    snapshot_build(M("2026-10"), today=TODAY)
    return {
        "ani": ani.pk,
        "bayu": bayu.pk,
        "cahya": cahya.pk,
        "dewi": dewi.pk,
        "eka": eka.worker_id,
        "fajar": fajar.worker_id,
    }


def names(town: dict, ids) -> list[str]:
    back = {v: k for k, v in town.items()}
    return [back[int(i)] for i in ids]


def monthly(sector: str, funding: str, month: str) -> int:
    """What the rules engine says one member costs a month at the lowest bracket."""
    return contribution(
        category="bpu", income=1_000_000, month=month, sector=sector, funding=funding
    ).total


def test_accident_risk_comes_with_the_catalogue(malang) -> None:
    risk = dict(Occupation.objects.values_list("code", "accident_risk"))
    assert risk["tukang_bangunan"] == 5 and risk["ojol"] == 4 and risk["warung"] == 1
    assert set(risk.values()) <= {1, 2, 3, 4, 5}


def test_candidates_are_the_uncovered(town) -> None:
    pool = planner.candidates(first_month=FIRST)
    assert names(town, pool.ids) == ["ani", "bayu", "cahya", "dewi"]
    # Eka's membership ended, but she was active in the latest snapshot; a plan starting in
    # November 2026 finds Fajar's membership covering it
    assert town["eka"] not in planner.candidates(first_month=M("2026-06")).ids
    blimbing = planner.candidates(first_month=FIRST, kecamatan=[BLIMBING])
    assert names(town, blimbing.ids) == ["bayu", "dewi"]
    one = planner.candidates(first_month=FIRST, kelurahan=["35.73.05.1011"])
    assert names(town, one.ids) == ["ani", "cahya"]
    ojol = Occupation.objects.get(code="ojol").pk
    assert names(town, planner.candidates(first_month=FIRST, occupations=[ojol]).ids) == ["ani"]


@pytest.mark.parametrize(
    ("priority", "weights", "order"),
    [
        ("vulnerability", None, ["bayu", "dewi", "ani", "cahya"]),  # decile 1, 2, 3, unknown
        ("risk", None, ["cahya", "ani", "bayu", "dewi"]),  # 5, 4, 3, 2
        # Blimbing has nobody active (0%), Lowokwaru 1011 one of four (25%), target 30%
        ("gap", None, ["bayu", "dewi", "ani", "cahya"]),
        # (vulnerability + risk) / 2: Ani .775, Bayu .75, Dewi .575, Cahya .5
        ("mix", {"vulnerability": 2, "risk": 2, "gap": 0}, ["ani", "bayu", "dewi", "cahya"]),
    ],
)
def test_forward_picks_by_priority(town, priority, weights, order) -> None:
    target(CITY, 2027, "30")
    plan = planner.forward(
        budget=10**9, first_month=FIRST, months=3, funder="csr", priority=priority, weights=weights
    )
    assert names(town, plan.chosen.ids) == order


def test_ties_are_broken_by_worker_id(town) -> None:
    Occupation.objects.update(accident_risk=3)
    plan = planner.forward(budget=10**9, first_month=FIRST, months=1, funder="csr", priority="risk")
    assert list(plan.chosen.ids) == sorted(plan.chosen.ids)


def test_forward_stops_at_the_budget(town) -> None:
    # January–March 2027, CSR: an ojol (transport) has the PP 50/2025 discount until March
    # 2027, the others not (their window ended in December 2026)
    ojol = sum(monthly("transport", "csr", f"2027-0{m}") for m in (1, 2, 3))
    other = sum(monthly("agriculture", "csr", f"2027-0{m}") for m in (1, 2, 3))
    assert (ojol, other) == (3 * 8_400, 3 * 16_800)
    run = dict(first_month=FIRST, months=3, funder="csr", priority="vulnerability")
    # Bayu, Dewi, Ani, Cahya
    assert len(planner.forward(budget=2 * other - 1, **run).chosen) == 1
    two = planner.forward(budget=2 * other + ojol - 1, **run)
    assert names(town, two.chosen.ids) == ["bayu", "dewi"]
    assert two.total == 2 * other
    assert two.summary()["budget_left"] == ojol - 1
    three = planner.forward(budget=2 * other + ojol, **run)
    assert len(three.chosen) == 3 and three.total == 2 * other + ojol
    assert three.monthly == [(M(f"2027-0{m}"), 3, 2 * 16_800 + 8_400) for m in (1, 2, 3)]


def test_apbd_pays_without_the_discount_csr_with_it(town) -> None:
    ojol = [Occupation.objects.get(code="ojol").pk]
    run = dict(budget=10**9, first_month=FIRST, months=3, priority="risk", occupations=ojol)
    apbd = planner.forward(funder="apbd", **run)
    csr = planner.forward(funder="csr", **run)
    assert monthly("transport", "apbd", "2027-01") == 16_800
    assert monthly("transport", "csr", "2027-01") == 8_400
    assert apbd.total == 3 * 16_800 and csr.total == 3 * 8_400
    assert [rp for _m, _n, rp in apbd.monthly] == [16_800] * 3


def test_reach_per_region(town) -> None:
    plan = planner.forward(
        budget=10**9, first_month=FIRST, months=1, funder="csr", priority="vulnerability"
    )
    regions = {r.code: r for r in plan.regions}
    city = regions[CITY]
    assert (city.participants, city.employed, city.chosen) == (1, 20, 4)
    assert city.before == pytest.approx(5.0) and city.after == pytest.approx(25.0)
    low = regions[LOWOKWARU]
    assert (low.chosen, low.after) == (2, pytest.approx(30.0))
    # Blimbing has no denominator: its registered workers' active share, 0 of 2 → 2 of 2
    blimbing = regions[BLIMBING]
    assert blimbing.by_share and blimbing.before == 0 and blimbing.after == pytest.approx(100.0)


def test_inverse_and_forward_agree(town) -> None:
    plan = planner.inverse(
        target="20",
        by_month=M("2027-03"),
        first_month=FIRST,
        funder="csr",
        priority="vulnerability",
    )
    # ceil(20% × 20) = 4 participants, 1 now: 3 needed, by vulnerability Bayu, Dewi, Ani
    assert plan.needed == 3 and plan.shortfall == 0
    assert names(town, plan.chosen.ids) == ["bayu", "dewi", "ani"]
    assert plan.total == 6 * 16_800 + 3 * 8_400
    assert plan.by_year() == [(2027, plan.total)]
    # kept for a year after March 2027: no discount left for anyone
    assert plan.keep_yearly == 3 * 12 * monthly("transport", "csr", "2027-04") == 3 * 12 * 16_800

    again = planner.forward(
        budget=plan.total, first_month=FIRST, months=3, funder="csr", priority="vulnerability"
    )
    assert len(again.chosen) >= plan.needed
    city = next(r for r in again.regions if r.code == CITY)
    assert city.after >= 20


def test_inverse_for_a_kecamatan_and_one_already_reached(town) -> None:
    plan = planner.inverse(
        target=Decimal("30"),
        by_month=M("2027-12"),
        first_month=FIRST,
        funder="apbd",
        priority="risk",
        region=LOWOKWARU,
    )
    assert plan.needed == 2 and names(town, plan.chosen.ids) == ["cahya", "ani"]
    assert plan.by_year() == [(2027, 2 * 12 * 16_800)]
    reached = planner.inverse(
        target="5", by_month=M("2027-12"), first_month=FIRST, funder="csr", priority="risk"
    )
    assert reached.needed == 0 and len(reached.chosen) == 0 and reached.total == 0


def test_inverse_short_of_candidates_says_so(town) -> None:
    plan = planner.inverse(
        target="50", by_month=M("2027-03"), first_month=FIRST, funder="csr", priority="risk"
    )
    assert plan.needed == 9 and len(plan.chosen) == 4 and plan.shortfall == 5


def test_refusals_name_the_field(town) -> None:
    with pytest.raises(Refused) as refused:
        planner.inverse(
            target="20",
            by_month=M("2027-03"),
            first_month=FIRST,
            funder="csr",
            priority="risk",
            region=BLIMBING,
        )
    assert refused.value.field == "region"
    with pytest.raises(Refused) as refused:
        planner.forward(
            budget=1,
            first_month=FIRST,
            months=1,
            funder="csr",
            priority="mix",
            weights={"risk": 0},
        )
    assert refused.value.field == "weights"
    with pytest.raises(Refused) as refused:
        planner.forward(budget=1, first_month=FIRST, months=61, funder="csr", priority="risk")
    assert refused.value.field == "months"


# -- scenarios -------------------------------------------------------------------------------


def forward_plan(budget: int = 10**9, funder: str = "csr", months: int = 3):
    return planner.forward(
        budget=budget, first_month=FIRST, months=months, funder=funder, priority="vulnerability"
    )


def test_scenario_save_compare_and_export(town) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    from cakupan.coverage.scenarios import (
        scenario_pdf,
        scenario_save,
        scenario_xlsx,
        scenarios_for_compare,
    )
    from cakupan.coverage.snapshots import unpack_ids

    csr = scenario_save(plan=forward_plan(), name="CSR ojol 2027")
    apbd = scenario_save(plan=forward_plan(funder="apbd"), name="APBD: semua [2027/2028]?")
    assert sorted(unpack_ids(csr.chosen_ids)) == sorted(
        town[k] for k in ("ani", "bayu", "cahya", "dewi")
    )
    assert csr.total == 9 * 16_800 + 3 * 8_400 and apbd.total == 12 * 16_800
    assert csr.summary["first_ids"] == [town["bayu"], town["dewi"], town["ani"], town["cahya"]]

    both = scenarios_for_compare([csr.pk, apbd.pk])
    book = load_workbook(BytesIO(scenario_xlsx(both)))
    summary = [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    assert summary[0][1:] == ["CSR ojol 2027", "APBD: semua [2027/2028]?"]
    assert book.sheetnames[2] == "2. APBD- semua -2027-2028--"
    totals = next(row for row in summary if row[1] == csr.total)
    assert totals[2] == apbd.total
    months = [[c.value for c in row][:3] for row in book.worksheets[1].iter_rows(max_row=4)]
    assert months[1] == ["2027-01", 4, 3 * 16_800 + 8_400]
    with pytest.raises(Refused):
        scenarios_for_compare([csr.pk])

    pdf = scenario_pdf(csr, compress=False)
    assert pdf.startswith(b"%PDF") and b"CSR ojol 2027" in pdf
    assert b"Rp 176.400" in pdf  # the total, in Indonesian
    assert scenario_pdf(csr).startswith(b"%PDF")


def test_a_scenario_becomes_a_programme_once(town) -> None:
    from cakupan.coverage.scenarios import scenario_save, scenario_to_programme
    from cakupan.funding.selectors import programme_budget
    from cakupan.funding.services import sponsor_create
    from cakupan.membership.models import FundingAssignment, Membership

    # Gita's membership ended in June 2026; Hadi is registered, then removed
    make_membership(fundings=[(None, "2026-01", "2026-06")], end="2026-06", name="Gita")
    hadi = make_worker(full_name="Hadi", occupation="ojol")
    scenario = scenario_save(plan=forward_plan(), name="CSR 2027")
    assert scenario.chosen == 6
    hadi.delete()
    # meanwhile Dewi was enrolled (self-paid) from February 2027
    dewi = Membership.objects.create(
        worker_id=town["dewi"],
        programmes=["jkk", "jkm"],
        declared_income=1_000_000,
        bracket=1,
        start_month=M("2027-02"),
        number="BPU-X",
    )
    sponsor = sponsor_create(type="csr", name="PT Sejahtera")
    wrong = sponsor_create(type="apbd", name="Pemkot Malang")
    with pytest.raises(Refused) as refused:
        scenario_to_programme(scenario=scenario, sponsor=wrong, name="Program CSR")
    assert refused.value.field == "sponsor"

    # all or nothing: a programme refused writes no membership
    with pytest.raises(Refused) as refused:
        scenario_to_programme(scenario=scenario, sponsor=sponsor, name="  ")
    assert refused.value.field == "name"
    assert Membership.objects.count() == 4  # Eka's, Fajar's, Gita's, Dewi's

    made = scenario_to_programme(scenario=scenario, sponsor=sponsor, name="Program CSR")
    assert (made.enrolled, made.became_members, made.earlier_members, made.gone) == (3, 1, 1, 1)
    programme = made.programme
    assert (programme.first_month, programme.last_month) == (M("2027-01"), M("2027-03"))
    cohort = set(
        FundingAssignment.objects.filter(programme=programme).values_list(
            "membership__worker_id", flat=True
        )
    )
    assert cohort == {town["ani"], town["bayu"], town["cahya"]}
    assert not FundingAssignment.objects.filter(membership=dewi).exists()
    # committed as the rules price it: Ani (ojol) with the discount, Bayu and Cahya without
    budget = programme_budget(programme=programme)
    assert budget.committed == programme.budget == 6 * 16_800 + 3 * 8_400
    assert Membership.objects.get(worker_id=town["ani"]).number == f"BPU-{town['ani']:09d}"

    with pytest.raises(Refused) as refused:
        scenario_to_programme(scenario=scenario, sponsor=sponsor, name="Program CSR lagi")
    assert refused.value.code == "already_programme"
    assert FundingAssignment.objects.filter(programme__isnull=False).count() == 3


# -- pages -----------------------------------------------------------------------------------

FORWARD = {
    "kind": "forward",
    "budget": "200000",
    "first_month": "2027-01",
    "months": "3",
    "funder": "csr",
    "priority": "vulnerability",
    "income": "1000000",
}


@pytest.mark.parametrize(
    ("role", "status"),
    [("bpjs_officer", 200), ("city_officer", 200), ("sponsor", 403), ("hospital", 403)],
)
def test_planner_pages_per_role(town, make_user, role, status) -> None:
    client = client_as(make_user, role)
    assert client.get("/cakupan/rencana/").status_code == status
    assert client.get("/cakupan/rencana/skenario/").status_code == status
    assert client.get("/cakupan/rencana/pekerja.csv", FORWARD).status_code == status


def test_plan_page_save_and_export(town, make_user) -> None:
    from cakupan.coverage.models import Scenario

    client = client_as(make_user, "city_officer")
    page = client.get("/cakupan/rencana/", FORWARD)
    html = page.content.decode()
    assert page.status_code == 200 and 'id="plan-result"' in html
    bayu = Worker.objects.get(pk=town["bayu"])
    assert "Bayu" in html and "Dewi" in html
    assert mask_nik(bayu.nik) in html and bayu.nik not in html
    csv = b"".join(client.get("/cakupan/rencana/pekerja.csv", FORWARD).streaming_content)
    lines = csv.decode().splitlines()
    assert len(lines) == 1 + 4 and lines[1].startswith(f"{town['bayu']},")
    assert lines[1].split(",")[1] == mask_nik(bayu.nik)

    from urllib.parse import urlencode

    saved = client.post(f"/cakupan/rencana/simpan/?{urlencode(FORWARD)}", {"name": "Rencana A"})
    scenario = Scenario.objects.get()
    assert saved.status_code == 302 and saved["Location"].endswith(f"/skenario/{scenario.pk}/")
    assert scenario.name == "Rencana A" and scenario.chosen == 4
    detail = client.get(saved["Location"])
    assert "Rencana A" in detail.content.decode()
    assert ">Rencana A</a>" in client.get("/cakupan/rencana/skenario/").content.decode()
    pdf = client.get(f"/cakupan/rencana/skenario/{scenario.pk}/unduh.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    xlsx = client.get(f"/cakupan/rencana/skenario/{scenario.pk}/unduh.xlsx")
    assert xlsx.content.startswith(b"PK")
    scenario_save_again = client.post(
        f"/cakupan/rencana/simpan/?{urlencode({**FORWARD, 'budget': '60000'})}", {"name": "B"}
    )
    assert scenario_save_again.status_code == 302
    other = Scenario.objects.get(name="B")
    compare = client.get("/cakupan/rencana/skenario/banding/", {"ids": [scenario.pk, other.pk]})
    assert compare.status_code == 200 and "Rencana A" in compare.content.decode()


def test_plan_page_shows_a_refusal_on_its_field(town, make_user) -> None:
    client = client_as(make_user, "city_officer")
    page = client.get(
        "/cakupan/rencana/",
        {**FORWARD, "kind": "inverse", "target": "20", "by_month": "2027-03", "region": BLIMBING},
    )
    assert 'id="err-region"' in page.content.decode()


def test_make_a_programme_page(town, make_user) -> None:
    from cakupan.coverage.scenarios import scenario_save
    from cakupan.funding.models import FundingProgramme
    from cakupan.funding.services import sponsor_create
    from cakupan.membership.models import FundingAssignment

    scenario = scenario_save(plan=forward_plan(), name="CSR 2027")
    sponsor = sponsor_create(type="csr", name="PT Sejahtera")
    url = f"/cakupan/rencana/skenario/{scenario.pk}/program/"
    form = {"sponsor": sponsor.pk, "name": "Program CSR 2027", "confirm": "on"}
    # the sponsor role cannot; without the confirmation nothing is made
    assert client_as(make_user, "sponsor").post(url, form).status_code == 403
    client = client_as(make_user, "city_officer")
    client.post(url, {**form, "confirm": ""})
    assert not FundingProgramme.objects.exists()
    done = client.post(url, form)
    programme = FundingProgramme.objects.get()
    assert done["Location"] == f"/program/{programme.pk}/"
    assert FundingAssignment.objects.filter(programme=programme).count() == 4
    client.post(url, form)  # a second click
    assert FundingProgramme.objects.count() == 1
    assert FundingAssignment.objects.count() == 4 + 2  # and Eka's, Fajar's own


def test_inverse_plan_page_and_its_scenario(town, make_user) -> None:
    from urllib.parse import urlencode

    from cakupan.coverage.models import Scenario

    client = client_as(make_user, "bpjs_officer")
    query = {
        **FORWARD,
        "kind": "inverse",
        "target": "20",
        "by_month": "2027-03",
        "region": CITY,
    }
    page = client.get("/cakupan/rencana/", query)
    html = page.content.decode()
    assert 'id="plan-result"' in html and "Kota Malang" in html
    saved = client.post(f"/cakupan/rencana/simpan/?{urlencode(query)}", {"name": "Target 20%"})
    scenario = Scenario.objects.get()
    assert saved.status_code == 302 and scenario.kind == "inverse"
    assert scenario.summary["needed"] == 3 and scenario.chosen == 3
    pdf = client.get(f"/cakupan/rencana/skenario/{scenario.pk}/unduh.pdf")
    assert pdf.content.startswith(b"%PDF")
