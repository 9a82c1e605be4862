"""Kemendagri region code syntax: levels, parents and the NIK's six-digit prefix."""

from __future__ import annotations

import re

CODE_RE = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


def is_valid_code(code: str) -> bool:
    return bool(CODE_RE.match(code))


def level_of(code: str) -> int:
    return code.count(".") + 1


def parent_of(code: str) -> str | None:
    return code.rsplit(".", 1)[0] if "." in code else None


def kecamatan_code_from_nik_prefix(digits: str) -> str:
    """'357305' → '35.73.05'."""
    return f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}"
