"""The benchmark harness: `python -m bench.run [--quick | --users N --ledger M]`.

1. Creates the bench databases on PostgreSQL (a 100-user one for query-count comparisons and
   the large one), migrates them and fills them with `bench.generate`.
2. Starts a real Celery worker (`--concurrency=2`, prefork) on the bench Redis db.
3. Runs every scenario in bench/scenarios several times; prints one table (median, p95, target,
   pass/miss, ratio to the naive way and to PostgreSQL COPY) and writes bench/results.json.

Scenarios whose feature does not exist yet are listed as skipped, with the reason."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_PATH = Path(__file__).resolve().parent / "results.json"
SCENARIOS = (
    "s1_certification_award",
    "s2_points_award",
    "s3_leaderboard",
    "s4_users_list",
    "s5_record_tabs",
    "s6_course_complete",
    "s7_certificate_pdf",
    "s8_concurrent_awards",
)
SMALL_USERS = 100


@dataclass
class Context:
    """What a scenario gets: the sizes, the number of runs, the worker, the bench admin."""

    users: int
    ledger: int
    seed: int
    quick: bool
    read_runs: int
    write_runs: int
    worker: Any = None
    admin: Any = None
    small: dict[str, Any] = field(default_factory=dict)
    database_url: str = ""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 users, under 2 minutes")
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--ledger", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--runs", type=int, default=None, help="runs per read scenario")
    parser.add_argument("--write-runs", type=int, default=None, help="runs per write scenario")
    parser.add_argument("--only", default="", help="comma-separated scenario numbers, e.g. 3,4")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the bench database if it has the same size"
    )
    parser.add_argument(
        "--database", default=os.environ.get("BENCH_DATABASE", "merit_bench"), help="database name"
    )
    parser.add_argument(
        "--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    )
    parser.add_argument(
        "--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    )
    parser.add_argument("--note", default="", help="recorded in results.json (e.g. 'under load')")
    parser.add_argument("--output", default=str(RESULTS_PATH))
    args = parser.parse_args(argv)
    if args.quick:
        args.users = args.users or 10_000
        args.ledger = args.ledger if args.ledger is not None else 100_000
    args.users = args.users or 100_000
    args.ledger = args.ledger if args.ledger is not None else 1_000_000
    args.runs = args.runs or (10 if args.quick else 30)
    args.write_runs = args.write_runs or (2 if args.quick else 3)
    return args


def configure_environment(args: argparse.Namespace) -> dict[str, str]:
    """The environment for this process and the worker: settings read it at import time."""
    env = {
        "DJANGO_SETTINGS_MODULE": "lms.settings.local",
        "DATABASE_URL": f"{args.pg}/{args.database}",
        "REDIS_URL": args.redis,
        "CELERY_BROKER_URL": args.redis,
        "DEBUG": "0",  # DEBUG keeps every query in memory and would slow the figures down
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    return {**os.environ, **env}


def database_recreate(pg_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_exists(pg_url: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{pg_url}/postgres", autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


def use_database(name: str) -> None:
    """Point Django's default connection at another database of the same server."""
    from django.db import connections

    connections["default"].close()
    connections["default"].settings_dict["NAME"] = name


def bench_meta(args: argparse.Namespace) -> dict[str, Any] | None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_meta')")
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute("SELECT data FROM bench_meta")
        row = cursor.fetchone()
    if not row:
        return None
    # Django's psycopg backend hands jsonb back undecoded
    return json.loads(row[0]) if isinstance(row[0], str) else row[0]


