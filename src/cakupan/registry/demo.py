"""Synthetic Kota Malang for demos and benchmarks: workers and heirs, the same for the same seed."""

from __future__ import annotations

import datetime as dt
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from django.db import connection, models, transaction
from django.utils import timezone

from cakupan.bulk import insert_rows
from cakupan.money import format_number
from cakupan.regions.models import Level, Region
from cakupan.regions.services import regions_load_builtin
from cakupan.registry.models import DemoDataset, Heir, Occupation, Worker
from cakupan.registry.nik import make_nik
from cakupan.registry.services import occupations_load_builtin

# Rows generated and inserted per transaction: large enough that numpy and the bulk insert
# amortise their overhead, small enough to keep memory flat at a million workers.
CHUNK = 50_000
_YOUNG_FROM = 1995  # naming fashions changed; see `weight_young` in demo_names.toml
_DAYS_PER_YEAR = 365.2425
_MAX_SEED = 2**31 - 1  # DemoDataset.seed is a 32-bit integer column


class DemoError(Exception):
    """The demo data cannot be loaded as asked; the message (Indonesian) says what to do."""


@dataclass(frozen=True)
class DemoResult:
    """What a load wrote: workers, heirs (spouses and children), and the wall time it took."""

    workers: int
    heirs: int
    seconds: float


# --- the vocabulary file --------------------------------------------------------------------


@dataclass(frozen=True)
class _SexNames:
    prefix: np.ndarray
    p_prefix: float
    first: np.ndarray
    second: np.ndarray
    p_second: float
    p_family: float
    single: np.ndarray
    p_single: float


@dataclass(frozen=True)
class _Style:
    name: str
    family: np.ndarray
    male: _SexNames
    female: _SexNames


@dataclass(frozen=True)
class _Vocabulary:
    kecamatan: dict[str, float]
    kelurahan_jitter: float
    elsewhere_share: float
    elsewhere_codes: np.ndarray  # int64, 6 digits
    elsewhere_p: np.ndarray
    occupations: list[str]
    occupation_p: np.ndarray
    occupation_female: np.ndarray
    ages: np.ndarray
    age_p: np.ndarray
    phone_share: float
    phone_prefixes: np.ndarray
    phone_p: np.ndarray
    decile_share: float
    decile_p: np.ndarray
    disability_share: float
    disabilities: np.ndarray
    disability_p: np.ndarray
    heirs: dict[str, Any]
    styles: list[_Style]
    style_p_old: np.ndarray
    style_p_young: np.ndarray


def _p(weights: Iterable[float]) -> np.ndarray:
    w = np.asarray(list(weights), dtype=np.float64)
    return w / w.sum()


def _strings(values: Iterable[str]) -> np.ndarray:
    return np.asarray(list(values), dtype=object)


def _sex_names(raw: dict[str, Any]) -> _SexNames:
    return _SexNames(
        prefix=_strings(raw.get("prefix", [])),
        p_prefix=float(raw.get("p_prefix", 0.0)),
        first=_strings(raw["first"]),
        second=_strings(raw.get("second", [])),
        p_second=float(raw.get("p_second", 0.0)),
        p_family=float(raw.get("p_family", 0.0)),
        single=_strings(raw.get("single", [])),
        p_single=float(raw.get("p_single", 0.0)),
    )


