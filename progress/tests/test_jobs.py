from __future__ import annotations

import pytest
from django.core import mail
from django.test import override_settings

from conftest import wait_for
from lms.event_kinds import EventKind
from lms.jobs import bulk_run, job_create, job_execute
from lms.models import BackgroundJob, BackgroundJobChunk, Event
from progress.models import Activity, ActivityCompletion, CourseCompletion
from progress.services import progress_mark_complete
from progress.tests.factories import course_with, enroll
from users.models import User
from users.tests.factories import learner

K = Activity.Kind


@pytest.mark.django_db
@override_settings(MERIT_JOB_CHUNK_SIZE=3)
def test_mark_complete_job_summarises_completed_already_complete_and_errors(
    sales_admin: User, org: dict, outsider: User
) -> None:
    course, _ = course_with(K.LESSON, K.FORM)
    users = [learner(departments=[org["sales"]]) for _ in range(5)]
    for user in users[:4]:
        enroll(user, course)
    progress_mark_complete(users=users[:1], course=course, actor=sales_admin)
    job = job_create(
        kind="progress.mark_complete",
        label="Mark complete",
        item_ids=[u.pk for u in users] + [outsider.pk],
        actor=sales_admin,
        params={"course_id": course.pk, "activity_ids": None},
    )
    job = job_execute(job_id=job.pk)
    assert job.status == BackgroundJob.Status.PARTIAL
    learners = ("completed", "already complete", "errors", "activity completions")
    assert {key: job.summary.get(key) for key in learners} == {
        "completed": 3,
        "already complete": 1,
        "errors": 2,
        "activity completions": 6,
    }
    assert {e["item"] for e in job.errors} == {users[4].pk, outsider.pk}
    assert CourseCompletion.objects.filter(course=course).count() == 4


@pytest.mark.django_db
@override_settings(MERIT_JOB_CHUNK_SIZE=2)
def test_mark_complete_job_run_twice_completes_each_activity_once(admin_user: User) -> None:
    course, _ = course_with(K.LESSON, K.LESSON)
    users = [learner() for _ in range(5)]
    for user in users:
        enroll(user, course)
    job = job_create(
        kind="progress.mark_complete",
        label="Mark complete",
        item_ids=[u.pk for u in users],
        actor=admin_user,
        params={"course_id": course.pk, "activity_ids": None},
    )
    job_execute(job_id=job.pk)
    # As if every commit were lost: the handlers must still do each item once.
    BackgroundJob.objects.filter(pk=job.pk).update(
        status=BackgroundJob.Status.RUNNING, cursor=0, finished_at=None
    )
    BackgroundJobChunk.objects.filter(job_id=job.pk).update(finished_at=None)
    job_execute(job_id=job.pk)
    assert ActivityCompletion.objects.count() == 10
    assert Event.objects.filter(kind=EventKind.COURSE_COMPLETED).count() == 5


@pytest.mark.worker
@override_settings(MERIT_BULK_JOB_THRESHOLD=5)
def test_real_worker_marks_complete_then_resets(celery_worker: None, admin_user: User) -> None:
    course, acts = course_with(K.LESSON, K.EXAM, modules=2)
    users = [learner() for _ in range(8)]
    for user in users:
        enroll(user, course)
    ids = [u.pk for u in users]
    result = bulk_run(
        kind="progress.mark_complete",
        label="Mark complete for 8",
        item_ids=ids,
        actor=admin_user,
        params={"course_id": course.pk, "activity_ids": None},
    )
    assert result.job is not None
    job = wait_for(
        lambda: BackgroundJob.objects.filter(pk=result.job.pk, finished_at__isnull=False).first()
    )
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert (job.summary["completed"], job.summary["activity completions"]) == (8, 16)
    assert "errors" not in job.summary and "already complete" not in job.summary
    assert CourseCompletion.objects.filter(course=course).count() == 8
    assert Event.objects.filter(kind=EventKind.ACTIVITY_COMPLETED, is_manual=True).count() == 16
    reset = bulk_run(
        kind="progress.reset",
        label="Reset for 8",
        item_ids=ids,
        actor=admin_user,
        params={"course_id": course.pk, "activity_ids": [acts[1].pk]},
    )
    job = wait_for(
        lambda: BackgroundJob.objects.filter(pk=reset.job.pk, finished_at__isnull=False).first()
    )
    assert job.summary == {"reset": 8}
    assert ActivityCompletion.objects.count() == 8
    assert not CourseCompletion.objects.exists()


@pytest.mark.django_db
def test_job_sends_completion_emails_after_commit(
    admin_user: User, django_capture_on_commit_callbacks
) -> None:
    course, _ = course_with(K.LESSON)
    users = [learner() for _ in range(3)]
    for user in users:
        enroll(user, course)
    job = job_create(
        kind="progress.mark_complete",
        label="Mark complete",
        item_ids=[u.pk for u in users],
        actor=admin_user,
        params={"course_id": course.pk, "activity_ids": None, "send_email": True},
    )
    with django_capture_on_commit_callbacks(execute=True):
        job_execute(job_id=job.pk)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
