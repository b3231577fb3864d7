"""A learner finishing the last activity while an admin marks it complete: one completion, one
course-completed event (the enrollment row lock serialises them)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from lms.event_kinds import EventKind
from lms.models import Event
from progress.models import Activity, ActivityCompletion, CourseCompletion
from progress.services import activity_complete, progress_mark_complete
from progress.tests.factories import course_with, enroll
from users.models import User

K = Activity.Kind


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_learner_and_admin_completing_together_leave_one_completion(
    round_: int, db: None, admin_user: User, learner_user: User
) -> None:
    course, acts = course_with(K.LESSON, K.LESSON)
    enroll(learner_user, course)
    progress_mark_complete(
        users=[learner_user], course=course, activities=acts[:1], actor=admin_user
    )
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(fn) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            fn()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=run,
            args=(lambda: activity_complete(user=learner_user, activity=acts[1]),),
        ),
        threading.Thread(
            target=run,
            args=(
                lambda: progress_mark_complete(
                    users=[learner_user], course=course, activities=acts[1:], actor=admin_user
                ),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ActivityCompletion.objects.filter(activity=acts[1]).count() == 1
    assert CourseCompletion.objects.filter(course=course).count() == 1
    assert Event.objects.filter(kind=EventKind.COURSE_COMPLETED).count() == 1
    assert (
        Event.objects.filter(kind=EventKind.ACTIVITY_COMPLETED, target_id=acts[1].pk).count() == 1
    )
