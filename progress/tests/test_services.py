from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from lms.event_kinds import EventKind
from lms.models import Event
from progress.models import (
    Activity,
    ActivityCompletion,
    ActivityTime,
    CourseCompletion,
    Enrollment,
    ExamAttempt,
    LearningPlanCourse,
    ModuleCompletion,
    PlanCompletion,
)
from progress.selectors import course_progress
from progress.services import (
    ProgressError,
    activity_complete,
    activity_time_record,
    enrollment_create,
    enrollment_set_expiry,
    enrollments_create,
    exam_attempt_forgive,
    exam_submit,
    external_training_record,
    progress_mark_complete,
    progress_reset,
)
from progress.tests.factories import (
    ExternalTrainingFactory,
    LearningPlanFactory,
    course_with,
    enroll,
)
from users.models import User
from users.tests.factories import learner

K = Activity.Kind
pytestmark = pytest.mark.django_db


def _events(kind: str, **filters: object) -> int:
    return Event.objects.filter(kind=kind, **filters).count()


def _db_state() -> tuple[int, ...]:
    return (
        ActivityCompletion.objects.count(),
        ModuleCompletion.objects.count(),
        CourseCompletion.objects.count(),
        Enrollment.objects.count(),
        ExamAttempt.objects.count(),
        ActivityTime.objects.count(),
        Event.objects.count(),
    )


# --- mark complete ------------------------------------------------------------------------


def test_mark_complete_chosen_activities_records_manual_completions_by_the_admin(
    admin_user: User, learner_user: User
) -> None:
    course, acts = course_with(K.LESSON, K.LESSON, K.LESSON)
    enroll(learner_user, course)
    result = progress_mark_complete(
        users=[learner_user], course=course, activities=acts[:2], actor=admin_user
    )
    assert result.activities_completed == 2
    completions = ActivityCompletion.objects.filter(user=learner_user)
    assert {c.activity_id for c in completions} == {acts[0].pk, acts[1].pk}
    assert all(c.is_manual and c.completed_by == admin_user for c in completions)
    events = Event.objects.filter(kind=EventKind.ACTIVITY_COMPLETED, subject=learner_user)
    assert events.count() == 2 and all(e.is_manual for e in events)
    assert events.first().details == {
        "course_id": course.pk,
        "module_id": acts[0].module_id,
        "activity_kind": "lesson",
        "score": None,
    }


def test_already_completed_activity_is_skipped_and_reported(
    admin_user: User, learner_user: User
) -> None:
    course, acts = course_with(K.LESSON, K.LESSON)
    enroll(learner_user, course)
    progress_mark_complete(
        users=[learner_user], course=course, activities=acts[:1], actor=admin_user
    )
    result = progress_mark_complete(
        users=[learner_user], course=course, activities=acts[:1], actor=admin_user
    )
    assert result.activities_completed == 0 and result.activities_skipped == 1
    assert result.already_complete_users == [learner_user.pk]
    assert _events(EventKind.ACTIVITY_COMPLETED) == 1


def test_forms_exams_and_certificates_get_full_score_lessons_none(
    admin_user: User, learner_user: User
) -> None:
    course, _ = course_with(K.FORM, K.EXAM, K.CERTIFICATE, K.LESSON, K.VIDEO, K.ASSIGNMENT)
    enroll(learner_user, course)
    progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    scores = dict(
        ActivityCompletion.objects.filter(user=learner_user).values_list("activity__kind", "score")
    )
    assert scores == {
        "form": 100,
        "exam": 100,
        "certificate": 100,
        "lesson": None,
        "video": None,
        "assignment": None,
    }


def test_score_of_an_already_completed_exam_is_left_alone(
    admin_user: User, learner_user: User
) -> None:
    course, acts = course_with(K.EXAM, K.LESSON)
    enroll(learner_user, course)
    exam_submit(user=learner_user, activity=acts[0], answers={"q1": "0", "q2": "0"})
    progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    assert ActivityCompletion.objects.get(activity=acts[0]).score == 50


