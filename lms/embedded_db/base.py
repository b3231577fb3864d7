"""Django's PostgreSQL backend, on the embedded server (see lms.embedded_db)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base as postgresql

from lms.embedded_db.server import server_ensure


class DatabaseWrapper(postgresql.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        pgdata = settings.MERIT_EMBEDDED_PGDATA
        params["host"] = str(
            server_ensure(
                pgdata=Path(pgdata) if pgdata else None,
                database=settings.MERIT_EMBEDDED_DATABASE,
                throwaway=settings.MERIT_EMBEDDED_THROWAWAY,
            )
        )
        params.pop("port", None)
        return params
