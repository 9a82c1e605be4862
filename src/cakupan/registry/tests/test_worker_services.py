"""Worker and heir services: validation by field, duplicates, warnings, NIK checks on the DB."""

from __future__ import annotations

import datetime as dt

import pytest

from cakupan.regions.models import Region
from cakupan.registry.models import Heir, NikAccessLog, Worker
from cakupan.registry.selectors import WorkerFilters, nik_check, worker_list
from cakupan.registry.services import (
    HeirData,
    WorkerInvalid,
    heir_add,
    nik_display,
    worker_create,
    worker_update,
)
from cakupan.registry.tests.factories import make_worker, worker_data

pytestmark = pytest.mark.usefixtures("malang")


def test_create_worker_normalises_name_and_phone() -> None:
    w = make_worker(full_name="  siti   Aminah ", sex="P", phone="+62 812-3456-7890")
    assert w.full_name == "siti Aminah" and w.phone == "081234567890"
    assert w.kelurahan.parent_id == "35.73.05"


def test_duplicate_nik_is_refused_with_the_existing_worker() -> None:
    first = make_worker()
    with pytest.raises(WorkerInvalid) as exc:
        worker_create(data=worker_data(nik=first.nik, full_name="Orang Lain"))
    assert exc.value.existing == first
    assert "sudah terdaftar atas nama Budi Santoso" in exc.value.errors["nik"][0]
    assert Worker.objects.count() == 1


def test_every_field_error_is_reported_at_once() -> None:
    data = worker_data(
        full_name=" ",
        kelurahan="35.73.05.9999",
        occupation="astronot",
        phone="12345",
        welfare_decile=11,
    )
    data.nik = "3573055203900001"  # a woman's NIK for a man born on another day
    with pytest.raises(WorkerInvalid) as exc:
        worker_create(data=data)
    assert set(exc.value.errors) == {
        "full_name",
        "kelurahan",
        "occupation",
        "phone",
        "welfare_decile",
        "sex",
        "birth_date",
    }
    assert not Worker.objects.exists()


def test_nik_of_an_unknown_kecamatan_of_malang_is_refused() -> None:
    with pytest.raises(WorkerInvalid) as exc:
        worker_create(data=worker_data(nik="3573091506880001"))
    assert "35.73.09" in exc.value.errors["nik"][0]


def test_nik_issued_outside_the_loaded_list_is_accepted_with_a_warning() -> None:
    data = worker_data(nik="3578011506880001")  # Surabaya, list not imported
    worker_create(data=data)
    assert [w.code for w in data.warnings] == ["region_not_loaded"]


def test_retired_kecamatan_in_nik_is_a_warning_but_retired_domicile_is_an_error() -> None:
    Region.objects.filter(code="35.73.04").update(retired_on=dt.date(2025, 1, 1))
    data = worker_data(nik="3573041506880001")
    worker_create(data=data)
    assert [w.code for w in data.warnings] == ["retired_region"]
    Region.objects.filter(code="35.73.05.1011").update(retired_on=dt.date(2025, 1, 1))
    with pytest.raises(WorkerInvalid) as exc:
        worker_create(data=worker_data())
    assert "kelurahan" in exc.value.errors


def test_worker_younger_than_the_minimum_age_is_refused() -> None:
    with pytest.raises(WorkerInvalid) as exc:
        worker_create(data=worker_data(birth_date=dt.date(2015, 1, 1)))
    assert "minimal 15 tahun" in " ".join(exc.value.errors["birth_date"])


def test_update_changes_fields_and_refuses_another_workers_nik() -> None:
    a = make_worker()
    b = make_worker(full_name="Ani")
    data = worker_data(nik=a.nik, full_name="Budi S.")
    worker_update(worker=a, data=data)
    a.refresh_from_db()
    assert a.full_name == "Budi S."
    with pytest.raises(WorkerInvalid):
        worker_update(worker=b, data=worker_data(nik=a.nik))


def test_heir_with_valid_child_nik_and_heir_errors() -> None:
    w = make_worker()
    heir = heir_add(
        worker=w,
        data=HeirData(
            full_name="Adi",
            birth_date=dt.date(2016, 5, 2),
            relation="child",
            nik="3573050205160003",
            sex="L",
        ),
    )
    assert heir.worker == w and Heir.objects.count() == 1
    with pytest.raises(WorkerInvalid) as exc:
        heir_add(
            worker=w,
            data=HeirData(
                full_name="",
                birth_date=dt.date(2016, 5, 2),
                relation="cousin",
                nik="3573050205160003",
                sex="P",
            ),
        )
    assert set(exc.value.errors) == {"full_name", "relation", "sex"}


def test_db_nik_check_distinguishes_unknown_from_not_loaded() -> None:
    assert nik_check("3573091506880001").problems[0].code == "unknown_region"
    assert nik_check("3171011506880001").problems[0].code == "region_not_loaded"
    assert nik_check("3573051506880001").problems == []


def test_search_by_nik_prefix_and_name_parts(make_user) -> None:
    officer = make_user("bpjs_officer")
    a = make_worker(full_name="Moch. Rizki Pratama")
    make_worker(full_name="Siti Rahayu", sex="P", kelurahan="35.73.01.1001")
    by_name = worker_list(user=officer, filters=WorkerFilters(q="rizki prat"))
    assert list(by_name) == [a]
    assert list(worker_list(user=officer, filters=WorkerFilters(q=a.nik[:10]))) == [a]
    assert worker_list(user=officer, filters=WorkerFilters(kecamatan="35.73.01")).count() == 1
    assert worker_list(user=officer, filters=WorkerFilters(sex="P")).count() == 1
    assert worker_list(user=officer, filters=WorkerFilters(vulnerable=True)).count() == 2


def test_nik_display_logs_whole_niks_only_for_allowed_roles(make_user) -> None:
    w = make_worker()
    officer, sponsor = make_user("bpjs_officer"), make_user("sponsor")
    assert nik_display(user=officer, workers=[w], action="view")[w.pk] == w.nik
    assert nik_display(user=sponsor, workers=[w], action="view")[w.pk] == w.nik[:4] + "•" * 12
    log = list(NikAccessLog.objects.values_list("user__username", "worker_id", "action"))
    assert log == [(officer.username, w.pk, "view")]


def test_access_log_rows_written_together_keep_each_its_own_time_and_fields(make_user) -> None:
    """The batch the lean verify path writes (COPY on PostgreSQL, executemany elsewhere):
    every row as given, in one transaction, each with its own time, the path cut to 300."""
    from cakupan.registry.services import AccessLogEntry, access_log_write_entries

    w, desk = make_worker(), make_user("hospital")
    first = dt.datetime(2026, 12, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    entries = [
        AccessLogEntry(desk.pk, w.pk, "verify", "/api/v1/verify", first),
        AccessLogEntry(desk.pk, None, "verify", "/api/v1/verify", first + dt.timedelta(seconds=1)),
        AccessLogEntry(None, w.pk, "verify", "/v/" + "x" * 400, first + dt.timedelta(hours=1)),
    ]
    access_log_write_entries(entries)
    access_log_write_entries([])
    rows = list(
        NikAccessLog.objects.order_by("id").values_list(
            "user_id", "worker_id", "action", "fields", "path", "at"
        )
    )
    assert rows == [
        (desk.pk, w.pk, "verify", "", "/api/v1/verify", first),
        (desk.pk, None, "verify", "", "/api/v1/verify", first + dt.timedelta(seconds=1)),
        (None, w.pk, "verify", "", ("/v/" + "x" * 400)[:300], first + dt.timedelta(hours=1)),
    ]
