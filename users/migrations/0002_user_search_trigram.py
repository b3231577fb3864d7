"""One trigram index for the users-list search (benchmark scenario 4; see bench/README.md).

The search matches each term against `users.selectors.user_search_text()`: first name, last
name, username and e-mail joined by spaces, one `UPPER(...) LIKE` per row instead of four ORed
ones. On PostgreSQL a GIN index with `gin_trgm_ops` on exactly that expression answers a
selective search without reading the table (the planner matches the index only when the
expression is the same, so keep this SQL and `user_search_text()` in step). PostgreSQL only: on
SQLite (the default development database) this migration does nothing.

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
