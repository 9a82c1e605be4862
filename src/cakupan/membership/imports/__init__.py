"""Bulk enrolment of a list of workers, as named stages:

1. read (`read`): the file as text cells, its headers mapped to cakupan's columns;
2. check (`check`): every row, column by column, with value mappings applied first;
3. link (`link`): to the registry, other payers and the programme's eligibility;
4. price (`price`): against the programme's budget and cohort cap;
5. save: `cakupan.membership.services.import_rows_save`, one transaction; `run` drives the
   stages for one run of a list (its lease, progress, cancel, how it ended).

Problems carry their column as data (`problems`); `catalogue` holds the facts rows are checked
against and how occupation cells are recognised.
"""

from cakupan.membership.imports.catalogue import Catalogue, import_catalogue
from cakupan.membership.imports.check import Checked, ValueMaps, check_rows, value_key
from cakupan.membership.imports.link import linkage_settings
from cakupan.membership.imports.problems import (
    MAPPABLE,
    PROBLEM_SCHEMA,
    VALUE_CODES,
    problem_label,
)
from cakupan.membership.imports.read import (
    COLUMN_LABELS,
    COLUMNS,
    IMPORTANT,
    REQUIRED,
    TEMPLATE_HEADERS,
    ColumnReport,
    FileProblem,
    HeaderProblem,
    column_label,
    column_report,
    decode_text,
    map_columns,
    read_table,
)
from cakupan.membership.imports.run import (
    CANCELLED,
    SYSTEM_ERROR,
    ImportOutcome,
    enrol_import,
    refused_message,
)
from cakupan.membership.services import ImportCancelled, ImportConflict

__all__ = [
    "CANCELLED",
    "COLUMNS",
    "COLUMN_LABELS",
    "IMPORTANT",
    "MAPPABLE",
    "PROBLEM_SCHEMA",
    "REQUIRED",
    "SYSTEM_ERROR",
    "TEMPLATE_HEADERS",
    "VALUE_CODES",
    "Catalogue",
    "Checked",
    "ColumnReport",
    "FileProblem",
    "HeaderProblem",
    "ImportCancelled",
    "ImportConflict",
    "ImportOutcome",
    "ValueMaps",
    "check_rows",
    "column_label",
    "column_report",
    "decode_text",
    "enrol_import",
    "import_catalogue",
    "linkage_settings",
    "map_columns",
    "problem_label",
    "read_table",
    "refused_message",
    "value_key",
]
