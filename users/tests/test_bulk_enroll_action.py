"""The users list's "Enroll in course" bulk action, from the bar to the enrollments."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from progress.models import Enrollment
from progress.tests.factories import course_with
from users.models import Department, User

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_bulk_bar_offers_enroll_in_course(admin_user: User) -> None:
    html = _client(admin_user).get(reverse("users:list")).content.decode()
    assert re.search(
        r'<button[^>]*name="action" value="progress:bulk_enroll"[^>]*>'
        r'<i class="bi bi-person-plus" aria-hidden="true"></i> Enroll in course</button>',
        html,
    )


def test_enroll_in_course_from_the_bulk_bar_enrolls_the_picked_users(
    admin_user: User, learner_user: User, outsider: User
) -> None:
    course, _ = course_with("lesson", title="Car Sale Dialog")
    client = _client(admin_user)
    forwarded = client.get(
        reverse("users:bulk"),
        {"action": "progress:bulk_enroll", "user_ids": [learner_user.pk, outsider.pk]},
    )
    assert forwarded.status_code == 302
    assert forwarded["Location"].startswith(reverse("progress:bulk_enroll") + "?user_ids=")
    form_page = client.get(forwarded["Location"])
    assert form_page.status_code == 200
    html = form_page.content.decode()
    assert "Enroll 2 users in a course" in html
    posted_ids = [int(pk) for pk in re.findall(r'name="user_ids" value="(\d+)"', html)]
    assert sorted(posted_ids) == sorted([learner_user.pk, outsider.pk])

    done = client.post(
        reverse("progress:bulk_enroll"), {"user_ids": posted_ids, "course": course.pk}, follow=True
    )
    assert "2 enrolled" in done.content.decode()
    assert set(Enrollment.objects.filter(course=course).values_list("user_id", flat=True)) == {
        learner_user.pk,
        outsider.pk,
    }


def test_enroll_in_course_for_all_matching_users_keeps_a_department_admin_in_scope(
    sales_admin: User, learner_user: User, outsider: User, org: dict[str, Department]
) -> None:
    course, _ = course_with("lesson")
    client = _client(sales_admin)
    forwarded = client.get(
        reverse("users:bulk"), {"action": "progress:bulk_enroll", "all_matching": "1"}
    )
    assert forwarded["Location"].startswith(reverse("progress:bulk_enroll") + "?user_ids=")
    form_page = client.get(forwarded["Location"])
    posted_ids = [int(pk) for pk in re.findall(r'name="user_ids" value="(\d+)"', form_page.text)]
    assert learner_user.pk in posted_ids and outsider.pk not in posted_ids
    client.post(reverse("progress:bulk_enroll"), {"user_ids": posted_ids, "course": course.pk})
    enrolled = set(Enrollment.objects.filter(course=course).values_list("user_id", flat=True))
    assert learner_user.pk in enrolled and outsider.pk not in enrolled
