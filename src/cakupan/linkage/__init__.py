"""Record linkage: link rows of an uploaded list of workers to the worker registry.

Pure Python on polars, numpy and rapidfuzz (no Django), so the bulk import, the CLI and the
benchmarks call it the same way. NIK = *nomor induk kependudukan*, the 16-digit national ID
(PP KK CC DDMMYY SSSS, women's day + 40); kelurahan = urban village, the region code of
where the person lives.

Public API
----------
link(incoming, registry, settings=None, *, name_rules=None) -> pl.DataFrame
    incoming: row (int, unique), nik (str), name (str), birth_date (date), sex ("L"/"P"),
    kelurahan (str or null); registry: worker_id instead of row. One output row per incoming
    row, in the incoming order: row, status, worker_id, score, reason, evidence (Indonesian),
    dup_of_row, registry_status. See `engine.link` for each column.

STATUSES: exact, corrected_typo, probable, nik_conflict, same_name_birth_other_nik,
    duplicate_in_file, new.
TO_REVIEW: the statuses a person decides (probable, nik_conflict, same_name_birth_other_nik).
AUTO_LINKED: the statuses that link a row to a worker without a person (exact, and
    corrected_typo: a NIK typo corrected because nothing conflicts; its evidence says why).
REASONS: the machine reason codes, each commented in `engine.REASONS`.
LinkageSettings: the thresholds, a frozen dataclass with documented defaults.

normalise_name(name) -> str
normalise_names(series) -> pl.Series
    The comparison key of a name ("Moch. Soejono, S.Pd." -> "muhammad suyono"); the column
    version gives the same key. The rules are data, in names.toml.
"""

from cakupan.linkage.engine import AUTO_LINKED, REASONS, STATUSES, TO_REVIEW, link
from cakupan.linkage.names import normalise_name, normalise_names
from cakupan.linkage.settings import LinkageSettings

__all__ = [
    "AUTO_LINKED",
    "REASONS",
    "STATUSES",
    "TO_REVIEW",
    "LinkageSettings",
    "link",
    "normalise_name",
    "normalise_names",
]
