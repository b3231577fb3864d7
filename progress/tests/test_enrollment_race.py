"""A course or learning-plan enrollment submitted twice at once (a double click on "Add access"): the
second request checks before the first commits, so only the unique constraint sees the
duplicate. It must end as the ordinary "already has access" refusal, not an IntegrityError
(a 500 page)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from progress import services
from progress.models import Enrollment, LearningPlanCourse, PlanEnrollment
from progress.services import ProgressError, enrollment_create, plan_enrollment_create
from progress.tests.factories import LearningPlanFactory, course_with
from users.models import User


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    """Synchronisation, not a timing assertion: poll until `condition`, fail after a minute."""
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting until {what}")
        time.sleep(0.02)


def _someone_waits_on_a_lock() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return bool(cursor.fetchone()[0])


def _submitted_twice_at_once(monkeypatch: Any, submit_one: Callable[[], Any]) -> dict[str, Any]:
    """Run `submit_one` in two threads: the first inserts its row and pauses before recording
    its event (uncommitted), the second starts, checks, inserts and waits on the first one's
    entry in the unique index; then the first commits. What each returned or raised."""
    first_inserted = threading.Event()
    first_may_commit = threading.Event()
    record_event = services.event_record

    def event_record_pausing_the_first(**kwargs: Any) -> Any:
        if threading.current_thread().name == "first":
            first_inserted.set()
            first_may_commit.wait(60)
        return record_event(**kwargs)

    monkeypatch.setattr(services, "event_record", event_record_pausing_the_first)
    outcomes: dict[str, Any] = {}

    def submit() -> None:
        try:
            outcomes[threading.current_thread().name] = submit_one()
        except BaseException as exc:  # noqa: BLE001
            outcomes[threading.current_thread().name] = exc
        finally:
            connection.close()

    first = threading.Thread(target=submit, name="first")
    second = threading.Thread(target=submit, name="second")
    first.start()
    _wait_until(first_inserted.is_set, "the first request inserted its row")
    second.start()
    _wait_until(_someone_waits_on_a_lock, "the second request waits on the first one's row")
    first_may_commit.set()
    first.join()
    second.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_a_double_submitted_plan_enrollment_is_refused_with_a_message(
    admin_user: User, learner_user: User, monkeypatch: Any
) -> None:
    plan = LearningPlanFactory(title="Sales Starter Path")
    course, _ = course_with("lesson", title="Onboarding")
    LearningPlanCourse.objects.create(plan=plan, course=course, position=0)

    outcomes = _submitted_twice_at_once(
        monkeypatch, lambda: plan_enrollment_create(user=learner_user, plan=plan, actor=admin_user)
    )

    assert isinstance(outcomes["first"], PlanEnrollment)
    refusal = outcomes["second"]
    assert isinstance(refusal, ProgressError), repr(refusal)
    assert "already has access to the learning plan" in str(refusal)
    assert PlanEnrollment.objects.filter(user=learner_user, plan=plan).count() == 1
    assert Enrollment.objects.filter(user=learner_user, course=course).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_double_submitted_course_enrollment_is_refused_with_a_message(
    admin_user: User, learner_user: User, monkeypatch: Any
) -> None:
    course, _ = course_with("lesson", title="Onboarding")

    outcomes = _submitted_twice_at_once(
        monkeypatch, lambda: enrollment_create(user=learner_user, course=course, actor=admin_user)
    )

    assert isinstance(outcomes["first"], Enrollment)
    refusal = outcomes["second"]
    assert isinstance(refusal, ProgressError), repr(refusal)
    assert "already has access to “Onboarding”" in str(refusal)
    assert Enrollment.objects.filter(user=learner_user, course=course).count() == 1
