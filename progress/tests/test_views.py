from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from lms.event_kinds import EventKind
from lms.models import BackgroundJob, Event
from progress.models import (
    Activity,
    ActivityCompletion,
    CourseCompletion,
    Enrollment,
    ExamAttempt,
)
from progress.services import exam_submit, progress_mark_complete
from progress.tests.factories import ExternalTrainingFactory, course_with, enroll
from users.models import User
from users.tests.factories import learner

K = Activity.Kind
pytestmark = pytest.mark.django_db

TABS = [
    "progress:user_progress",
    "progress:user_access",
    "progress:user_activity",
    "progress:user_engagement",
    "progress:user_transcript",
    "progress:user_progress_update",
    "progress:user_progress_reset",
]


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- permissions per role --------------------------------------------------------------------


@pytest.mark.parametrize("name", TABS)
def test_super_admin_sees_every_tab(name: str, admin_user: User, learner_user: User) -> None:
    assert _client(admin_user).get(reverse(name, args=[learner_user.pk])).status_code == 200


@pytest.mark.parametrize("name", TABS)
def test_customer_service_sees_every_tab(name: str, support_user: User, learner_user: User) -> None:
    assert _client(support_user).get(reverse(name, args=[learner_user.pk])).status_code == 200


@pytest.mark.parametrize("name", TABS)
def test_department_admin_sees_tabs_of_users_in_scope(
    name: str, sales_admin: User, learner_user: User
) -> None:
    assert _client(sales_admin).get(reverse(name, args=[learner_user.pk])).status_code == 200


@pytest.mark.parametrize("name", TABS)
def test_department_admin_gets_404_outside_scope(
    name: str, sales_admin: User, outsider: User
) -> None:
    assert _client(sales_admin).get(reverse(name, args=[outsider.pk])).status_code == 404


@pytest.mark.parametrize("name", TABS)
def test_learner_gets_403_on_the_user_record(name: str, learner_user: User, outsider: User) -> None:
    assert _client(learner_user).get(reverse(name, args=[outsider.pk])).status_code == 403


@pytest.mark.parametrize("name", [*TABS, "progress:my_courses", "progress:my_transcript"])
def test_anonymous_goes_to_login(name: str, learner_user: User) -> None:
    url = (
        reverse(name, args=[learner_user.pk]) if name.startswith("progress:user") else reverse(name)
    )
    response = Client().get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_learner_gets_403_on_course_list_and_bulk(learner_user: User) -> None:
    client = _client(learner_user)
    assert client.get(reverse("progress:course_list")).status_code == 403
    url = reverse("progress:bulk_update_progress") + f"?user_ids={learner_user.pk}"
    assert client.get(url).status_code == 403


def test_department_admin_cannot_mark_complete_outside_scope(
    sales_admin: User, outsider: User
) -> None:
    course, _ = course_with(K.LESSON)
    enroll(outsider, course)
    response = _client(sales_admin).post(
        reverse("progress:user_progress_update", args=[outsider.pk]),
        {"course": course.pk, "scope": "entire"},
    )
    assert response.status_code == 404
    assert not ActivityCompletion.objects.exists()


# --- update / reset progress from the user record --------------------------------------------


def test_update_progress_marks_chosen_activities_and_shows_manual_label(
    admin_user: User, learner_user: User
) -> None:
    course, acts = course_with(K.LESSON, K.EXAM, K.LESSON)
    enroll(learner_user, course)
    client = _client(admin_user)
    response = client.post(
        reverse("progress:user_progress_update", args=[learner_user.pk]),
        {"course": course.pk, "scope": "activities", "activities": [acts[0].pk, acts[1].pk]},
        follow=True,
    )
    assert "Marked 2 activities complete" in response.content.decode()
    assert ActivityCompletion.objects.filter(user=learner_user, is_manual=True).count() == 2
    page = client.get(reverse("progress:user_progress", args=[learner_user.pk])).content.decode()
    assert page.count('data-testid="manual-label"') == 2


def test_update_progress_form_shows_the_activities_of_the_chosen_course(
    admin_user: User, learner_user: User
) -> None:
    course, acts = course_with(K.LESSON, K.EXAM)
    _, foreign = course_with(K.VIDEO)
    url = reverse("progress:user_progress_update", args=[learner_user.pk])
    client = _client(admin_user)
    assert 'data-testid="course-pick"' in client.get(url).content.decode()
    page = client.get(url, {"course": course.pk}).content.decode()
    assert acts[1].title in page and foreign[0].title not in page


