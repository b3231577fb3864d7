from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from django.test import override_settings

from conftest import wait_for
from lms.event_kinds import EventKind
from lms.events import EventSpec, event_record_bulk
from lms.job_kinds import JOB_KINDS, JobKind
from lms.jobs import (
    ChunkOutcome,
    bulk_run,
    job_create,
    job_execute,
    job_finish_if_done,
    job_run_chunk,
)
from lms.models import BackgroundJob, BackgroundJobChunk, Event
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
    assert job_run_chunk(job_id=job.pk, index=0) is True
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


# --- chunks: parallel runs, out-of-order completion, finishing once ------------------------

FINALIZED: list[int] = []


def _items_finish(job: BackgroundJob) -> None:
    FINALIZED.append(job.pk)


def _items_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome:
    """Records one event per item, so that a test can count how often each item was done;
    item 13 is a bug."""
    if 13 in item_ids:
        raise RuntimeError("item 13 is unlucky")
    event_record_bulk(
        kind="tests.item",
        actor=None,
        specs=[EventSpec(subject=None, details={"item": pk}) for pk in item_ids],
    )
    return ChunkOutcome(done=len(item_ids), counts=Counter(items=len(item_ids)))


JOB_KINDS["tests.items"] = JobKind(
    "lms.tests.test_jobs._items_chunk", finalize="lms.tests.test_jobs._items_finish"
)


def _items_done() -> list[int]:
    return sorted(Event.objects.filter(kind="tests.item").values_list("details__item", flat=True))


@pytest.mark.django_db
@override_settings(MERIT_JOB_CHUNK_SIZE=4)
def test_chunks_that_finish_out_of_order_finish_the_job_once(admin_user: User) -> None:
    FINALIZED.clear()
    job = job_create(
        kind="tests.items", label="Items", item_ids=list(range(1, 11)), actor=admin_user
    )
    assert list(job.chunks.values_list("index", "item_ids")) == [
        (0, [1, 2, 3, 4]),
        (1, [5, 6, 7, 8]),
        (2, [9, 10]),
    ]
    assert job_run_chunk(job_id=job.pk, index=2) is True
    job_finish_if_done(job.pk)
    job.refresh_from_db()
    assert (job.status, job.cursor, FINALIZED) == (BackgroundJob.Status.RUNNING, 2, [])
    for index in (1, 0, 1):  # a duplicate delivery of chunk 1 is skipped
        assert job_run_chunk(job_id=job.pk, index=index) is True
    job_finish_if_done(job.pk)
    job_finish_if_done(job.pk)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert (job.cursor, job.done, job.summary) == (10, 10, {"items": 10})
    assert [job.pk] == FINALIZED
    assert _items_done() == list(range(1, 11))


@pytest.mark.django_db
@override_settings(MERIT_JOB_CHUNK_SIZE=4)
def test_a_chunk_that_raises_fails_the_job_and_keeps_what_committed(admin_user: User) -> None:
    FINALIZED.clear()
    job = job_create(
        kind="tests.items", label="Items", item_ids=list(range(1, 21)), actor=admin_user
    )
    job = job_execute(job_id=job.pk)  # chunks 0-2 commit, chunk 3 (13..16) raises
    assert job.status == BackgroundJob.Status.FAILED
    assert job.last_error == "RuntimeError: item 13 is unlucky"
    assert (job.cursor, job.done) == (12, 12)
    assert job_run_chunk(job_id=job.pk, index=4) is False  # a queued chunk of a failed job
    assert _items_done() == list(range(1, 13))
    assert FINALIZED == []


@pytest.mark.django_db
@override_settings(MERIT_JOB_CHUNK_SIZE=4)
def test_a_job_row_without_chunks_gets_chunks_for_what_its_cursor_has_not_passed(
    admin_user: User,
) -> None:
    job = BackgroundJob.objects.create(
        kind="tests.items",
        label="Old job",
        created_by=admin_user,
        item_ids=list(range(1, 11)),
        total=10,
        cursor=6,
        status=BackgroundJob.Status.RUNNING,
    )
    job = job_execute(job_id=job.pk)
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert list(job.chunks.values_list("item_ids", flat=True)) == [[7, 8, 9, 10]]
    assert _items_done() == [7, 8, 9, 10]


@pytest.mark.worker
@override_settings(MERIT_BULK_JOB_THRESHOLD=5)
def test_real_workers_run_a_parallel_job_chunk_by_chunk(
    celery_worker: None, admin_user: User
) -> None:
    """130 users in chunks of 50: three chunk tasks on a two-process worker."""
    users = UserFactory.create_batch(130)
    ids = [u.pk for u in users]
    result = bulk_run(
        kind="users.set_active",
        label="Disable 130",
        item_ids=ids,
        actor=admin_user,
        params={"is_active": False},
    )
    assert result.job is not None
    assert result.job.chunks.count() == 3
    job = wait_for(
        lambda: BackgroundJob.objects.filter(pk=result.job.pk, finished_at__isnull=False).first(),
        timeout=60,
    )
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert (job.cursor, job.done, job.summary) == (130, 130, {"changed": 130})
    assert not BackgroundJobChunk.objects.filter(job=job, finished_at__isnull=True).exists()
    assert _disable_events(ids) == 130


