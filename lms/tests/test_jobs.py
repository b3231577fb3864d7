from __future__ import annotations

import pytest
from django.test import override_settings

from conftest import wait_for
from lms.event_kinds import EventKind
from lms.jobs import JOB_HANDLERS, _job_run_next_chunk, bulk_run, job_create, job_execute
from lms.models import BackgroundJob, Event
from users.models import User
from users.tests.factories import UserFactory


def _disable_events(user_ids: list[int]) -> int:
    return Event.objects.filter(kind=EventKind.USER_DISABLED, subject_id__in=user_ids).count()


@pytest.mark.django_db
@override_settings(MERIT_BULK_JOB_THRESHOLD=5)
def test_bulk_run_at_threshold_runs_inline_and_writes_no_job(admin_user: User) -> None:
    users = UserFactory.create_batch(5)
    result = bulk_run(
        kind="users.set_active",
        label="Disable",
        item_ids=[u.pk for u in users],
        actor=admin_user,
        params={"is_active": False},
    )
    assert not result.is_background
    assert result.outcome is not None and result.outcome.counts["changed"] == 5
    assert not BackgroundJob.objects.exists()
    assert User.objects.filter(pk__in=[u.pk for u in users], is_active=False).count() == 5


@pytest.mark.django_db(transaction=True)
@override_settings(MERIT_BULK_JOB_THRESHOLD=5, MERIT_JOB_CHUNK_SIZE=4)
def test_bulk_run_over_threshold_creates_a_job_with_every_item(admin_user: User) -> None:
    users = UserFactory.create_batch(6)
    result = bulk_run(
        kind="users.set_active",
        label="Disable",
        item_ids=[u.pk for u in users] * 2,
        actor=admin_user,
        params={"is_active": False},
    )
    assert result.job is not None
    job = BackgroundJob.objects.get(pk=result.job.pk)
    assert job.total == 6 and job.item_ids == [u.pk for u in users]
    assert job.status == BackgroundJob.Status.PENDING


@pytest.mark.django_db
@override_settings(MERIT_JOB_CHUNK_SIZE=4)
def test_job_resumed_after_a_crash_does_no_item_twice(admin_user: User) -> None:
    users = UserFactory.create_batch(10)
    ids = [u.pk for u in users]
    job = job_create(
        kind="users.set_active",
        label="Disable",
        item_ids=ids,
        actor=admin_user,
        params={"is_active": False},
    )
    # The first chunk commits, then the "worker dies": the job is left running at cursor 4.
    assert _job_run_next_chunk(job.pk, JOB_HANDLERS[job.kind], 4) is False
    job.refresh_from_db()
    assert (job.cursor, job.status) == (4, BackgroundJob.Status.RUNNING)
    job_execute(job_id=job.pk)
    job_execute(job_id=job.pk)  # and once more, as a duplicate delivery would
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert (job.cursor, job.done, job.failed) == (10, 10, 0)
    assert job.summary == {"changed": 10}
    assert _disable_events(ids) == 10


@pytest.mark.django_db
@override_settings(MERIT_JOB_CHUNK_SIZE=3)
def test_job_reports_items_outside_scope_and_finishes_partial(
    sales_admin: User, learner_user: User, outsider: User
) -> None:
    job = job_create(
        kind="users.set_active",
        label="Disable",
        item_ids=[learner_user.pk, outsider.pk],
        actor=sales_admin,
        params={"is_active": False},
    )
    job = job_execute(job_id=job.pk)
    assert job.status == BackgroundJob.Status.PARTIAL
    assert (job.done, job.failed) == (1, 1)
    assert job.errors == [{"item": outsider.pk, "error": "Not found or outside your departments."}]
    outsider.refresh_from_db()
    assert outsider.is_active


@pytest.mark.worker
@override_settings(MERIT_BULK_JOB_THRESHOLD=5)
def test_real_worker_runs_the_job_to_the_end(celery_worker: None, admin_user: User) -> None:
    users = UserFactory.create_batch(12)
    ids = [u.pk for u in users]
    result = bulk_run(
        kind="users.set_active",
        label="Disable 12",
        item_ids=ids,
        actor=admin_user,
        params={"is_active": False},
    )
    assert result.job is not None
    job = wait_for(
        lambda: BackgroundJob.objects.filter(pk=result.job.pk, finished_at__isnull=False).first()
    )
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert job.done == 12
    assert User.objects.filter(pk__in=ids, is_active=True).count() == 0
    assert _disable_events(ids) == 12
