"""Bulk actions over the threshold, run by a real Celery worker."""

from __future__ import annotations

import pytest
from django.test import override_settings

from achievements.models import PointsBalance, PointsEntry, UserBadge
from achievements.services import badge_rule_apply, community_event_record
from achievements.tests.factories import BadgeFactory
from conftest import wait_for
from lms.event_kinds import EventKind
from lms.jobs import bulk_run, job_create, job_execute
from lms.models import BackgroundJob
from users.models import Department, User
from users.tests.factories import UserFactory


def _finished(job_id: int) -> BackgroundJob | None:
    return BackgroundJob.objects.filter(pk=job_id, finished_at__isnull=False).first()


@pytest.mark.django_db
@override_settings(MERIT_JOB_CHUNK_SIZE=4)
def test_points_job_reports_users_outside_scope_and_does_no_item_twice(
    sales_admin: User, org: dict[str, Department]
) -> None:
    inside = UserFactory.create_batch(6, departments=[org["active_sales"]])
    outside = UserFactory(departments=[org["hr"]])
    job = job_create(
        kind="achievements.points",
        label="Award 5 points",
        item_ids=[u.pk for u in inside] + [outside.pk],
        actor=sales_admin,
        params={"direction": "award", "amount": 5, "reason": "Contest", "awarded_at": None},
    )
    job_execute(job_id=job.pk)
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == BackgroundJob.Status.PARTIAL
    assert (job.done, job.failed, job.summary) == (6, 1, {"awarded": 6})
    assert PointsEntry.objects.count() == 6
    assert not PointsEntry.objects.filter(user=outside).exists()


@pytest.mark.django_db
def test_remove_job_lists_users_without_enough_points(admin_user: User) -> None:
    rich, poor = UserFactory.create_batch(2)
    bulk_run(
        kind="achievements.points",
        label="Award",
        item_ids=[rich.pk],
        actor=admin_user,
        params={"direction": "award", "amount": 20, "reason": "Start"},
    )
    job = job_create(
        kind="achievements.points",
        label="Remove 10 points",
        item_ids=[rich.pk, poor.pk],
        actor=admin_user,
        params={"direction": "remove", "amount": 10, "reason": "Fix"},
    )
    job = job_execute(job_id=job.pk)
    assert (job.done, job.failed) == (1, 1)
    assert job.errors[0]["item"] == poor.pk and "Has 0 points" in job.errors[0]["error"]
    assert PointsBalance.objects.get(user=rich).points == 10


@pytest.mark.worker
@override_settings(MERIT_BULK_JOB_THRESHOLD=5)
def test_real_worker_awards_points_to_every_user(celery_worker: None, admin_user: User) -> None:
    users = UserFactory.create_batch(12)
    result = bulk_run(
        kind="achievements.points",
        label="Award 7 points",
        item_ids=[u.pk for u in users],
        actor=admin_user,
        params={"direction": "award", "amount": 7, "reason": "Quarter", "awarded_at": None},
    )
    assert result.job is not None
    job = wait_for(lambda: _finished(result.job.pk))
    assert job.status == BackgroundJob.Status.SUCCEEDED and job.done == 12
    assert PointsBalance.objects.filter(user__in=users, points=7).count() == 12


@pytest.mark.worker
@override_settings(MERIT_BULK_JOB_THRESHOLD=2)
def test_real_worker_grants_a_badge_in_bulk(celery_worker: None, admin_user: User) -> None:
    badge = BadgeFactory(rule="manual")
    users = UserFactory.create_batch(5)
    result = bulk_run(
        kind="achievements.badge_grant",
        label="Grant",
        item_ids=[u.pk for u in users],
        actor=admin_user,
        params={"badge_id": badge.pk, "reason": "Launch"},
    )
    assert result.job is not None
    job = wait_for(lambda: _finished(result.job.pk))
    assert job.summary == {"granted": 5}
    assert UserBadge.objects.filter(badge=badge).count() == 5


@pytest.mark.worker
def test_real_worker_applies_a_rule_retroactively(
    celery_worker: None, admin_user: User, learner_user: User
) -> None:
    for _ in range(2):
        community_event_record(kind=EventKind.COMMUNITY_COMMENT_POSTED, user=learner_user)
    badge = BadgeFactory(rule="comment_posted", threshold=2)
    result = badge_rule_apply(badge=badge, actor=admin_user)
    job = wait_for(lambda: _finished(result.job.pk))
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert list(UserBadge.objects.values_list("user_id", flat=True)) == [learner_user.pk]
