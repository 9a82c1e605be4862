"""Digits as ASCII: one normalisation for everything a person types or a file carries.

Python's `str.isdigit()`, `int()` and `re`'s `\\d`, and Polars' regex `\\d`, all accept the
digits of every script: full-width `３５７３…` (a Japanese or Chinese input method, a phone
keyboard), Arabic-Indic `٣٥٧٣…`, Devanagari and some 60 more. A NIK typed that way used to be
accepted as valid, stored beside the ASCII one as a second worker, missed by search, and broke
every later import. So every entry point passes text through `ascii_digits` first:

1. Unicode NFKC, which turns full-width and other compatibility forms into their plain form
   (`３` → `3`, `－` → `-`, a no-break space → a space, `①` → `1`, `²` → `2`);
2. every remaining decimal digit of another script (Unicode category Nd, which NFKC keeps,
   e.g. Arabic-Indic `٣`) becomes its ASCII digit.

After that, ASCII-only patterns (`[0-9]`, `re.ASCII`) decide what is a digit. Text that is
already ASCII (nearly all of it) is returned as it is, without any work.

`frame_ascii_digits` does the same to text columns of a Polars frame: one vectorised pass finds
the rows that hold anything beyond ASCII, and only those few go through `ascii_digits`, so a
million-row list costs a length comparison per cell (~0.05 s), not a million Python calls.
"""

from __future__ import annotations

import unicodedata

import polars as pl


def ascii_digits(text: str) -> str:
    """`text` with NFKC applied and every decimal digit of any script written as ASCII."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def is_ascii_digits(text: str, length: int | None = None) -> bool:
    """Only the ASCII digits 0-9 (and, if given, exactly `length` of them)."""
    return (
        bool(text) and text.isascii() and text.isdigit() and (length is None or len(text) == length)
    )


def frame_ascii_digits(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """`ascii_digits` applied to the String `columns` of `frame`, touching only the rows that
    hold a non-ASCII character in one of them."""
    columns = [c for c in columns if c in frame.columns]
    if not columns or frame.height == 0:
        return frame
    # A cell beyond ASCII has more bytes than characters: ten times cheaper than a regex.
    odd = frame.select(
        pl.any_horizontal(
            (pl.col(c).str.len_bytes() != pl.col(c).str.len_chars()).fill_null(False)
            for c in columns
        )
    ).to_series()
    if not odd.any():
        return frame
    at = odd.arg_true()
    replaced = []
    for c in columns:
        cells = frame[c].gather(at)
        fixed = pl.Series([None if v is None else ascii_digits(v) for v in cells], dtype=pl.String)
        replaced.append(frame[c].clone().scatter(at, fixed))
    return frame.with_columns(replaced)
