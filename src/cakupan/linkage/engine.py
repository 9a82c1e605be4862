"""Link every row of an incoming list to the worker registry, set-based, with the evidence.

The work is done on whole columns: polars joins find candidate pairs (blocking), numpy and
rapidfuzz score them, and one sort picks the best candidate per row. Blocking keys, and why
each exists (a NIK is PP KK CC DDMMYY SSSS, see `cakupan.registry.nik`):

- the NIK itself: resubmissions;
- the first 12 digits (kecamatan, birth date, sex): a typo in the serial, and also the
  serial neighbours, people born the same day in the same kecamatan, who are the hardest
  negatives and must be seen to be told apart;
- the last 10 digits (birth date, sex, serial): a typo in the kecamatan digits;
- the kecamatan digits with the birth date and sex columns: a typo in the NIK's birth-date
  digits, or two digits swapped across the date and the serial;
- the normalised name (words in any order) with the birth date: anything else, namesakes
  included;
- for rows without a valid NIK only: birth date, sex and kelurahan.

So a NIK one digit away is always found when the birth date and sex columns are right; two
digits away or swapped, when both fall in one of the groups above or the name is the same.
Rows whose NIK matches a registered worker with a clearly matching name are settled by the
NIK alone; the other rows are scored in chunks so that memory stays flat.

A probable match where nothing conflicts is linked without a person (`corrected_typo`, see
LinkageSettings.auto_link_typos), its evidence naming the differing digits, the fields that
agree and, where needed, why the NIK cannot be right as typed. A row whose NIK is such a typo
of a worker another row of the file matches is that row's duplicate (`dup_typo`), not a
conflict: the same person typed twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from cakupan.linkage.names import NameRules, name_key_expr
from cakupan.linkage.settings import LinkageSettings

EXACT = "exact"
CORRECTED_TYPO = "corrected_typo"
PROBABLE = "probable"
NIK_CONFLICT = "nik_conflict"
SAME_NAME_BIRTH_OTHER_NIK = "same_name_birth_other_nik"
DUPLICATE_IN_FILE = "duplicate_in_file"
NEW = "new"
STATUSES = (
    EXACT,
    CORRECTED_TYPO,
    PROBABLE,
    NIK_CONFLICT,
    SAME_NAME_BIRTH_OTHER_NIK,
    DUPLICATE_IN_FILE,
    NEW,
)
# Statuses a reviewer must decide (merge into the worker, or keep apart).
TO_REVIEW = frozenset({PROBABLE, NIK_CONFLICT, SAME_NAME_BIRTH_OTHER_NIK})
# Statuses that link a row to a registered worker without a person: the same NIK, or a NIK
# typo corrected automatically because nothing conflicts (see LinkageSettings.auto_link_typos).
AUTO_LINKED = frozenset({EXACT, CORRECTED_TYPO})

INCOMING_COLUMNS = ("row", "nik", "name", "birth_date", "sex", "kelurahan")
REGISTRY_COLUMNS = ("worker_id", "nik", "name", "birth_date", "sex", "kelurahan")
OUTPUT_SCHEMA = {
    "row": pl.Int64,
    "status": pl.String,
    "worker_id": pl.Int64,
    "score": pl.Float64,
    "reason": pl.String,
    "evidence": pl.String,
    "dup_of_row": pl.Int64,
    "registry_status": pl.String,
}


# A candidate pair's class; the lowest rank wins for a row, then the highest score. A weak
# exact match (same NIK, name only loosely alike) ranks below a probable match, so a typo
# that lands on a neighbour's NIK still finds the person it belongs to.
(
    _R_EXACT,
    _R_PROBABLE,
    _R_EXACT_WEAK,
    _R_CONFLICT,
    _R_SAME_NAME,
    _R_NAMESAKE,
    _R_NEIGHBOUR,
    _R_NONE,
) = range(8)
_RANK_STATUS = {
    _R_EXACT: EXACT,
    _R_PROBABLE: PROBABLE,
    _R_EXACT_WEAK: EXACT,
    _R_CONFLICT: NIK_CONFLICT,
    _R_SAME_NAME: SAME_NAME_BIRTH_OTHER_NIK,
    _R_NEIGHBOUR: NEW,
    _R_NAMESAKE: NEW,
}
_LINKED_RANKS = (_R_EXACT, _R_PROBABLE, _R_EXACT_WEAK)
# Machine reason codes, by number inside the vectorised code.
REASONS = (
    "nik_exact",  # same NIK, same normalised name
    "nik_exact_name_variant",  # same NIK, similar name (typo, dropped word)
    "nik_typo",  # NIK one digit away, same person
    "nik_transposition",  # two neighbouring NIK digits swapped, same person
    "nik_typo_2",  # NIK two digits away, same person
    "name_birth_nik_invalid",  # no valid NIK in the row; the one worker with its name and birth
    "nik_same_name_differs",  # same NIK, another name, same birth date
    "nik_same_name_birth_differ",  # same NIK, another name and another birth date
    "name_birth_other_nik",  # same name, birth date and sex, NIK farther away
    "nik_close_unconfirmed",  # NIK close, name and birth date match, nothing tells typo from namesake
    "name_birth_ambiguous",  # no valid NIK, several workers with its name and birth date
    "worker_claimed_in_file",  # another row of the file matches this worker better
    "nik_neighbour_other_person",  # NIK close, but another name or birth date: someone else
    "namesake_elsewhere",  # same name and birth date, other kecamatan and kelurahan
    "namesake_other_kelurahan",  # same name and birth date, a NIK that could be right, other kelurahan
    "no_match",  # nothing close in the registry
    "dup_nik",  # same NIK as an earlier row of the file
    "dup_probable",  # probably the same person as an earlier row (new to the registry)
    "dup_typo",  # NIK a typo of a worker whom another row of the file matches: that row again
)
_REASON = {code: n for n, code in enumerate(REASONS)}
_NO_NIK = np.uint64(0xFFFFFFFFFFFFFFFF)  # not a packed NIK: its nibbles are not digits
_NO_ID = -1
_NO_DATE = np.iinfo(np.int32).min
_NIBBLES = np.uint64(0x1111111111111111)
# Why a NIK cannot be right as typed, and how the evidence says it.
_BAD_DATE, _BAD_KECAMATAN, _BAD_SERIAL = 1, 2, 3
_BAD_NIK_WHY = {
    _BAD_DATE: "angka tanggal lahirnya tidak cocok dengan tanggal lahir dan jenis kelamin",
    _BAD_KECAMATAN: "kode kecamatannya tidak dipakai pekerja terdaftar mana pun",
    _BAD_SERIAL: "nomor urutnya jauh melewati yang terbit untuk kecamatan dan tanggal lahir itu",
}
# Incoming rows scored at once: a row has a few to a few dozen candidate pairs (serial
# neighbours are most of them), so this bounds the pair arrays to some millions.
_CHUNK_ROWS = 200_000


@dataclass(frozen=True)
class _Side:
    """One table as arrays indexed by position, plus the frame its blocking keys live in."""

    packed: np.ndarray  # uint64: the 16 NIK digits as 16 nibbles; _NO_NIK when not 16 digits
    name: np.ndarray  # int32 id of the normalised name, _NO_ID when empty
    words: np.ndarray  # int32 id of the normalised name's words sorted, _NO_ID when empty
    birth: np.ndarray  # int32 days since 1970, _NO_DATE when missing
    sex: np.ndarray  # int8: 0 L, 1 P, -1 missing
    kelurahan: np.ndarray  # uint64 hash, 0 when missing
    keys: pl.DataFrame  # idx, nik, p12, s10, k6, birth, sex, words, kelurahan
    # Why the NIK cannot be right as typed (see `_suspect_niks`), 0 when it could be: a sign
    # that a close NIK is a typo.
    suspect: np.ndarray  # int8: 0, _BAD_DATE, _BAD_KECAMATAN or _BAD_SERIAL
    number: np.ndarray  # int64: the NIK's digits as a number, -1 when not 15 to 17 digits
    digits: np.ndarray  # int8: how many digits (15, 16 or 17; 0 otherwise)


@dataclass(frozen=True)
class _Names:
    keys: np.ndarray  # object array of normalised names, by id
    sorted_keys: np.ndarray  # the same with the words sorted
    lengths: np.ndarray  # int32 letters of each key


def link(
    incoming: pl.DataFrame,
    registry: pl.DataFrame,
    settings: LinkageSettings | None = None,
    *,
    name_rules: NameRules | None = None,
) -> pl.DataFrame:
    """Link each incoming row to at most one registered worker; one output row per input row.

    incoming: row (int, the spreadsheet row, unique), nik (str; anything but 16 digits after
    removing spaces, dots and dashes counts as missing), name (str), birth_date (date),
    sex ("L"/"P"), kelurahan (region code, may be null). registry: worker_id instead of row.

    Output, in the incoming order: row, status (one of STATUSES), worker_id (the worker
    linked or to review against; null for `new`), score (0..1, the weighted agreement of the
    chosen pair), reason (one of REASONS), evidence (Indonesian, what matched), dup_of_row
    (for `duplicate_in_file`: the earliest row of the same person) and registry_status (the
    status against the registry alone: a `duplicate_in_file` row keeps whether it is a
    registered worker or a new person).
    """
    settings = settings or LinkageSettings()
    _check_columns(incoming, INCOMING_COLUMNS, "incoming")
    _check_columns(registry, REGISTRY_COLUMNS, "registry")
    if incoming.height == 0:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)

    # Row order makes "earlier row" the lower position; the caller's order is restored at the end.
    given_order = incoming["row"]
    incoming = incoming.sort("row")
    names, name_ids, word_ids = _name_ids(incoming["name"], registry["name"], name_rules)
    n = incoming.height
    right = _side(registry, name_ids[n:], word_ids[n:], None, settings)
    left = _side(incoming, name_ids[:n], word_ids[:n], right.keys, settings)

    # Exact NIK first: most rows of a resubmitted list end here.
    exact = _score(_join(left.keys, right.keys, ["nik"]), left, right, names, settings)
    settled = exact.filter(pl.col("rank") == _R_EXACT)["i"].unique()
    open_keys = left.keys.filter(~pl.col("idx").is_in(settled.implode()))
    best = pl.concat(
        [
            _best(exact.filter(pl.col("i").is_in(settled.implode()))),
            *(
                _best(_score(_blocked_pairs(chunk, right.keys), left, right, names, settings))
                for chunk in open_keys.iter_slices(_CHUNK_ROWS)
            ),
        ]
    )
    # The registry's side is done with; freeing it keeps the peak (in _mark_duplicates) low.
    del exact, settled, open_keys, right
    best = _one_row_per_worker(best, incoming["row"], left, settings)

    result = _result(incoming, registry, best, settings)
    del best
    if settings.check_duplicates:
        result = _mark_duplicates(result, left, names, settings)
    result = result.select(OUTPUT_SCHEMA.keys()).cast(OUTPUT_SCHEMA)
    return given_order.cast(pl.Int64).to_frame("row").join(result, on="row", maintain_order="left")


def _check_columns(frame: pl.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {', '.join(missing)}")


# --- preparing both sides ---------------------------------------------------------------------


def _name_ids(
    incoming: pl.Series, registry: pl.Series, rules: NameRules | None
) -> tuple[_Names, np.ndarray, np.ndarray]:
    """Normalise each distinct name once; give every row the ids of its normalised name and
    of its words sorted ("Santoso Budi" and "Budi Santoso" share the second)."""
    raw = pl.concat([incoming.cast(pl.String), registry.cast(pl.String)]).alias("raw")
    # Joining on a 64-bit hash is much faster than on the strings; a collision between two
    # distinct spellings in one run is out of reach at 64 bits.
    hashes = raw.hash(seed=0)
    distinct = pl.DataFrame({"raw": raw, "h": hashes}).unique("h").drop_nulls("raw")
    keyed = distinct.with_columns(key=name_key_expr(pl.col("raw"), rules)).filter(
        pl.col("key") != ""
    )
    vocabulary = (
        keyed.select("key")
        .unique()
        .sort("key")
        .with_row_index("name_id")
        .with_columns(sorted_key=pl.col("key").str.split(" ").list.sort().list.join(" "))
    )
    vocabulary = vocabulary.with_columns(
        word_id=pl.col("sorted_key").rank("dense").cast(pl.Int32) - 1
    )
    by_hash = keyed.join(vocabulary, on="key").select("h", "name_id", "word_id")
    ids = pl.DataFrame({"h": hashes}).join(by_hash, on="h", how="left", maintain_order="left")
    return (
        _Names(
            keys=vocabulary["key"].to_numpy().astype(object),
            sorted_keys=vocabulary["sorted_key"].to_numpy().astype(object),
            lengths=vocabulary["key"].str.len_chars().to_numpy().astype(np.int32),
        ),
        ids["name_id"].cast(pl.Int32).fill_null(_NO_ID).to_numpy(),
        ids["word_id"].cast(pl.Int32).fill_null(_NO_ID).to_numpy(),
    )


def _side(
    frame: pl.DataFrame,
    name_ids: np.ndarray,
    word_ids: np.ndarray,
    registry_keys: pl.DataFrame | None,
    s: LinkageSettings,
) -> _Side:
    typed = pl.col("nik").cast(pl.String).str.replace_all(r"[ .\-]", "")
    # [0-9], not \d: Polars' \d also matches full-width and other scripts' digits, which no
    # integer cast reads (a registry holding one such NIK broke every import).
    length = pl.when(typed.str.contains(r"^[0-9]+$")).then(typed.str.len_bytes()).otherwise(0)
    cols = frame.with_columns(typed=typed, length=length).select(
        nik=pl.when(pl.col("length") == 16).then(pl.col("typed").cast(pl.Int64, strict=False)),
        # a NIK one digit short or long is still evidence (see `_one_digit_off`)
        number=pl.when(pl.col("length").is_between(15, 17)).then(
            pl.col("typed").cast(pl.Int64, strict=False)
        ),
        digits=pl.when(pl.col("length").is_between(15, 17))
        .then(pl.col("length"))
        .otherwise(0)
        .cast(pl.Int8),
        birth=pl.col("birth_date").cast(pl.Date).cast(pl.Int32),
        sex=pl.col("sex")
        .cast(pl.String)
        .str.to_uppercase()
        .replace_strict({"L": 0, "P": 1}, default=-1, return_dtype=pl.Int8),
        kelurahan=pl.when(pl.col("kelurahan").is_not_null())
        .then(pl.col("kelurahan").cast(pl.String).hash(seed=1))
        .otherwise(0),
    )
    valid = cols["nik"].is_not_null().to_numpy()
    digits = cols["nik"].fill_null(0).to_numpy()
    packed = np.zeros(len(digits), dtype=np.uint64)
    for k in range(16):
        digit = (digits // 10 ** (15 - k)) % 10
        packed |= digit.astype(np.uint64) << np.uint64(4 * (15 - k))
    packed[~valid] = _NO_NIK
    keys = cols.select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("idx"),
        "nik",
        "birth",
        p12=pl.col("nik") // 10_000,
        s10=pl.col("nik") % 10**10,
        k6=pl.col("nik") // 10**10,
        sex=pl.when(pl.col("sex") >= 0).then(pl.col("sex")),
        words=pl.Series(word_ids).replace(_NO_ID, None),
        kelurahan=pl.when(pl.col("kelurahan") != 0).then(pl.col("kelurahan")),
        date_wrong=_date_digits_wrong(),
    )
    return _Side(
        packed=packed,
        name=name_ids,
        words=word_ids,
        birth=cols["birth"].fill_null(_NO_DATE).to_numpy(),
        sex=cols["sex"].to_numpy(),
        kelurahan=cols["kelurahan"].cast(pl.UInt64).to_numpy(),
        keys=keys,
        suspect=_suspect_niks(keys, registry_keys, s),
        number=cols["number"].fill_null(-1).to_numpy(),
        digits=cols["digits"].to_numpy(),
    )


def _date_digits_wrong() -> pl.Expr:
    """Digits 7-12 of the NIK disagree with the birth date and sex (women: day + 40)."""
    birth = pl.col("birth").cast(pl.Date)
    day = birth.dt.day().cast(pl.Int64)
    as_typed = (pl.col("nik") // 10_000) % 1_000_000
    expected = day * 10_000 + birth.dt.month().cast(pl.Int64) * 100 + birth.dt.year() % 100
    # With the sex unknown either reading of the day will do.
    wrong = (as_typed != expected) & (as_typed != expected + 400_000)
    wrong = pl.when(pl.col("sex") == 0).then(as_typed != expected).otherwise(wrong)
    wrong = pl.when(pl.col("sex") == 1).then(as_typed != expected + 400_000).otherwise(wrong)
    return wrong.fill_null(False)


def _suspect_niks(
    keys: pl.DataFrame, registry_keys: pl.DataFrame | None, s: LinkageSettings
) -> np.ndarray:
    """Why each NIK cannot be right as typed (0: it could be): the birth-date digits
    disagree with the birth date and sex given (_BAD_DATE); or (against a registry) the
    kecamatan code is carried by no registered worker (_BAD_KECAMATAN), or the serial is far
    beyond any serial of its kecamatan and birth date there (_BAD_SERIAL).

    A real person's NIK passes all three, so a NIK close to a registered one that fails one
    is a typo, not a namesake's or a serial neighbour's NIK."""
    if registry_keys is None:
        return np.where(keys["date_wrong"].to_numpy(), _BAD_DATE, 0).astype(np.int8)
    known_k6 = registry_keys["k6"].drop_nulls().unique()
    last_serial = registry_keys.group_by("p12").agg(last=(pl.col("nik") % 10_000).max())
    frame = keys.select("nik", "k6", "p12", "date_wrong").join(
        last_serial, on="p12", how="left", maintain_order="left"
    )
    return (
        frame.select(
            pl.when(pl.col("date_wrong"))
            .then(_BAD_DATE)
            .when(pl.col("nik").is_not_null() & ~pl.col("k6").is_in(known_k6.implode()))
            .then(_BAD_KECAMATAN)
            .when(((pl.col("nik") % 10_000) > pl.col("last") + s.serial_slack).fill_null(False))
            .then(_BAD_SERIAL)
            .otherwise(0)
            .cast(pl.Int8)
        )
        .to_series()
        .to_numpy()
    )


# --- candidate pairs ------------------------------------------------------------------------


def _join(left: pl.DataFrame, right: pl.DataFrame, on: list[str]) -> pl.DataFrame:
    """Pairs (i, j) of positions agreeing on `on`; null keys never agree."""
    return (
        left.select("idx", *on)
        .join(right.select("idx", *on), on=on, how="inner")
        .select(i=pl.col("idx"), j=pl.col("idx_right"))
    )


def _blocked_pairs(left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    """Every candidate pair of two key frames, each pair once (see the module docstring).

    The NIK block is inside the first-12-digits block; the kecamatan + birth date block
    equals the first-12-digits block unless the NIK's date digits are wrong, so it is
    joined only for those rows."""
    blocks = [
        _join(left, right, ["p12"]),
        _join(left, right, ["s10"]),
        _join(left.filter(pl.col("date_wrong")), right, ["k6", "birth", "sex"]),
        _join(left, right, ["words", "birth"]),
        _join(left.filter(pl.col("nik").is_null()), right, ["birth", "sex", "kelurahan"]),
    ]
    # One 64-bit key per pair: deduplicating one integer column is far cheaper than two.
    pair = pl.col("i").cast(pl.UInt64) * 2**32 + pl.col("j").cast(pl.UInt64)
    unique = pl.concat([b.select(pair.alias("pair")) for b in blocks]).unique()
    return unique.select(
        i=(pl.col("pair") // 2**32).cast(pl.UInt32), j=(pl.col("pair") % 2**32).cast(pl.UInt32)
    )


def _same_words(pairs: pl.DataFrame, side: _Side) -> pl.DataFrame:
    """The pairs of one side whose normalised names have the same words: a repeat of a row
    in the same file is typed by the same hand (scoring every serial neighbour would cost
    seconds on a million rows)."""
    words = side.words
    i, j = pairs["i"].to_numpy(), pairs["j"].to_numpy()
    return pairs.filter(pl.Series((words[i] == words[j]) & (words[i] != _NO_ID)))


def _typo_pairs(left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    """The pairs of `_blocked_pairs` whose NIKs can be one typo apart (no name blocks)."""
    blocks = [
        _join(left, right, ["p12"]),
        _join(left, right, ["s10"]),
        _join(left.filter(pl.col("date_wrong")), right, ["k6", "birth", "sex"]),
    ]
    pair = pl.col("i").cast(pl.UInt64) * 2**32 + pl.col("j").cast(pl.UInt64)
    unique = pl.concat([b.select(pair.alias("pair")) for b in blocks]).unique()
    return unique.select(
        i=(pl.col("pair") // 2**32).cast(pl.UInt32), j=(pl.col("pair") % 2**32).cast(pl.UInt32)
    )


# --- scoring pairs ----------------------------------------------------------------------------


def _differing_nibbles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One bit (the lowest of its nibble) for each differing digit of packed NIKs."""
    x = a ^ b
    x |= x >> np.uint64(2)
    x |= x >> np.uint64(1)
    return x & _NIBBLES


