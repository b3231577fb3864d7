"""Award points and Grant badge for "all matching" users of the users list, over more users
than a request may carry as fields (Django's DATA_UPLOAD_MAX_NUMBER_FIELDS): the selection
travels as one server-side token, and the POST starts one background job over all."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from achievements.models import PointsEntry
from achievements.tests.factories import BadgeFactory
from lms.models import BackgroundJob
from users.models import Department, User
from users.services import user_selection_create
from users.tests.factories import super_admin
from users.tests.large_selection import (
    LARGE_SELECTION,
    as_data,
    bulk_bar_forward,
    hidden_fields,
    learners_bulk_create,
    logged_in,
)

pytestmark = pytest.mark.django_db

POINTS = {
    "direction": "award",
    "awarded_at": "2026-01-05T09:00",
    "amount": "5",
    "reason": "Everyone",
}


def _bulk(client: Client, action: str, form: dict[str, Any]) -> BackgroundJob:
    page = client.get(bulk_bar_forward(client, action))
    assert page.status_code == 200
    response = client.post(reverse(action), as_data(hidden_fields(page.text), **form))
    job = BackgroundJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    return job


def test_award_points_to_all_matching_users_over_the_field_limit_runs_one_job(
    admin_user: User, org: dict[str, Department]
) -> None:
    ids = learners_bulk_create(LARGE_SELECTION, department=org["care"], prefix="care")
    job = _bulk(logged_in(admin_user), "achievements:bulk_points", POINTS)
    assert job.kind == "achievements.points"
    assert job.total == LARGE_SELECTION + 1  # and the admin, who is active too
    assert set(ids) <= set(job.item_ids)


def test_grant_a_badge_to_all_matching_users_over_the_field_limit_runs_one_job(
    admin_user: User, org: dict[str, Department]
) -> None:
    ids = learners_bulk_create(LARGE_SELECTION, department=org["care"], prefix="care")
    badge = BadgeFactory()
    form = {"badge": badge.pk, "reason": "Launch team"}
    job = _bulk(logged_in(admin_user), "achievements:bulk_badge", form)
    assert job.kind == "achievements.badge_grant" and job.params["badge_id"] == badge.pk
    assert job.total == LARGE_SELECTION + 1
    assert set(ids) <= set(job.item_ids)


def test_a_department_admins_large_selection_reaches_only_their_subtree(
    sales_admin: User, org: dict[str, Department]
) -> None:
    inside = learners_bulk_create(LARGE_SELECTION, department=org["active_sales"], prefix="in")
    outside = learners_bulk_create(200, department=org["hr"], prefix="out")
    job = _bulk(logged_in(sales_admin), "achievements:bulk_points", POINTS)
    assert not set(outside) & set(job.item_ids)
    assert set(job.item_ids) == {*inside, sales_admin.pk}


def test_another_admins_selection_selects_nobody(
    admin_user: User, org: dict[str, Department]
) -> None:
    learners_bulk_create(150, department=org["care"], prefix="care")
    location = bulk_bar_forward(logged_in(admin_user), "achievements:bulk_points")
    other = logged_in(super_admin(username="other-admin"))
    page = other.get(location)
    assert "0 users selected" in page.text
    assert "None of the selected users is one you may manage." in page.text
    token = QueryDict(location.partition("?")[2])["selection"]
    posted = other.post(reverse("achievements:bulk_points"), {"selection": token, **POINTS})
    assert posted.status_code == 302 and posted["Location"] == reverse("users:list")
    assert not BackgroundJob.objects.exists() and not PointsEntry.objects.exists()


def test_a_department_admins_selection_is_still_scoped_when_it_is_used(
    sales_admin: User, learner_user: User, outsider: User
) -> None:
    """Someone may have left the admin's subtree since the selection was made."""
    selection = user_selection_create(actor=sales_admin, user_ids=[learner_user.pk, outsider.pk])
    client = logged_in(sales_admin)
    page = client.get(reverse("achievements:bulk_points"), {"selection": selection.token})
    assert "1 user selected" in page.text and "Harry Evans" not in page.text
    assert hidden_fields(page.text) == [("selection", selection.token)]
    client.post(reverse("achievements:bulk_points"), {"selection": selection.token, **POINTS})
    assert list(PointsEntry.objects.values_list("user_id", flat=True)) == [learner_user.pk]
