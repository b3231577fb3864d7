"""Bulk inserts through PostgreSQL `COPY`, for what bulk jobs write by the thousand (events,
certification awards, progress rows). Django's multi-row INSERT spends most of such a write
building and quoting one huge statement; COPY streams the rows. Primary keys come from the
table's sequence up front, so the caller can hand the new rows on with their ids. Callers keep
a `bulk_create` path for other databases (SQLite in development)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)


def copy_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """COPY `rows` (values in the order of `columns`, which are column names) into the model's
    table, in the caller's transaction."""
    column_sql = ", ".join(f'"{name}"' for name in columns)
    with (
        connection.cursor() as cursor,
        cursor.copy(f'COPY "{model._meta.db_table}" ({column_sql}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row(row)


def copy_instances(
    objs: list[M], columns: Sequence[str], values: Callable[[M], tuple[Any, ...]]
) -> list[M]:
    """Insert unsaved instances of one model: ids from its sequence in one query, then one COPY
    of `("id", *columns)` with `values(obj)` for the columns. The instances get their ids and
    count as saved."""
    if not objs:
        return objs
    model = type(objs[0])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]

    def rows() -> Iterator[tuple[Any, ...]]:
        for pk, obj in zip(ids, objs, strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = connection.alias
            yield (pk, *values(obj))

    copy_rows(model, ["id", *columns], rows())
    return objs