def _nik_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Number of differing digits of packed NIKs."""
    return np.bitwise_count(_differing_nibbles(a, b)).astype(np.int8)


def _highest_nibble(bits: np.ndarray) -> np.ndarray:
    """Index (0 = last digit) of the highest set nibble bit; the bits sit at multiples of 4,
    far from a power of two, so the float logarithm is exact enough."""
    return (np.floor(np.log2(np.maximum(bits, 1).astype(np.float64))) // 4).astype(np.int64)


def _positions(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First and second differing digit (1-16, 0 when none) and whether exactly two
    neighbouring digits differ by being swapped, for packed NIKs a and b."""
    bits = _differing_nibbles(a, b)
    count = np.bitwise_count(bits)
    first = _highest_nibble(bits)
    rest = bits & ~(np.uint64(1) << (first * 4).astype(np.uint64))
    second = _highest_nibble(rest)

    def digit(x: np.ndarray, k: np.ndarray) -> np.ndarray:
        return (x >> (k * 4).astype(np.uint64)) & np.uint64(0xF)

    swapped = (
        (count == 2)
        & (second == first - 1)
        & (digit(a, first) == digit(b, second))
        & (digit(a, second) == digit(b, first))
    )
    pos1 = np.where(count > 0, 16 - first, 0).astype(np.int8)
    pos2 = np.where(count > 1, 16 - second, 0).astype(np.int8)
    return pos1, pos2, swapped