def test_update_progress_for_unenrolled_user_is_refused_with_a_message(
    admin_user: User, learner_user: User
) -> None:
    course, _ = course_with(K.LESSON)
    response = _client(admin_user).post(
        reverse("progress:user_progress_update", args=[learner_user.pk]),
        {"course": course.pk, "scope": "entire"},
    )
    assert response.status_code == 200
    assert "is not enrolled" in response.content.decode()
    assert not ActivityCompletion.objects.exists() and not Enrollment.objects.exists()


def test_update_progress_with_activities_of_another_course_is_refused(
    admin_user: User, learner_user: User
) -> None:
    course, _ = course_with(K.LESSON)
    _, foreign = course_with(K.LESSON)
    enroll(learner_user, course)
    response = _client(admin_user).post(
        reverse("progress:user_progress_update", args=[learner_user.pk]),
        {"course": course.pk, "scope": "activities", "activities": [foreign[0].pk]},
    )
    assert response.status_code == 200
    assert "is not part of this course" in response.content.decode()
    assert not ActivityCompletion.objects.exists()


def test_update_progress_with_empty_activity_selection_is_refused(
    admin_user: User, learner_user: User
) -> None:
    course, _ = course_with(K.LESSON)
    enroll(learner_user, course)
    response = _client(admin_user).post(
        reverse("progress:user_progress_update", args=[learner_user.pk]),
        {"course": course.pk, "scope": "activities"},
    )
    assert "Choose at least one activity" in response.content.decode()
    assert not ActivityCompletion.objects.exists()


def test_reset_progress_from_the_record(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON)
    enroll(learner_user, course)
    progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    response = _client(admin_user).post(
        reverse("progress:user_progress_reset", args=[learner_user.pk]),
        {"course": course.pk, "scope": "entire"},
        follow=True,
    )
    assert "was reset" in response.content.decode()
    assert not ActivityCompletion.objects.exists() and not CourseCompletion.objects.exists()


def test_reset_course_without_progress_says_so_and_changes_nothing(
    admin_user: User, learner_user: User
) -> None:
    course, _ = course_with(K.LESSON)
    enroll(learner_user, course)
    events = Event.objects.count()
    response = _client(admin_user).post(
        reverse("progress:user_progress_reset", args=[learner_user.pk]),
        {"course": course.pk, "scope": "entire"},
    )
    assert "has no progress to reset" in response.content.decode()
    assert Event.objects.count() == events


# --- bulk --------------------------------------------------------------------------------------


def test_bulk_update_get_lists_selected_users_in_scope_only(
    sales_admin: User, learner_user: User, outsider: User
) -> None:
    url = reverse("progress:bulk_update_progress")
    page = (
        _client(sales_admin).get(url, {"user_ids": [learner_user.pk, outsider.pk]}).content.decode()
    )
    assert "for 1 user" in page and "Anna" in page and "Harry" not in page


def test_bulk_update_inline_completes_for_each_user_with_summary(admin_user: User) -> None:
    course, acts = course_with(K.LESSON, K.LESSON)
    users = [learner() for _ in range(5)]
    for user in users:
        enroll(user, course)
    progress_mark_complete(users=users[:1], course=course, activities=acts[:1], actor=admin_user)
    response = _client(admin_user).post(
        reverse("progress:bulk_update_progress"),
        {
            "user_ids": [u.pk for u in users],
            "course": course.pk,
            "scope": "activities",
            "activities": [acts[0].pk],
        },
        follow=True,
    )
    text = response.content.decode()
    assert "4 activity completions recorded for 4 learners" in text
    assert "Skipped because already complete: “" in text and "” for 1 learner." in text
    assert "1 learner had every chosen activity complete already" in text
    assert ActivityCompletion.objects.count() == 5


def test_bulk_reset_inline(admin_user: User) -> None:
    course, _ = course_with(K.LESSON)
    users = [learner() for _ in range(3)]
    for user in users:
        enroll(user, course)
    progress_mark_complete(users=users, course=course, actor=admin_user)
    _client(admin_user).post(
        reverse("progress:bulk_reset_progress"),
        {"user_ids": [u.pk for u in users], "course": course.pk, "scope": "entire"},
    )
    assert not ActivityCompletion.objects.exists()
    assert Event.objects.filter(kind=EventKind.PROGRESS_RESET).count() == 3


