"""The Progress, Access and Engagement tabs of a learner in many courses: each shows one page
of courses, in queries that do not grow with them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from progress.models import Activity, Course
from progress.services import activity_time_record, progress_mark_complete
from progress.tests.factories import course_with, enroll
from users.models import User

K = Activity.Kind
pytestmark = pytest.mark.django_db


def _courses(user: User, admin: User, count: int) -> list[Course]:
    """`count` courses ("C 00", "C 01", ... in title order) of three activities over
    two modules, the user enrolled in each with the first activity marked complete."""
    courses = []
    for n in range(count):
        course, activities = course_with(
            K.LESSON, K.LESSON, K.LESSON, modules=2, title=f"C {n:02d}"
        )
        enroll(user, course)
        progress_mark_complete(users=[user], course=course, activities=activities[:1], actor=admin)
        courses.append(course)
    return courses


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_progress_tab_shows_ten_courses_a_page(admin_user: User, learner_user: User) -> None:
    courses = _courses(learner_user, admin_user, 12)
    client = _client(admin_user)
    url = reverse("progress:user_progress", args=[learner_user.pk])
    first = client.get(url)
    assert [cp.course for cp in first.context["courses"]] == courses[:10]
    assert first.text.count('data-testid="course-progress"') == 10
    assert "Courses 1-10 of 12" in first.text
    second = client.get(url, {"page": 2})
    assert [cp.course for cp in second.context["courses"]] == courses[10:]
    progress = second.context["courses"][0]
    assert len(progress.rows) == 3 and progress.percent == 33  # one of three done


def test_access_tab_shows_25_courses_a_page(admin_user: User, learner_user: User) -> None:
    courses = _courses(learner_user, admin_user, 27)
    client = _client(admin_user)
    url = reverse("progress:user_access", args=[learner_user.pk])
    first = client.get(url)
    assert [e.course for e in first.context["enrollments"]] == courses[:25]
    assert (
        first.context["enrollments"][0].required_done,
        first.context["enrollments"][0].required_total,
    ) == (1, 3)
    assert "1-25 of 27" in first.text
    second = client.get(url, {"page": 2})
    assert [e.course for e in second.context["enrollments"]] == courses[25:]


def test_access_tab_offers_only_courses_the_user_is_not_enrolled_in(
    admin_user: User, learner_user: User
) -> None:
    enrolled = _courses(learner_user, admin_user, 2)
    other, _ = course_with(K.LESSON, title="Not yet")
    response = _client(admin_user).get(reverse("progress:user_access", args=[learner_user.pk]))
    offered = list(response.context["add_form"].fields["course"].queryset)
    assert other in offered and not set(enrolled) & set(offered)


def test_adding_a_course_the_user_already_has_keeps_the_services_message(
    admin_user: User, learner_user: User
) -> None:
    (course,) = _courses(learner_user, admin_user, 1)
    response = _client(admin_user).post(
        reverse("progress:user_access", args=[learner_user.pk]), {"course": course.pk}
    )
    assert "already has access" in response.text


def test_engagement_tab_pages_the_courses_and_totals_all_their_time(
    admin_user: User, learner_user: User
) -> None:
    courses = _courses(learner_user, admin_user, 27)
    for course in courses:
        activity = Activity.objects.filter(module__course=course).order_by("pk").first()
        assert activity is not None
        activity_time_record(user=learner_user, activity=activity, seconds=60)
    dropped, _ = course_with(K.LESSON, title="Left")
    activity_time_record(
        user=learner_user, activity=dropped.modules.get().activities.get(), seconds=60
    )
    client = _client(admin_user)
    url = reverse("progress:user_engagement", args=[learner_user.pk])
    first = client.get(url)
    assert [e.course for e in first.context["enrollments"]] == courses[:25]
    assert first.context["total_seconds"] == 27 * 60  # not the course they are not enrolled in
    assert [e.course for e in client.get(url, {"page": 2}).context["enrollments"]] == courses[25:]


@pytest.mark.parametrize(
    "name", ["progress:user_progress", "progress:user_access", "progress:user_engagement"]
)
def test_tab_queries_do_not_grow_with_enrollments(
    name: str,
    admin_user: User,
    learner_user: User,
    outsider: User,
) -> None:
    _courses(learner_user, admin_user, 2)
    _courses(outsider, admin_user, 30)
    client = _client(admin_user)
    client.get(reverse(name, args=[learner_user.pk]))  # warm the session and content types
    few = _queries(client, reverse(name, args=[learner_user.pk]))
    many = _queries(client, reverse(name, args=[outsider.pk]))
    last_page = _queries(client, reverse(name, args=[outsider.pk]) + "?page=3")
    assert few == many == last_page
