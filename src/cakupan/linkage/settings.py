"""Thresholds and switches of the record linkage, one frozen object with documented defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LinkageSettings:
    """What counts as the same person. The defaults reach F1 above 0.998 on the labelled
    benchmark (benchmarks/bench_linkage.py); change them there first and watch the figure.

    Name similarity is 0..1 on normalised names (see `cakupan.linkage.names`): the better of
    the optimal-string-alignment similarity of the names and of their words sorted, so
    "Budi Santoso" / "Santoso Budi" is 1.0 and one typo in a 13-letter name is about 0.92.
    It is not Jaro-Winkler on purpose: Jaro-Winkler rewards a shared beginning, and people
    with consecutive NIK serials who share a first name ("Agus Setiawan" / "Agus Susanto")
    are the hard negatives here.
    """

    # Same NIK: a name at least this similar (or whose words are all in the other name, e.g.
    # "Ali Fauzi" / "Moch. Ali Fauzi") is the same person, `exact`; otherwise `nik_conflict`.
    # Below `name_clear` (see below) a same-NIK match is weak: it still links, but a probable
    # match with a clearly matching name elsewhere wins (a typo can land on a neighbour's NIK).
    name_compatible: float = 0.50
    # A name "clearly matches" when it is equal, at least this similar, or at most
    # `name_probable_edits` edits (insert, delete, change, swap of two letters) away with both
    # names at least `name_probable_edits_from` letters long. NIK one digit (or one swap of
    # neighbouring digits) away, same birth date and sex: the name must clearly match for
    # `probable`. 0.85 lets two typos through from fourteen letters.
    name_probable: float = 0.85
    name_probable_edits: int = 1
    name_probable_edits_from: int = 4
    # NIK two digits away: the bar for `probable` is higher.
    name_probable_far: float = 0.92
    # A NIK farther than this many digits is "another NIK" (`same_name_birth_other_nik`).
    max_nik_distance: int = 2
    # Count a swap of two neighbouring digits ("...0012" for "...0021") as one typo.
    transposition_as_one: bool = True
    # A NIK one or two digits from a worker's is a typo, or another real person's NIK:
    # people born the same day in the same kecamatan get consecutive serials, and Kota
    # Malang's kecamatan codes 35.73.01-05 differ in one digit, so a namesake born the same
    # day often carries a NIK one digit away. With True, `probable` also needs a sign: the
    # same kelurahan, or a NIK that cannot be right as typed (its birth-date digits disagree
    # with the birth date and sex, no registered worker carries its kecamatan code, or its
    # serial is more than `serial_slack` beyond the last one registered for its kecamatan and
    # birth date). Without a sign the row goes to review (`same_name_birth_other_nik`,
    # reason nik_close_unconfirmed). With False, only a different kelurahan (with a NIK that
    # could be right) sends it to review.
    close_nik_needs_sign: bool = True
    serial_slack: int = 20
    # A namesake (same normalised name, birth date and sex) whose NIK was issued in another
    # kecamatan and who lives in another kelurahan is a different person: `new`, with the
    # namesake named in the evidence. True sends such rows to review as
    # `same_name_birth_other_nik` (common Javanese names make that many reviews).
    review_namesakes_elsewhere: bool = False
    # A namesake (same name, birth date and sex; or a clearly matching name with a NIK one or
    # two digits away) whose own NIK could be right as typed (see `close_nik_needs_sign`)
    # and who lives in another kelurahan is a different person too: `new`, reason
    # `namesake_other_kelurahan`, the namesake named in the evidence. The two fields that
    # tell namesakes apart both say so. The price: a worker who has moved *and* mistyped a
    # digit that leaves the NIK plausible (often the last one) is taken for someone new.
    # False sends these rows to review (`same_name_birth_other_nik`).
    namesakes_in_other_kelurahan_are_new: bool = True
    # Look for the same person twice in the incoming file.
    check_duplicates: bool = True

    # Automatic typo links (`corrected_typo`): a probable match is linked without a person
    # when nothing conflicts: the name clearly matches (see above), birth date and sex are
    # equal and known on both sides, no other registered worker is a candidate, and the NIK
    # in the file is not the next or previous serial of the worker's (a twin or another
    # neighbour born the same day carries exactly that NIK). Then either the kelurahan is the
    # same, or the NIK cannot be right as typed (see `close_nik_needs_sign`), which proves a
    # typo, and the kelurahan is missing or (with `auto_link_moved`) another one, as for a
    # worker who has moved. Everything else that is probable still goes to a person.
    auto_link_typos: bool = True
    # The farthest NIK corrected automatically, in digits (a swap of two neighbouring digits
    # counts as one with `transposition_as_one`); 0 sends every typo to review. Never more
    # than `max_nik_distance`, beyond which nothing is probable.
    auto_link_max_nik_distance: int = 2
    # A row whose NIK is not a NIK at all (a digit lost or added) is linked automatically to
    # the one worker with its name, birth date and sex when the kelurahan is the same or
    # missing; another kelurahan sends it to review, as there is no NIK to prove anything.
    auto_link_invalid_nik: bool = True
    # A NIK that cannot be right as typed is corrected even when the kelurahan is another one.
    auto_link_moved: bool = True

    def __post_init__(self) -> None:
        for name in ("name_compatible", "name_probable", "name_probable_far"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if not 0 <= self.max_nik_distance <= 2:
            # Blocking looks for NIKs at most two digits apart (see link.py); farther ones
            # would be found only by name, so a larger setting would promise too much.
            raise ValueError(f"max_nik_distance must be 0, 1 or 2, got {self.max_nik_distance}")
        if not 0 <= self.auto_link_max_nik_distance <= 2:
            raise ValueError(
                f"auto_link_max_nik_distance must be 0, 1 or 2, got {self.auto_link_max_nik_distance}"
            )
