"""Trigram indexes for the users-list search (benchmark scenario 4; see bench/README.md).

Django's `icontains` on PostgreSQL is `UPPER(column) LIKE UPPER('%smi%')`, which no B-tree
index can serve; a GIN index with `gin_trgm_ops` on the same `UPPER(column)` expression can,
and PostgreSQL combines one per column with a BitmapOr for the OR of the four fields. PostgreSQL
only: on SQLite (the default development database) this migration does nothing."""

from django.db import migrations

COLUMNS = ("first_name", "last_name", "email", "username")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS user_{column}_trgm ON users_user "
            f"USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS user_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("lms", "0002_initial"),
        ("users", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
