"""The users-list search reads one stored upper-case column on PostgreSQL (benchmark scenario
4; see `users.selectors.UserSearchText`): `search_upper`, generated from first name, last
name, username and e-mail, with a trigram index. It replaces 0002's index on the same
expression, whose every match still had to be upper-cased again to recheck it (a third of the
query time for a search matching 36,000 of 100,000 people).

The column is not a model field: Django never writes it, and PostgreSQL keeps it in step on
every insert and update. A migration that changes the type of one of the four columns must
drop `search_upper` first and run `add_column` again after. PostgreSQL only: on SQLite (the
default development database) this migration does nothing and the search computes the
expression."""

from django.db import migrations

COLUMN = "search_upper"
INDEX = "user_search_upper_trgm"
EXPRESSION = "UPPER(first_name || ' ' || last_name || ' ' || username || ' ' || email)"


def add_column(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE users_user ADD COLUMN IF NOT EXISTS {COLUMN} text "
        f"GENERATED ALWAYS AS ({EXPRESSION}) STORED"
    )
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON users_user USING gin ({COLUMN} gin_trgm_ops)"
    )
    schema_editor.execute("DROP INDEX IF EXISTS user_search_text_trgm")


def drop_column(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS user_search_text_trgm ON users_user "
        f"USING gin (({EXPRESSION}) gin_trgm_ops)"
    )
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")
    schema_editor.execute(f"ALTER TABLE users_user DROP COLUMN IF EXISTS {COLUMN}")


class Migration(migrations.Migration):
    dependencies = [("users", "0002_user_search_trigram")]

    operations = [migrations.RunPython(add_column, drop_column)]
