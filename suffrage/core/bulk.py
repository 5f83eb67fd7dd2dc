"""Plain INSERTs for bulk writes (imports of a million rows), where building one
model instance per row would cost more than the database itself."""

from __future__ import annotations

from typing import Any

from django.db import connection, models

BATCH = 2000


def insert_rows(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """INSERT rows given as {field name or attname: value}; fields left out take
    their default (evaluated once for the whole call, e.g. one `now` per chunk).

    No signals, no save(), no ids returned: for child rows whose ids nobody needs now.
    """
    if not rows:
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    defaults = {field.attname: field.get_default() for field in fields}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608 (names from the model)
    values = [
        [
            field.get_db_prep_save(row.get(field.attname, row.get(field.name, defaults[field.attname])), connection)
            for field in fields
        ]
        for row in rows
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(values), BATCH):
            cursor.executemany(sql, values[start : start + BATCH])
