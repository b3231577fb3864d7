from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lms.jobs import job_create
from lms.models import BackgroundJob
from users.models import User


@pytest.fixture
def job_by_sales_admin(sales_admin: User, learner_user: User) -> BackgroundJob:
    return job_create(
        kind="users.set_active",
        label="Disable Sales",
        item_ids=[learner_user.pk],
        actor=sales_admin,
        params={"is_active": False},
    )


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(job_by_sales_admin: BackgroundJob) -> None:
    for url in (
        reverse("lms:job_list"),
        reverse("lms:job_detail", args=[job_by_sales_admin.pk]),
        reverse("lms:job_status", args=[job_by_sales_admin.pk]),
    ):
        response = _client(None).get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_learners_may_not_see_jobs(learner_user: User, job_by_sales_admin: BackgroundJob) -> None:
    client = _client(learner_user)
    assert client.get(reverse("lms:job_list")).status_code == 403
    assert client.get(reverse("lms:job_status", args=[job_by_sales_admin.pk])).status_code == 403


@pytest.mark.django_db
def test_admins_see_their_own_jobs_and_super_admins_see_all(
    admin_user: User, sales_admin: User, support_user: User, job_by_sales_admin: BackgroundJob
) -> None:
    detail = reverse("lms:job_detail", args=[job_by_sales_admin.pk])
    assert _client(sales_admin).get(detail).status_code == 200
    assert _client(admin_user).get(detail).status_code == 200
    assert _client(support_user).get(detail).status_code == 404
    listing = _client(support_user).get(reverse("lms:job_list"))
    assert listing.status_code == 200
    assert "Disable Sales" not in listing.content.decode()
    assert "Disable Sales" in _client(admin_user).get(reverse("lms:job_list")).content.decode()


@pytest.mark.django_db
def test_job_status_reports_progress_as_json(
    sales_admin: User, job_by_sales_admin: BackgroundJob
) -> None:
    data = _client(sales_admin).get(reverse("lms:job_status", args=[job_by_sales_admin.pk])).json()
    assert data["total"] == 1 and data["processed"] == 0 and data["percent"] == 0
    assert data["status"] == "pending" and data["finished"] is False


@pytest.mark.django_db
def test_job_list_query_count_does_not_grow_with_rows(
    admin_user: User,
    learner_user: User,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    client = _client(admin_user)
    for _ in range(2):
        job_create(
            kind="users.set_active",
            label="x",
            item_ids=[learner_user.pk],
            actor=admin_user,
            params={"is_active": False},
        )
    client.get(reverse("lms:job_list"))  # warm the session and content-type caches

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("lms:job_list"))
    for _ in range(20):
        job_create(
            kind="users.set_active",
            label="y",
            item_ids=[learner_user.pk],
            actor=admin_user,
            params={"is_active": False},
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("lms:job_list"))
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.django_db
def test_dual_role_admin_switches_to_the_learner_view_and_back(admin_user: User) -> None:
    client = _client(admin_user)
    assert client.get(reverse("home"))["Location"] == reverse("users:list")
    client.post(reverse("view_mode"), {"mode": "learner"})
    assert client.get(reverse("home"))["Location"] == reverse("users:profile")
    client.post(reverse("view_mode"), {"mode": "admin"})
    assert client.get(reverse("home"))["Location"] == reverse("users:list")