def _without_digit(number: np.ndarray, digits: np.ndarray, position: int) -> np.ndarray:
    """`number` (of `digits` digits) with its digit at 0-based `position` from the left
    removed."""
    below = 10 ** np.maximum(digits.astype(np.int64) - position - 1, 0)
    return (number // (below * 10)) * below + number % below


def _one_digit_off(number: np.ndarray, digits: np.ndarray, nik: np.ndarray) -> np.ndarray:
    """Per pair: is a 15-digit `number` the 16-digit `nik` with one digit lost, or a 17-digit
    one the NIK with one digit added? (Leading zeros cannot occur: NIKs start with a
    province code.)"""
    found = np.zeros(len(number), dtype=bool)
    short, long = digits == 15, digits == 17
    for position in range(17):
        if position < 16:
            found |= short & (_without_digit(nik, np.full_like(digits, 16), position) == number)
        found |= long & (_without_digit(number, digits, position) == nik)
    return found


def _serial(packed: np.ndarray) -> np.ndarray:
    """The last four digits of packed NIKs as a number."""
    out = np.zeros(len(packed), dtype=np.int64)
    for shift, weight in ((12, 1000), (8, 100), (4, 10), (0, 1)):
        out += ((packed >> np.uint64(shift)) & np.uint64(0xF)).astype(np.int64) * weight
    return out


def _similarity(names: _Names, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair of name ids: similarity 0..1 (see LinkageSettings) and the fewest edits
    between the names, as written or with their words sorted."""
    edits = np.minimum(
        process.cpdist(names.keys[a], names.keys[b], scorer=OSA.distance, workers=-1),
        process.cpdist(names.sorted_keys[a], names.sorted_keys[b], scorer=OSA.distance, workers=-1),
    ).astype(np.int32)
    longer = np.maximum(names.lengths[a], names.lengths[b])
    return 1.0 - edits / np.maximum(longer, 1), edits


def _word_subset(names: _Names, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pair of name ids: are all words of one name in the other ("Ali" / "Moch. Ali")?"""
    ratio = process.cpdist(names.keys[a], names.keys[b], scorer=fuzz.token_set_ratio, workers=-1)
    return ratio >= 100.0


def _score(
    pairs: pl.DataFrame, left: _Side, right: _Side, names: _Names, s: LinkageSettings
) -> pl.DataFrame:
    """Compare each pair field by field and classify it (rank, reason, score)."""
    i = pairs["i"].to_numpy().astype(np.int64)
    j = pairs["j"].to_numpy().astype(np.int64)
    la, rb = left.packed[i], right.packed[j]
    no_nik = la == _NO_NIK
    has_nik = ~no_nik & (rb != _NO_NIK)
    dist = np.where(has_nik, _nik_distance(la, rb), 99).astype(np.int8)
    name_eq = (left.words[i] != _NO_ID) & (left.words[i] == right.words[j])
    # Pairs that cannot be anything but "no relation" are dropped before the costly part.
    keep = (dist <= 2) | name_eq | no_nik
    i, j, la, rb, dist, no_nik, has_nik, name_eq = (
        x[keep] for x in (i, j, la, rb, dist, no_nik, has_nik, name_eq)
    )
    n = len(i)

    pos1 = np.zeros(n, dtype=np.int8)
    pos2 = np.zeros(n, dtype=np.int8)
    swapped = np.zeros(n, dtype=bool)
    near = (dist >= 1) & (dist <= 2)
    pos1[near], pos2[near], swapped[near] = _positions(la[near], rb[near])
    effective = np.where(swapped & s.transposition_as_one, 1, dist)
    close = effective <= s.max_nik_distance
    region_eq = has_nik & ((la >> np.uint64(40)) == (rb >> np.uint64(40)))

    both_named = (left.name[i] != _NO_ID) & (right.name[j] != _NO_ID)
    birth_eq = (left.birth[i] != _NO_DATE) & (left.birth[i] == right.birth[j])
    sex_conflict = (left.sex[i] >= 0) & (right.sex[j] >= 0) & (left.sex[i] != right.sex[j])
    kel_l, kel_r = left.kelurahan[i], right.kelurahan[j]
    kel_eq = (kel_l != 0) & (kel_l == kel_r)
    kel_conflict = (kel_l != 0) & (kel_r != 0) & (kel_l != kel_r)

    sim = name_eq.astype(np.float64)
    edits = np.where(name_eq, 0, 99).astype(np.int32)
    need = both_named & ~name_eq & (close | no_nik)
    if need.any():
        sim[need], edits[need] = _similarity(names, left.name[i[need]], right.name[j[need]])
    shortest = np.minimum(names.lengths[left.name[i]], names.lengths[right.name[j]])
    strong_name = (
        name_eq
        | (sim >= s.name_probable)
        | ((edits <= s.name_probable_edits) & (shortest >= s.name_probable_edits_from))
    )
    # Word containment is slow to compute and matters only where it can change the class.
    subset = name_eq.copy()
    want = both_named & ~strong_name & ((dist == 0) | (((effective == 1) | no_nik) & kel_eq))
    if want.any():
        subset[want] = _word_subset(names, left.name[i[want]], right.name[j[want]])
    why_bad = np.where(left.suspect[i] > 0, left.suspect[i], right.suspect[j]).astype(np.int8)
    suspect = why_bad > 0
    # A close NIK is a typo or another real person's NIK (serial neighbours, neighbouring
    # kecamatan codes); see LinkageSettings.close_nik_needs_sign.
    sign = (kel_eq if s.close_nik_needs_sign else ~kel_conflict) | suspect
    kel_ok = ~kel_conflict | suspect
    same_born = birth_eq & ~sex_conflict
    probable_1 = (effective == 1) & same_born & ((strong_name & sign) | (subset & kel_eq))
    probable_2 = (effective == 2) & same_born & sign & (name_eq | (sim >= s.name_probable_far))
    unconfirmed = close & has_nik & same_born & strong_name & ~probable_1 & ~probable_2
    probable_1 &= s.max_nik_distance >= 1
    probable_2 &= s.max_nik_distance >= 2
    # A row without a valid NIK is linked by name and birth date only when exactly one
    # worker fits; with two or more the reviewer chooses.
    # ...unless the row's NIK is the worker's with one digit lost or added: that singles the
    # worker out among namesakes, in any kelurahan.
    lost = np.zeros(n, dtype=bool)
    odd = no_nik & (left.digits[i] > 0) & (rb != _NO_NIK)
    if odd.any():
        lost[odd] = _one_digit_off(left.number[i[odd]], left.digits[i[odd]], right.number[j[odd]])
    fits = no_nik & same_born & (kel_ok | lost) & (strong_name | (subset & kel_eq))
    fits_per_row = np.bincount(i[fits], minlength=len(left.packed))
    lost_per_row = np.bincount(i[fits & lost], minlength=len(left.packed))
    sole = fits & ((fits_per_row[i] == 1) | (lost & (lost_per_row[i] == 1)))
    outshone = fits & ~lost & (lost_per_row[i] == 1)
    namesake = name_eq & same_born
    far_elsewhere = namesake & kel_conflict & has_nik & ~region_eq & ~close
    # Another NIK that could be right as typed, and another kelurahan: the two fields that
    # tell namesakes apart both say someone else (see LinkageSettings).
    apart = (
        (namesake | unconfirmed)
        & has_nik
        & (dist > 0)
        & kel_conflict
        & ~suspect
        & s.namesakes_in_other_kelurahan_are_new
    )
    elsewhere = far_elsewhere | apart
    if s.review_namesakes_elsewhere:
        elsewhere = np.zeros(n, dtype=bool)
    # The same NIK with a name that does not clearly match, another kelurahan, and another
    # birth date or hardly a name in common ("Sri" in "Sri Wahyuni"): a typo that landed on
    # someone else's NIK, for a person to see.
    loose = (dist == 0) & ~strong_name & kel_conflict & (~birth_eq | (sim < s.name_compatible))
    exact_strong = (dist == 0) & (strong_name | subset) & ~loose

    # An automatic typo link (`corrected_typo`, see LinkageSettings.auto_link_typos) needs
    # everything to agree; `_best` adds "no other candidate". A NIK one serial from the
    # worker's is what a twin carries: corrected without a person only when the names are
    # the same (twins are not given one name).
    sex_agree = (left.sex[i] >= 0) & (left.sex[i] == right.sex[j])
    kel_missing = (kel_l == 0) | (kel_r == 0)
    consecutive = (
        has_nik
        & ((la >> np.uint64(16)) == (rb >> np.uint64(16)))
        & (np.abs(_serial(la) - _serial(rb)) == 1)
    )
    # A NIK that could be right as typed needs the name the same or one edit away; with a
    # typo proven, any clearly matching name will do, and with the same kelurahan one written
    # shorter too ("Cholis Mahmud" for "Nur Cholis Mahmud").
    close_name = name_eq | (
        (edits <= s.name_probable_edits) & (shortest >= s.name_probable_edits_from)
    )
    name_agrees = np.where(suspect, strong_name | (subset & kel_eq), close_name)
    moved = kel_conflict & s.auto_link_moved
    strong_proof = (why_bad == _BAD_DATE) | (why_bad == _BAD_KECAMATAN)
    kel_fine = kel_eq | (suspect & (kel_missing | moved))
    auto_far = min(s.auto_link_max_nik_distance, s.max_nik_distance)
    auto = (
        s.auto_link_typos
        & birth_eq
        & sex_agree
        & name_agrees
        & (
            (probable_1 & (auto_far >= 1) & kel_fine & (~consecutive | name_eq))
            # two digits away: only a NIK that cannot be right as typed; in another
            # kelurahan, only by its birth-date or kecamatan digits (a serial beyond those
            # issued is a weaker proof: large blocks of one birth date have long gaps)
            | (probable_2 & (auto_far >= 2) & suspect & kel_fine & (~kel_conflict | strong_proof))
            | (sole & (~kel_conflict | lost) & s.auto_link_invalid_nik)
        )
    )

    rank = np.select(
        [
            exact_strong,
            probable_1 | probable_2 | sole,
            (dist == 0) & (sim >= s.name_compatible) & ~loose,
            dist == 0,
            (namesake | fits | unconfirmed) & ~elsewhere,
            elsewhere,
            close & has_nik,
        ],
        [
            _R_EXACT,
            _R_PROBABLE,
            _R_EXACT_WEAK,
            _R_CONFLICT,
            _R_SAME_NAME,
            _R_NAMESAKE,
            _R_NEIGHBOUR,
        ],
        default=_R_NONE,
    ).astype(np.int8)
    reason = np.select(
        [
            (rank == _R_EXACT) & name_eq,
            (rank == _R_EXACT) | (rank == _R_EXACT_WEAK),
            (rank == _R_PROBABLE) & sole,
            (rank == _R_PROBABLE) & swapped & (effective == 1),
            (rank == _R_PROBABLE) & (effective == 1),
            rank == _R_PROBABLE,
            (rank == _R_CONFLICT) & birth_eq,
            rank == _R_CONFLICT,
            (rank == _R_SAME_NAME) & no_nik,
            (rank == _R_SAME_NAME) & close & has_nik,
            rank == _R_SAME_NAME,
            rank == _R_NEIGHBOUR,
            (rank == _R_NAMESAKE) & far_elsewhere,
            rank == _R_NAMESAKE,
        ],
        [
            _REASON["nik_exact"],
            _REASON["nik_exact_name_variant"],
            _REASON["name_birth_nik_invalid"],
            _REASON["nik_transposition"],
            _REASON["nik_typo"],
            _REASON["nik_typo_2"],
            _REASON["nik_same_name_differs"],
            _REASON["nik_same_name_birth_differ"],
            _REASON["name_birth_ambiguous"],
            _REASON["nik_close_unconfirmed"],
            _REASON["name_birth_other_nik"],
            _REASON["nik_neighbour_other_person"],
            _REASON["namesake_elsewhere"],
            _REASON["namesake_other_kelurahan"],
        ],
        default=_REASON["no_match"],
    ).astype(np.int8)
    # The score only orders candidates of one rank and tells a reviewer how close a pair is.
    nik_part = np.select([dist == 0, effective == 1, effective == 2], [1.0, 0.8, 0.6], 0.0)
    score = (
        0.5 * nik_part
        + 0.3 * sim
        + 0.1 * birth_eq
        + 0.05 * (~sex_conflict & (left.sex[i] >= 0))
        + 0.05 * kel_eq
    )
    return pl.DataFrame(
        {
            "i": i.astype(np.uint32),
            "j": j.astype(np.uint32),
            "rank": rank,
            "reason": reason,
            "score": score.round(4),
            "dist": dist,
            "pos1": pos1,
            "pos2": pos2,
            "swapped": swapped,
            "no_nik": no_nik,
            "lost": lost,
            "name_eq": name_eq,
            "sim": sim,
            "birth_eq": birth_eq,
            "sex_conflict": sex_conflict,
            "kel_conflict": kel_conflict,
            "kel_eq": kel_eq,
            "why_bad": why_bad,
            "auto": auto & (rank == _R_PROBABLE),
            # Could this worker be the row's person? Not the owner of the row's NIK with
            # another name or birth date, on whom a typo can land, nor a namesake two digits
            # away in another kelurahan: a rival keeps a typo from being corrected alone.
            "rival": (
                (rank == _R_EXACT)
                | (rank == _R_PROBABLE)
                | (rank == _R_SAME_NAME)
                | ((rank == _R_EXACT_WEAK) & birth_eq)
            )
            & ~(kel_conflict & (effective >= 2))
            & ~outshone,
        }
    ).filter(pl.col("rank") != _R_NONE)


def _best(candidates: pl.DataFrame) -> pl.DataFrame:
    """The best candidate per incoming row, how many others were as good (ties), and how
    many other workers could be this row's person at all (others: rivals, see `_score`)."""
    if candidates.height == 0:
        return candidates.with_columns(
            ties=pl.lit(0, dtype=pl.Int32), others=pl.lit(0, dtype=pl.Int32)
        )
    i, rank = candidates["i"].to_numpy(), candidates["rank"].to_numpy()
    order = np.lexsort((-candidates["score"].to_numpy(), rank, i))
    i_sorted, rank_sorted = i[order], rank[order]
    starts = np.flatnonzero(np.r_[True, i_sorted[1:] != i_sorted[:-1]])
    best_rank = np.repeat(rank_sorted[starts], np.diff(np.r_[starts, len(order)]))
    ties = np.add.reduceat((rank_sorted == best_rank).astype(np.int32), starts) - 1
    rival = candidates["rival"].to_numpy()[order]
    others = np.add.reduceat(rival.astype(np.int32), starts) - rival[starts]
    return candidates[order[starts]].with_columns(
        ties=pl.Series(ties, dtype=pl.Int32), others=pl.Series(others, dtype=pl.Int32)
    )


def _one_row_per_worker(
    best: pl.DataFrame, rows: pl.Series, left: _Side, s: LinkageSettings
) -> pl.DataFrame:
    """A worker is one person: when several rows with different NIKs link to one worker,
    the best keeps the link. Rows with the keeper's own NIK stay linked; they are
    duplicates in the file. A row whose NIK is a typo of the worker's, as sure as one that
    would be corrected automatically, is the same person typed twice: with `check_duplicates` it becomes a duplicate of the
    earliest row that keeps the link (`typo_of`). The others (a weak match on the worker's
    own NIK, say) go to review as someone with the same name and birth date."""
    frame = best.with_columns(
        row=pl.Series(rows.cast(pl.Int64).to_numpy()[best["i"].to_numpy()]),
        nik=pl.Series(left.packed[best["i"].to_numpy()]),
    )
    linked = frame.filter(pl.col("rank").is_in(_LINKED_RANKS)).sort(
        ["j", "rank", "score", "row"], descending=[False, False, True, False]
    )
    keepers = linked.group_by("j", maintain_order=True).agg(
        keeper_row=pl.col("row").first(), keeper_nik=pl.col("nik").first()
    )
    frame = frame.join(keepers, on="j", how="left", maintain_order="left")
    claimed = (
        pl.col("rank").is_in(_LINKED_RANKS)
        & (pl.col("row") != pl.col("keeper_row"))
        & ((pl.col("nik") != pl.col("keeper_nik")) | (pl.col("nik") == int(_NO_NIK)))
    )
    frame = frame.with_columns(
        claimed=claimed,
        # as sure a typo as one corrected automatically (see `_score`), and one typo only: a
        # namesake of a worker in the file is likelier than two typos
        typo=claimed
        & (pl.col("rank") == _R_PROBABLE)
        & pl.col("auto")
        & (pl.col("others") == 0)
        & ((pl.col("dist") <= 1) | pl.col("swapped") | pl.col("no_nik"))
        & pl.lit(s.check_duplicates),
    )
    first = (
        frame.filter(pl.col("rank").is_in(_LINKED_RANKS) & ~pl.col("claimed"))
        .group_by("j")
        .agg(first_row=pl.col("row").min())
    )
    frame = frame.join(first, on="j", how="left", maintain_order="left")
    to_review = pl.col("claimed") & ~pl.col("typo")
    return frame.with_columns(
        rank=pl.when(to_review).then(_R_SAME_NAME).otherwise(pl.col("rank")).cast(pl.Int8),
        reason=pl.when(pl.col("typo"))
        .then(_REASON["dup_typo"])
        .when(to_review)
        .then(_REASON["worker_claimed_in_file"])
        .otherwise(pl.col("reason"))
        .cast(pl.Int8),
        claimed_by=pl.when(to_review).then(pl.col("keeper_row")),
        typo_of=pl.when(pl.col("typo")).then(pl.col("first_row")),
    ).drop("claimed", "typo", "first_row", "keeper_row", "keeper_nik")


# --- evidence ---------------------------------------------------------------------------------


def _percent(col: str) -> pl.Expr:
    return (pl.col(col) * 100).round(0).cast(pl.Int32).cast(pl.String) + "%"


def _nik_evidence() -> pl.Expr:
    """How the NIKs of a pair differ, in Indonesian, naming the differing positions."""
    p1, p2 = pl.col("pos1").cast(pl.String), pl.col("pos2").cast(pl.String)
    return (
        pl.when(pl.col("no_nik"))
        .then(
            pl.when(pl.col("lost"))
            .then(pl.lit("NIK di berkas kurang atau lebih satu angka dari NIK pekerja"))
            .otherwise(pl.lit("NIK di berkas tidak sah"))
        )
        .when(pl.col("dist") == 0)
        .then(pl.lit("NIK sama"))
        .when(pl.col("swapped"))
        .then("NIK dua angka bertukar (posisi " + p1 + "–" + p2 + ")")
        .when(pl.col("dist") == 1)
        .then("NIK beda 1 angka (posisi " + p1 + ")")
        .when(pl.col("dist") == 2)
        .then("NIK beda 2 angka (posisi " + p1 + " dan " + p2 + ")")
        .otherwise("NIK beda " + pl.col("dist").cast(pl.String) + " angka")
    )


def _pair_evidence(s: LinkageSettings) -> pl.Expr:
    """What agreed and what did not, in Indonesian, from the pair columns of `_score`."""
    nik = _nik_evidence()
    name = (
        pl.when(pl.col("name_eq") & pl.col("birth_eq"))
        .then(pl.lit("nama dan tanggal lahir sama"))
        .otherwise(
            pl.when(pl.col("name_eq"))
            .then(pl.lit("nama sama"))
            .when(pl.col("sim") >= s.name_compatible)
            .then("nama mirip " + _percent("sim"))
            .otherwise("nama berbeda (kemiripan " + _percent("sim") + ")")
            + pl.when(pl.col("birth_eq"))
            .then(pl.lit(", tanggal lahir sama"))
            .otherwise(pl.lit(", tanggal lahir beda"))
        )
    )
    extra = pl.when(pl.col("sex_conflict")).then(pl.lit(", jenis kelamin beda")).otherwise(
        pl.lit("")
    ) + pl.when(pl.col("kel_conflict")).then(pl.lit(", kelurahan beda")).otherwise(pl.lit(""))
    return nik + ", " + name + extra


def _auto_evidence() -> pl.Expr:
    """Why a typo was corrected without a person: the differing digits, the fields that
    agree, and why the NIK cannot be right as typed when that was needed."""
    kel = (
        pl.when(pl.col("kel_eq"))
        .then(pl.lit("dan kelurahan sama"))
        .when(pl.col("kel_conflict"))
        .then(pl.lit("sama, kelurahan lain (pindah)"))
        .otherwise(pl.lit("sama, kelurahan tidak diisi"))
    )
    agree = (
        pl.when(pl.col("name_eq"))
        .then(pl.lit("nama, tanggal lahir, jenis kelamin "))
        .otherwise("nama mirip " + _percent("sim") + "; tanggal lahir, jenis kelamin ")
        + kel
    )
    why = pl.col("why_bad").replace_strict(
        {k: "; NIK di berkas tidak mungkin benar: " + v for k, v in _BAD_NIK_WHY.items()},
        default="",
        return_dtype=pl.String,
    )
    return (
        "NIK diperbaiki otomatis: "
        + pl.when(pl.col("no_nik"))
        .then(
            pl.when(pl.col("lost"))
            .then(pl.lit("NIK di berkas kurang atau lebih satu angka dari NIK pekerja"))
            .otherwise(pl.lit("NIK di berkas tidak sah, satu-satunya pekerja yang cocok"))
        )
        .otherwise(_nik_evidence())
        + "; "
        + agree
        + pl.when(pl.col("no_nik")).then(pl.lit("")).otherwise(why)
        + "; tidak ada kandidat lain"
    )


def _result(
    incoming: pl.DataFrame, registry: pl.DataFrame, best: pl.DataFrame, s: LinkageSettings
) -> pl.DataFrame:
    worker_ids = registry["worker_id"].cast(pl.Int64).to_numpy()
    chosen = best.with_columns(worker_id=pl.Series(worker_ids[best["j"].to_numpy()]))
    someone_else = pl.col("rank") >= _R_NAMESAKE
    claimed = pl.col("claimed_by").is_not_null()
    corrected = (
        (pl.col("rank") == _R_PROBABLE)
        & pl.col("auto")
        & (pl.col("others") == 0)
        & pl.col("typo_of").is_null()
    )
    # Each kind of evidence is built only for its rows (a when/then computes both branches).
    chosen = chosen.with_columns(corrected=corrected)
    chosen = pl.concat(
        [
            chosen.filter("corrected").with_columns(evidence=_auto_evidence()),
            chosen.filter(~pl.col("corrected")).with_columns(
                evidence=pl.when(someone_else)
                .then("Orang lain, bukan pekerja #" + pl.col("worker_id").cast(pl.String) + ": ")
                .when(claimed)
                .then(
                    "Pekerja #"
                    + pl.col("worker_id").cast(pl.String)
                    + " sudah cocok dengan baris "
                    + pl.col("claimed_by").cast(pl.String)
                    + " yang NIK-nya lain; baris ini: "
                )
                .otherwise(pl.lit(""))
                + _pair_evidence(s)
                + pl.when((pl.col("ties") > 0) & ~someone_else)
                .then("; " + pl.col("ties").cast(pl.String) + " kandidat lain sama kuat")
                .otherwise(pl.lit(""))
            ),
        ]
    )
    chosen = chosen.select(
        "i",
        "typo_of",
        "evidence",
        status=pl.when("corrected")
        .then(pl.lit(CORRECTED_TYPO))
        .otherwise(pl.col("rank").replace_strict(_RANK_STATUS, return_dtype=pl.String)),
        reason=pl.col("reason").replace_strict(dict(enumerate(REASONS)), return_dtype=pl.String),
        # A "someone else" candidate is only named in the evidence, never linked.
        worker_id=pl.when(~someone_else).then(pl.col("worker_id")),
        score=pl.when(~someone_else).then(pl.col("score")).otherwise(0.0),
    )
    frame = (
        incoming.select(pl.col("row").cast(pl.Int64))
        .with_row_index("i")
        .join(chosen, on="i", how="left", maintain_order="left")
    )
    return frame.with_columns(
        status=pl.col("status").fill_null(NEW),
        score=pl.col("score").fill_null(0.0),
        reason=pl.col("reason").fill_null("no_match"),
        evidence=pl.col("evidence").fill_null("Tidak ada pekerja terdaftar yang cocok"),
        dup_of_row=pl.lit(None, dtype=pl.Int64),
    ).with_columns(registry_status=pl.col("status"))


# --- duplicates inside the file ---------------------------------------------------------------


def _mark_duplicates(
    result: pl.DataFrame, left: _Side, names: _Names, s: LinkageSettings
) -> pl.DataFrame:
    """Point every later row of one person at the earliest row of that person in the file:
    the same NIK, or (for people new to the registry) the probable rule between rows, where
    a row that would go to review is the duplicate of one that would not. A row
    whose NIK is a typo of a worker another row matches points at that row, earlier or later
    (see `_one_row_per_worker`); it is linked automatically when that row is."""
    frame = result.with_columns(nik=left.keys["nik"])
    # Rows with one NIK are one person unless they link to different workers: a typo can
    # land on the NIK of someone else in the file.
    by_nik = frame.filter(pl.col("nik").is_not_null()).select(
        "i",
        earlier=pl.col("row").min().over("nik", "worker_id"),
        why=pl.lit(_REASON["dup_nik"]),
    )
    typos = frame.filter(pl.col("typo_of").is_not_null()).select(
        "i", earlier=pl.col("typo_of"), why=pl.lit(_REASON["dup_typo"])
    )
    fresh = frame.filter(
        ~pl.col("status").is_in([EXACT, PROBABLE, CORRECTED_TYPO]) & pl.col("typo_of").is_null()
    )["i"]
    fresh_keys = left.keys.filter(pl.col("idx").is_in(fresh.implode()))
    # A row that no worker fits (its birth date mistyped too, say) whose NIK is a sure typo
    # of the NIK of a row linked exactly is that row again. Rows with a candidate of their
    # own are left to it (a namesake in the file with its twin is no typo), and a row whose
    # NIK was itself corrected has no NIK to compare with...
    unlinked = frame.filter((pl.col("status") == NEW) & pl.col("typo_of").is_null())["i"]
    # ...and whose name is the worker's, so that agreeing with the row is agreeing with him
    linked = frame.filter((pl.col("status") == EXACT) & (pl.col("reason") == "nik_exact"))["i"]
    linked_keys = left.keys.filter(pl.col("idx").is_in(linked.implode()))
    of_linked = pl.concat(
        [
            _score(_typo_pairs(fresh_keys.head(0), linked_keys), left, left, names, s),
            *(
                _score(
                    _same_words(_typo_pairs(chunk, linked_keys), left), left, left, names, s
                ).filter((pl.col("rank") == _R_PROBABLE) & pl.col("auto"))
                for chunk in left.keys.filter(pl.col("idx").is_in(unlinked.implode())).iter_slices(
                    _CHUNK_ROWS
                )
            ),
        ]
    )
    worker_of = frame["worker_id"]
    row_of = frame["row"].to_numpy()
    typos = pl.concat(
        [
            typos.with_columns(typo_worker=pl.lit(None, dtype=pl.Int64)),
            pl.DataFrame(
                {
                    "i": of_linked["i"],
                    "earlier": row_of[of_linked["j"].to_numpy()],
                    "typo_worker": worker_of.gather(of_linked["j"]),
                }
            )
            .sort("i", "earlier")
            .group_by("i", maintain_order=True)
            .first()
            .with_columns(why=pl.lit(_REASON["dup_typo"])),
        ],
        how="diagonal_relaxed",
    )
    # Rows are in row order (see `link`), so the earlier row of a pair has the lower index.
    scored = pl.concat(
        [
            _score(_blocked_pairs(fresh_keys.head(0), fresh_keys), left, left, names, s),
            *(
                _score(
                    _blocked_pairs(chunk, fresh_keys).filter(pl.col("j") < pl.col("i")),
                    left,
                    left,
                    names,
                    s,
                ).filter(pl.col("rank") == _R_PROBABLE)
                for chunk in fresh_keys.iter_slices(_CHUNK_ROWS)
            ),
        ]
    )
    later, first = scored["i"].to_numpy(), scored["j"].to_numpy()
    # Of two rows of one person, the one a person would have to decide (its NIK a typo that
    # landed on a registered worker's, say) is the duplicate, whichever comes first.
    in_review = frame["status"].is_in(list(TO_REVIEW)).to_numpy()
    flip = in_review[first] & ~in_review[later]
    by_person = (
        pl.DataFrame(
            {
                "i": np.where(flip, first, later).astype(np.uint32),
                "earlier": row_of[np.where(flip, later, first)],
            }
        )
        .group_by("i")
        .agg(earlier=pl.col("earlier").min(), why=pl.lit(_REASON["dup_probable"]))
    )
    by_nik = by_nik.join(frame.select("i", "row"), on="i").filter(pl.col("earlier") < pl.col("row"))
    found = (
        pl.concat(
            [by_nik.select("i", "earlier", "why"), by_person.select("i", "earlier", "why")],
            how="vertical_relaxed",
        )
        .filter(~pl.col("i").is_in(typos["i"].implode()))
        .sort(["i", "earlier", "why"])
        .group_by("i", maintain_order=True)
        .first()
    )
    found = pl.concat([found.select("i", "earlier", "why"), typos], how="diagonal_relaxed")
    status_of = frame.select(earlier="row", earlier_status="status")
    marked = (
        frame.join(
            found.select("i", "earlier", "why", "typo_worker"),
            on="i",
            how="left",
            maintain_order="left",
        )
        .join(status_of, on="earlier", how="left", maintain_order="left")
        .with_columns(worker_id=pl.coalesce("typo_worker", "worker_id"))
    )
    is_dup = pl.col("earlier").is_not_null()
    is_typo = pl.col("why") == _REASON["dup_typo"]
    why = (
        pl.when(pl.col("why") == _REASON["dup_nik"])
        .then(pl.lit(": NIK sama"))
        .when(pl.col("why") == _REASON["dup_probable"])
        .then(pl.lit(": kemungkinan orang yang sama (NIK dekat, nama dan tanggal lahir sama)"))
        .when(is_typo)
        .then(
            ": NIK baris ini salah ketik dari NIK pekerja #"
            + pl.col("worker_id").cast(pl.String)
            + " di baris itu"
        )
        .otherwise(pl.lit(""))
    )
    marked = marked.with_columns(
        registry_status=pl.when(is_typo)
        .then(
            pl.when(pl.col("earlier_status").is_in(list(AUTO_LINKED)))
            .then(pl.lit(CORRECTED_TYPO))
            .otherwise(pl.lit(PROBABLE))
        )
        .otherwise(pl.col("registry_status"))
    )
    return marked.with_columns(
        status=pl.when(is_dup).then(pl.lit(DUPLICATE_IN_FILE)).otherwise(pl.col("status")),
        reason=pl.when(is_dup)
        .then(pl.col("why").replace_strict(dict(enumerate(REASONS)), return_dtype=pl.String))
        .otherwise(pl.col("reason")),
        evidence=pl.when(is_dup)
        .then(
            "Sama dengan baris "
            + pl.col("earlier").cast(pl.String)
            + " di berkas ini"
            + why
            + "; registri: "
            + pl.col("evidence")
        )
        .otherwise(pl.col("evidence")),
        dup_of_row=pl.col("earlier"),
    )