def test_mark_complete_does_not_change_recorded_time(admin_user: User, learner_user: User) -> None:
    course, acts = course_with(K.LESSON)
    enroll(learner_user, course)
    activity_time_record(user=learner_user, activity=acts[0], seconds=300)
    progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    assert ActivityTime.objects.get(user=learner_user).seconds == 300


def test_locked_activity_can_be_marked_complete_and_stays_locked(
    admin_user: User, learner_user: User
) -> None:
    course, acts = course_with(K.LESSON, K.LESSON)
    Activity.objects.filter(pk=acts[1].pk).update(drip_days=10)
    enroll(learner_user, course)
    progress_mark_complete(
        users=[learner_user], course=course, activities=[acts[1]], actor=admin_user
    )
    assert ActivityCompletion.objects.filter(activity=acts[1]).exists()
    rows = {r.activity.pk: r for r in course_progress(user=learner_user, course=course).rows}
    assert rows[acts[1].pk].lock_reason and rows[acts[1].pk].lock_reason.startswith("Opens on")


def test_last_required_activity_completes_module_and_course_once(
    admin_user: User, learner_user: User
) -> None:
    course, acts = course_with(K.LESSON, K.LESSON, K.LESSON, modules=2)
    Activity.objects.filter(pk=acts[2].pk).update(is_required=False)
    enroll(learner_user, course)
    progress_mark_complete(
        users=[learner_user], course=course, activities=acts[:1], actor=admin_user
    )
    assert _events(EventKind.COURSE_COMPLETED) == 0
    progress_mark_complete(
        users=[learner_user], course=course, activities=acts[1:2], actor=admin_user
    )
    progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    assert _events(EventKind.MODULE_COMPLETED) == 2
    event = Event.objects.get(kind=EventKind.COURSE_COMPLETED)
    assert event.is_manual and event.details == {"course_id": course.pk}
    assert event.target_id == course.pk and event.subject_id == learner_user.pk
    assert CourseCompletion.objects.filter(user=learner_user, course=course).count() == 1


def test_learning_plan_completes_when_all_its_courses_do(
    admin_user: User, learner_user: User
) -> None:
    first, _ = course_with(K.LESSON)
    second, _ = course_with(K.LESSON)
    plan = LearningPlanFactory()
    LearningPlanCourse.objects.create(plan=plan, course=first, position=0)
    LearningPlanCourse.objects.create(plan=plan, course=second, position=1)
    enroll(learner_user, first)
    enroll(learner_user, second)
    progress_mark_complete(users=[learner_user], course=first, actor=admin_user)
    assert not PlanCompletion.objects.exists()
    progress_mark_complete(users=[learner_user], course=second, actor=admin_user)
    event = Event.objects.get(kind=EventKind.LEARNING_PLAN_COMPLETED)
    assert event.details == {"plan_id": plan.pk}


def test_not_enrolled_user_is_refused_and_nothing_changes(
    admin_user: User, learner_user: User
) -> None:
    course, _ = course_with(K.LESSON)
    before = _db_state()
    result = progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    assert result.errors == [(learner_user.pk, f"Not enrolled in “{course}”.")]
    assert _db_state() == before


def test_enroll_missing_enrolls_then_completes(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON)
    result = progress_mark_complete(
        users=[learner_user], course=course, actor=admin_user, enroll_missing=True
    )
    assert result.enrolled_users == [learner_user.pk]
    assert Enrollment.objects.filter(user=learner_user, course=course).exists()
    assert _events(EventKind.ENROLLED, subject=learner_user) == 1
    assert CourseCompletion.objects.filter(user=learner_user, course=course).exists()


def test_activities_from_another_course_are_refused(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON)
    _, foreign = course_with(K.LESSON)
    enroll(learner_user, course)
    before = _db_state()
    with pytest.raises(ProgressError, match="not part of"):
        progress_mark_complete(
            users=[learner_user], course=course, activities=foreign, actor=admin_user
        )
    assert _db_state() == before


def test_empty_activity_selection_is_refused(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON)
    enroll(learner_user, course)
    with pytest.raises(ProgressError, match="at least one activity"):
        progress_mark_complete(users=[learner_user], course=course, activities=[], actor=admin_user)