@pytest.mark.django_db
@override_settings(MERIT_JOB_CHUNK_SIZE=2000)
@pytest.mark.parametrize(
    ("total", "sizes"),
    [
        (1000, [125] * 8),  # cut in 8 so that both worker processes stay busy to the end
        (250, [100, 100, 50]),  # but no chunk under 100 items
        (40_000, [2000] * 20),  # and none over the setting
    ],
)
def test_jobs_are_cut_into_enough_chunks_for_every_worker(
    admin_user: User, total: int, sizes: list[int]
) -> None:
    job = job_create(
        kind="tests.items", label="Items", item_ids=list(range(total)), actor=admin_user
    )
    assert [len(ids) for ids in job.chunks.values_list("item_ids", flat=True)] == sizes


@pytest.mark.worker
def test_resume_jobs_command_sends_jobs_that_stopped_moving_to_the_worker_again(
    celery_worker: None, admin_user: User
) -> None:
    """Two job rows whose messages were lost (written without dispatch): the one that has not
    moved for 30 minutes is enqueued again and the real worker finishes it; the one with a
    recent heartbeat is left alone."""
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    users = UserFactory.create_batch(3)

    def lost_job(label: str) -> BackgroundJob:
        return BackgroundJob.objects.create(
            kind="users.set_active",
            label=label,
            created_by=admin_user,
            params={"is_active": False},
            item_ids=[u.pk for u in users],
            total=len(users),
        )

    stale, moving = lost_job("Stale"), lost_job("Moving")
    long_ago = timezone.now() - timedelta(minutes=30)
    BackgroundJob.objects.filter(pk__in=[stale.pk, moving.pk]).update(created_at=long_ago)
    BackgroundJob.objects.filter(pk=moving.pk).update(heartbeat_at=timezone.now())
    out = StringIO()
    call_command("resume_jobs", "--older-than", "5", stdout=out)
    assert out.getvalue().strip() == f"Enqueued again 1 job(s): {stale.pk}."
    finished = wait_for(
        lambda: BackgroundJob.objects.filter(pk=stale.pk, finished_at__isnull=False).first(),
        timeout=60,
    )
    assert (finished.status, finished.done) == (BackgroundJob.Status.SUCCEEDED, 3)
    assert BackgroundJob.objects.get(pk=moving.pk).status == BackgroundJob.Status.PENDING


# --- a deadlock between two parallel chunks --------------------------------------------------

DEADLOCK_ROWS: dict[str, int] = {}
ATTEMPTS: Counter[int] = Counter()
BOTH_HOLD_ONE = threading.Barrier(2, timeout=30)


def _deadlocking_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome:
    """Chunk [1] locks row a then b, chunk [2] b then a: on their first attempt both hold one
    row and wait for the other's, which PostgreSQL breaks by failing one of them."""
    first, second = ("a", "b") if item_ids == [1] else ("b", "a")
    ATTEMPTS[item_ids[0]] += 1
    User.objects.select_for_update().get(pk=DEADLOCK_ROWS[first])
    if ATTEMPTS[item_ids[0]] == 1:
        BOTH_HOLD_ONE.wait()
    User.objects.select_for_update().get(pk=DEADLOCK_ROWS[second])
    return ChunkOutcome(done=1, counts=Counter(done=1))


JOB_KINDS["tests.deadlock"] = JobKind("lms.tests.test_jobs._deadlocking_chunk")


@pytest.mark.django_db(transaction=True)
@override_settings(MERIT_JOB_CHUNK_SIZE=1)
def test_a_chunk_that_loses_a_deadlock_runs_again_instead_of_failing_the_job(
    admin_user: User,
) -> None:
    DEADLOCK_ROWS.update(a=admin_user.pk, b=UserFactory().pk)
    ATTEMPTS.clear()
    BOTH_HOLD_ONE.reset()
    job = job_create(kind="tests.deadlock", label="Deadlock", item_ids=[1, 2], actor=admin_user)

    def run(index: int) -> None:
        try:
            job_run_chunk(job_id=job.pk, index=index)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    job_finish_if_done(job.pk)
    job.refresh_from_db()
    assert sorted(ATTEMPTS.values()) == [1, 2]  # PostgreSQL failed one; it ran again
    assert (job.status, job.done, job.last_error) == (BackgroundJob.Status.SUCCEEDED, 2, "")