@cache
def _vocabulary() -> _Vocabulary:
    text = resources.files("cakupan.registry").joinpath("data/demo_names.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    kecamatan = {k: float(v) for k, v in raw["kecamatan"].items()}
    elsewhere = raw["issued_elsewhere"]
    occupations = raw["occupations"]
    ages = np.concatenate([np.arange(a, b + 1) for a, b, _w in raw["ages"]["bands"]])
    age_w = np.concatenate(
        [np.full(b - a + 1, w, dtype=np.float64) for a, b, w in raw["ages"]["bands"]]
    )
    styles = [
        _Style(
            name=name,
            family=_strings(s.get("family", [])),
            male=_sex_names(s["L"]),
            female=_sex_names(s["P"]),
        )
        for name, s in raw["style"].items()
    ]
    return _Vocabulary(
        kecamatan=kecamatan,
        kelurahan_jitter=float(raw["kelurahan"]["jitter"]),
        elsewhere_share=float(elsewhere["share"]),
        elsewhere_codes=np.asarray(
            [int(c.replace(".", "")) for c in elsewhere["codes"]], dtype=np.int64
        ),
        elsewhere_p=_p(elsewhere["codes"].values()),
        occupations=list(occupations),
        occupation_p=_p(o["weight"] for o in occupations.values()),
        occupation_female=np.asarray([o["female"] for o in occupations.values()]),
        ages=ages,
        age_p=_p(age_w),
        phone_share=float(raw["phone"]["share"]),
        phone_prefixes=_strings(raw["phone"]["prefixes"]),
        phone_p=_p(raw["phone"]["prefixes"].values()),
        decile_share=float(raw["welfare_decile"]["share"]),
        decile_p=_p(raw["welfare_decile"]["weights"]),
        disability_share=float(raw["disability"]["share"]),
        disabilities=_strings(raw["disability"]["weights"]),
        disability_p=_p(raw["disability"]["weights"].values()),
        heirs=raw["heirs"],
        styles=styles,
        style_p_old=_p(raw["style"][s.name]["weight"] for s in styles),
        style_p_young=_p(raw["style"][s.name]["weight_young"] for s in styles),
    )


# --- NIK serials ----------------------------------------------------------------------------


class _SerialBook:
    """Next free serial per NIK prefix (issuing kecamatan + DDMMYY with day + 40 for women).

    Starts above every serial already in the registry, so generated NIKs never collide with
    real workers or heirs, and hands out consecutive serials from 0001 as a Dukcapil office would.
    """

    def __init__(self, niks: Iterable[str]):
        self._last: dict[int, int] = {}
        for nik in niks:
            if len(nik) == 16 and nik.isdigit():
                prefix, serial = int(nik[:12]), int(nik[12:])
                if serial > self._last.get(prefix, 0):
                    self._last[prefix] = serial

    def allocate(self, prefixes: np.ndarray) -> np.ndarray:
        """One new serial per row; rows sharing a prefix get consecutive serials."""
        if not len(prefixes):
            return np.zeros(0, dtype=np.int64)
        uniq, inverse, counts = np.unique(prefixes, return_inverse=True, return_counts=True)
        last = np.fromiter(
            (self._last.get(p, 0) for p in uniq.tolist()), dtype=np.int64, count=len(uniq)
        )
        top = last + counts
        if top.max() > 9999:
            full = int(uniq[np.argmax(top)])
            raise DemoError(
                f"Nomor urut NIK untuk awalan {full:012d} habis (lebih dari 9999). "
                "Kurangi jumlah pekerja demo."
            )
        order = np.argsort(inverse, kind="stable")
        starts = np.cumsum(counts) - counts
        rank = np.empty(len(prefixes), dtype=np.int64)
        rank[order] = np.arange(len(prefixes)) - starts[inverse[order]]
        self._last.update(zip(uniq.tolist(), top.tolist(), strict=True))
        return last[inverse] + rank + 1


def _nik_prefixes(kecamatan: np.ndarray, births: np.ndarray, female: np.ndarray) -> np.ndarray:
    """The first 12 NIK digits as integers, computed for a whole chunk at once."""
    year = births.astype("datetime64[Y]")
    month = births.astype("datetime64[M]")
    day = (births - month).astype(np.int64) + 1 + 40 * female
    mm = (month - year).astype(np.int64) + 1
    yy = (year.astype(np.int64) + 1970) % 100
    return kecamatan * 1_000_000 + day * 10_000 + mm * 100 + yy


def _niks(
    kecamatan: np.ndarray, births: list[dt.date], female: np.ndarray, serials: np.ndarray
) -> list[str]:
    return [
        make_nik(kecamatan_code=str(k), birth_date=b, sex="P" if f else "L", serial=s)
        for k, b, f, s in zip(
            kecamatan.tolist(), births, female.tolist(), serials.tolist(), strict=True
        )
    ]


# --- names ----------------------------------------------------------------------------------


def _full_name(prefix: str, first: str, second: str, family: str) -> str:
    # "Nur" before "Nurul" or "Sri" before "Sriatun" reads as a typo; so does a repeated word.
    words = [first] if prefix and first.startswith(prefix) else [prefix, first]
    for word in (second, family):
        if word and word not in words:
            words.append(word)
    return " ".join(w for w in words if w)


def _names(
    rng: np.random.Generator,
    vocab: _Vocabulary,
    style: np.ndarray,
    female: np.ndarray,
    inherited_family: np.ndarray | None = None,
) -> tuple[list[str], np.ndarray]:
    """Full names by naming style and sex, and the family-name index (-1: none) of each."""
    n = len(style)
    parts = {k: np.full(n, "", dtype=object) for k in ("prefix", "first", "second", "family")}
    family_idx = np.full(n, -1, dtype=np.int64)
    for s, st in enumerate(vocab.styles):
        for is_female, names in ((False, st.male), (True, st.female)):
            idx = np.flatnonzero((style == s) & (female == is_female))
            m = len(idx)
            if not m:
                continue
            parts["first"][idx] = names.first[rng.integers(0, len(names.first), m)]
            if len(names.prefix):
                take = idx[rng.random(m) < names.p_prefix]
                parts["prefix"][take] = names.prefix[rng.integers(0, len(names.prefix), len(take))]
            if len(names.second):
                take = idx[rng.random(m) < names.p_second]
                parts["second"][take] = names.second[rng.integers(0, len(names.second), len(take))]
            if len(st.family):
                take = rng.random(m) < names.p_family
                chosen = rng.integers(0, len(st.family), m)
                if inherited_family is not None:
                    inherited = inherited_family[idx]
                    take |= inherited >= 0
                    chosen = np.where(inherited >= 0, inherited, chosen)
                family_idx[idx[take]] = chosen[take]
                parts["family"][idx[take]] = st.family[chosen[take]]
            if len(names.single):
                alone = idx[rng.random(m) < names.p_single]
                parts["first"][alone] = names.single[rng.integers(0, len(names.single), len(alone))]
                parts["prefix"][alone] = parts["second"][alone] = ""
    full = [
        _full_name(p, f, s, fam)
        for p, f, s, fam in zip(
            parts["prefix"], parts["first"], parts["second"], parts["family"], strict=True
        )
    ]
    return full, family_idx


def _styles(rng: np.random.Generator, vocab: _Vocabulary, births: np.ndarray) -> np.ndarray:
    young = births >= np.datetime64(f"{_YOUNG_FROM}-01-01")
    u = rng.random(len(births))
    old_pick = np.searchsorted(np.cumsum(vocab.style_p_old), u, side="right")
    young_pick = np.searchsorted(np.cumsum(vocab.style_p_young), u, side="right")
    return np.minimum(np.where(young, young_pick, old_pick), len(vocab.styles) - 1)


# --- one chunk ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _City:
    """What the generator needs from the database, read once per load."""

    as_of: np.datetime64
    kelurahan: np.ndarray  # region codes
    kelurahan_p: np.ndarray
    kelurahan_kecamatan: np.ndarray  # int64, 6 digits: 357301 ...
    occupation_ids: np.ndarray


def _births(rng: np.random.Generator, as_of: np.datetime64, ages: np.ndarray) -> np.ndarray:
    # A fraction of a year on top of the whole age, kept off the birthday itself so that the
    # age on `as_of` is exactly `ages`.
    years = ages + rng.uniform(0.005, 0.995, len(ages))
    return as_of - np.floor(years * _DAYS_PER_YEAR).astype("timedelta64[D]")


def _ages(as_of: np.datetime64, births: np.ndarray) -> np.ndarray:
    return np.floor((as_of - births).astype(np.int64) / _DAYS_PER_YEAR).astype(np.int64)


def _issuing(rng: np.random.Generator, vocab: _Vocabulary, own: np.ndarray) -> np.ndarray:
    """Kecamatan that issued each NIK: mostly the person's own, some elsewhere in East Java."""
    elsewhere = rng.random(len(own)) < vocab.elsewhere_share
    codes = rng.choice(vocab.elsewhere_codes, len(own), p=vocab.elsewhere_p)
    return np.where(elsewhere, codes, own)


def _phones(rng: np.random.Generator, vocab: _Vocabulary, n: int) -> list[str]:
    """Indonesian mobile numbers, 08xx and 7 or 8 more digits, for about 70% of people."""
    has = rng.random(n) < vocab.phone_share
    prefixes = rng.choice(vocab.phone_prefixes, n, p=vocab.phone_p)
    eight = rng.random(n) < 0.5
    digits = rng.integers(0, 10**8, n)
    return [
        (f"{p}{d:08d}" if e else f"{p}{d % 10**7:07d}") if h else ""
        for h, p, e, d in zip(has.tolist(), prefixes, eight.tolist(), digits.tolist(), strict=True)
    ]


def _deciles(rng: np.random.Generator, vocab: _Vocabulary, n: int) -> list[int | None]:
    has = rng.random(n) < vocab.decile_share
    deciles = rng.choice(np.arange(1, 11), n, p=vocab.decile_p)
    return [int(d) if h else None for h, d in zip(has.tolist(), deciles.tolist(), strict=True)]


def _disabilities(rng: np.random.Generator, vocab: _Vocabulary, n: int) -> list[str]:
    has = rng.random(n) < vocab.disability_share
    kinds = rng.choice(vocab.disabilities, n, p=vocab.disability_p)
    return [k if h else "" for h, k in zip(has.tolist(), kinds, strict=True)]


@dataclass
class _Chunk:
    """Column values by field attname, one per row, ready for `_insert_rows`."""

    workers: dict[str, list[Any]]
    heirs: dict[str, list[Any]]
    heir_owner: list[int]  # index of each heir's worker in `workers`


def _chunk(
    rng: np.random.Generator, vocab: _Vocabulary, city: _City, serials: _SerialBook, n: int
) -> _Chunk:
    """Generate n workers and their heirs, vectorised; nothing is written here."""
    kel = rng.choice(len(city.kelurahan), n, p=city.kelurahan_p)
    occ = rng.choice(len(vocab.occupations), n, p=vocab.occupation_p)
    female = rng.random(n) < vocab.occupation_female[occ]
    ages = rng.choice(vocab.ages, n, p=vocab.age_p)
    births = _births(rng, city.as_of, ages)
    own = city.kelurahan_kecamatan[kel]
    issued = _issuing(rng, vocab, own)
    birth_dates = births.tolist()
    serial = serials.allocate(_nik_prefixes(issued, births, female))
    style = _styles(rng, vocab, births)
    names, family = _names(rng, vocab, style, female)
    workers = {
        "nik": _niks(issued, birth_dates, female, serial),
        "full_name": names,
        "birth_date": birth_dates,
        "sex": np.where(female, "P", "L").tolist(),
        "kelurahan_id": city.kelurahan[kel].tolist(),
        "occupation_id": city.occupation_ids[occ].tolist(),
        "phone": _phones(rng, vocab, n),
        "welfare_decile": _deciles(rng, vocab, n),
        "disability": _disabilities(rng, vocab, n),
    }
    heirs, owner = _heirs(
        rng,
        vocab,
        city,
        serials,
        female=female,
        ages=ages,
        births=births,
        own=own,
        style=style,
        family=family,
    )
    return _Chunk(workers=workers, heirs=heirs, heir_owner=owner)


def _heirs(
    rng: np.random.Generator,
    vocab: _Vocabulary,
    city: _City,
    serials: _SerialBook,
    *,
    female: np.ndarray,
    ages: np.ndarray,
    births: np.ndarray,
    own: np.ndarray,
    style: np.ndarray,
    family: np.ndarray,
) -> tuple[dict[str, list[Any]], list[int]]:
    """Spouse and children of about 40% of the workers, with plausible ages and NIKs."""
    h = vocab.heirs
    n = len(female)
    has_heirs = rng.random(n) < np.where(ages >= 20, h["share"], h["share_under_20"])
    has_spouse = has_heirs & (rng.random(n) < h["spouse"])
    n_children = np.where(has_heirs, rng.choice(4, n, p=_p(h["children"])), 0)
    # Without a spouse, the heirs are the children: at least one is drawn.
    n_children = np.where(has_heirs & ~has_spouse, np.maximum(n_children, 1), n_children)

    sp = np.flatnonzero(has_spouse)
    sp_female = ~female[sp]
    gap = rng.normal(h["husband_older"], h["spouse_age_sd"], len(sp))
    # 19 is the minimum age of marriage (UU 16/2019).
    sp_ages = np.clip(np.floor(ages[sp] + np.where(female[sp], gap, -gap)), 19, 85)
    sp_births = _births(rng, city.as_of, sp_ages)
    sp_style = np.where(rng.random(len(sp)) < 0.9, style[sp], _styles(rng, vocab, sp_births))
    sp_names, sp_family = _names(rng, vocab, sp_style, sp_female)
    sp_issued = _issuing(rng, vocab, own[sp])
    sp_nik = _optional_niks(
        rng, serials, sp_issued, sp_births, sp_female, rng.random(len(sp)) < h["spouse_nik"]
    )

    # Children come after the younger parent's 19th birthday or so, a few years apart.
    younger_parent = births.copy()
    younger_parent[sp] = np.maximum(births[sp], sp_births)
    owner = np.repeat(np.arange(n), n_children)
    gaps = rng.uniform(*h["child_gap"], len(owner))
    family_start = np.repeat(np.cumsum(n_children) - n_children, n_children)
    gaps[np.arange(len(owner)) == family_start] = 0.0
    since_first = np.cumsum(gaps)
    since_first -= since_first[family_start]
    first_at = rng.uniform(*h["first_child_age"], n)
    ch_births = younger_parent[owner] + np.floor(
        (first_at[owner] + since_first) * _DAYS_PER_YEAR
    ).astype("timedelta64[D]")
    born = ch_births < city.as_of
    owner, ch_births = owner[born], ch_births[born]
    ch_female = rng.random(len(owner)) < 0.5
    ch_style = np.where(rng.random(len(owner)) < 0.5, style[owner], _styles(rng, vocab, ch_births))
    # A child takes the father's family name when named in the father's style.
    father_style = style.copy()
    father_family = np.where(female, -1, family)
    father_style[sp] = np.where(female[sp], sp_style, style[sp])
    father_family[sp] = np.where(female[sp], sp_family, father_family[sp])
    inherited = np.where(ch_style == father_style[owner], father_family[owner], -1)
    ch_names, _ = _names(rng, vocab, ch_style, ch_female, inherited)
    p_nik = np.where(_ages(city.as_of, ch_births) >= 1, h["child_nik"], h["baby_nik"])
    ch_nik = _optional_niks(
        rng, serials, own[owner], ch_births, ch_female, rng.random(len(owner)) < p_nik
    )

    heirs = {
        "full_name": sp_names + ch_names,
        "nik": sp_nik + ch_nik,
        "birth_date": sp_births.tolist() + ch_births.tolist(),
        "sex": np.where(np.concatenate([sp_female, ch_female]), "P", "L").tolist(),
        "relation": [Heir.Relation.SPOUSE.value] * len(sp)
        + [Heir.Relation.CHILD.value] * len(owner),
    }
    return heirs, sp.tolist() + owner.tolist()


def _optional_niks(
    rng: np.random.Generator,
    serials: _SerialBook,
    issued: np.ndarray,
    births: np.ndarray,
    female: np.ndarray,
    has: np.ndarray,
) -> list[str]:
    """NIKs for the rows where `has` is true, "" for the others (heirs may have none yet)."""
    out = [""] * len(has)
    idx = np.flatnonzero(has)
    serial = serials.allocate(_nik_prefixes(issued[idx], births[idx], female[idx]))
    for i, nik in zip(
        idx.tolist(), _niks(issued[idx], births[idx].tolist(), female[idx], serial), strict=True
    ):
        out[i] = nik
    return out


# --- the database side ----------------------------------------------------------------------


def _city(vocab: _Vocabulary, seed: int, as_of: dt.date) -> _City:
    """Kelurahan with their weights and the occupation ids; loads built-in data when missing."""
    kecamatan = list(vocab.kecamatan)

    def villages() -> list[tuple[str, str]]:
        return list(
            Region.objects.filter(
                parent_id__in=kecamatan, level=Level.VILLAGE, retired_on__isnull=True
            )
            .order_by("code")
            .values_list("code", "parent_id")
        )

    kelurahan = villages()
    if {p for _c, p in kelurahan} != set(kecamatan):
        regions_load_builtin()
        kelurahan = villages()
    if {p for _c, p in kelurahan} != set(kecamatan):
        missing = sorted(set(kecamatan) - {p for _c, p in kelurahan})
        raise DemoError(
            f"Kecamatan {', '.join(missing)} tidak punya kelurahan yang berlaku. "
            "Jalankan: cakupan setup"
        )

    def occupation_ids() -> dict[str, int]:
        return dict(Occupation.objects.filter(code__in=vocab.occupations).values_list("code", "id"))

    ids = occupation_ids()
    if len(ids) < len(vocab.occupations):
        occupations_load_builtin()
        ids = occupation_ids()
    if missing := [c for c in vocab.occupations if c not in ids]:
        raise DemoError(
            f"Pekerjaan {', '.join(missing)} tidak ada di katalog. "
            "Perbaiki data/demo_names.toml atau jalankan: cakupan setup"
        )

    codes = np.asarray([c for c, _p in kelurahan], dtype=object)
    parents = np.asarray([p for _c, p in kelurahan], dtype=object)
    # The jitter has its own stream so that it does not depend on the chunk size.
    jitter = np.random.default_rng([seed, 0]).lognormal(0.0, vocab.kelurahan_jitter, len(codes))
    weights = np.empty(len(codes))
    for kec, share in vocab.kecamatan.items():
        inside = parents == kec
        weights[inside] = share * jitter[inside] / jitter[inside].sum()
    return _City(
        as_of=np.datetime64(as_of, "D"),
        kelurahan=codes,
        kelurahan_p=weights / weights.sum(),
        kelurahan_kecamatan=np.asarray([int(p.replace(".", "")) for p in parents], dtype=np.int64),
        occupation_ids=np.asarray([ids[c] for c in vocab.occupations], dtype=np.int64),
    )


def _demo_delete() -> None:
    """Delete every demo worker set-based, with what hangs on them (heirs, NIK access log)."""
    demo = Worker.objects.filter(source=Worker.Source.DEMO)
    for rel in Worker._meta.related_objects:
        related = rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": demo})
        if rel.on_delete is models.CASCADE:
            related.delete()
        elif rel.on_delete is models.SET_NULL:
            related.update(**{rel.field.name: None})
        elif rel.on_delete is not models.DO_NOTHING and related.exists():
            raise DemoError(
                f"Data {rel.related_model._meta.verbose_name} masih merujuk pekerja demo, "
                "sehingga data demo tidak dapat diganti. Hapus data itu dulu."
            )
    # One statement: Django's own delete would load every demo worker into memory first.
    qn = connection.ops.quote_name
    source = Worker._meta.get_field("source").column
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {qn(Worker._meta.db_table)} WHERE {qn(source)} = %s", [Worker.Source.DEMO]
        )
    DemoDataset.objects.all().delete()