def test_empty_user_selection_is_refused(admin_user: User) -> None:
    course, _ = course_with(K.LESSON)
    with pytest.raises(ProgressError, match="at least one user"):
        progress_mark_complete(user_ids=[], course=course, actor=admin_user)


def test_completion_email_goes_to_learners_whose_course_completed(
    admin_user: User, learner_user: User, outsider: User, django_capture_on_commit_callbacks
) -> None:
    course, acts = course_with(K.LESSON, K.LESSON)
    enroll(learner_user, course)
    enroll(outsider, course)
    ActivityCompletion.objects.create(user=outsider, activity=acts[0], course=course)
    with django_capture_on_commit_callbacks(execute=True):
        progress_mark_complete(
            users=[learner_user, outsider],
            course=course,
            activities=acts[1:],
            actor=admin_user,
            send_email=True,
        )
    assert [m.to for m in mail.outbox] == [[outsider.email]]
    assert course.title in mail.outbox[0].subject


def test_no_email_without_the_checkbox(
    admin_user: User, learner_user: User, django_capture_on_commit_callbacks
) -> None:
    course, _ = course_with(K.LESSON)
    enroll(learner_user, course)
    with django_capture_on_commit_callbacks(execute=True):
        progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    assert mail.outbox == []


def test_mark_complete_query_count_does_not_grow_with_users(admin_user: User) -> None:
    course, _ = course_with(*[K.LESSON] * 5, modules=2)
    few = [learner() for _ in range(2)]
    many = [learner() for _ in range(12)]
    for user in few + many:
        enroll(user, course)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    warm = learner()
    enroll(warm, course)
    progress_mark_complete(users=[warm], course=course, actor=admin_user)  # caches content types
    with CaptureQueriesContext(connection) as small:
        progress_mark_complete(users=few, course=course, actor=admin_user)
    with CaptureQueriesContext(connection) as large:
        progress_mark_complete(users=many, course=course, actor=admin_user)
    assert len(large.captured_queries) == len(small.captured_queries)
    assert CourseCompletion.objects.count() == 15


def test_enrollments_create_with_mark_complete_completes_the_entire_course(
    admin_user: User, learner_user: User, outsider: User
) -> None:
    course, _ = course_with(K.LESSON, K.EXAM)
    enrollments_create(
        course=course, actor=admin_user, user_ids=[learner_user.pk, outsider.pk], mark_complete=True
    )
    assert CourseCompletion.objects.filter(course=course).count() == 2


# --- reset -----------------------------------------------------------------------------------


def test_reset_entire_course_clears_progress_attempts_time_and_completion(
    admin_user: User, learner_user: User
) -> None:
    course, acts = course_with(K.LESSON, K.EXAM)
    enroll(learner_user, course)
    activity_time_record(user=learner_user, activity=acts[0], seconds=120)
    exam_submit(user=learner_user, activity=acts[1], answers={"q1": "0", "q2": "1"})
    activity_complete(user=learner_user, activity=acts[0])
    assert CourseCompletion.objects.filter(user=learner_user).exists()
    result = progress_reset(users=[learner_user], course=course, actor=admin_user)
    assert result.reset_users == [learner_user.pk]
    for model in (
        ActivityCompletion,
        ModuleCompletion,
        CourseCompletion,
        ExamAttempt,
        ActivityTime,
    ):
        assert not model.objects.filter(user=learner_user).exists(), model
    event = Event.objects.get(kind=EventKind.PROGRESS_RESET)
    assert event.details["course_id"] == course.pk and event.details["completions_removed"] == 2


def test_reset_keeps_event_history(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON)
    enroll(learner_user, course)
    progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    progress_reset(users=[learner_user], course=course, actor=admin_user)
    assert _events(EventKind.COURSE_COMPLETED, subject=learner_user) == 1
    assert _events(EventKind.ACTIVITY_COMPLETED, subject=learner_user) == 1