def bench_meta_write(data: dict[str, Any]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_meta (data jsonb)")
        cursor.execute("DELETE FROM bench_meta")
        cursor.execute("INSERT INTO bench_meta (data) VALUES (%s)", [json.dumps(data)])


def build(args: argparse.Namespace, database: str, users: int, ledger: int) -> dict[str, Any]:
    """Migrate and fill one database; returns the generator's counts and timings."""
    from django.core.management import call_command

    from bench.generate import generate

    use_database(database)
    wanted = {"users": users, "ledger": ledger, "seed": args.seed}
    if args.reuse and database_exists(args.pg, database):
        meta = bench_meta(args)
        if meta and all(meta.get(k) == v for k, v in wanted.items()):
            call_command("migrate", verbosity=0)
            print(f"Reusing {database}: {users:,} users, {ledger:,} ledger entries")
            return meta
    database_recreate(args.pg, database)
    use_database(database)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - started
    print(f"Generating {database}: {users:,} users, {ledger:,} ledger entries (seed {args.seed})")
    started = time.perf_counter()
    plan = generate(users=users, ledger=ledger, seed=args.seed, stdout=_Printer())
    meta = {
        **wanted,
        "counts": plan.counts,
        "timings_s": plan.timings,
        "generate_s": round(time.perf_counter() - started, 1),
        "migrate_s": round(migrate_s, 1),
    }
    bench_meta_write(meta)
    return meta


class _Printer:
    def write(self, text: str) -> None:
        print(text)


def machine_info(args: argparse.Namespace) -> dict[str, Any]:
    import django
    import redis
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    redis_info = redis.Redis.from_url(args.redis).info("server")
    return {
        "cores": os.cpu_count(),
        "postgresql": pg_version,
        "redis": redis_info.get("redis_version"),
        "python": platform.python_version(),
        "django": django.get_version(),
        "platform": platform.platform(),
        "git_commit": _git("rev-parse", "HEAD"),
        "git_uncommitted_files": len(
            _git("status", "--porcelain", "--untracked-files=no").splitlines()
        ),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _git(*args: str) -> str:
    import subprocess

    try:
        return subprocess.run(
            ["git", *args], cwd=BASE_DIR, capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
    except OSError:
        return ""


def scenario_modules(args: argparse.Namespace) -> list[Any]:
    wanted = {part.strip() for part in args.only.split(",") if part.strip()}
    modules = []
    for name in SCENARIOS:
        number = name[1 : name.index("_")]
        if wanted and number not in wanted:
            continue
        modules.append(importlib.import_module(f"bench.scenarios.{name}"))
    return modules


def fmt_ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def table_rows(results: list[Any]) -> list[list[str]]:
    rows = []
    for result in results:
        status = {True: "pass", False: "MISS", None: "-"}[result.passed]
        if result.extra.get("skipped"):
            status = "skipped"
        if result.extra.get("error"):
            status = "ERROR"
        rate = f"{result.rate:,.0f}/s" if result.rate else ""
        rows.append(
            [
                result.scenario,
                result.name,
                result.measured,
                str(result.runs),
                fmt_ms(result.median),
                fmt_ms(result.p95),
                rate,
                result.target,
                status,
                fmt_ratio(result.ratio_naive),
                fmt_ratio(result.ratio_copy),
            ]
        )
    return rows


HEADERS = ["#", "Scenario", "Measured", "Runs", "Median", "p95", "Rate", "Target", "Result"]
HEADERS += ["vs naive", "vs COPY"]


def table_text(results: list[Any]) -> str:
    rows = [HEADERS, *table_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def table_markdown(results: list[Any]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(results)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    worker_env = configure_environment(args)
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    import redis

    from bench.core import CeleryWorker, Result, Skip
    from bench.generate import BENCH_ADMIN_USERNAME
    from users.models import User

    started_at = datetime.now(UTC)
    wall = time.perf_counter()
    ctx = Context(
        users=args.users,
        ledger=args.ledger,
        seed=args.seed,
        quick=args.quick,
        read_runs=args.runs,
        write_runs=args.write_runs,
        database_url=worker_env["DATABASE_URL"],
    )
    modules = scenario_modules(args)

    # 1. the 100-user database: query counts to compare with
    small_db = f"{args.database}_small"
    build(args, small_db, SMALL_USERS, SMALL_USERS * 10)
    ctx.admin = User.objects.get(username=BENCH_ADMIN_USERNAME)
    for module in modules:
        if hasattr(module, "prepare_small"):
            try:
                ctx.small[module.ID] = module.prepare_small(ctx)
            except Skip:
                pass
            except Exception:  # noqa: BLE001 - the run goes on; the scenario reports it
                ctx.small[module.ID] = {"error": traceback.format_exc(limit=3)}

    # 2. the large database
    generation = build(args, args.database, args.users, args.ledger)
    ctx.admin = User.objects.get(username=BENCH_ADMIN_USERNAME)
    machine = machine_info(args)
    redis.Redis.from_url(args.redis).flushdb()
    worker = CeleryWorker(env=worker_env, concurrency=2)
    ctx.worker = worker
    results: list[Result] = []
    try:
        worker.start()
        for module in modules:
            print(f"Scenario {module.ID}: {module.TITLE}", flush=True)
            try:
                produced = module.run(ctx)
            except Skip as why:
                produced = [
                    Result(
                        scenario=module.ID,
                        name=module.TITLE,
                        measured="-",
                        target=module.TARGET,
                        note=str(why),
                        extra={"skipped": True},
                    )
                ]
            except Exception as exc:  # noqa: BLE001 - one broken scenario must not hide the rest
                traceback.print_exc()
                produced = [
                    Result(
                        scenario=module.ID,
                        name=module.TITLE,
                        measured="-",
                        target=module.TARGET,
                        note=f"{type(exc).__name__}: {str(exc)[:300]}",
                        extra={"error": traceback.format_exc(limit=5)},
                    )
                ]
            for result in produced:
                result.judge()
            results.extend(produced)
    finally:
        worker.stop()

    print()
    print(table_text(results))
    notes = [
        f"  {r.scenario} {r.name}: " + "; ".join(x for x in (r.extra.get("miss_by"), r.note) if x)
        for r in results
        if r.note or r.extra.get("miss_by")
    ]
    if notes:
        print("\nNotes:\n" + "\n".join(notes))
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "wall_s": round(time.perf_counter() - wall, 1),
        "mode": "quick" if args.quick else "full",
        "users": args.users,
        "ledger": args.ledger,
        "seed": args.seed,
        "read_runs": args.runs,
        "write_runs": args.write_runs,
        "note": args.note,
        "machine": machine,
        "worker": "celery -A lms worker --concurrency=2 (prefork), Redis broker",
        "generation": generation,
        "small_database": ctx.small,
        "scenarios": [r.as_dict() for r in results],
        "markdown": table_markdown(results),
    }
    Path(args.output).write_text(json.dumps(report, indent=2, default=str) + "\n")
    print(f"\nWrote {args.output} in {report['wall_s']:.0f} s total.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
