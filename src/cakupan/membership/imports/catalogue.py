"""The facts rows are checked against (the city's kelurahan, the occupation catalogue, the region
tree), and how a list's occupation cells are recognised.

Occupations are written the way workers and HR offices write them: "Driver Grab", "Mitra
Gojek", "Kurir Shopee Express", "GRAB BIKE". The words are data in the catalogue file
(`cakupan/registry/data/occupations.csv`), not code:
- `aliases`: whole values that mean the occupation ("ojek online", "tukang ojek");
- `platforms`: platform names that mean the occupation (gojek, grab, shopeefood → ojol;
  shopee, lalamove, jne → kurir);
- `role_words`: words that may stand beside one of the occupation's platforms without changing
  what it means (driver, pengemudi, mitra, kurir, ojek, antar, ...).
A value resolves to an occupation when it is an alias, or when every word of it is a platform
or a role word of that one occupation and at least one is a platform. Case, spacing and
punctuation never matter ("GO-JEK", "Go Jek" and "gojek" are the same word).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from rapidfuzz import fuzz, process

from cakupan.registry.nik import RegionState

# A word made of up to this many neighbouring words of a value ("go jek" → "gojek").
_JOIN = 3
_TOKEN_SUGGEST_CUTOFF = 75  # "grap" is 75 % of "grab"
_VALUE_SUGGEST_CUTOFF = 75


def name_key(text: str) -> str:
    """'Kel. Lowok Waru' → 'lowokwaru': case, spaces and punctuation never matter."""
    text = re.sub(r"^(kel(urahan)?|desa|ds)\.?\s+", "", text.strip().lower())
    return re.sub(r"[^a-z0-9]", "", text)


def words(text: str) -> list[str]:
    """'Driver GO-JEK (Mitra)' → ['driver', 'go', 'jek', 'mitra']."""
    return [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]


@dataclass(frozen=True)
class OccupationWords:
    """How occupation cells resolve to catalogue codes; built from the catalogue's data."""

    aliases: dict[str, str]  # name_key of a code, name or alias → code
    platforms: dict[str, frozenset[str]]  # platform word → the codes it means
    roles: dict[str, frozenset[str]]  # role word → the codes it may stand beside
    _vocabulary: frozenset[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_vocabulary", frozenset(self.platforms) | frozenset(self.roles))

    def _tokens(self, text: str) -> list[str]:
        """The value's words, neighbours joined where together they make a known word."""
        parts = words(text)
        out: list[str] = []
        i = 0
        while i < len(parts):
            for n in range(min(_JOIN, len(parts) - i), 0, -1):
                joined = "".join(parts[i : i + n])
                if n == 1 or joined in self._vocabulary:
                    out.append(joined)
                    i += n
                    break
        return out

    def _by_tokens(self, tokens: list[str]) -> str | None:
        if not tokens:
            return None
        codes = set().union(*(self.platforms.get(t, frozenset()) for t in tokens))
        fitting = [
            code
            for code in codes
            if all(
                code in self.platforms.get(t, frozenset()) or code in self.roles.get(t, frozenset())
                for t in tokens
            )
        ]
        return fitting[0] if len(fitting) == 1 else None

    def resolve(self, value: str | None) -> str | None:
        """The code the value means, or None when it means none (or more than one)."""
        if not value:
            return None
        key = name_key(value)
        if key in self.aliases:
            return self.aliases[key]
        return self._by_tokens(self._tokens(value))

    def suggest(self, value: str | None) -> str | None:
        """The code the value most probably means (a typo of a platform or an alias), or None.
        Only offered to a person to confirm, never applied by itself."""
        if not value:
            return None
        tokens = self._tokens(value)
        if self._vocabulary and tokens:
            fixed = []
            for t in tokens:
                if t in self._vocabulary or len(t) < 4:
                    fixed.append(t)
                    continue
                best = process.extractOne(
                    t, self._vocabulary, scorer=fuzz.ratio, score_cutoff=_TOKEN_SUGGEST_CUTOFF
                )
                fixed.append(best[0] if best else t)
            if code := self._by_tokens(fixed):
                return code
            # a value whose words, less the unknown ones, name one occupation
            if code := self._by_tokens([t for t in fixed if t in self._vocabulary]):
                return code
        best = process.extractOne(
            name_key(value),
            list(self.aliases),
            scorer=fuzz.WRatio,
            score_cutoff=_VALUE_SUGGEST_CUTOFF,
        )
        return self.aliases[best[0]] if best else None


def _split(cell: str | None) -> list[str]:
    return [a.strip() for a in (cell or "").split("|") if a.strip()]


@cache
def occupation_rules() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """code → (platform words, role words), from the catalogue file."""
    text = resources.files("cakupan.registry").joinpath("data/occupations.csv").read_text("utf-8")
    return {
        r["code"]: (
            tuple(name_key(p) for p in _split(r.get("platforms"))),
            tuple(name_key(w) for w in _split(r.get("role_words"))),
        )
        for r in csv.DictReader(text.splitlines())
    }


def occupation_words(
    occupations: dict[str, tuple[str, str, tuple[str, ...], bool]],
    rules: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None = None,
) -> OccupationWords:
    """The recognition data of these occupations (code → (name, sector, aliases, vulnerable));
    token rules of codes not among them are left out."""
    rules = occupation_rules() if rules is None else rules
    aliases: dict[str, str] = {}
    for code, (name, _sector, names, _vulnerable) in occupations.items():
        for key in (code, name, *names):
            aliases.setdefault(name_key(key), code)
    platforms: dict[str, set[str]] = {}
    roles: dict[str, set[str]] = {}
    for code, (platform_words, role_words) in rules.items():
        if code not in occupations:
            continue
        for w in platform_words:
            platforms.setdefault(w, set()).add(code)
        for w in role_words:
            roles.setdefault(w, set()).add(code)
    return OccupationWords(
        aliases=aliases,
        platforms={w: frozenset(c) for w, c in platforms.items()},
        roles={w: frozenset(c) for w, c in roles.items()},
    )


@dataclass(frozen=True)
class Catalogue:
    """The facts rows are checked against, read from the database by `import_catalogue`."""

    kelurahan: dict[str, str]  # code → name, the city's kelurahan/desa
    kelurahan_parent: dict[str, str]  # code → kecamatan code
    occupations: dict[
        str, tuple[str, str, tuple[str, ...], bool]
    ]  # code → (name, sector, aliases, vulnerable)
    region_state: dict[
        str, RegionState
    ]  # kecamatan code → active/retired (others unknown/not_loaded)
    loaded_regencies: frozenset[str]
    regencies: frozenset[str]  # every regency/city code (all are built in)
    today: dt.date
    min_age: int = 15
    words: OccupationWords | None = None  # built from `occupations` when not given

    def occupation_words(self) -> OccupationWords:
        if self.words is None:
            object.__setattr__(self, "words", occupation_words(self.occupations))
        assert self.words is not None
        return self.words


def import_catalogue() -> Catalogue:
    """The catalogue from the database: the city's kelurahan, active occupations, regions."""
    from django.conf import settings
    from django.utils import timezone

    from cakupan.regions.models import Level, Region
    from cakupan.regions.selectors import city_kelurahan
    from cakupan.registry.models import Occupation

    kel = list(city_kelurahan().values_list("code", "name", "parent_id"))
    regions = Region.objects.filter(level=Level.KECAMATAN).values_list("code", "retired_on")
    return Catalogue(
        kelurahan={c: n for c, n, _p in kel},
        kelurahan_parent={c: p for c, _n, p in kel},
        occupations={
            o.code: (o.name, o.sector, tuple(a for a in o.aliases.split("|") if a), o.vulnerable)
            for o in Occupation.objects.filter(active=True)
        },
        region_state={code: ("retired" if retired else "active") for code, retired in regions},
        loaded_regencies=frozenset(
            Region.objects.filter(level=Level.KECAMATAN)
            .values_list("parent_id", flat=True)
            .distinct()
        ),
        regencies=frozenset(
            Region.objects.filter(level=Level.REGENCY).values_list("code", flat=True)
        ),
        today=timezone.localdate(),
        min_age=getattr(settings, "CAKUPAN_WORKER_MIN_AGE", 15),
    )
