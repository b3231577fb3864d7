from __future__ import annotations

from datetime import date

import pytest
from django.test import override_settings

from certifications.models import CertificationAward
from certifications.services import certification_award_start
from certifications.tests.factories import AwardFactory, CertificationFactory
from conftest import wait_for
from lms.event_kinds import EventKind
from lms.jobs import job_execute, job_kind, job_run_chunk
from lms.models import BackgroundJob, Event
from lms.tasks import job_run
from users.tests.factories import UserFactory

TODAY = date(2026, 3, 1)


def _awarded_events(certification) -> int:
    return Event.objects.filter(
        kind__in=[EventKind.CERTIFICATION_AWARDED, EventKind.CERTIFICATION_RENEWED],
        details__certification_id=certification.pk,
    ).count()


@pytest.mark.django_db
@override_settings(MERIT_BULK_JOB_THRESHOLD=5)
def test_award_at_the_threshold_runs_inline(admin_user):
    certification = CertificationFactory()
    users = UserFactory.create_batch(5)
    result = certification_award_start(
        certification=certification,
        user_ids=[u.pk for u in users],
        issued_on=TODAY,
        actor=admin_user,
    )
    assert not result.is_background
    assert result.outcome is not None and result.outcome.counts["awarded"] == 5
    assert not BackgroundJob.objects.exists()


@pytest.mark.django_db
@override_settings(MERIT_BULK_JOB_THRESHOLD=5, MERIT_JOB_CHUNK_SIZE=4)
def test_award_job_summary_counts_awarded_renewed_and_skipped(sales_admin, org, outsider):
    from users.tests.factories import learner

    certification = CertificationFactory()
    inside = [learner(departments=[org["active_sales"]]) for _ in range(7)]
    AwardFactory(certification=certification, user=inside[0], issued_on=date(2025, 1, 1))
    result = certification_award_start(
        certification=certification,
        user_ids=[u.pk for u in inside] + [outsider.pk],
        issued_on=TODAY,
        actor=sales_admin,
    )
    assert result.job is not None
    job = job_execute(job_id=result.job.pk)
    assert job.status == BackgroundJob.Status.PARTIAL
    assert job.summary == {"awarded": 6, "renewed": 1}
    assert job.errors == [
        {"item": outsider.pk, "error": "not found, disabled or outside your departments"}
    ]
    assert (
        CertificationAward.objects.filter(certification=certification, is_current=True).count() == 7
    )


@pytest.mark.django_db
@override_settings(MERIT_BULK_JOB_THRESHOLD=5, MERIT_JOB_CHUNK_SIZE=4)
def test_award_job_resumed_after_a_crash_awards_nobody_twice(admin_user):
    certification = CertificationFactory()
    users = UserFactory.create_batch(10)
    result = certification_award_start(
        certification=certification,
        user_ids=[u.pk for u in users],
        issued_on=TODAY,
        actor=admin_user,
    )
    job = result.job
    # one chunk commits, then the worker "dies"
    assert job_run_chunk(job_id=job.pk, index=0) is True
    job_execute(job_id=job.pk)
    job_execute(job_id=job.pk)  # a duplicate delivery
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert job.summary == {"awarded": 10}
    assert CertificationAward.objects.filter(certification=certification).count() == 10
    assert _awarded_events(certification) == 10


@pytest.mark.django_db
@override_settings(MERIT_BULK_JOB_THRESHOLD=5, MERIT_JOB_CHUNK_SIZE=4)
def test_a_chunk_replayed_after_its_commit_skips_the_users_it_awarded(admin_user):
    """If the cursor were lost (a chunk done twice), the job's batch key still makes the
    second run a no-op for those users instead of a renewal."""
    certification = CertificationFactory()
    users = UserFactory.create_batch(6)
    result = certification_award_start(
        certification=certification,
        user_ids=[u.pk for u in users],
        issued_on=TODAY,
        actor=admin_user,
    )
    job = result.job
    handler = job_kind(job.kind).handler
    handler(job, [u.pk for u in users[:4]])
    outcome = handler(job, [u.pk for u in users[:4]])
    assert +outcome.counts == {"skipped (already awarded by this run)": 4}
    assert CertificationAward.objects.filter(certification=certification).count() == 4


@pytest.mark.worker
@override_settings(MERIT_BULK_JOB_THRESHOLD=5)
def test_real_worker_awards_over_the_threshold(celery_worker, admin_user):
    certification = CertificationFactory()
    users = UserFactory.create_batch(120)
    result = certification_award_start(
        certification=certification,
        user_ids=[u.pk for u in users],
        issued_on=TODAY,
        actor=admin_user,
    )
    assert result.job is not None
    job = wait_for(
        lambda: BackgroundJob.objects.filter(pk=result.job.pk, finished_at__isnull=False).first(),
        timeout=60,
    )
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert job.summary == {"awarded": 120}
    assert CertificationAward.objects.filter(certification=certification).count() == 120


@pytest.mark.worker
def test_real_worker_finishes_a_job_whose_first_worker_died_halfway(celery_worker, admin_user):
    certification = CertificationFactory()
    users = UserFactory.create_batch(130)
    # The job row as `certification_award_start` writes it, whose message died with its worker.
    job = BackgroundJob.objects.create(
        kind="certifications.award",
        label="Award",
        created_by=admin_user,
        item_ids=[u.pk for u in users],
        total=len(users),
        params={
            "certification_id": certification.pk,
            "issued_on": TODAY.isoformat(),
            "expires_on": None,
            "association": "manual",
            "external_training_id": None,
            "batch": "crash-test",
        },
    )
    assert job_run_chunk(job_id=job.pk, index=0) is True  # half done (chunks of 50), dies
    job.refresh_from_db()
    assert (job.cursor, job.status) == (50, BackgroundJob.Status.RUNNING)
    job_run.delay(job.pk)  # the restarted worker picks it up (as job_resume_stale would)
    job = wait_for(
        lambda: BackgroundJob.objects.filter(pk=job.pk, finished_at__isnull=False).first(),
        timeout=60,
    )
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert job.summary == {"awarded": 130}
    assert CertificationAward.objects.filter(certification=certification).count() == 130
    assert _awarded_events(certification) == 130
