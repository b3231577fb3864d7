"""After Mark complete for several learners the admin reads what happened per activity and per
learner, including what was skipped and why; the picker shows which activities every
selected learner has completed already."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from lms.jobs import job_create, job_execute
from progress.models import Activity, ActivityCompletion
from progress.services import progress_mark_complete
from progress.tests.factories import course_with, enroll
from users.models import User
from users.tests.factories import learner

pytestmark = pytest.mark.django_db
K = Activity.Kind


def _course_with_lesson_and_exam() -> tuple[Any, Activity, Activity]:
    course, (lesson, exam) = course_with(K.LESSON, K.EXAM, title="Sales basics")
    module = lesson.module
    module.title = "Start"
    module.save()
    Activity.objects.filter(pk=lesson.pk).update(title="Welcome")
    Activity.objects.filter(pk=exam.pk).update(title="Final exam")
    return course, lesson, exam


def _three_learners(course: Any) -> list[User]:
    people = [learner(first_name=name, last_name="Test") for name in ("Ann", "Ben", "Cy")]
    for person in people:
        enroll(person, course)
    return people


def _mark(client: Client, people: list[User], course: Any, activities: list[Activity]) -> str:
    response = client.post(
        reverse("progress:bulk_update_progress"),
        {
            "user_ids": [p.pk for p in people],
            "course": course.pk,
            "scope": "activities",
            "activities": [a.pk for a in activities],
        },
        follow=True,
    )
    return " ".join(response.content.decode().split())


def test_the_message_counts_per_activity_and_says_what_was_skipped_and_why(
    client: Client, admin_user: User
) -> None:
    course, lesson, exam = _course_with_lesson_and_exam()
    people = _three_learners(course)
    progress_mark_complete(users=people[:1], course=course, activities=[exam], actor=admin_user)
    client.force_login(admin_user)

    text = _mark(client, people, course, [lesson, exam])

    assert (
        "Mark complete for “Sales basics”: 5 activity completions recorded for 3 learners "
        "(“Start · Welcome” for 3 learners, “Start · Final exam” for 2 learners)." in text
    )
    assert "Skipped because already complete: “Start · Final exam” for 1 learner." in text
    assert "0 errors" not in text and "0 already complete" not in text
    assert ActivityCompletion.objects.count() == 6


def test_learners_who_had_everything_are_counted_apart(client: Client, admin_user: User) -> None:
    course, lesson, _exam = _course_with_lesson_and_exam()
    people = _three_learners(course)
    progress_mark_complete(users=people[:2], course=course, activities=[lesson], actor=admin_user)
    client.force_login(admin_user)

    text = _mark(client, people, course, [lesson])

    assert "1 activity completion recorded for 1 learner (“Start · Welcome” for 1 learner)." in text
    assert "Skipped because already complete: “Start · Welcome” for 2 learners." in text
    assert "2 learners had every chosen activity complete already" in text


def test_the_picker_marks_activities_every_selected_learner_completed(
    client: Client, admin_user: User
) -> None:
    course, lesson, exam = _course_with_lesson_and_exam()
    people = _three_learners(course)
    progress_mark_complete(users=people, course=course, activities=[exam], actor=admin_user)
    progress_mark_complete(users=people[:2], course=course, activities=[lesson], actor=admin_user)
    client.force_login(admin_user)
    page = client.get(
        reverse("progress:bulk_update_progress"),
        {"user_ids": [p.pk for p in people], "course": course.pk},
    ).content.decode()
    assert "Start · Final exam (Exam) — already complete for all 3 selected" in page
    assert "Start · Welcome (Lesson) — already complete" not in page  # Cy has not
    reset_page = client.get(
        reverse("progress:bulk_reset_progress"),
        {"user_ids": [p.pk for p in people], "course": course.pk},
    ).content.decode()
    assert "already complete" not in reset_page


def test_one_learners_picker_and_message_name_what_she_has_done(
    client: Client, admin_user: User, learner_user: User
) -> None:
    course, lesson, exam = _course_with_lesson_and_exam()
    enroll(learner_user, course)
    progress_mark_complete(users=[learner_user], course=course, activities=[exam], actor=admin_user)
    client.force_login(admin_user)
    url = reverse("progress:user_progress_update", args=[learner_user.pk])
    page = client.get(url, {"course": course.pk}).content.decode()
    assert "Start · Final exam (Exam) — already complete for Anna Smith" in page
    response = client.post(
        url,
        {"course": course.pk, "scope": "activities", "activities": [lesson.pk, exam.pk]},
        follow=True,
    )
    text = " ".join(response.content.decode().split())
    assert "skipped because already complete: “Start · Final exam”" in text


@override_settings(MERIT_JOB_CHUNK_SIZE=2)
def test_a_background_runs_summary_counts_per_activity_across_chunks(admin_user: User) -> None:
    course, lesson, exam = _course_with_lesson_and_exam()
    people = _three_learners(course)
    progress_mark_complete(users=people[:1], course=course, activities=[exam], actor=admin_user)
    job = job_create(
        kind="progress.mark_complete",
        label="Mark complete",
        item_ids=[p.pk for p in people],
        actor=admin_user,
        params={"course_id": course.pk, "activity_ids": [lesson.pk, exam.pk]},
    )
    job = job_execute(job_id=job.pk)
    assert job.summary == {
        "completed": 3,
        "activity completions": 5,
        "completed: Start · Welcome": 3,
        "completed: Start · Final exam": 2,
        "skipped, already complete: Start · Final exam": 1,
    }
