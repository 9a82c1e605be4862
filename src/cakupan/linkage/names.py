"""Indonesian name normalisation: one comparison key for every way of writing one name.

`normalise_name` folds one name in Python; `normalise_names` does the same to a polars
column (or `name_key_expr` inside a larger query) and gives the identical key, which a
property test checks. The rules are data, in `names.toml` next to this module.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import ascii_lowercase
from typing import Any

import polars as pl

# Everything outside these steps is in names.toml; these patterns hold the shape of the
# pipeline. Separators are spelled out instead of \s because Python's \s also matches
# \x1c-\x1f and Rust's does not.
_NON_ASCII = r"[^\x00-\x7f]"
_APOSTROPHES = r"['`]"
_NOT_LETTER_OR_SEPARATOR = r"[^a-z.,]+"
_NOT_LETTER = r"[^a-z]+"
_SPACES = r" +"
_SEPARATOR = r"[ .,]"


@dataclass(frozen=True)
class NameRules:
    """The compiled name rules: every field is a pattern and its replacement, in order."""

    leading_titles: str
    trailing_titles: str
    old_marker: str
    old_rules: tuple[tuple[str, str], ...]
    rewrites: tuple[tuple[str, str], ...]
    variants: tuple[tuple[str, str], ...]


def _title_pattern(titles: list[str]) -> str:
    # Longest first, so that "hj" is tried before "h" and "spdi" before "spd".
    forms = sorted(set(titles), key=lambda t: (-len(t), t))
    return "|".join(r"\.?".join(re.escape(c) for c in t) for t in forms)


def _words(forms: list[str]) -> str:
    return "|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f)))


def rules_from_dict(raw: dict[str, Any]) -> NameRules:
    """Compile the rule file's content (see names.toml for what each table means)."""
    leading = _title_pattern(raw["titles"]["leading"])
    trailing = _title_pattern(raw["titles"]["trailing"])
    variants: list[tuple[str, str]] = [
        (rf"^(?:{_words(forms)}) ", f"{canonical} ")
        for canonical, forms in raw.get("leading_variants", {}).items()
    ]
    variants += [
        (rf"\b(?:{_words(forms)})\b", canonical) for canonical, forms in raw["variants"].items()
    ]
    drop = raw.get("connectives", {}).get("drop", [])
    if drop:
        variants.append((rf"\b(?:{_words(drop)})\b", ""))
    return NameRules(
        leading_titles=rf"^{_SEPARATOR}*(?:(?:{leading})(?:{_SEPARATOR}+|$))+",
        trailing_titles=rf"(?:{_SEPARATOR}+(?:{trailing}))+{_SEPARATOR}*$",
        old_marker=raw["old_spelling"]["marker"],
        old_rules=tuple((a, b) for a, b in raw["old_spelling"]["rules"]),
        rewrites=tuple((a, b) for a, b, *_why in raw["spelling"]["rewrites"]),
        variants=tuple(variants),
    )


@cache
def default_rules() -> NameRules:
    """The rules shipped in names.toml."""
    text = resources.files("cakupan.linkage").joinpath("names.toml").read_text("utf-8")
    return rules_from_dict(tomllib.loads(text))


@cache
def _compiled(rules: NameRules) -> dict[str, Any]:
    return {
        "leading": re.compile(rules.leading_titles),
        "trailing": re.compile(rules.trailing_titles),
        "marker": re.compile(rules.old_marker),
        "rewrites": [(re.compile(p), r) for p, r in rules.rewrites],
        "variants": [(re.compile(p), r) for p, r in rules.variants],
    }


_RUN = re.compile(r"([a-z])\1+")
_NON_ASCII_RE = re.compile(_NON_ASCII)
_APOSTROPHES_RE = re.compile(_APOSTROPHES)
_NOT_LETTER_OR_SEPARATOR_RE = re.compile(_NOT_LETTER_OR_SEPARATOR)
_NOT_LETTER_RE = re.compile(_NOT_LETTER)
_SPACES_RE = re.compile(_SPACES)


def _old_word(word: str, rules: NameRules) -> str:
    for find, replace in rules.old_rules:
        word = word.replace(find, replace)
    return word


def normalise_name(name: str, rules: NameRules | None = None) -> str:
    """The comparison key of one name: "Moch. Soejono, S.Pd." -> "muhammad suyono"."""
    rules = rules or default_rules()
    c = _compiled(rules)
    s = _NON_ASCII_RE.sub("", unicodedata.normalize("NFKD", name)).lower()
    s = _APOSTROPHES_RE.sub("", s)
    s = _NOT_LETTER_OR_SEPARATOR_RE.sub(" ", s)
    s = c["leading"].sub("", s, count=1)
    s = c["trailing"].sub("", s, count=1)
    s = _NOT_LETTER_RE.sub(" ", s).strip(" ")
    marker = c["marker"]
    s = " ".join(_old_word(w, rules) if marker.search(w) else w for w in s.split(" "))
    # Runs are collapsed before the rewrites ("Syyamsul" must still meet sy -> s) and after
    # them (a rewrite can make a run: "Achhmad" -> "ahhmad").
    s = _RUN.sub(r"\1", s)
    for pattern, replacement in c["rewrites"]:
        s = pattern.sub(replacement, s)
    s = _RUN.sub(r"\1", s)
    for pattern, replacement in c["variants"]:
        s = pattern.sub(replacement, s)
    return _SPACES_RE.sub(" ", s).strip(" ")


def name_key_expr(name: pl.Expr, rules: NameRules | None = None) -> pl.Expr:
    """The polars expression computing `normalise_name` of a string column (null stays null)."""
    rules = rules or default_rules()
    s = (
        name.str.normalize("NFKD")
        .str.replace_all(_NON_ASCII, "")
        .str.to_lowercase()
        .str.replace_all(_APOSTROPHES, "")
        .str.replace_all(_NOT_LETTER_OR_SEPARATOR, " ")
        .str.replace(rules.leading_titles, "")
        .str.replace(rules.trailing_titles, "")
        .str.replace_all(_NOT_LETTER, " ")
        .str.strip_chars(" ")
    )
    word = pl.element()
    old = word
    for find, replace in rules.old_rules:
        old = old.str.replace_all(find, replace, literal=True)
    s = (
        s.str.split(" ")
        .list.eval(pl.when(word.str.contains(rules.old_marker)).then(old).otherwise(word))
        .list.join(" ")
    )
    s = _collapse_runs(s)
    for pattern, replacement in rules.rewrites:
        s = s.str.replace_all(pattern, replacement)
    s = _collapse_runs(s)
    for pattern, replacement in rules.variants:
        s = s.str.replace_all(pattern, replacement)
    return s.str.replace_all(_SPACES, " ").str.strip_chars(" ")


def _collapse_runs(s: pl.Expr) -> pl.Expr:
    # Rust regex has no back-references, so runs are collapsed letter by letter; collapsing
    # one letter's runs never creates a run of another, so this equals ([a-z])\1+ -> \1.
    for letter in ascii_lowercase:
        s = s.str.replace_all(f"{letter}{letter}+", letter)
    return s


def normalise_names(names: pl.Series, rules: NameRules | None = None) -> pl.Series:
    """`normalise_name` of every value of a string Series, computed once per distinct value."""
    distinct = names.unique().to_frame("raw").drop_nulls()
    keys = distinct.with_columns(key=name_key_expr(pl.col("raw"), rules))
    return (
        names.to_frame("raw")
        .join(keys, on="raw", how="left", maintain_order="left")
        .get_column("key")
        .alias(names.name)
    )