def test_reset_chosen_activities_recalculates_time_from_what_remains(
    admin_user: User, learner_user: User
) -> None:
    course, acts = course_with(K.LESSON, K.LESSON)
    enroll(learner_user, course)
    activity_time_record(user=learner_user, activity=acts[0], seconds=100)
    activity_time_record(user=learner_user, activity=acts[1], seconds=40)
    progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    progress_reset(users=[learner_user], course=course, activities=[acts[1]], actor=admin_user)
    progress = course_progress(user=learner_user, course=course)
    assert progress.seconds == 100
    assert {r.activity.pk for r in progress.rows if r.completion} == {acts[0].pk}
    assert not CourseCompletion.objects.filter(user=learner_user).exists()


def test_reset_with_no_progress_changes_nothing(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON)
    enroll(learner_user, course)
    before = _db_state()
    result = progress_reset(users=[learner_user], course=course, actor=admin_user)
    assert result.reset_users == [] and result.nothing_to_reset_users == [learner_user.pk]
    assert _db_state() == before


def test_course_can_be_completed_again_after_reset(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON)
    enroll(learner_user, course)
    progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    progress_reset(users=[learner_user], course=course, actor=admin_user)
    progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    assert CourseCompletion.objects.filter(user=learner_user).count() == 1
    assert _events(EventKind.COURSE_COMPLETED) == 2


# --- the learner's side ----------------------------------------------------------------------


def test_learner_completion_is_not_manual(learner_user: User) -> None:
    course, acts = course_with(K.LESSON)
    enroll(learner_user, course)
    assert activity_complete(user=learner_user, activity=acts[0]) is True
    completion = ActivityCompletion.objects.get()
    assert not completion.is_manual and completion.completed_by is None
    assert not Event.objects.get(kind=EventKind.COURSE_COMPLETED).is_manual


def test_sequential_course_locks_until_previous_required_activity_is_done(
    learner_user: User,
) -> None:
    course, acts = course_with(K.LESSON, K.LESSON, sequential=True)
    enroll(learner_user, course)
    with pytest.raises(ProgressError, match="first"):
        activity_complete(user=learner_user, activity=acts[1])
    activity_complete(user=learner_user, activity=acts[0])
    assert activity_complete(user=learner_user, activity=acts[1]) is True


def test_drip_activity_opens_after_its_days(learner_user: User) -> None:
    course, acts = course_with(K.LESSON)
    Activity.objects.filter(pk=acts[0].pk).update(drip_days=3)
    enrollment = enroll(learner_user, course)
    rows = course_progress(user=learner_user, course=course).rows
    assert rows[0].lock_reason.startswith("Opens on")
    Enrollment.objects.filter(pk=enrollment.pk).update(
        enrolled_at=timezone.now() - timedelta(days=4)
    )
    assert course_progress(user=learner_user, course=course).rows[0].lock_reason is None


def test_prerequisite_course_locks_the_course(admin_user: User, learner_user: User) -> None:
    first, _ = course_with(K.LESSON)
    second, acts = course_with(K.LESSON)
    second.prerequisites.add(first)
    enroll(learner_user, first)
    enroll(learner_user, second)
    with pytest.raises(ProgressError, match=f"Complete “{first.title}” first"):
        activity_complete(user=learner_user, activity=acts[0])
    progress_mark_complete(users=[learner_user], course=first, actor=admin_user)
    assert activity_complete(user=learner_user, activity=acts[0]) is True


def test_expired_access_locks_the_course(learner_user: User) -> None:
    course, acts = course_with(K.LESSON)
    enroll(learner_user, course, expires_at=timezone.now() - timedelta(days=1))
    with pytest.raises(ProgressError, match="access ended"):
        activity_complete(user=learner_user, activity=acts[0])


def test_exam_scores_passes_and_completes_with_its_score(learner_user: User) -> None:
    course, acts = course_with(K.EXAM)
    enroll(learner_user, course)
    attempt = exam_submit(user=learner_user, activity=acts[0], answers={"q1": "0", "q2": "0"})
    assert (attempt.score, attempt.passed) == (50, True)
    assert ActivityCompletion.objects.get().score == 50
    event = Event.objects.get(kind=EventKind.EXAM_ATTEMPTED)
    assert event.details["score"] == 50 and event.details["passed"] is True


