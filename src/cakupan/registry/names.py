"""What a person's name may hold: letters of any script, spaces and the marks names carry
(apostrophe, period, comma, hyphen). Control characters and markup never reach the registry,
where they would break a list, a card or a spreadsheet."""

from __future__ import annotations

import unicodedata

# Characters of markup and of spreadsheet formulas a name never needs.
_MARKUP = set("<>{}[]\\|=^~`$#*_@;")
# The same rule as a regular expression, for a column of names (Polars): a name it matches
# has a problem, which `name_problem` words.
SUSPECT = r"[\p{C}" + "".join("\\" + c if c in "\\[]^-" else c for c in sorted(_MARKUP)) + "]"


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a person's name (Indonesian, naming the character), or None."""
    for ch in name:
        category = unicodedata.category(ch)
        if category[0] == "C":  # Cc control, Cf format, Co private use, Cs surrogate, Cn unassigned
            return (
                f"Nama berisi karakter kendali tak terlihat (U+{ord(ch):04X}). "
                "Ketik ulang nama tanpa menyalinnya dari dokumen lain."
            )
        if ch in _MARKUP:
            return (
                f"Nama tidak boleh berisi '{ch}'. Nama hanya berisi huruf, spasi, titik, koma, "
                "tanda petik dan tanda hubung, sesuai KTP."
            )
    return None
