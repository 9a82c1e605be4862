"""The calculator pages: form, result with each line and its basis, field errors, htmx, roles."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.usefixtures("malang")

CONTRIBUTION = "/hitung/iuran/"
BENEFITS = "/hitung/manfaat/"


def _benefit_post(**values: object) -> dict[str, object]:
    """A benefit form POST: empty formsets plus `values` (formset rows by their prefix)."""
    data: dict[str, object] = {
        "type": "jkm",
        "event_date": "2026-03-15",
        "months_in_arrears": "0",
        "disability-TOTAL_FORMS": "3",
        "disability-INITIAL_FORMS": "0",
        "children-TOTAL_FORMS": "2",
        "children-INITIAL_FORMS": "0",
    }
    for n in range(2):
        data[f"children-{n}-working"] = "no"
        data[f"children-{n}-registered_heir"] = "on"
    data.update(values)
    return data


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_contribution_form_renders_with_this_month_and_the_sectors(officer) -> None:
    from django.utils import timezone

    r = officer.get(CONTRIBUTION)
    body = r.content.decode()
    assert r.status_code == 200
    assert f'value="{timezone.localdate():%Y-%m}"' in body
    assert "Transportasi (ojol, opang, sopir, kurir)" in body  # the engine's Indonesian label
    assert 'data-sector="transport"' in body  # an occupation carries its sector
    assert 'hx-post="/hitung/iuran/"' in body


def test_contribution_csr_funded_ojol_pays_8400(officer) -> None:
    r = officer.post(
        CONTRIBUTION,
        {"income": "1.000.000", "month": "2026-11", "occupation": "ojol", "funding": "csr"},
    )
    body = r.content.decode()
    assert r.status_code == 200
    assert 'data-testid="total">Rp 8.400<' in body
    text = _text(body)
    assert "Rp 10.000 − Rp 5.000 Rp 5.000" in text  # JKK gross, discount, net
    assert "PP 44/2015 Lampiran II" in text and "PP 50/2025" in text


def test_contribution_apbd_funded_ojol_gets_no_discount_and_says_why(officer) -> None:
    r = officer.post(
        CONTRIBUTION,
        {"income": "1000000", "month": "2026-11", "sector": "transport", "funding": "apbd"},
    )
    body = r.content.decode()
    assert 'data-testid="total">Rp 16.800<' in body
    assert 'data-note="discount_government_funded"' in body
    assert "iuran dibayar dari APBD" in body  # the engine's own Indonesian note


def test_contribution_errors_sit_next_to_their_field(officer) -> None:
    r = officer.post(
        CONTRIBUTION, {"income": "-5", "month": "2026-11", "sector": "trade", "funding": "self"}
    )
    body = r.content.decode()
    assert 'id="err-income"' in body and "Penghasilan tidak boleh kurang dari 0" in body
    assert 'data-testid="total"' not in body
    r = officer.post(
        CONTRIBUTION,
        {"income": "1000000", "month": "2010-01", "sector": "trade", "funding": "self"},
    )
    assert 'id="err-month"' in r.content.decode()
    r = officer.post(CONTRIBUTION, {"income": "1000000", "month": "2026-11", "funding": "self"})
    assert 'id="err-sector"' in r.content.decode()  # neither a sector nor an occupation


def test_contribution_htmx_returns_only_the_result_fragment(officer) -> None:
    data = {"income": "1000000", "month": "2026-11", "sector": "transport", "funding": "csr"}
    r = officer.post(CONTRIBUTION, data, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="result")
    body = r.content.decode()
    assert "<html" not in body and "<form" not in body
    assert 'data-testid="total">Rp 8.400<' in body
    bad = officer.post(
        CONTRIBUTION, {**data, "income": "-1"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="result"
    ).content.decode()
    # with an error the form comes back out of band, its message next to the field
    assert "<html" not in bad and 'hx-swap-oob="true"' in bad and 'id="err-income"' in bad


def test_benefit_form_renders_the_disability_table(officer) -> None:
    body = officer.get(BENEFITS).content.decode()
    assert "Kulit kepala terkelupas (10–30%)" in body
    assert 'name="children-1-birth_date"' in body and 'name="disability-2-item"' in body


def test_benefit_jkm_death_is_42_million(officer) -> None:
    body = officer.post(BENEFITS, _benefit_post()).content.decode()
    assert 'data-testid="total">Rp 42.000.000<' in body
    assert 'data-code="lump_sum" data-payable="now"' in body
    assert "PP 82/2019" in body


def test_benefit_jkk_death_with_arrears_and_scholarships(officer) -> None:
    r = officer.post(
        BENEFITS,
        _benefit_post(
            type="jkk",
            income="900.000",
            death="on",
            months_in_arrears="2",
            **{
                "children-0-name": "Ani",
                "children-0-birth_date": "2016-05-01",
                "children-0-level": "tk_sd",
                "children-0-year_in_level": "4",
                "children-1-name": "Budi",
                "children-1-birth_date": "2000-01-01",
                "children-1-level": "s1",
                "children-1-year_in_level": "3",
            },
        ),
    )
    body = r.content.decode()
    assert 'data-code="medical_care" data-payable="now"' in body
    assert 'data-code="death" data-payable="after_arrears"' in body
    assert 'data-testid="total-now">Rp 0<' in body
    text = _text(body)
    assert "2025/2026 TK-SD 4 Rp 1.500.000" in text  # the schedule per school year
    assert 'data-reason="age_limit"' in body  # Budi is 26
    assert "Ani" in body


def test_benefit_disability_over_100_percent_is_marked_on_its_row(officer) -> None:
    r = officer.post(
        BENEFITS,
        _benefit_post(
            type="jkk",
            wage="1000000",
            **{"disability-0-item": "eye_one", "disability-0-function_loss_percent": "150"},
        ),
    )
    body = r.content.decode()
    assert 'id="err-disability-0-function_loss_percent"' in body
    assert "tidak boleh lebih dari 100" in body
    assert 'data-testid="total"' not in body


def test_benefit_errors_without_a_field_name_it(officer) -> None:
    # a scholarship follows only a death or total disability: the message names the children
    r = officer.post(
        BENEFITS,
        _benefit_post(
            type="jkk",
            wage="1000000",
            **{
                "children-0-birth_date": "2010-01-01",
                "children-0-level": "smp",
                "children-0-year_in_level": "1",
            },
        ),
    )
    body = r.content.decode()
    assert "children: Beasiswa hanya untuk kematian" in body
    r = officer.post(BENEFITS, _benefit_post(type="jkk"))  # neither wage nor income
    assert 'id="err-wage"' in r.content.decode()


def test_benefit_htmx_returns_only_the_result_fragment(officer) -> None:
    r = officer.post(BENEFITS, _benefit_post(), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="result")
    body = r.content.decode()
    assert "<html" not in body and "<form" not in body
    assert 'data-testid="total">Rp 42.000.000<' in body


@pytest.mark.parametrize("page", [CONTRIBUTION, BENEFITS])
def test_hospital_is_refused_and_anonymous_sent_to_login(make_user, page: str) -> None:
    client = Client()
    client.force_login(make_user("hospital"))
    assert client.get(page).status_code == 403
    assert client.post(page, {}).status_code == 403
    r = Client().get(page)
    assert r.status_code == 302 and r["Location"].startswith("/masuk/")


@pytest.mark.parametrize("role", ["admin", "city_officer", "sponsor"])
def test_every_calculator_role_sees_the_pages(make_user, role: str) -> None:
    client = Client()
    client.force_login(make_user(role))
    assert client.get(CONTRIBUTION).status_code == 200
    assert client.get(BENEFITS).status_code == 200


def test_benefit_dates_off_the_calendar_are_a_field_error(officer) -> None:
    r = officer.post(
        BENEFITS,
        _benefit_post(
            event_date="9999-12-31",
            contribution_months="40",
            **{"children-0-birth_date": "9999-01-01", "children-0-level": "not_in_school"},
        ),
    )
    body = r.content.decode()
    assert r.status_code == 200
    assert 'id="err-event_date"' in body and 'id="err-children-0-birth_date"' in body


def test_a_link_from_a_worker_page_prefills_the_occupation(client, make_user) -> None:
    client.force_login(make_user("bpjs_officer"))
    body = client.get("/hitung/iuran/?occupation=ojol&funding=csr").content.decode()
    assert '<option value="ojol" selected' in body and '<option value="csr" selected>' in body


# Issue 8: what is paid when; any number of children; dates checked against today.


def test_benefit_future_event_is_refused_next_to_the_date(officer) -> None:
    import datetime as dt

    from django.utils import timezone

    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    body = officer.post(BENEFITS, _benefit_post(event_date=tomorrow.isoformat())).content.decode()
    assert 'id="err-event_date"' in body and "setelah hari ini" in body
    assert 'data-testid="total"' not in body


def test_benefit_add_child_shows_a_third_row_keeping_what_was_typed(officer) -> None:
    data = _benefit_post(
        add_child="1",
        **{"children-0-name": "Ani", "children-0-birth_date": "2015-01-01"},
    )
    body = officer.post(BENEFITS, data).content.decode()
    assert 'name="children-2-birth_date"' in body and 'name="children-3-birth_date"' not in body
    assert 'name="children-TOTAL_FORMS" value="3"' in body
    assert 'value="Ani"' in body and 'value="2015-01-01"' in body
    assert "Tambah anak" in body and "Dipilih ahli waris sebagai penerima beasiswa" in body
    assert 'data-testid="benefit-result"' not in body and 'class="error"' not in body
    # through htmx only the form comes back (out of band); the result stays as it was
    r = officer.post(BENEFITS, data, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="result")
    fragment = r.content.decode()
    assert 'hx-swap-oob="true"' in fragment and 'name="children-2-birth_date"' in fragment
    assert r["HX-Reswap"] == "none"


def test_benefit_three_children_two_receive_one_max_children(officer) -> None:
    rows = {
        "children-TOTAL_FORMS": "3",
        "children-2-working": "no",
        "children-2-registered_heir": "on",
        "contribution_months": "40",
    }
    for n, (name, born, level, year) in enumerate(
        [
            ("Ani", "2015-01-01", "smp", "1"),
            ("Budi", "2010-01-01", "sma", "1"),
            ("Citra", "2018-01-01", "tk_sd", "3"),
        ]
    ):
        rows |= {
            f"children-{n}-name": name,
            f"children-{n}-birth_date": born,
            f"children-{n}-level": level,
            f"children-{n}-year_in_level": year,
        }
    body = officer.post(BENEFITS, _benefit_post(**rows)).content.decode()
    assert 'data-testid="child-2"' in body and 'data-reason="max_children"' in body
    text = _text(body)
    assert "paling banyak 2 anak" in text and "tidak menerima" in text
    assert "Beasiswa tahun ajaran berikutnya" in text and "Jatuh tempo sekarang" in text
    # the three amounts stand apart, and each is the sum of its own lines
    headline = {
        testid: _amount(body, f'data-testid="{testid}"')
        for testid in ("total-now", "total-later", "total")
    }
    # the lines due now, and each child's rows of later school years
    now = re.findall(
        r'data-code="[^"]+" data-payable="now">\s*<td>.*?</td>\s*<td class="num"><strong>'
        r"(Rp [\d.]+)<",
        body,
        re.S,
    )
    later = re.findall(
        r'data-payable="later">(?:<td>[^<]*</td>){2}<td class="num">\d+</td>'
        r'<td class="num">(Rp [\d.]+)<',
        body,
    )
    assert headline["total-now"] == sum(_rupiah(a) for a in now)
    assert headline["total-later"] == sum(_rupiah(a) for a in later) > 0
    assert headline["total"] == headline["total-now"] + headline["total-later"]
    # in English the engine's reason and the page's words are English; the language the
    # request activates is put back afterwards, so no later test runs in English
    from django.utils import translation

    with translation.override(translation.get_language()):
        officer.post("/i18n/setlang/", {"language": "en", "next": BENEFITS})
        english = _text(officer.post(BENEFITS, _benefit_post(**rows)).content.decode())
    assert "at most 2 children" in english and "does not receive it" in english
    assert "Scholarships of later school years" in english


def _rupiah(text: str) -> int:
    return int(text.removeprefix("Rp ").replace(".", ""))


def _amount(body: str, marker: str) -> int:
    match = re.search(re.escape(marker) + r">(Rp [\d.]+)<", body)
    assert match, marker
    return _rupiah(match.group(1))