@override_settings(MERIT_BULK_JOB_THRESHOLD=3)
def test_bulk_update_over_threshold_redirects_to_the_job(admin_user: User) -> None:
    course, _ = course_with(K.LESSON)
    users = [learner() for _ in range(4)]
    response = _client(admin_user).post(
        reverse("progress:bulk_update_progress"),
        {"user_ids": [u.pk for u in users], "course": course.pk, "scope": "entire"},
    )
    job = BackgroundJob.objects.get()
    assert response["Location"] == job.get_absolute_url()
    assert job.params["course_id"] == course.pk and job.total == 4


def test_bulk_update_without_users_goes_back_to_the_list(admin_user: User) -> None:
    response = _client(admin_user).get(reverse("progress:bulk_update_progress"))
    assert response.status_code == 302


# --- access, activity, transcript ----------------------------------------------------------


def test_add_access_with_expiry_and_remove(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON)
    client = _client(admin_user)
    client.post(
        reverse("progress:user_access", args=[learner_user.pk]),
        {"course": course.pk, "expires_on": "2099-01-31"},
    )
    enrollment = Enrollment.objects.get(user=learner_user)
    assert enrollment.expires_at is not None and enrollment.expires_at.year == 2099
    client.post(
        reverse("progress:user_access_change", args=[learner_user.pk, "course", enrollment.pk]),
        {"action": "expiry", "expires_on": ""},
    )
    enrollment.refresh_from_db()
    assert enrollment.expires_at is None
    client.post(
        reverse("progress:user_access_change", args=[learner_user.pk, "course", enrollment.pk]),
        {"action": "remove"},
    )
    assert not Enrollment.objects.exists()
    kinds = list(Event.objects.filter(subject=learner_user).values_list("kind", flat=True))
    assert sorted(kinds) == sorted(
        [EventKind.ENROLLED, EventKind.ACCESS_CHANGED, EventKind.UNENROLLED]
    )


def test_add_access_in_the_past_is_refused(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON)
    response = _client(admin_user).post(
        reverse("progress:user_access", args=[learner_user.pk]),
        {"course": course.pk, "expires_on": "2001-01-01"},
    )
    assert "cannot be in the past" in response.content.decode()
    assert not Enrollment.objects.exists()


def test_forgive_attempt_from_the_activity_tab(admin_user: User, learner_user: User) -> None:
    course, acts = course_with(K.EXAM)
    enroll(learner_user, course)
    attempt = exam_submit(user=learner_user, activity=acts[0], answers={})
    _client(admin_user).post(
        reverse("progress:attempt_forgive", args=[learner_user.pk, attempt.pk])
    )
    attempt.refresh_from_db()
    assert attempt.forgiven_at is not None and attempt.forgiven_by == admin_user


