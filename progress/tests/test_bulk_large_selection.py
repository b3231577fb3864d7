"""Enroll, Update progress and Reset progress for "all matching" users of the users list, over
more users than a request may carry as fields (Django's DATA_UPLOAD_MAX_NUMBER_FIELDS): the
selection travels as one server-side token, and the POST starts one background job over all."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from lms.models import BackgroundJob
from progress.models import Activity, Enrollment
from progress.tests.factories import course_with
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


def _enroll(client: Client, course_pk: int) -> BackgroundJob:
    page = client.get(bulk_bar_forward(client, "progress:bulk_enroll"))
    assert page.status_code == 200
    fields = hidden_fields(page.text)
    response = client.post(reverse("progress:bulk_enroll"), as_data(fields, course=course_pk))
    job = BackgroundJob.objects.get(kind="progress.enroll")
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    return job


def _change(client: Client, action: str, course_pk: int) -> BackgroundJob:
    """Step one (the course, a GET form) and step two (the entire course, a POST)."""
    url = reverse(action)
    step_one = client.get(bulk_bar_forward(client, action))
    assert step_one.status_code == 200
    step_two = client.get(url, as_data(hidden_fields(step_one.text), course=course_pk))
    assert step_two.status_code == 200
    fields = hidden_fields(step_two.text)
    response = client.post(url, as_data(fields, scope="entire", enroll_missing="on"))
    job = BackgroundJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    return job


def test_enroll_all_matching_users_over_the_field_limit_runs_one_job(
    admin_user: User, org: dict[str, Department]
) -> None:
    ids = learners_bulk_create(LARGE_SELECTION, department=org["care"], prefix="care")
    course, _ = course_with(Activity.Kind.LESSON)
    job = _enroll(logged_in(admin_user), course.pk)
    assert job.total == LARGE_SELECTION + 1  # and the admin, who is active too
    assert set(ids) <= set(job.item_ids)


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        ("progress:bulk_update_progress", "progress.mark_complete"),
        ("progress:bulk_reset_progress", "progress.reset"),
    ],
)
def test_update_and_reset_progress_of_all_matching_users_over_the_field_limit_run_one_job(
    admin_user: User, org: dict[str, Department], action: str, kind: str
) -> None:
    ids = learners_bulk_create(LARGE_SELECTION, department=org["care"], prefix="care")
    course, _ = course_with(Activity.Kind.LESSON)
    job = _change(logged_in(admin_user), action, course.pk)
    assert job.kind == kind and job.params["course_id"] == course.pk
    assert job.total == LARGE_SELECTION + 1
    assert set(ids) <= set(job.item_ids)


def test_a_department_admins_large_selection_reaches_only_their_subtree(
    sales_admin: User, org: dict[str, Department]
) -> None:
    inside = learners_bulk_create(LARGE_SELECTION, department=org["active_sales"], prefix="in")
    outside = learners_bulk_create(200, department=org["hr"], prefix="out")
    course, _ = course_with(Activity.Kind.LESSON)
    job = _enroll(logged_in(sales_admin), course.pk)
    assert set(inside) <= set(job.item_ids)
    assert not set(outside) & set(job.item_ids)
    assert set(job.item_ids) == {*inside, sales_admin.pk}


@pytest.mark.parametrize(
    "action",
    ["progress:bulk_enroll", "progress:bulk_update_progress", "progress:bulk_reset_progress"],
)
def test_another_admins_selection_selects_nobody(
    admin_user: User, org: dict[str, Department], action: str
) -> None:
    learners_bulk_create(150, department=org["care"], prefix="care")
    location = bulk_bar_forward(logged_in(admin_user), action)
    other = logged_in(super_admin(username="other-admin"))
    page = other.get(location, follow=True)
    assert page.redirect_chain == [(reverse("users:list"), 302)]
    assert "Select at least one user in the list first." in page.text
    course, _ = course_with(Activity.Kind.LESSON)
    token = QueryDict(location.partition("?")[2])["selection"]
    posted = other.post(
        reverse(action), {"selection": token, "course": course.pk, "scope": "entire"}
    )
    assert posted.status_code == 302 and posted["Location"] == reverse("users:list")
    assert not BackgroundJob.objects.exists() and not Enrollment.objects.exists()


def test_a_department_admins_selection_is_still_scoped_when_it_is_used(
    sales_admin: User, learner_user: User, outsider: User
) -> None:
    """Someone may have left the admin's subtree since the selection was made."""
    selection = user_selection_create(actor=sales_admin, user_ids=[learner_user.pk, outsider.pk])
    course, _ = course_with(Activity.Kind.LESSON)
    client = logged_in(sales_admin)
    page = client.get(reverse("progress:bulk_enroll"), {"selection": selection.token})
    assert "Enroll 1 user in a course" in page.text
    assert hidden_fields(page.text) == [("selection", selection.token)]
    client.post(
        reverse("progress:bulk_enroll"), {"selection": selection.token, "course": course.pk}
    )
    assert list(Enrollment.objects.values_list("user_id", flat=True)) == [learner_user.pk]
