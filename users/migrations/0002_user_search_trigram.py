"""One trigram index for the users-list search (benchmark scenario 4; see bench/README.md).

First name, last name, username and e-mail joined by spaces, upper-cased: one `LIKE` per row
instead of four ORed ones, and a GIN index with `gin_trgm_ops` on that expression answers a
selective search without reading the table. 0003 replaces this index with a stored column of
the same expression (see `users.selectors.UserSearchText`). PostgreSQL only: on SQLite (the
default development database) this migration does nothing.

The per-column indexes of lms/migrations/0003 no longer serve the search."""

from django.db import migrations

INDEX = "user_search_text_trgm"
EXPRESSION = "UPPER((first_name || ' ' || last_name || ' ' || username || ' ' || email))"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON users_user USING gin ({EXPRESSION} gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("lms", "0003_users_search_trigram"),
        ("users", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
