"""Lapse forecast: the reasons on chosen dates, the counts by sponsor and kelurahan, the page,
and the outreach list with its phones and access log."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.test import Client

from cakupan.contributions.billing import billing_run
from cakupan.contributions.forecast import (
    BUDGET_SPENT,
    PROGRAMME_ENDS,
    SELF_PAYER_BEHIND,
    SPONSOR_BEHIND,
    budget_spent_programmes,
    check_date,
    lapse_forecast,
    lapse_rows,
)
from cakupan.contributions.models import Invoice
from cakupan.contributions.services import (
    account_of_membership,
    account_of_sponsor,
    payment_record,
)
from cakupan.contributions.tests.factories import M, make_membership, make_programme
from cakupan.regions.models import Region
from cakupan.registry.models import NikAccessLog, Worker

pytestmark = pytest.mark.django_db

D = dt.date
ON = D(2026, 11, 20)  # the forecast for 2026-12, checked on 16/12/2026
PHONE = "081234567890"


def pay_invoices(programme, months: list[str]) -> None:
    for month in months:
        invoice = Invoice.objects.get(programme=programme, month=M(month))
        amount = sum(b.amount for b in invoice.bills.filter(voided_at__isnull=True))
        payment_record(
            reference=f"PAY-{invoice.number}",
            amount=amount,
            paid_on=D(2026, int(month[5:]), 10),
            source="form",
            user=None,
            account=account_of_sponsor(programme.sponsor),
            target=invoice.number,
        )


@pytest.fixture
def scene(malang):
    """Six memberships from 2026-08, billed through 2026-11:
    - ends: its CSR programme funds it through 2026-11 only, all paid;
    - continues: funded through 2026-12, paid through 2026-11 (not listed);
    - spent: its programme's budget is exactly what 2026-08..11 cost;
    - self_behind: pays itself, paid 2026-08 only (in arrears on 20/11, lapsed on 16/12);
    - self_ok: pays itself, paid through 2026-10 (in arrears on 16/12: still protected);
    - sponsor_behind: its sponsor paid 2026-08 only."""
    ends_p = make_programme(type="csr", last="2026-11")
    cont_p = make_programme(type="csr")
    spent_p = make_programme(type="csr", budget=4 * 8_400)
    late_p = make_programme(type="csr")
    m = {
        "ends": make_membership(fundings=[(ends_p, "2026-08", "2026-11")], name="Ani Ends"),
        "continues": make_membership(fundings=[(cont_p, "2026-08", "2026-12")], name="Bayu Cont"),
        "spent": make_membership(fundings=[(spent_p, "2026-08", "2026-12")], name="Citra Spent"),
        "self_behind": make_membership(fundings=[(None, "2026-08", None)], name="Dedi Behind"),
        "self_ok": make_membership(fundings=[(None, "2026-08", None)], name="Eka Ok"),
        "sponsor_behind": make_membership(
            fundings=[(late_p, "2026-08", "2026-12")], name="Fajar Late"
        ),
    }
    for month in ("2026-08", "2026-09", "2026-10", "2026-11"):
        billing_run(month=month)
    for p in (ends_p, cont_p, spent_p):
        pay_invoices(p, ["2026-08", "2026-09", "2026-10", "2026-11"])
    pay_invoices(late_p, ["2026-08"])
    for key, months in (("self_behind", 1), ("self_ok", 3)):
        account = account_of_membership(m[key])
        for i in range(months):
            payment_record(
                reference=f"SELF-{key}-{i}",
                amount=8_400,
                paid_on=D(2026, 8 + i, 5),
                source="form",
                user=None,
                account=account,
            )
    Worker.objects.filter(pk__in=[x.worker_id for x in m.values()]).update(phone=PHONE)
    other = Region.objects.filter(level=4).exclude(code=m["ends"].worker.kelurahan_id).first()
    Worker.objects.filter(pk=m["self_behind"].worker_id).update(kelurahan=other)
    return {
        "m": m,
        "programmes": {"ends": ends_p, "cont": cont_p, "spent": spent_p, "late": late_p},
        "other_kelurahan": other,
    }


def reasons(on: dt.date, **kw) -> dict[int, tuple[str, int]]:
    return {r.membership_id: (r.reason, r.months_unpaid) for r in lapse_rows(on, **kw)}


def test_the_check_date_is_the_day_after_next_months_due_day():
    assert check_date(ON) == D(2026, 12, 16)
    assert check_date(D(2026, 12, 31)) == D(2027, 1, 16)


def test_each_reason_on_a_chosen_date(scene):
    m = scene["m"]
    assert budget_spent_programmes(ON) == [scene["programmes"]["spent"].pk]
    found = reasons(ON)
    assert found == {
        m["ends"].pk: (PROGRAMME_ENDS, 1),
        m["spent"].pk: (BUDGET_SPENT, 1),
        m["self_behind"].pk: (SELF_PAYER_BEHIND, 4),
        m["sponsor_behind"].pk: (SPONSOR_BEHIND, 4),
    }


def test_a_month_earlier_nobody_loses_a_payer(scene):
    """On 20/10/2026 (forecast for 2026-11) every programme still funds November, the small
    budget still covers it, and nobody is more than three months behind on 16/11."""
    assert reasons(D(2026, 10, 20)) == {}


def test_paying_the_arrears_takes_the_self_payer_off_the_list(scene):
    m = scene["m"]["self_behind"]
    payment_record(
        reference="SELF-catch-up",
        amount=8_400,
        paid_on=D(2026, 11, 20),
        source="form",
        user=None,
        account=account_of_membership(m),
    )
    assert m.pk not in reasons(ON)


def test_counts_by_reason_sponsor_and_kelurahan(scene):
    forecast = lapse_forecast(ON)
    assert forecast.month == M("2026-12") and forecast.check_date == D(2026, 12, 16)
    assert forecast.total == 4
    assert forecast.by_reason == {
        PROGRAMME_ENDS: 1,
        BUDGET_SPENT: 1,
        SELF_PAYER_BEHIND: 1,
        SPONSOR_BEHIND: 1,
    }
    sponsors = {(s, r): n for s, r, n in forecast.by_sponsor}
    assert sponsors[(scene["programmes"]["ends"].sponsor.name, PROGRAMME_ENDS)] == 1
    assert sponsors[("", SELF_PAYER_BEHIND)] == 1
    kelurahan = {(k, r): n for k, r, n in forecast.by_kelurahan}
    assert kelurahan[(scene["other_kelurahan"].name, SELF_PAYER_BEHIND)] == 1
    # a sponsor's forecast holds its own members only
    mine = lapse_forecast(ON, sponsor_ids=[scene["programmes"]["ends"].sponsor_id])
    assert mine.by_reason == {PROGRAMME_ENDS: 1}


def test_the_forecast_page(scene, officer):
    page = officer.get("/iuran/prakiraan/?on=2026-11-20").content.decode()
    assert 'data-testid="forecast-total">4<' in page
    assert 'data-testid="reason-programme_ends">1<' in page
    assert "Program berakhir" in page and "16/12/2026" in page
    assert officer.get("/iuran/prakiraan/?on=kemarin").status_code == 400


def outreach_csv(client: Client) -> list[list[str]]:
    r = client.get("/iuran/prakiraan/unduh/csv/?on=2026-11-20")
    assert r.status_code == 200
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_outreach_list_for_an_officer_has_whole_phones_and_is_logged(scene, officer):
    rows = outreach_csv(officer)
    assert rows[0][:5] == ["Nama", "Nomor HP", "Kelurahan", "Alasan", "Bulan belum dibayar"]
    body = {r[0]: r for r in rows[1:]}
    assert set(body) == {"Ani Ends", "Citra Spent", "Dedi Behind", "Fajar Late"}
    assert body["Dedi Behind"][1] == PHONE
    assert body["Dedi Behind"][3] == "Peserta mandiri menunggak" and body["Dedi Behind"][4] == "4"
    assert body["Dedi Behind"][2] == scene["other_kelurahan"].name
    logged = NikAccessLog.objects.filter(action=NikAccessLog.Action.EXPORT)
    assert logged.count() == 4
    assert set(logged.values_list("worker__full_name", flat=True)) == set(body)


def test_the_outreach_list_for_a_sponsor_is_its_own_with_masked_phones(scene, make_user):
    user = make_user("sponsor", "csr_ends")
    user.sponsor = scene["programmes"]["ends"].sponsor
    user.save(update_fields=["sponsor"])
    client = Client()
    client.force_login(user)
    rows = outreach_csv(client)
    assert [r[0] for r in rows[1:]] == ["Ani Ends"]
    assert rows[1][1] == "0812••••••90"
    assert NikAccessLog.objects.filter(user=user, action=NikAccessLog.Action.EXPORT).count() == 1


def test_the_outreach_list_as_xlsx(scene, officer):
    from openpyxl import load_workbook

    r = officer.get("/iuran/prakiraan/unduh/xlsx/?on=2026-11-20")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    names = [row[0] for row in sheet.iter_rows(min_row=5, values_only=True)]
    assert sorted(names) == ["Ani Ends", "Citra Spent", "Dedi Behind", "Fajar Late"]
    assert NikAccessLog.objects.filter(action=NikAccessLog.Action.EXPORT).count() == 4
