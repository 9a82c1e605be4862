"""Set-based writes shared by every bulk path (demo data, list imports): one executemany each."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import repeat
from typing import Any

from django.db import connection, models

# Fields whose Python values the database drivers take as they are: no per-value preparation.
_PLAIN = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.FloatField,
    models.ForeignKey,
)


def insert_rows(
    model: type[models.Model], columns: dict[str, list[Any]], constants: dict[str, Any]
) -> None:
    """One executemany INSERT of the given columns; every other field gets its default.

    Measured on SQLite, bulk_create spent most of a load building model instances and preparing
    each value; here defaults and auto_now timestamps are prepared once per chunk.
    """
    qn = connection.ops.quote_name
    proto = model(**constants)
    n = len(next(iter(columns.values())))
    names: list[str] = []
    data: list[Iterable[Any]] = []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        names.append(qn(f.column))
        if f.attname not in columns:
            data.append(repeat(f.get_db_prep_save(f.pre_save(proto, add=True), connection), n))
        elif isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField):
            data.append([connection.ops.adapt_datefield_value(v) for v in columns[f.attname]])
        elif isinstance(f, _PLAIN):
            data.append(columns[f.attname])
        else:  # JSON and other fields with their own database representation
            data.append([f.get_db_prep_save(v, connection) for v in columns[f.attname]])
    sql = (
        f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))})"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, list(zip(*data, strict=True)))
