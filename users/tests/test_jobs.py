"""Bulk actions over the threshold run as background jobs in a real Celery worker."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import wait_for
from lms.event_kinds import EventKind
from lms.jobs import bulk_run
from lms.models import BackgroundJob, Event
from users.models import User
from users.tests.factories import UserFactory, UserGroupFactory


@pytest.mark.worker
@override_settings(MERIT_BULK_JOB_THRESHOLD=3)
def test_bulk_disable_over_threshold_redirects_to_the_job_and_the_worker_runs_it(
    celery_worker: None, admin_user: User
) -> None:
    users = UserFactory.create_batch(5)
    ids = ",".join(str(u.pk) for u in users)
    client = Client()
    client.force_login(admin_user)
    response = client.post(reverse("users:bulk"), {"action": "disable", "user_ids": ids})
    job = BackgroundJob.objects.get()
    assert response["Location"] == job.get_absolute_url()
    finished = wait_for(lambda: BackgroundJob.objects.filter(pk=job.pk, status="succeeded").first())
    assert finished.summary == {"changed": 5}
    assert not User.objects.filter(pk__in=[u.pk for u in users], is_active=True).exists()


@pytest.mark.worker
@override_settings(MERIT_BULK_JOB_THRESHOLD=3)
def test_add_to_group_job_adds_each_user_once_even_when_replayed(
    celery_worker: None, admin_user: User
) -> None:
    group = UserGroupFactory(name="New Hires")
    member = UserFactory(user_groups=[group])
    users = [member, *UserFactory.create_batch(4)]
    result = bulk_run(
        kind="users.add_to_group",
        label="Add to New Hires",
        item_ids=[u.pk for u in users],
        actor=admin_user,
        params={"group_id": group.pk},
    )
    assert result.job is not None
    job = wait_for(
        lambda: BackgroundJob.objects.filter(pk=result.job.pk, status="succeeded").first()
    )
    assert job.summary == {"added": 4, "already in group": 1}
    assert group.members.count() == 5
    # Running the same items again (a replayed job) adds nobody and records nothing new.
    again = bulk_run(
        kind="users.add_to_group",
        label="Again",
        item_ids=[u.pk for u in users],
        actor=admin_user,
        params={"group_id": group.pk},
        force_background=True,
    )
    assert again.job is not None
    wait_for(lambda: BackgroundJob.objects.filter(pk=again.job.pk, status="succeeded").exists())
    assert group.members.count() == 5
    assert Event.objects.filter(kind=EventKind.USER_ADDED_TO_GROUP).count() == 4


@pytest.mark.django_db
def test_add_to_group_chunk_reports_users_outside_the_scope(
    sales_admin: User, learner_user: User, outsider: User
) -> None:
    group = UserGroupFactory(name="Mentors")
    result = bulk_run(
        kind="users.add_to_group",
        label="Add",
        item_ids=[learner_user.pk, outsider.pk],
        actor=sales_admin,
        params={"group_id": group.pk},
    )
    assert result.outcome is not None
    assert result.outcome.errors == [(outsider.pk, "Not found or outside your departments.")]
    assert list(group.members.all()) == [learner_user]


@pytest.mark.django_db
def test_add_to_group_chunk_query_count_does_not_grow(admin_user: User) -> None:
    group = UserGroupFactory(name="Mentors")
    counts = []
    for size in (1, 5, 40):  # the first run warms the content-type cache
        users = UserFactory.create_batch(size)
        with CaptureQueriesContext(connection) as captured:
            bulk_run(
                kind="users.add_to_group",
                label="Add",
                item_ids=[u.pk for u in users],
                actor=admin_user,
                params={"group_id": group.pk},
            )
        counts.append(len(captured))
    assert counts[1] == counts[2]
