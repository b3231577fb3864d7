"""What every scenario shares: timing, results, COPY of the same rows, the Celery worker."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent


class Skip(Exception):
    """A scenario whose feature does not exist yet (or cannot run here)."""


@dataclass
class Result:
    """One measured figure. `samples` are seconds per run; `target_s` is the time the target
    allows for one run (None when the target is a rate or a memory bound, see `passed`)."""

    scenario: str
    name: str
    measured: str  # what was timed: "selector", "page (test client)", "end to end", ...
    samples: list[float] = field(default_factory=list)
    target: str = ""
    target_s: float | None = None
    target_stat: str = "p95"  # which statistic the target applies to
    passed: bool | None = None
    ratio_naive: float | None = None
    ratio_copy: float | None = None
    items: int | None = None  # rows or users per run, for a rate
    extra: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def runs(self) -> int:
        return len(self.samples)

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples else None

    @property
    def p95(self) -> float | None:
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        # nearest-rank p95: with fewer than 20 runs this is the slowest run
        rank = max(1, -(-95 * len(ordered) // 100))
        return ordered[rank - 1]

    @property
    def rate(self) -> float | None:
        if not self.items or not self.median:
            return None
        return self.items / self.median

    def judge(self) -> None:
        if self.target_s is None or not self.samples:
            return
        value = self.p95 if self.target_stat == "p95" else self.median
        if self.passed is None:
            self.passed = value is not None and value <= self.target_s
        if value is not None and value > self.target_s and "miss_by" not in self.extra:
            self.extra["miss_by"] = f"{self.target_stat} is {value / self.target_s:.1f}x the target"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            runs=self.runs,
            median_ms=_ms(self.median),
            p95_ms=_ms(self.p95),
            rate_per_s=round(self.rate, 1) if self.rate else None,
            miss_by=self.extra.get("miss_by"),
        )
        data["samples_ms"] = [_ms(s) for s in data.pop("samples")]
        return data


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def timed(fn: Callable[[], Any], *, runs: int, warmup: int = 1) -> list[float]:
    """Call `fn` `warmup` times untimed, then `runs` times; seconds per run."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def wait_until(check: Callable[[], bool], *, timeout: float, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s")
        time.sleep(interval)


def copy_rows_seconds(label: str, attnames: Sequence[str], rows: Iterable[Sequence[Any]]) -> float:
    """The database's own limit for writing these rows: one COPY into the model's real table
    (its indexes, constraints and foreign keys included), timed, then rolled back. Fields not
    named get their default, as `bench.generate` writes them. `label` is "app_label.Model"."""
    from django.apps import apps
    from django.db import connection, transaction

    from bench.generate import _column_plan

    model = apps.get_model(label)
    columns, _, extra = _column_plan(model, attnames)
    column_sql = ", ".join(f'"{c}"' for c in columns)
    materialised = [tuple(row) + tuple(extra) for row in rows]
    table = model._meta.db_table
    elapsed = 0.0
    with transaction.atomic():
        with connection.cursor() as cursor:
            started = time.perf_counter()
            with cursor.copy(f'COPY "{table}" ({column_sql}) FROM STDIN') as copy:
                for row in materialised:
                    copy.write_row(row)
            elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    return elapsed


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run a block in a transaction and undo it (for in-process write measurements)."""
    from django.db import transaction

    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def query_count(fn: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


# --- the Celery worker --------------------------------------------------------------------


class CeleryWorker:
    """A real `celery worker --concurrency=N` process (prefork: one child per core), on the
    bench database and the bench Redis db. Started and stopped by the harness."""

    def __init__(self, *, env: dict[str, str], concurrency: int = 2) -> None:
        self.env = env
        self.concurrency = concurrency
        self.log_path = BASE_DIR / "var" / "bench-worker.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        command = [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "lms",
            "worker",
            f"--concurrency={self.concurrency}",
            "--include=bench.tasks",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "info",
        ]
        self.process = subprocess.Popen(
            command, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=BASE_DIR
        )
        deadline = time.monotonic() + 90
        while " ready." not in self.log_path.read_text(errors="replace"):
            if self.process.poll() is not None:
                raise RuntimeError(f"the Celery worker exited:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not start in 90 s")
            time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def child_pids(self) -> list[int]:
        if self.process is None:
            return []
        children_file = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children_file.read_text().split()]
        except OSError:
            return []

    def child_rss_mb(self) -> list[float]:
        sizes = []
        for pid in self.child_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) / 1024)
            except OSError:
                continue
        return sizes

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
