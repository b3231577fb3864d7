from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from lms.models import BackgroundJob
from progress.models import Activity, CourseCompletion, Enrollment
from progress.services import ProgressError, enrollments_create
from progress.tests.factories import course_with, enroll
from users.models import User
from users.tests.factories import learner

K = Activity.Kind
pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("users.csv", text.encode(), content_type="text/csv")


def test_enrollments_create_skips_the_already_enrolled(
    admin_user: User, learner_user: User, outsider: User
) -> None:
    course, _ = course_with(K.LESSON)
    enroll(learner_user, course)
    result = enrollments_create(
        course=course, actor=admin_user, user_ids=[learner_user.pk, outsider.pk]
    )
    assert result.enrolled_users == [outsider.pk]
    assert result.already_enrolled_users == [learner_user.pk]
    assert result.completion is None


def test_enrollments_create_refuses_an_empty_selection(admin_user: User) -> None:
    course, _ = course_with(K.LESSON)
    with pytest.raises(ProgressError):
        enrollments_create(course=course, actor=admin_user, user_ids=[])


def test_bulk_enroll_with_mark_complete(admin_user: User) -> None:
    course, _ = course_with(K.LESSON, K.EXAM)
    users = [learner() for _ in range(3)]
    response = _client(admin_user).post(
        reverse("progress:bulk_enroll"),
        {"user_ids": [u.pk for u in users], "course": course.pk, "mark_complete": "on"},
        follow=True,
    )
    assert "3 enrolled" in response.content.decode() and "3 completed" in response.content.decode()
    assert CourseCompletion.objects.filter(course=course).count() == 3


def test_bulk_enroll_department_admin_only_enrolls_users_in_scope(
    sales_admin: User, learner_user: User, outsider: User
) -> None:
    course, _ = course_with(K.LESSON)
    _client(sales_admin).post(
        reverse("progress:bulk_enroll"),
        {"user_ids": [learner_user.pk, outsider.pk], "course": course.pk},
    )
    assert list(Enrollment.objects.values_list("user_id", flat=True)) == [learner_user.pk]


def test_csv_enroll_by_email_and_username(
    admin_user: User, learner_user: User, outsider: User
) -> None:
    course, _ = course_with(K.LESSON)
    _client(admin_user).post(
        reverse("progress:csv_enroll"),
        {"course": course.pk, "file": _csv(f"email\n{learner_user.email.upper()}\n")},
    )
    _client(admin_user).post(
        reverse("progress:csv_enroll"),
        {"course": course.pk, "file": _csv(f"{outsider.username}\n")},
    )
    assert Enrollment.objects.filter(course=course).count() == 2


def test_csv_enroll_with_unknown_rows_enrolls_nobody(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON)
    response = _client(admin_user).post(
        reverse("progress:csv_enroll"),
        {"course": course.pk, "file": _csv(f"email\n{learner_user.email}\nnobody@example.com\n")},
    )
    assert "nobody@example.com" in response.content.decode()
    assert not Enrollment.objects.exists()


def test_csv_enroll_refuses_users_outside_the_department(sales_admin: User, outsider: User) -> None:
    course, _ = course_with(K.LESSON)
    response = _client(sales_admin).post(
        reverse("progress:csv_enroll"),
        {"course": course.pk, "file": _csv(f"username\n{outsider.username}\n")},
    )
    assert "match no user you manage" in response.content.decode()
    assert not Enrollment.objects.exists()


def test_csv_enroll_without_a_user_column_is_refused(admin_user: User) -> None:
    course, _ = course_with(K.LESSON)
    response = _client(admin_user).post(
        reverse("progress:csv_enroll"), {"course": course.pk, "file": _csv("a,b\n1,2\n")}
    )
    assert "Name a column" in response.content.decode()


@override_settings(MERIT_BULK_JOB_THRESHOLD=2)
def test_csv_enroll_over_threshold_is_a_job(admin_user: User) -> None:
    course, _ = course_with(K.LESSON)
    users = [learner() for _ in range(3)]
    text = "username\n" + "\n".join(u.username for u in users)
    response = _client(admin_user).post(
        reverse("progress:csv_enroll"),
        {"course": course.pk, "file": _csv(text), "mark_complete": "on"},
    )
    job = BackgroundJob.objects.get()
    assert response["Location"] == job.get_absolute_url()
    assert job.kind == "progress.enroll" and job.params["mark_complete"] is True


def test_learner_cannot_enroll(learner_user: User) -> None:
    assert _client(learner_user).get(reverse("progress:csv_enroll")).status_code == 403
