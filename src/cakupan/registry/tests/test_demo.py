"""Demo data: deterministic, valid NIKs, a city-shaped spread, plausible families, replace rules."""

from __future__ import annotations

import csv
import datetime as dt
import re
import tomllib
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from cakupan.regions.models import Level, Region
from cakupan.registry import demo
from cakupan.registry.demo import DemoError, DemoResult, demo_load
from cakupan.registry.models import DemoDataset, Heir, NikAccessLog, Worker
from cakupan.registry.selectors import nik_check_many

N = 5_000


def _vocab() -> dict:
    text = resources.files("cakupan.registry").joinpath("data/demo_names.toml").read_text("utf-8")
    return tomllib.loads(text)


def _age(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@pytest.fixture
def loaded(db: None) -> DemoResult:
    """N demo workers; the `db` fixture gives every test its own empty database."""
    return demo_load(workers=N, seed=42)


def _rows(model: type[Worker] | type[Heir]) -> list[tuple[str, str, dt.date]]:
    return list(model.objects.order_by("id").values_list("nik", "full_name", "birth_date"))


@pytest.mark.django_db
def test_same_seed_gives_the_same_rows_and_another_seed_does_not() -> None:
    first = demo_load(workers=2_000, seed=7)
    workers, heirs = _rows(Worker), _rows(Heir)
    again = demo_load(workers=2_000, seed=7, replace=True)
    assert (_rows(Worker), _rows(Heir)) == (workers, heirs)
    assert again.heirs == first.heirs > 0
    demo_load(workers=2_000, seed=8, replace=True)
    other = _rows(Worker)
    assert len(other) == 2_000
    assert len({n for n, _name, _b in other} & {n for n, _name, _b in workers}) < 200
    assert [name for _n, name, _b in other] != [name for _n, name, _b in workers]


@pytest.mark.django_db
def test_the_builtin_regions_and_occupations_are_loaded_when_missing() -> None:
    assert not Region.objects.exists()
    result = demo_load(workers=100, seed=1)
    assert result.workers == Worker.objects.count() == 100
    assert Region.objects.filter(level=Level.VILLAGE, code__startswith="35.73.").count() == 57
    assert list(DemoDataset.objects.values_list("seed", "workers")) == [(1, 100)]
    assert set(Worker.objects.values_list("source", flat=True)) == {Worker.Source.DEMO}


def test_worker_niks_are_valid_and_match_sex_birth_date_and_kecamatan(loaded: DemoResult) -> None:
    workers = list(
        Worker.objects.select_related("kelurahan")
        .order_by("id")[:2_000]
        .values_list("nik", "sex", "birth_date", "kelurahan_id")
    )
    results = nik_check_many([w[0] for w in workers])
    elsewhere = set(_vocab()["issued_elsewhere"]["codes"])
    outside = 0
    for (nik, sex, born, kelurahan), r in zip(workers, results, strict=True):
        assert not r.errors, (nik, r.errors)
        assert (r.sex, r.birth_date) == (sex, born), nik
        if r.region_code != kelurahan[:8]:
            assert r.region_code in elsewhere, nik
            outside += 1
    assert 0.10 < outside / len(workers) < 0.20


def test_heir_niks_are_valid_and_match_sex_and_birth_date(loaded: DemoResult) -> None:
    heirs = list(Heir.objects.exclude(nik="").values_list("nik", "sex", "birth_date")[:2_000])
    assert len(heirs) > 1_000
    for (nik, sex, born), r in zip(
        heirs, nik_check_many([h[0] for h in heirs], min_age=0), strict=True
    ):
        assert not r.errors, (nik, r.errors)
        assert (r.sex, r.birth_date) == (sex, born), nik


def test_niks_are_unique_across_workers_and_heirs(loaded: DemoResult) -> None:
    niks = list(Worker.objects.values_list("nik", flat=True))
    niks += list(Heir.objects.exclude(nik="").values_list("nik", flat=True))
    assert len(niks) == len(set(niks))
    # Serials count from 0001 within each (kecamatan, birth date, sex) prefix.
    serials: dict[str, set[int]] = {}
    for nik in niks:
        serials.setdefault(nik[:12], set()).add(int(nik[12:]))
    assert all(s == set(range(1, len(s) + 1)) for s in serials.values())


@pytest.mark.django_db
def test_existing_workers_niks_are_never_reused() -> None:
    demo_load(workers=1_000, seed=3)
    kept = list(Worker.objects.order_by("id")[:100].values_list("pk", flat=True))
    Worker.objects.filter(pk__in=kept).update(source=Worker.Source.MANUAL)
    kept_niks = set(Worker.objects.filter(pk__in=kept).values_list("nik", flat=True))
    demo_load(workers=1_000, seed=3, replace=True)
    assert Worker.objects.count() == 1_100
    assert set(Worker.objects.filter(pk__in=kept).values_list("nik", flat=True)) == kept_niks
    # The same seed draws the same people again: their NIKs moved on to the next serial.
    demo_niks = set(Worker.objects.filter(source=Worker.Source.DEMO).values_list("nik", flat=True))
    assert not demo_niks & kept_niks
    assert len({n[:12] for n in demo_niks} & {n[:12] for n in kept_niks}) >= 90


def test_workers_spread_over_every_kelurahan_roughly_by_population(loaded: DemoResult) -> None:
    per_kelurahan = Counter(Worker.objects.values_list("kelurahan_id", flat=True))
    assert len(per_kelurahan) == 57
    per_kecamatan = Counter()
    for code, n in per_kelurahan.items():
        per_kecamatan[code[:8]] += n
    for code, share in _vocab()["kecamatan"].items():
        assert abs(per_kecamatan[code] / N - share) < 0.03, code


def test_occupations_are_informal_and_sex_follows_occupation(loaded: DemoResult) -> None:
    rows = list(Worker.objects.values_list("occupation__code", "occupation__vulnerable", "sex"))
    assert sum(v for _c, v, _s in rows) / N > 0.6
    women = sum(s == "P" for _c, _v, s in rows) / N
    assert 0.4 < women < 0.6
    ojol = [s for c, _v, s in rows if c == "ojol"]
    art = [s for c, _v, s in rows if c == "art"]
    assert ojol.count("L") / len(ojol) > 0.8
    assert art.count("P") / len(art) > 0.8


def test_ages_phones_deciles_and_disability_look_like_the_city(loaded: DemoResult) -> None:
    today = timezone.localdate()
    rows = list(Worker.objects.values_list("birth_date", "phone", "welfare_decile", "disability"))
    ages = [_age(b, today) for b, _p, _d, _x in rows]
    assert min(ages) >= 17 and max(ages) <= 71
    assert sum(20 <= a <= 50 for a in ages) / N > 0.6
    phones = [p for _b, p, _d, _x in rows if p]
    assert 0.65 < len(phones) / N < 0.75
    assert all(re.fullmatch(r"08\d{9,10}", p) for p in phones)
    deciles = [d for _b, _p, d, _x in rows if d is not None]
    assert 0.55 < len(deciles) / N < 0.65
    assert sum(d <= 5 for d in deciles) / len(deciles) > 0.6
    disabled = [x for _b, _p, _d, x in rows if x]
    assert 0.01 < len(disabled) / N < 0.03


def test_names_follow_sex(loaded: DemoResult) -> None:
    rows = list(Worker.objects.values_list("full_name", "sex"))
    first_words = {sex: Counter(name.split()[0] for name, s in rows if s == sex) for sex in "LP"}
    for male_only in ("Moch.", "Muhammad", "Yohanes"):
        assert first_words["P"][male_only] == 0 and first_words["L"][male_only] > 0
    for female_only in ("Siti", "Sri", "Maria"):
        assert first_words["L"][female_only] == 0 and first_words["P"][female_only] > 0
    assert all(name == " ".join(name.split()) and name for name, _s in rows)
    # Enough variety that a name search returns a handful of people, not hundreds.
    assert len({name for name, _s in rows}) > 0.7 * N


def test_heirs_are_spouses_and_children_with_plausible_ages(loaded: DemoResult) -> None:
    workers = {w[0]: w[1:] for w in Worker.objects.values_list("id", "sex", "birth_date")}
    families: dict[int, list[tuple[str, str, dt.date]]] = {}
    for worker_id, relation, sex, born in Heir.objects.values_list(
        "worker_id", "relation", "sex", "birth_date"
    ):
        families.setdefault(worker_id, []).append((relation, sex, born))
    assert 0.33 < len(families) / N < 0.47
    today = timezone.localdate()
    for worker_id, heirs in families.items():
        worker_sex, worker_born = workers[worker_id]
        spouses = [h for h in heirs if h[0] == Heir.Relation.SPOUSE]
        children = [h for h in heirs if h[0] == Heir.Relation.CHILD]
        assert len(spouses) <= 1 and len(children) <= 3
        assert len(heirs) == len(spouses) + len(children)
        parents = [worker_born]
        for _r, sex, born in spouses:
            assert sex != worker_sex and _age(born, today) >= 19
            parents.append(born)
        for _r, _sex, born in children:
            assert born <= today
            assert all(_age(parent, born) >= 15 for parent in parents), (worker_id, heirs)


@pytest.mark.django_db
def test_a_second_load_needs_replace_which_removes_the_old_demo_only() -> None:
    demo_load(workers=500, seed=1)
    user = get_user_model().objects.create_user(username="petugas", password="x")
    NikAccessLog.objects.create(user=user, worker=Worker.objects.first(), action="view")
    own = Worker.objects.create(
        nik="3573051203900001",
        full_name="Budi Santoso",
        birth_date=dt.date(1990, 3, 12),
        sex="L",
        kelurahan_id="35.73.05.1011",
        occupation=Worker.objects.first().occupation,
    )
    Heir.objects.create(
        worker=own,
        full_name="Sri Wahyuni",
        birth_date=dt.date(1992, 1, 1),
        relation=Heir.Relation.SPOUSE,
        sex="P",
    )
    with pytest.raises(DemoError, match="--replace"):
        demo_load(workers=500, seed=2)
    assert DemoDataset.objects.get().seed == 1

    result = demo_load(workers=300, seed=2, replace=True)
    assert Worker.objects.filter(source=Worker.Source.DEMO).count() == result.workers == 300
    assert Heir.objects.filter(worker__source=Worker.Source.DEMO).count() == result.heirs
    assert not NikAccessLog.objects.exists()
    assert own.heirs.count() == 1 and Worker.objects.count() == 301
    assert list(DemoDataset.objects.values_list("seed", "workers")) == [(2, 300)]


@pytest.mark.django_db
def test_progress_is_reported_after_each_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "CHUNK", 1_000)
    calls: list[tuple[int, int]] = []
    demo_load(workers=2_500, seed=1, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1_000, 2_500), (2_000, 2_500), (2_500, 2_500)]
    assert Worker.objects.count() == 2_500


@pytest.mark.django_db
@pytest.mark.parametrize(("workers", "seed"), [(0, 1), (10, -1), (10, 2**31)])
def test_impossible_requests_are_refused(workers: int, seed: int) -> None:
    with pytest.raises(DemoError):
        demo_load(workers=workers, seed=seed)
    assert not Worker.objects.exists()


def test_issuing_codes_are_real_kecamatan(shared_data: Path) -> None:
    with (shared_data / "wilayah_kepmendagri_2025.csv").open(encoding="utf-8") as f:
        national = {row["kode"]: row["nama"] for row in csv.DictReader(f)}
    vocab = _vocab()
    for code in [*vocab["issued_elsewhere"]["codes"], *vocab["kecamatan"]]:
        assert code in national and code.count(".") == 2, code
