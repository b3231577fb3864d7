"""Drop the four per-column trigram indexes of 0003: the users-list search now reads one stored
column with its own trigram index (users/migrations/0003), so these only cost time on every
user insert and update. PostgreSQL only."""

from django.db import migrations

COLUMNS = ("first_name", "last_name", "email", "username")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS user_{column}_trgm")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS user_{column}_trgm ON users_user "
            f"USING gin (UPPER({column}) gin_trgm_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("lms", "0005_event_references_without_constraints"),
        ("users", "0003_user_search_upper"),
    ]

    operations = [migrations.RunPython(drop_indexes, create_indexes)]
