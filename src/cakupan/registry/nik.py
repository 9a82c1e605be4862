"""NIK validation: parse the 16-digit national ID and report every problem with a code.

A NIK is PP KK CC DDMMYY SSSS: digits 1-6 the kecamatan where it was first issued (it does not
change when the person moves, and may be a code retired by a region split), digits 7-12 the
birth date with 40 added to the day for women, digits 13-16 a serial from 0001. There is no
check digit, and the two-digit year is resolved with age bounds.

This module is pure Python: region facts come in through a lookup function, so it is used the
same way by forms, the API, bulk imports and the CLI (see `cakupan.registry.selectors.nik_check`).
`normalise_nik` is the one way in: a NIK typed with full-width or other non-ASCII digits becomes
ASCII before anything is checked or stored (see `cakupan.digits`), and only ASCII digits count.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Literal

from cakupan.digits import ascii_digits, is_ascii_digits
from cakupan.rules.inputs import age_on

Severity = Literal["error", "warning"]
# What the region tree knows of a NIK's kecamatan code. Every province and regency/city is built
# in, so a NIK naming one that does not exist is refused; a kecamatan can only be checked once
# its regency's kecamatan are loaded (Kota Malang's are built in, others come with the national
# list).
RegionState = Literal["active", "retired", "unknown", "not_loaded", "no_regency", "no_province"]

# Every problem code the validator can report, with its severity and its messages. The
# Indonesian message is the one users see by default; both name the fix.
PROBLEMS: dict[str, tuple[Severity, str, str]] = {
    "not_16_digits": (
        "error",
        "NIK harus tepat 16 angka; yang diisi: {detail}. Periksa kembali dari KTP atau KK.",
        "A NIK has exactly 16 digits; got: {detail}. Copy it again from the ID or family card.",
    ),
    "unknown_region": (
        "error",
        "Kode kecamatan {detail} pada 6 angka pertama NIK tidak ada dalam daftar wilayah. "
        "Periksa 6 angka pertama NIK.",
        "Kecamatan code {detail} in the first 6 digits is not in the region list. "
        "Check the first 6 digits.",
    ),
    "unknown_province": (
        "error",
        "Kode provinsi {detail} pada 2 angka pertama NIK tidak ada. Periksa 2 angka pertama NIK "
        "dari KTP atau KK.",
        "Province code {detail} in the first 2 digits does not exist. Check the first 2 digits "
        "against the ID or family card.",
    ),
    "unknown_regency": (
        "error",
        "Kode kabupaten/kota {detail} pada 4 angka pertama NIK tidak ada. Periksa 4 angka "
        "pertama NIK dari KTP atau KK.",
        "Regency/city code {detail} in the first 4 digits does not exist. Check the first 4 "
        "digits against the ID or family card.",
    ),
    "retired_region": (
        "warning",
        "Kode kecamatan {detail} sudah tidak berlaku (pemekaran wilayah). NIK lama tetap sah.",
        "Kecamatan code {detail} is retired (region split). Old NIKs remain valid.",
    ),
    "region_not_loaded": (
        "warning",
        "Kode kecamatan {detail} belum dapat diperiksa karena daftar kecamatan daerah itu belum "
        "dimuat. NIK tetap diterima; administrator dapat memuat daftar wilayah nasional.",
        "Kecamatan code {detail} cannot be checked yet: that regency's kecamatan are not loaded. "
        "The NIK is accepted; an administrator can load the national region list.",
    ),
    "invalid_date": (
        "error",
        "Angka ke-7 sampai ke-12 NIK ({detail}) bukan tanggal lahir yang mungkin "
        "(perempuan: tanggal + 40). Periksa angka tanggal lahir di NIK.",
        "Digits 7-12 ({detail}) are not a possible birth date (women: day + 40). "
        "Check the birth-date digits.",
    ),
    "serial_zero": (
        "error",
        "Nomor urut NIK (4 angka terakhir) tidak boleh 0000. Periksa 4 angka terakhir.",
        "The serial (last 4 digits) cannot be 0000. Check the last 4 digits.",
    ),
    "sex_mismatch": (
        "error",
        "Jenis kelamin {detail} tidak sesuai dengan NIK (tanggal + 40 berarti perempuan). "
        "Perbaiki jenis kelamin atau NIK.",
        "Sex {detail} contradicts the NIK (day + 40 means female). Fix the sex or the NIK.",
    ),
    "birth_date_mismatch": (
        "error",
        "Tanggal lahir {detail} tidak sesuai dengan tanggal pada NIK. "
        "Perbaiki tanggal lahir atau NIK.",
        "Birth date {detail} does not match the date in the NIK. Fix the birth date or the NIK.",
    ),
    "century_ambiguous": (
        "warning",
        "Tahun lahir dua angka pada NIK bisa berarti {detail}; dipilih menurut batas usia. "
        "Isi tanggal lahir untuk memastikan.",
        "The two-digit birth year could mean {detail}; chosen by the age bound. "
        "Enter the birth date to be sure.",
    ),
}


@dataclass(frozen=True)
class NikProblem:
    code: str
    severity: Severity
    message: str
    message_en: str

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "message_en": self.message_en,
        }


@dataclass
class NikResult:
    nik: str
    sex: str | None = None  # "L" (laki-laki) or "P" (perempuan)
    birth_date: dt.date | None = None
    region_code: str | None = None  # kecamatan code, e.g. "35.73.05"
    serial: str | None = None
    problems: list[NikProblem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    @property
    def errors(self) -> list[NikProblem]:
        return [p for p in self.problems if p.severity == "error"]

    def add(self, code: str, detail: str = "") -> None:
        severity, msg_id, msg_en = PROBLEMS[code]
        self.problems.append(
            NikProblem(code, severity, msg_id.format(detail=detail), msg_en.format(detail=detail))
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "nik": self.nik,
            "valid": self.valid,
            "sex": self.sex,
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "region_code": self.region_code,
            "problems": [p.to_dict() for p in self.problems],
        }


# Apostrophe: Excel's prefix that keeps a cell as text ('3573…), copied along with the NIK.
_NON_DIGIT_SPACING = re.compile(r"[\s.\-']")


def normalise_nik(raw: object) -> str:
    """The NIK as it is stored: digits of any script as ASCII (`３５７３…` → `3573…`), and the
    spaces, dots, dashes and apostrophes people type or paste with it removed. What is left is not necessarily
    valid: `parse_nik` decides, counting only ASCII digits."""
    return _NON_DIGIT_SPACING.sub("", ascii_digits(str(raw or "")))


def shown_value(raw: object, limit: int = 40) -> str:
    """A typed value as a message may quote it: at most `limit` characters, and nothing that
    cannot be written as UTF-8 (a lone surrogate from a command line) or printed (NUL)."""
    text = str(raw if raw is not None else "")
    cut = text[:limit] + ("…" if len(text) > limit else "")
    cut = cut.encode("utf-8", "replace").decode("utf-8")
    return "".join(c if c.isprintable() else "?" for c in cut)


def is_nik_shaped(nik: str) -> bool:
    """Exactly 16 ASCII digits (after `normalise_nik`): the shape every stored NIK has."""
    return is_ascii_digits(nik, 16)


def parse_nik(
    raw: str,
    *,
    region_lookup: Callable[[str], RegionState],
    today: dt.date,
    sex: str | None = None,
    birth_date: dt.date | None = None,
    min_age: int = 15,
    max_age: int = 110,
) -> NikResult:
    """Validate one NIK, optionally against the sex and birth date recorded for the person.

    The century of the two-digit year is resolved as follows: candidates are 19YY and 20YY that
    are real dates, not in the future, and at most `max_age` years ago. If a recorded birth date
    is given it decides. Otherwise the younger candidate wins unless it is younger than
    `min_age` (15 for workers; pass 0 for children), and `century_ambiguous` says so.
    """
    nik = normalise_nik(raw)
    result = NikResult(nik=nik)
    if not is_nik_shaped(nik):
        result.add("not_16_digits", f"'{shown_value(raw)}' ({len(nik)} karakter)")
        return result

    result.region_code = f"{nik[0:2]}.{nik[2:4]}.{nik[4:6]}"
    state = region_lookup(result.region_code)
    if state == "unknown":
        result.add("unknown_region", result.region_code)
    elif state == "retired":
        result.add("retired_region", result.region_code)
    elif state == "not_loaded":
        result.add("region_not_loaded", result.region_code)
    elif state == "no_province":
        result.add("unknown_province", nik[0:2])
    elif state == "no_regency":
        result.add("unknown_regency", f"{nik[0:2]}.{nik[2:4]}")

    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    nik_sex = "P" if day > 40 else "L"
    if day > 40:
        day -= 40
    candidates = []
    for century in (2000, 1900):
        try:
            born = dt.date(century + yy, month, day)
        except ValueError:
            continue
        if born <= today and age_on(born, today) <= max_age:
            candidates.append(born)
    if not candidates:
        result.add("invalid_date", nik[6:12])
    else:
        result.sex = nik_sex
        if birth_date is not None and birth_date in candidates:
            result.birth_date = birth_date
        elif len(candidates) == 1:
            result.birth_date = candidates[0]
        else:
            younger, older = candidates
            result.birth_date = older if age_on(younger, today) < min_age else younger
            if birth_date is None:
                result.add("century_ambiguous", f"{younger.year} atau {older.year}")
        if birth_date is not None and birth_date != result.birth_date:
            result.add("birth_date_mismatch", birth_date.isoformat())

    if sex and result.sex and sex != result.sex:
        result.add("sex_mismatch", {"L": "laki-laki", "P": "perempuan"}.get(sex, sex))
    result.serial = nik[12:16]
    if result.serial == "0000":
        result.add("serial_zero")
    return result


def region_state(
    code: str,
    *,
    kecamatan: Mapping[str, bool],
    loaded_regencies: AbstractSet[str],
    regencies: AbstractSet[str],
) -> RegionState:
    """The state of kecamatan `code` ("35.73.05"): `kecamatan` maps the known codes to whether
    they are retired, `loaded_regencies` are the regencies whose kecamatan are loaded and
    `regencies` every regency/city code that exists (all are built in)."""
    if code in kecamatan:
        return "retired" if kecamatan[code] else "active"
    if code[:5] not in regencies:
        return "no_province" if not any(r[:2] == code[:2] for r in regencies) else "no_regency"
    return "unknown" if code[:5] in loaded_regencies else "not_loaded"


def mask_nik(nik: str) -> str:
    """'3573051203900001' → '3573••••••••••••': the province and regency only.

    Wherever a masked NIK is shown, the birth date, sex and kelurahan usually stand beside it,
    and they already tell digits 5-12; showing the serial too would leave only the kecamatan
    to guess, and a few searches would give the whole NIK back. So only what the kelurahan
    already reveals is kept."""
    if len(nik) != 16:
        return "•" * len(nik)
    return nik[:4] + "•" * 12


def make_nik(*, kecamatan_code: str, birth_date: dt.date, sex: str, serial: int) -> str:
    """The NIK a person born on `birth_date` in `kecamatan_code` would carry (demo, tests)."""
    day = birth_date.day + (40 if sex == "P" else 0)
    digits = kecamatan_code.replace(".", "")
    return f"{digits}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"
