"""Shared fixtures: people in each role, a small organisation and a real Celery worker. The
database is always PostgreSQL: the machine's in CI (DATABASE_URL), else a throwaway embedded
server of the test run's own (lms.embedded_db)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from users.models import Department, User
from users.tests.factories import (
    DepartmentFactory,
    customer_service,
    department_admin,
    learner,
    super_admin,
)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
BASE_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = BASE_DIR / "test-artifacts"


def service_missing(reason: str) -> None:
    """Skip locally, fail in CI: CI promises every tool the tests need (Chromium)."""
    if IN_CI:
        pytest.fail(f"CI needs this and it is missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Every test starts with an empty cache (the users list keeps search counts there)."""
    cache.clear()


# --- the organisation -------------------------------------------------------------------


@pytest.fixture
def org(db: None) -> dict[str, Department]:
    """My Company / Human Resource, Customer Care, Sales Department / Active Sales."""
    root = DepartmentFactory(name="My Company")
    return {
        "root": root,
        "hr": DepartmentFactory(name="Human Resource", parent=root),
        "care": DepartmentFactory(name="Customer Care", parent=root),
        "sales": (sales := DepartmentFactory(name="Sales Department", parent=root)),
        "active_sales": DepartmentFactory(name="Active Sales", parent=sales),
    }


@pytest.fixture
def admin_user(db: None) -> User:
    return super_admin(username="admin", first_name="Ada", last_name="Admin")


@pytest.fixture
def sales_admin(org: dict[str, Department]) -> User:
    """A department admin of Sales Department (and so of Active Sales)."""
    return department_admin(
        administers=[org["sales"]], username="salesadmin", departments=[org["sales"]]
    )


@pytest.fixture
def support_user(db: None) -> User:
    return customer_service(username="support")


@pytest.fixture
def learner_user(org: dict[str, Department]) -> User:
    return learner(
        username="anna", first_name="Anna", last_name="Smith", departments=[org["active_sales"]]
    )


@pytest.fixture
def outsider(org: dict[str, Department]) -> User:
    """A learner in Human Resource: outside the sales admin's subtree."""
    return learner(username="harry", first_name="Harry", last_name="Evans", departments=[org["hr"]])


# --- a real Celery worker ---------------------------------------------------------------


@pytest.fixture(scope="session")
def _celery_worker_process(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """One real `celery worker` process for the session, on this run's own queue and the test
    database. Tests that use it need committed data: use `celery_worker` (transactional)."""
    if shutil.which("celery", path=str(Path(sys.executable).parent)) is None:
        service_missing("the celery command is not installed")
    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "lms.settings.test",
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "MERIT_TEST_DATABASE_NAME": str(db_name),
        "PYTHONUNBUFFERED": "1",
    }
    log_path = BASE_DIR / "var" / f"test-worker-{os.getpid()}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    command = [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "lms",
        "worker",
        # Two processes, as in production on two cores: a parallel job's chunks really run
        # side by side.
        "--pool=prefork",
        "--concurrency=2",
        "-Q",
        settings.CELERY_TASK_DEFAULT_QUEUE,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "info",
    ]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=BASE_DIR)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Celery worker exited: {log_path.read_text()[-2000:]}")
        if " ready." in log_path.read_text():
            break
        time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"the Celery worker did not start: {log_path.read_text()[-2000:]}")
    yield
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def celery_worker(transactional_db: None, _celery_worker_process: None) -> None:
    """A real worker is consuming this run's queue; data the test commits is visible to it."""


def wait_for(predicate: Any, timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll until `predicate()` is truthy (returns it) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s")
