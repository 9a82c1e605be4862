"""Names with control characters or markup are refused with a message naming the character."""

from __future__ import annotations

import pytest

from cakupan.registry.names import name_problem
from cakupan.registry.services import HeirData, WorkerInvalid, heir_add, worker_create
from cakupan.registry.tests.factories import make_worker, worker_data

pytestmark = pytest.mark.usefixtures("malang")


@pytest.mark.parametrize(
    "name",
    ["Moch. Soejono, S.Pd.", "Ni Luh Putu Ayu", "Dewi Sri-Rahayu", "Ma'ruf Amin", "Sri Rahayu II"],
)
def test_real_names_pass(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Budi\x07 Santoso", "U+0007"),
        ("Budi\u200bSantoso", "U+200B"),
        ("<b>Budi</b>", "'<'"),
        ("=HYPERLINK(1)", "'='"),
        ("Budi {{ x }}", "'{'"),
    ],
)
def test_control_characters_and_markup_are_named(name: str, shown: str) -> None:
    problem = name_problem(name)
    assert problem is not None and shown in problem


def test_the_registry_refuses_them_for_workers_and_heirs() -> None:
    with pytest.raises(WorkerInvalid) as exc:
        worker_create(data=worker_data(full_name="<script>alert(1)</script>"))
    assert "'<'" in exc.value.errors["full_name"][0]
    worker = make_worker()
    with pytest.raises(WorkerInvalid) as exc:
        heir_add(
            worker=worker,
            data=HeirData(full_name="Anak\x00", birth_date=worker.birth_date, relation="child"),
        )
    assert "U+0000" in exc.value.errors["full_name"][0]
    assert not worker.heirs.exists()


NAMES = [
    "Budi Santoso",
    "Moch. Soejono, S.Pd.",
    "Ma'ruf",
    "Dewi Sri-Rahayu",
    "<b>Budi</b>",
    "Budi\x07",
    "a\u200bb",
    "x[1]",
    "=1+1",
    "a\\b",
    "Siti_Aminah",
]


def test_the_column_rule_agrees_with_the_value_rule() -> None:
    import polars as pl

    from cakupan.registry.names import SUSPECT

    found = pl.DataFrame({"n": NAMES}).filter(pl.col("n").str.contains(SUSPECT))["n"].to_list()
    assert set(found) == {n for n in NAMES if name_problem(n) is not None}


def test_a_list_row_with_markup_in_the_name_is_refused_naming_the_character(tmp_path) -> None:
    from cakupan.membership.imports import enrol_import
    from cakupan.membership.tests.test_imports import line, programme, write

    bad = line(1).replace("Pekerja 1", "<script>Budi</script>")
    outcome = enrol_import(
        path=write(tmp_path, [bad, line(2)]), programme=programme(), partial=True
    )
    refused = outcome.problems.filter(outcome.problems["code"] == "invalid_name")
    assert refused["row"].to_list() == [2] and "'<'" in refused["message"][0]
    assert outcome.counts["new"] == 1