def _existing_niks() -> Iterable[str]:
    yield from Worker.objects.values_list("nik", flat=True).iterator(chunk_size=20_000)
    yield from (
        Heir.objects.exclude(nik="").values_list("nik", flat=True).iterator(chunk_size=20_000)
    )


@transaction.atomic
def _insert(chunk: _Chunk) -> None:
    before = Worker.objects.aggregate(last=models.Max("pk"))["last"] or 0
    insert_rows(Worker, chunk.workers, {"source": Worker.Source.DEMO})
    # New ids are above every id seen before the insert; the NIK says which row is whose.
    ids = dict(
        Worker.objects.filter(pk__gt=before, source=Worker.Source.DEMO).values_list("nik", "pk")
    )
    niks = chunk.workers["nik"]
    if chunk.heir_owner:
        chunk.heirs["worker_id"] = [ids[niks[i]] for i in chunk.heir_owner]
        insert_rows(Heir, chunk.heirs, {})


def demo_load(
    *,
    workers: int,
    seed: int,
    replace: bool = False,
    progress: Callable[[int, int], None] | None = None,
    as_of: dt.date | None = None,
) -> DemoResult:
    """Fill the registry with `workers` synthetic workers of Kota Malang and their heirs.

    The same seed gives the same rows and NIKs on the same database (ages are counted at
    `as_of`, by default 1 January of the current year, so a load is reproducible all year;
    a different CHUNK draws different rows).
    Demo workers already present are an error unless `replace`, which deletes them first.
    `progress(done, total)` is called after each chunk of `CHUNK` workers.
    """
    if workers < 1:
        raise DemoError(f"Jumlah pekerja demo harus paling sedikit 1; yang diminta: {workers}.")
    if not 0 <= seed <= _MAX_SEED:
        raise DemoError(f"Seed harus bilangan bulat 0 sampai {_MAX_SEED}; yang diisi: {seed}.")
    start = time.perf_counter()
    vocab = _vocabulary()
    city_day = as_of or dt.date(timezone.localdate().year, 1, 1)
    city = _city(vocab, seed, city_day)
    with transaction.atomic():
        present = Worker.objects.filter(source=Worker.Source.DEMO).count()
        if present and not replace:
            count = format_number(present)
            raise DemoError(
                f"Basis data sudah berisi {count} pekerja demo. Jalankan lagi dengan "
                "--replace untuk menggantinya."
            )
        _demo_delete()
        DemoDataset.objects.create(seed=seed, workers=workers)
    serials = _SerialBook(_existing_niks())
    heirs = 0
    for i, first in enumerate(range(0, workers, CHUNK)):
        n = min(CHUNK, workers - first)
        chunk = _chunk(np.random.default_rng([seed, 1, i]), vocab, city, serials, n)
        _insert(chunk)
        heirs += len(chunk.heir_owner)
        if progress is not None:
            progress(first + n, workers)
    # registered on the day the demo is counted at (1 January), as its memberships begin then:
    # coverage counts a worker as registered in the months after his registration
    registered = dt.datetime.combine(city_day, dt.time(8), tzinfo=timezone.get_current_timezone())
    Worker.objects.filter(source=Worker.Source.DEMO).update(created_at=registered)
    return DemoResult(workers=workers, heirs=heirs, seconds=time.perf_counter() - start)