def test_transcript_csv_neutralises_formulas(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON, title='=HYPERLINK("http://evil")')
    enroll(learner_user, course)
    progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    response = _client(admin_user).get(
        reverse("progress:user_transcript", args=[learner_user.pk]), {"format": "csv"}
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["Type", "Title", "Completed", "Score"]
    assert rows[1][1].startswith("'=")


def test_transcript_pdf_is_a_pdf(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON)
    enroll(learner_user, course)
    progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    response = _client(admin_user).get(
        reverse("progress:user_transcript", args=[learner_user.pk]), {"format": "pdf"}
    )
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_transcript_print_view_lists_completed_course(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON)
    enroll(learner_user, course)
    progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    page = _client(admin_user).get(
        reverse("progress:user_transcript", args=[learner_user.pk]), {"format": "print"}
    )
    assert course.title in page.content.decode()


def test_learner_downloads_own_transcript(learner_user: User) -> None:
    response = _client(learner_user).get(reverse("progress:my_transcript"), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"


def test_record_external_training_from_transcript(admin_user: User, learner_user: User) -> None:
    training = ExternalTrainingFactory(title="Forklift safety workshop")
    _client(admin_user).post(
        reverse("progress:user_transcript", args=[learner_user.pk]),
        {"training": training.pk, "completed_on": "2026-01-15"},
    )
    page = _client(admin_user).get(reverse("progress:user_transcript", args=[learner_user.pk]))
    assert "Forklift safety workshop" in page.content.decode()


# --- the learner's player ----------------------------------------------------------------


def test_learner_completes_a_lesson_with_time_spent(learner_user: User) -> None:
    course, acts = course_with(K.LESSON)
    enroll(learner_user, course)
    client = _client(learner_user)
    client.post(reverse("progress:player_activity", args=[acts[0].pk]), {"seconds": "95"})
    completion = ActivityCompletion.objects.get(user=learner_user)
    assert not completion.is_manual
    page = client.get(reverse("progress:player_course", args=[course.pk])).content.decode()
    assert "1 min" in page and "100% complete" in page


def test_learner_takes_an_exam_and_sees_score_and_attempts_left(learner_user: User) -> None:
    course, acts = course_with(K.EXAM)
    enroll(learner_user, course)
    client = _client(learner_user)
    response = client.post(
        reverse("progress:player_activity", args=[acts[0].pk]),
        {"q_q1": "1", "q_q2": "0"},
        follow=True,
    )
    text = response.content.decode()
    assert "You scored 0%" in text and "1 of 2 attempts left" in text
    assert ExamAttempt.objects.get().passed is False


def test_locked_activity_shows_the_reason(learner_user: User) -> None:
    course, acts = course_with(K.LESSON, K.LESSON, sequential=True)
    enroll(learner_user, course)
    page = _client(learner_user).get(reverse("progress:player_course", args=[course.pk]))
    assert f"Locked: Complete “{acts[0].title}” first." in page.content.decode()


def test_learner_cannot_open_a_course_they_are_not_enrolled_in(learner_user: User) -> None:
    course, acts = course_with(K.LESSON)
    client = _client(learner_user)
    assert client.get(reverse("progress:player_course", args=[course.pk])).status_code == 404
    assert client.get(reverse("progress:player_activity", args=[acts[0].pk])).status_code == 404
    assert client.post(reverse("progress:activity_time", args=[acts[0].pk])).status_code == 404


def test_time_beacon_adds_time(learner_user: User) -> None:
    course, acts = course_with(K.LESSON)
    enroll(learner_user, course)
    response = _client(learner_user).post(
        reverse("progress:activity_time", args=[acts[0].pk]), {"seconds": "30"}
    )
    assert response.status_code == 204


# --- query counts: the same for few and many rows -----------------------------------------


def _fill(user: User, admin: User, courses: int) -> None:
    for _ in range(courses):
        course, acts = course_with(K.LESSON, K.EXAM, K.LESSON, modules=2)
        enroll(user, course)
        progress_mark_complete(users=[user], course=course, activities=acts[:2], actor=admin)
        exam_submit(user=user, activity=acts[1], answers={"q1": "0", "q2": "1"})


def _count(client: Client, url: str, django_assert_num_queries: object) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "name",
    [
        "progress:user_progress",
        "progress:user_access",
        "progress:user_activity",
        "progress:user_engagement",
        "progress:user_transcript",
    ],
)
def test_record_tab_query_count_does_not_grow(
    name: str, admin_user: User, learner_user: User, outsider: User, django_assert_num_queries
) -> None:
    _fill(learner_user, admin_user, 1)
    _fill(outsider, admin_user, 4)
    client = _client(admin_user)
    few = _count(client, reverse(name, args=[learner_user.pk]), django_assert_num_queries)
    many = _count(client, reverse(name, args=[outsider.pk]), django_assert_num_queries)
    assert few == many


def test_learner_pages_query_count_does_not_grow(
    admin_user: User, learner_user: User, outsider: User, django_assert_num_queries
) -> None:
    _fill(learner_user, admin_user, 1)
    _fill(outsider, admin_user, 4)
    for name in ("progress:my_courses", "progress:my_transcript"):
        few = _count(_client(learner_user), reverse(name), django_assert_num_queries)
        many = _count(_client(outsider), reverse(name), django_assert_num_queries)
        assert few == many, name


def test_course_list_query_count_does_not_grow(admin_user: User, django_assert_num_queries) -> None:
    course_with(K.LESSON)
    client = _client(admin_user)
    client.get(reverse("progress:course_list"))
    few = _count(client, reverse("progress:course_list"), django_assert_num_queries)
    for _ in range(5):
        course_with(K.LESSON, K.EXAM, modules=2)
    many = _count(client, reverse("progress:course_list"), django_assert_num_queries)
    assert few == many


def test_course_detail_shows_outline(admin_user: User) -> None:
    course, acts = course_with(K.LESSON, K.EXAM)
    page = _client(admin_user).get(reverse("progress:course_detail", args=[course.pk]))
    assert acts[1].title in page.content.decode() and "Pass mark 50%" in page.content.decode()


def test_transcript_lists_certifications_with_dates(admin_user: User, learner_user: User) -> None:
    from certifications.services import certification_award
    from certifications.tests.factories import CertificationFactory

    certification = CertificationFactory(title="Sales Excellence")
    certification_award(
        certification=certification,
        users=[learner_user],
        issued_on=date(2026, 3, 2),
        actor=admin_user,
    )
    client = _client(admin_user)
    page = client.get(reverse("progress:user_transcript", args=[learner_user.pk])).content.decode()
    assert "Sales Excellence" in page and "Mar 2, 2026" in page
    rows = list(
        csv.reader(
            io.StringIO(
                client.get(
                    reverse("progress:user_transcript", args=[learner_user.pk]), {"format": "csv"}
                ).content.decode()
            )
        )
    )
    assert ["Certification", "Sales Excellence", "2026-03-02", ""] in rows


def test_department_admin_course_counts_cover_their_users_only(
    sales_admin: User, admin_user: User, learner_user: User, outsider: User
) -> None:
    course, _ = course_with(K.LESSON)
    enroll(learner_user, course)
    enroll(outsider, course)
    own = _client(sales_admin).get(reverse("progress:course_detail", args=[course.pk]))
    everyone = _client(admin_user).get(reverse("progress:course_detail", args=[course.pk]))
    assert "1 enrolled" in own.content.decode()
    assert "2 enrolled" in everyone.content.decode()


def test_course_detail_lists_learners_in_scope_with_constant_queries(
    sales_admin: User, org: dict, outsider: User, django_assert_num_queries
) -> None:
    course, _ = course_with(K.LESSON, K.LESSON)
    client = _client(sales_admin)
    url = reverse("progress:course_detail", args=[course.pk])
    first = learner(departments=[org["sales"]], first_name="Zed")
    enroll(first, course)
    enroll(outsider, course)
    few = _count(client, url, django_assert_num_queries)
    for _ in range(4):
        enroll(learner(departments=[org["active_sales"]]), course)
    many = _count(client, url, django_assert_num_queries)
    page = client.get(url).content.decode()
    assert few == many
    assert "Zed" in page and "Harry" not in page and "5 enrolled in your departments" in page


def test_access_change_of_another_users_enrollment_is_404(
    admin_user: User, learner_user: User, outsider: User
) -> None:
    course, _ = course_with(K.LESSON)
    enrollment = enroll(outsider, course)
    client = _client(admin_user)
    url = reverse("progress:user_access_change", args=[learner_user.pk, "course", enrollment.pk])
    assert client.post(url, {"action": "remove"}).status_code == 404
    bad_kind = reverse("progress:user_access_change", args=[outsider.pk, "badge", enrollment.pk])
    assert client.post(bad_kind, {"action": "remove"}).status_code == 404
    assert Enrollment.objects.filter(pk=enrollment.pk).exists()


def test_plan_access_enrolls_in_each_course_of_the_plan(
    admin_user: User, learner_user: User
) -> None:
    from progress.models import LearningPlanCourse
    from progress.tests.factories import LearningPlanFactory

    plan = LearningPlanFactory()
    first, _ = course_with(K.LESSON)
    second, _ = course_with(K.LESSON)
    LearningPlanCourse.objects.create(plan=plan, course=first, position=0)
    LearningPlanCourse.objects.create(plan=plan, course=second, position=1)
    _client(admin_user).post(
        reverse("progress:user_access", args=[learner_user.pk]), {"plan": plan.pk}
    )
    assert set(
        Enrollment.objects.filter(user=learner_user).values_list("course_id", flat=True)
    ) == {
        first.pk,
        second.pk,
    }


def test_my_courses_shows_learning_plan_with_completed_steps(
    admin_user: User, learner_user: User
) -> None:
    from progress.models import LearningPlanCourse
    from progress.services import plan_enrollment_create
    from progress.tests.factories import LearningPlanFactory

    plan = LearningPlanFactory(title="Sales Starter Path")
    first, _ = course_with(K.LESSON, title="Onboarding")
    second, _ = course_with(K.LESSON, title="Car Sale Dialog")
    LearningPlanCourse.objects.create(plan=plan, course=first, position=0)
    LearningPlanCourse.objects.create(plan=plan, course=second, position=1)
    plan_enrollment_create(user=learner_user, plan=plan, actor=admin_user)
    progress_mark_complete(users=[learner_user], course=first, actor=admin_user)
    page = _client(learner_user).get(reverse("progress:my_courses")).content.decode()
    assert "Sales Starter Path" in page and "50%" in page