def test_failed_exam_does_not_complete(learner_user: User) -> None:
    course, acts = course_with(K.EXAM)
    enroll(learner_user, course)
    attempt = exam_submit(user=learner_user, activity=acts[0], answers={"q1": "1", "q2": "0"})
    assert (attempt.score, attempt.passed) == (0, False)
    assert not ActivityCompletion.objects.exists()


def test_exam_refused_when_attempts_are_used_up(learner_user: User) -> None:
    course, acts = course_with(K.EXAM)
    enroll(learner_user, course)
    for _ in range(2):
        exam_submit(user=learner_user, activity=acts[0], answers={})
    with pytest.raises(ProgressError, match="used all your attempts"):
        exam_submit(user=learner_user, activity=acts[0], answers={})
    assert ExamAttempt.objects.count() == 2


def test_forgiven_attempt_gives_one_back_and_is_recorded(
    admin_user: User, learner_user: User
) -> None:
    course, acts = course_with(K.EXAM)
    enroll(learner_user, course)
    first = exam_submit(user=learner_user, activity=acts[0], answers={})
    exam_submit(user=learner_user, activity=acts[0], answers={})
    exam_attempt_forgive(attempt=first, actor=admin_user)
    exam_submit(user=learner_user, activity=acts[0], answers={"q1": "0", "q2": "1"})
    assert ExamAttempt.objects.count() == 3
    event = Event.objects.get(kind=EventKind.EXAM_ATTEMPT_FORGIVEN)
    assert event.is_manual and event.actor == admin_user and event.subject == learner_user


def test_forgiving_twice_is_refused(admin_user: User, learner_user: User) -> None:
    course, acts = course_with(K.EXAM)
    enroll(learner_user, course)
    attempt = exam_submit(user=learner_user, activity=acts[0], answers={})
    exam_attempt_forgive(attempt=attempt, actor=admin_user)
    with pytest.raises(ProgressError, match="already forgiven"):
        exam_attempt_forgive(attempt=attempt, actor=admin_user)


def test_time_spent_accumulates_and_is_clamped_per_visit(learner_user: User) -> None:
    course, acts = course_with(K.LESSON)
    enroll(learner_user, course)
    activity_time_record(user=learner_user, activity=acts[0], seconds=60)
    total = activity_time_record(user=learner_user, activity=acts[0], seconds=10**9)
    assert total == 60 + 4 * 3600


# --- access ----------------------------------------------------------------------------------


def test_enrollment_and_expiry_change_are_recorded(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON)
    enrollment = enrollment_create(user=learner_user, course=course, actor=admin_user)
    enrollment_set_expiry(
        enrollment=enrollment, expires_at=timezone.now() + timedelta(days=30), actor=admin_user
    )
    assert _events(EventKind.ENROLLED, subject=learner_user) == 1
    assert _events(EventKind.ACCESS_CHANGED, subject=learner_user) == 1


def test_enrolling_twice_is_refused(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON)
    enrollment_create(user=learner_user, course=course, actor=admin_user)
    with pytest.raises(ProgressError, match="already has access"):
        enrollment_create(user=learner_user, course=course, actor=admin_user)


def test_external_training_is_recorded_with_its_event(admin_user: User, learner_user: User) -> None:
    training = ExternalTrainingFactory()
    external_training_record(
        user=learner_user, training=training, completed_on=timezone.localdate(), actor=admin_user
    )
    event = Event.objects.get(kind=EventKind.EXTERNAL_TRAINING_RECORDED)
    assert event.details["external_training_id"] == training.pk
    assert event.target_id == training.pk


def test_mail_outage_does_not_undo_completions(
    admin_user: User, learner_user: User, django_capture_on_commit_callbacks, settings
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    course, _ = course_with(K.LESSON)
    enroll(learner_user, course)
    with django_capture_on_commit_callbacks(execute=True):
        progress_mark_complete(
            users=[learner_user], course=course, actor=admin_user, send_email=True
        )
    assert CourseCompletion.objects.filter(user=learner_user).exists()
