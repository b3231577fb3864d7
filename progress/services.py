"""Writes about course access and progress. Each public service is one transaction and records
its events; the subscribers of those events (points, badges, certifications) run inside it.

Completions go through one path (`_completions_apply`): lock the learners' enrollments in the
course (`select_for_update`, in pk order), read what is already complete with one query, insert
what is new with `bulk_create`, then roll up modules, the course and learning plans the same
way. Because the enrollment row is locked first, a learner finishing an activity while an admin
marks it complete leaves one completion and one course-completed event; the unique constraints
on the completion tables make any replay a no-op."""

from __future__ import annotations

import contextlib
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import IntegrityError, models, transaction
from django.db.models import Avg, Count
from django.utils import timezone

from lms.event_kinds import EventKind
from lms.events import EventSpec, event_record, event_record_bulk
from lms.pg_copy import copy_rows
from progress.models import (
    AccessSource,
    Activity,
    ActivityCompletion,
    ActivityTime,
    Course,
    CourseCompletion,
    Enrollment,
    ExamAttempt,
    ExternalTraining,
    ExternalTrainingRecord,
    LearningPlan,
    LearningPlanCourse,
    Module,
    ModuleCompletion,
    PlanCompletion,
    PlanEnrollment,
)

if TYPE_CHECKING:
    from users.models import User

logger = logging.getLogger(__name__)

# Manually completed forms, exams and certificate activities get a full score.
SCORED_KINDS = frozenset({Activity.Kind.FORM, Activity.Kind.EXAM, Activity.Kind.CERTIFICATE})
CHUNK = 2000
MAX_TIME_PER_VISIT = 4 * 3600


class ProgressError(Exception):
    """A request the rules refuse; the message is shown to the person who asked."""


@dataclass
class MarkCompleteResult:
    completed_users: list[int] = field(default_factory=list)
    already_complete_users: list[int] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    activities_completed: int = 0
    activities_skipped: int = 0
    course_completed_users: list[int] = field(default_factory=list)
    enrolled_users: list[int] = field(default_factory=list)
    # Per activity ("Module · Activity"): how many of the users got it now, and how many were
    # skipped because they had completed it already.
    completed_by_activity: Counter[str] = field(default_factory=Counter)
    skipped_by_activity: Counter[str] = field(default_factory=Counter)


@dataclass
class ResetResult:
    reset_users: list[int] = field(default_factory=list)
    nothing_to_reset_users: list[int] = field(default_factory=list)
    completions_removed: int = 0


@dataclass
class _Structure:
    """A course's activities in player order, and which are required per module."""

    activities: list[Activity]
    required_by_module: dict[int, set[int]]
    modules: dict[int, Module]

    @property
    def required(self) -> set[int]:
        return set().union(*self.required_by_module.values()) if self.required_by_module else set()


def _structure(course: Course) -> _Structure:
    activities = list(
        Activity.objects.filter(module__course=course)
        .select_related("module")
        .order_by("module__position", "module_id", "position", "id")
    )
    required: dict[int, set[int]] = defaultdict(set)
    modules: dict[int, Module] = {}
    for activity in activities:
        modules[activity.module_id] = activity.module
        if activity.is_required:
            required[activity.module_id].add(activity.pk)
    return _Structure(activities=activities, required_by_module=dict(required), modules=modules)


def _user_ids(users: Iterable[User] | None, user_ids: Iterable[int] | None) -> list[int]:
    ids = [u.pk for u in users] if users is not None else [int(pk) for pk in user_ids or ()]
    return list(dict.fromkeys(ids))


def _chosen_activities(
    structure: _Structure, course: Course, activities: Iterable[Activity | int] | None
) -> list[Activity]:
    if activities is None:
        return list(structure.activities)
    wanted = {a.pk if isinstance(a, Activity) else int(a) for a in activities}
    if not wanted:
        raise ProgressError("Choose at least one activity, or the entire course.")
    chosen = [a for a in structure.activities if a.pk in wanted]
    if len(chosen) != len(wanted):
        raise ProgressError(f"Some of the chosen activities are not part of “{course}”.")
    return chosen


def _chunks(items: Sequence[int], size: int = CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _lock_enrollments(course: Course, user_ids: Sequence[int]) -> set[int]:
    """Lock the enrollment rows (pk order, so two writers never deadlock); the ids enrolled.
    Call inside a transaction; completions of these users in `course` are then ours alone."""
    return set(
        Enrollment.objects.select_for_update()
        .filter(course=course, user_id__in=list(user_ids))
        .order_by("pk")
        .values_list("user_id", flat=True)
    )


def _activity_details(activity: Activity, course: Course, score: int | None) -> dict[str, Any]:
    return {
        "course_id": course.pk,
        "module_id": activity.module_id,
        "activity_kind": activity.kind,
        "score": score,
    }


NewCompletion = tuple[int, Activity, int | None]  # (user id, activity, score)


def _rows_insert(
    model: type[models.Model], fields: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Insert plain rows with one COPY (a 10,000-user course is 200,000 completions; no model
    instances, no per-row SQL). Callers hold the enrollment locks and have filtered out what
    exists, so the unique constraints are not hit."""
    if rows:
        copy_rows(model, fields, rows)  # attnames: the column names here


def _completions_apply(
    *,
    course: Course,
    structure: _Structure,
    new: list[NewCompletion],
    actor: User | None,
    manual: bool,
) -> list[int]:
    """Insert `new` completions (already checked against what exists, enrollments locked),
    record their events and roll up modules, the course and plans for the users concerned.
    Returns the users whose course became complete."""
    if new:
        by_id = actor.pk if manual and actor is not None and actor.pk else None
        now = timezone.now()
        _rows_insert(
            ActivityCompletion,
            [
                "user_id",
                "activity_id",
                "course_id",
                "score",
                "completed_at",
                "is_manual",
                "completed_by_id",
            ],
            [(u, activity.pk, course.pk, score, now, manual, by_id) for u, activity, score in new],
        )
        event_record_bulk(
            kind=EventKind.ACTIVITY_COMPLETED,
            actor=actor,
            manual=manual,
            specs=[
                EventSpec(
                    subject=user_id,
                    target=activity,
                    details=_activity_details(activity, course, score),
                )
                for user_id, activity, score in new
            ],
        )
    touched = list(dict.fromkeys(user_id for user_id, _, _ in new))
    if not touched or not structure.required:
        return []
    return _rollup(course=course, structure=structure, user_ids=touched, actor=actor, manual=manual)


def _rollup(
    *,
    course: Course,
    structure: _Structure,
    user_ids: list[int],
    actor: User | None,
    manual: bool,
) -> list[int]:
    required = structure.required
    # Required activities done per (user, module), counted by the database: a row per module,
    # not per activity, comes back.
    done: dict[tuple[int, int], int] = {
        (user_id, module_id): n
        for user_id, module_id, n in ActivityCompletion.objects.filter(
            user_id__in=user_ids, activity_id__in=required
        )
        .values("user_id", "activity__module_id")
        .annotate(n=Count("pk"))
        .values_list("user_id", "activity__module_id", "n")
    }
    modules_done: dict[int, set[int]] = defaultdict(set)
    for (user_id, module_id), n in done.items():
        if n >= len(structure.required_by_module.get(module_id, ())):
            modules_done[user_id].add(module_id)
    all_modules = set(structure.required_by_module)
    now = timezone.now()

    existing_modules = set(
        ModuleCompletion.objects.filter(
            user_id__in=user_ids, module_id__in=list(structure.required_by_module)
        ).values_list("user_id", "module_id")
    )
    new_modules = [
        (user_id, module_id)
        for user_id in user_ids
        for module_id in modules_done[user_id]
        if (user_id, module_id) not in existing_modules
    ]
    if new_modules:
        _rows_insert(
            ModuleCompletion,
            ["user_id", "module_id", "course_id", "completed_at", "is_manual"],
            [(u, m, course.pk, now, manual) for u, m in new_modules],
        )
        event_record_bulk(
            kind=EventKind.MODULE_COMPLETED,
            actor=actor,
            manual=manual,
            specs=[
                EventSpec(subject=u, target=structure.modules[m], details={"course_id": course.pk})
                for u, m in new_modules
            ],
        )

    existing_course = set(
        CourseCompletion.objects.filter(user_id__in=user_ids, course=course).values_list(
            "user_id", flat=True
        )
    )
    finished = [u for u in user_ids if modules_done[u] == all_modules and u not in existing_course]
    if not finished:
        return []
    scores = dict(
        ActivityCompletion.objects.filter(
            user_id__in=finished, activity_id__in=required, score__isnull=False
        )
        .values("user_id")
        .annotate(avg=Avg("score"))
        .values_list("user_id", "avg")
    )
    _rows_insert(
        CourseCompletion,
        ["user_id", "course_id", "completed_at", "is_manual", "score"],
        [
            (u, course.pk, now, manual, round(scores[u]) if scores.get(u) is not None else None)
            for u in finished
        ],
    )
    event_record_bulk(
        kind=EventKind.COURSE_COMPLETED,
        actor=actor,
        manual=manual,
        specs=[
            EventSpec(subject=u, target=course, details={"course_id": course.pk}) for u in finished
        ],
    )
    _plans_rollup(course=course, user_ids=finished, actor=actor, manual=manual)
    return finished


def _plans_rollup(*, course: Course, user_ids: list[int], actor: User | None, manual: bool) -> None:
    plans = list(LearningPlan.objects.filter(plan_courses__course=course).distinct())
    if not plans:
        return
    plan_courses: dict[int, set[int]] = defaultdict(set)
    for plan_id, course_id in LearningPlanCourse.objects.filter(plan__in=plans).values_list(
        "plan_id", "course_id"
    ):
        plan_courses[plan_id].add(course_id)
    all_courses = set().union(*plan_courses.values())
    completed: dict[int, set[int]] = defaultdict(set)
    for user_id, course_id in CourseCompletion.objects.filter(
        user_id__in=user_ids, course_id__in=all_courses
    ).values_list("user_id", "course_id"):
        completed[user_id].add(course_id)
    existing = set(
        PlanCompletion.objects.filter(user_id__in=user_ids, plan__in=plans).values_list(
            "user_id", "plan_id"
        )
    )
    now = timezone.now()
    for plan in plans:
        new = [
            PlanCompletion(user_id=u, plan=plan, completed_at=now)
            for u in user_ids
            if plan_courses[plan.pk] <= completed[u] and (u, plan.pk) not in existing
        ]
        if not new:
            continue
        PlanCompletion.objects.bulk_create(new)
        event_record_bulk(
            kind=EventKind.LEARNING_PLAN_COMPLETED,
            actor=actor,
            manual=manual,
            specs=[
                EventSpec(subject=p.user_id, target=plan, details={"plan_id": plan.pk}) for p in new
            ],
        )


# --- mark complete and reset (admins, the API, bulk jobs) ------------------------------------


@transaction.atomic
def progress_mark_complete(
    *,
    course: Course,
    actor: User | None,
    users: Iterable[User] | None = None,
    user_ids: Iterable[int] | None = None,
    activities: Iterable[Activity | int] | None = None,
    send_email: bool = False,
    enroll_missing: bool = False,
) -> MarkCompleteResult:
    """Mark `activities` (None: the entire course) complete for the users, as done manually by
    `actor`. Already completed activities are skipped and reported; forms, exams and certificate
    activities newly completed get a score of 100; time spent is not touched; locked activities
    can be completed (they stay locked in the player until their rules open them). Users not
    enrolled are reported as errors unless `enroll_missing`, which enrolls them first. Set-based:
    a few queries per 2,000 users, whatever the number of activities."""
    ids = _user_ids(users, user_ids)
    if not ids:
        raise ProgressError("Select at least one user.")
    structure = _structure(course)
    chosen = _chosen_activities(structure, course, activities)
    if not chosen:
        raise ProgressError(f"“{course}” has no activities to complete.")
    result = MarkCompleteResult()
    for chunk in _chunks(ids):
        _mark_complete_chunk(
            course=course,
            structure=structure,
            chosen=chosen,
            user_ids=chunk,
            actor=actor,
            enroll_missing=enroll_missing,
            result=result,
        )
    if send_email and result.course_completed_users:
        completed = list(result.course_completed_users)
        transaction.on_commit(
            lambda: progress_send_completion_emails(user_ids=completed, course_id=course.pk)
        )
    return result


def _mark_complete_chunk(
    *,
    course: Course,
    structure: _Structure,
    chosen: list[Activity],
    user_ids: list[int],
    actor: User | None,
    enroll_missing: bool,
    result: MarkCompleteResult,
) -> None:
    enrolled = _lock_enrollments(course, user_ids)
    missing = [u for u in user_ids if u not in enrolled]
    if missing and enroll_missing:
        newly = _enroll_many(course=course, user_ids=missing, actor=actor)
        result.enrolled_users.extend(newly)
        enrolled |= _lock_enrollments(course, newly)
        missing = [u for u in user_ids if u not in enrolled]
    for user_id in missing:
        result.errors.append((user_id, f"Not enrolled in “{course}”."))
    targets = [u for u in user_ids if u in enrolled]
    if not targets:
        return
    chosen_ids = [a.pk for a in chosen]
    existing = set(
        ActivityCompletion.objects.filter(
            user_id__in=targets, activity_id__in=chosen_ids
        ).values_list("user_id", "activity_id")
    )
    new: list[NewCompletion] = []
    for user_id in targets:
        before = len(new)
        for activity in chosen:
            if (user_id, activity.pk) in existing:
                continue
            new.append((user_id, activity, 100 if activity.kind in SCORED_KINDS else None))
        if len(new) > before:
            result.completed_users.append(user_id)
        else:
            result.already_complete_users.append(user_id)
    result.activities_completed += len(new)
    result.activities_skipped += len(existing)
    names = {a.pk: f"{a.module.title} · {a.title}" for a in chosen}
    result.skipped_by_activity.update(names[activity_id] for _, activity_id in existing)
    result.completed_by_activity.update(names[activity.pk] for _, activity, _ in new)
    result.course_completed_users.extend(
        _completions_apply(course=course, structure=structure, new=new, actor=actor, manual=True)
    )


def progress_send_completion_emails(*, user_ids: Sequence[int], course_id: int) -> int:
    """Tell each learner their course is complete (called after commit)."""
    from users.models import User

    course = Course.objects.get(pk=course_id)
    messages = []
    for user in (
        User.objects.filter(pk__in=list(user_ids))
        .exclude(email="")
        .only("email", "first_name", "username")
    ):
        greeting = user.first_name or user.username
        messages.append(
            (
                f"You completed “{course.title}”",
                f"Hello {greeting},\n\nYou have completed the course “{course.title}”. "
                f"Well done!\n\nYour transcript: {settings.MERIT_SITE_URL}/learning/my-transcript/\n",
                settings.DEFAULT_FROM_EMAIL,
                [user.email],
            )
        )
    if not messages:
        return 0
    try:
        return send_mass_mail(messages, fail_silently=False)
    except Exception:  # the completions are committed; a mail outage must not undo or fail them
        logger.exception("Course completion emails for course %s were not sent", course_id)
        return 0


@transaction.atomic
def progress_reset(
    *,
    course: Course,
    actor: User | None,
    users: Iterable[User] | None = None,
    user_ids: Iterable[int] | None = None,
    activities: Iterable[Activity | int] | None = None,
) -> ResetResult:
    """Clear the progress, scores, attempts and recorded time of the chosen activities (None:
    the entire course) and the module, course and plan completions that no longer hold. The
    event log, points, certifications, notes and tags keep their history. Users with nothing
    to reset are reported, not errors."""
    ids = _user_ids(users, user_ids)
    if not ids:
        raise ProgressError("Select at least one user.")
    structure = _structure(course)
    chosen = _chosen_activities(structure, course, activities)
    entire = activities is None
    chosen_ids = [a.pk for a in chosen]
    result = ResetResult()
    for chunk in _chunks(ids):
        _lock_enrollments(course, chunk)
        removed: dict[int, int] = defaultdict(int)
        for user_id in ActivityCompletion.objects.filter(
            user_id__in=chunk, activity_id__in=chosen_ids
        ).values_list("user_id", flat=True):
            removed[user_id] += 1
        affected = set(removed)
        affected |= set(
            ExamAttempt.objects.filter(user_id__in=chunk, activity_id__in=chosen_ids).values_list(
                "user_id", flat=True
            )
        )
        affected |= set(
            ActivityTime.objects.filter(user_id__in=chunk, activity_id__in=chosen_ids).values_list(
                "user_id", flat=True
            )
        )
        if entire:
            affected |= set(
                CourseCompletion.objects.filter(user_id__in=chunk, course=course).values_list(
                    "user_id", flat=True
                )
            )
        targets = [u for u in chunk if u in affected]
        result.nothing_to_reset_users.extend(u for u in chunk if u not in affected)
        if not targets:
            continue
        ActivityCompletion.objects.filter(user_id__in=targets, activity_id__in=chosen_ids).delete()
        ExamAttempt.objects.filter(user_id__in=targets, activity_id__in=chosen_ids).delete()
        ActivityTime.objects.filter(user_id__in=targets, activity_id__in=chosen_ids).delete()
        chosen_modules = {a.module_id for a in chosen if a.is_required}
        ModuleCompletion.objects.filter(user_id__in=targets, module_id__in=chosen_modules).delete()
        if entire or chosen_modules:
            CourseCompletion.objects.filter(user_id__in=targets, course=course).delete()
            PlanCompletion.objects.filter(
                user_id__in=targets, plan__plan_courses__course=course
            ).delete()
        event_record_bulk(
            kind=EventKind.PROGRESS_RESET,
            actor=actor,
            manual=True,
            specs=[
                EventSpec(
                    subject=u,
                    target=course,
                    details={
                        "course_id": course.pk,
                        "entire_course": entire,
                        "activity_ids": chosen_ids,
                        "completions_removed": removed.get(u, 0),
                    },
                )
                for u in targets
            ],
        )
        result.reset_users.extend(targets)
        result.completions_removed += sum(removed.values())
    return result


# --- the learner's player --------------------------------------------------------------------


def _learner_completion(*, user: User, activity: Activity, score: int | None) -> bool:
    """Complete one activity for its learner (not manual). Call inside a transaction."""
    course = activity.module.course
    if not _lock_enrollments(course, [user.pk]):
        raise ProgressError(f"You are not enrolled in “{course}”.")
    if ActivityCompletion.objects.filter(user=user, activity=activity).exists():
        return False
    structure = _structure(course)
    _completions_apply(
        course=course,
        structure=structure,
        new=[(user.pk, activity, score)],
        actor=user,
        manual=False,
    )
    return True


def _check_open(*, user: User, activity: Activity) -> None:
    from progress.selectors import activity_lock_reason

    reason = activity_lock_reason(user=user, activity=activity)
    if reason:
        raise ProgressError(reason)


@transaction.atomic
def activity_complete(*, user: User, activity: Activity, seconds: int = 0) -> bool:
    """The learner finished a lesson, video, form, assignment or certificate activity.
    Returns False when it was already complete."""
    if activity.kind == Activity.Kind.EXAM:
        raise ProgressError("Exams are completed by passing them.")
    _check_open(user=user, activity=activity)
    if seconds:
        activity_time_record(user=user, activity=activity, seconds=seconds)
    return _learner_completion(user=user, activity=activity, score=None)


@transaction.atomic
def activity_time_record(*, user: User, activity: Activity, seconds: int) -> int:
    """Add time the learner spent in an activity (clamped per visit); returns the new total."""
    seconds = max(0, min(int(seconds), MAX_TIME_PER_VISIT))
    now = timezone.now()
    record, created = ActivityTime.objects.select_for_update().get_or_create(
        user=user,
        activity=activity,
        defaults={
            "course_id": activity.module.course_id,
            "seconds": seconds,
            "first_opened_at": now,
            "last_opened_at": now,
        },
    )
    if not created:
        record.seconds += seconds
        record.last_opened_at = now
        record.save(update_fields=["seconds", "last_opened_at"])
    return record.seconds


def exam_questions(activity: Activity) -> list[dict[str, Any]]:
    questions = activity.content.get("questions", []) if isinstance(activity.content, dict) else []
    return [q for q in questions if isinstance(q, dict) and q.get("choices")]


def exam_attempts_used(*, user: User, activity: Activity) -> int:
    return ExamAttempt.objects.filter(
        user=user, activity=activity, forgiven_at__isnull=True
    ).count()


@transaction.atomic
def exam_submit(
    *, user: User, activity: Activity, answers: dict[str, str], seconds: int = 0
) -> ExamAttempt:
    """Grade an exam attempt: the score is the percentage of right answers; passing at
    `pass_mark` completes the activity with that score. Refused when the attempts are used up."""
    if activity.kind != Activity.Kind.EXAM:
        raise ProgressError("This activity is not an exam.")
    _check_open(user=user, activity=activity)
    course = activity.module.course
    if not _lock_enrollments(course, [user.pk]):
        raise ProgressError(f"You are not enrolled in “{course}”.")
    used = exam_attempts_used(user=user, activity=activity)
    if activity.attempt_limit and used >= activity.attempt_limit:
        raise ProgressError("You have used all your attempts at this exam.")
    questions = exam_questions(activity)
    if not questions:
        raise ProgressError("This exam has no questions yet.")
    right = 0
    for index, question in enumerate(questions):
        key = str(question.get("id", index))
        if str(answers.get(key, "")) == str(question.get("answer")):
            right += 1
    score = round(100 * right / len(questions))
    passed = score >= activity.pass_mark
    attempt = ExamAttempt.objects.create(
        user=user,
        activity=activity,
        course=course,
        score=score,
        passed=passed,
        answers={str(k): str(v) for k, v in answers.items()},
    )
    if seconds:
        activity_time_record(user=user, activity=activity, seconds=seconds)
    event_record(
        kind=EventKind.EXAM_ATTEMPTED,
        actor=user,
        subject=user,
        target=activity,
        details={
            "course_id": course.pk,
            "attempt_id": attempt.pk,
            "score": score,
            "passed": passed,
        },
    )
    if passed:
        _learner_completion(user=user, activity=activity, score=score)
    return attempt


@transaction.atomic
def exam_attempt_forgive(*, attempt: ExamAttempt, actor: User) -> ExamAttempt:
    """Give the learner one attempt back; the attempt stays on record, marked forgiven."""
    attempt = ExamAttempt.objects.select_for_update().get(pk=attempt.pk)
    if attempt.forgiven_at is not None:
        raise ProgressError("This attempt was already forgiven.")
    attempt.forgiven_at = timezone.now()
    attempt.forgiven_by = actor
    attempt.save(update_fields=["forgiven_at", "forgiven_by"])
    event_record(
        kind=EventKind.EXAM_ATTEMPT_FORGIVEN,
        actor=actor,
        subject=attempt.user_id,
        target=attempt.activity,
        details={"course_id": attempt.course_id, "attempt_id": attempt.pk, "score": attempt.score},
        manual=True,
    )
    return attempt


# --- access ------------------------------------------------------------------------------------


def _enroll_many(
    *,
    course: Course,
    user_ids: Sequence[int],
    actor: User | None,
    expires_at: datetime | None = None,
) -> list[int]:
    from users.models import User

    existing = set(
        Enrollment.objects.filter(course=course, user_id__in=list(user_ids)).values_list(
            "user_id", flat=True
        )
    )
    real = set(User.objects.filter(pk__in=list(user_ids)).values_list("pk", flat=True))
    new_ids = [u for u in user_ids if u in real and u not in existing]
    by = actor if actor is not None and actor.pk else None
    Enrollment.objects.bulk_create(
        [
            Enrollment(user_id=u, course=course, enrolled_by=by, expires_at=expires_at)
            for u in new_ids
        ],
        ignore_conflicts=True,
        batch_size=5000,
    )
    event_record_bulk(
        kind=EventKind.ENROLLED,
        actor=actor,
        manual=True,
        specs=[
            EventSpec(subject=u, target=course, details={"course_id": course.pk}) for u in new_ids
        ],
    )
    return new_ids


@dataclass
class EnrollResult:
    enrolled_users: list[int] = field(default_factory=list)
    already_enrolled_users: list[int] = field(default_factory=list)
    completion: MarkCompleteResult | None = None


@transaction.atomic
def enrollments_create(
    *,
    course: Course,
    actor: User | None,
    user_ids: Iterable[int],
    expires_at: datetime | None = None,
    mark_complete: bool = False,
    send_email: bool = False,
) -> EnrollResult:
    """Enroll many users (bulk enroll, CSV enroll); the already enrolled are skipped. With
    `mark_complete`, the entire course is then marked complete for all of them (the email
    option as in the mark-complete form)."""
    ids = list(dict.fromkeys(int(u) for u in user_ids))
    if not ids:
        raise ProgressError("Select at least one user.")
    new_ids = _enroll_many(course=course, user_ids=ids, actor=actor, expires_at=expires_at)
    fresh = set(new_ids)
    result = EnrollResult(
        enrolled_users=new_ids, already_enrolled_users=[u for u in ids if u not in fresh]
    )
    if mark_complete:
        result.completion = progress_mark_complete(
            user_ids=ids, course=course, actor=actor, send_email=send_email
        )
    return result


_Unique = TypeVar("_Unique", Enrollment, PlanEnrollment)


def _create_once(model: type[_Unique], already: str, **fields: Any) -> _Unique:
    """Create a row that a unique constraint allows once (an enrollment), or refuse with the
    `already` message: also when the same form is submitted twice at once, where the second
    insert waits on the first one's entry in the unique index and then fails."""
    unique = {name: fields[name] for name in ("user", "course", "plan") if name in fields}
    if model._default_manager.filter(**unique).exists():
        raise ProgressError(already)
    try:
        with transaction.atomic():  # a savepoint, so the check below can still query
            return model._default_manager.create(**fields)
    except IntegrityError:
        if model._default_manager.filter(**unique).exists():
            raise ProgressError(already) from None
        raise


@transaction.atomic
def enrollment_create(
    *,
    user: User,
    course: Course,
    actor: User | None,
    expires_at: datetime | None = None,
    mark_complete: bool = False,
    send_email: bool = False,
    source: AccessSource = AccessSource.ADMIN,
    source_label: str = "",
) -> Enrollment:
    """Access to one course. `source` says where it came from (an admin by default; payments
    pass a purchase, a subscription or a seat, with a label naming it)."""
    enrollment = _create_once(
        Enrollment,
        f"{user} already has access to “{course}”.",
        user=user,
        course=course,
        expires_at=expires_at,
        enrolled_by=actor if actor is not None and actor.pk else None,
        source=source,
        source_label=source_label[:200],
    )
    event_record(
        kind=EventKind.ENROLLED,
        actor=actor,
        subject=user,
        target=course,
        details={
            "course_id": course.pk,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "source": str(source),
        },
        manual=actor is not None and actor.pk != user.pk,
    )
    if mark_complete:
        progress_mark_complete(users=[user], course=course, actor=actor, send_email=send_email)
    return enrollment


@transaction.atomic
def enrollment_delete(*, enrollment: Enrollment, actor: User | None) -> None:
    """Remove access; the learner's progress records are kept (and return if re-enrolled)."""
    event_record(
        kind=EventKind.UNENROLLED,
        actor=actor,
        subject=enrollment.user_id,
        target=enrollment.course,
        details={"course_id": enrollment.course_id},
        manual=True,
    )
    enrollment.delete()


def _access_expiry_set(
    *,
    enrollment: Enrollment | PlanEnrollment,
    target: Course | LearningPlan,
    id_key: str,
    expires_at: datetime | None,
    actor: User | None,
    source: AccessSource | None = None,
    source_label: str | None = None,
    manual: bool = True,
) -> None:
    """Change an enrollment's access expiry (and, when given, where the access comes from) and
    record ACCESS_CHANGED (no event when nothing changed). Shared by course and learning-plan
    enrollments."""
    before = enrollment.expires_at
    source_before = enrollment.source
    new_source = source if source is not None else enrollment.source
    new_label = (source_label if source_label is not None else enrollment.source_label)[:200]
    if (
        before == expires_at
        and new_source == source_before
        and new_label == enrollment.source_label
    ):
        return
    enrollment.expires_at = expires_at
    enrollment.source = new_source
    enrollment.source_label = new_label
    enrollment.save(update_fields=["expires_at", "source", "source_label", "updated_at"])
    details: dict[str, Any] = {
        id_key: target.pk,
        "expires_at_before": before.isoformat() if before else None,
        "expires_at": expires_at.isoformat() if expires_at else None,
    }
    if new_source != source_before:
        details["source_before"] = source_before
        details["source"] = str(new_source)
    event_record(
        kind=EventKind.ACCESS_CHANGED,
        actor=actor,
        subject=enrollment.user_id,
        target=target,
        details=details,
        manual=manual,
    )


@transaction.atomic
def enrollment_set_expiry(
    *,
    enrollment: Enrollment,
    expires_at: datetime | None,
    actor: User | None,
    source: AccessSource | None = None,
    source_label: str | None = None,
    manual: bool = True,
) -> Enrollment:
    _access_expiry_set(
        enrollment=enrollment,
        target=enrollment.course,
        id_key="course_id",
        expires_at=expires_at,
        actor=actor,
        source=source,
        source_label=source_label,
        manual=manual,
    )
    return enrollment


@transaction.atomic
def plan_enrollment_create(
    *,
    user: User,
    plan: LearningPlan,
    actor: User | None,
    expires_at: datetime | None = None,
    source: AccessSource = AccessSource.ADMIN,
    source_label: str = "",
) -> PlanEnrollment:
    """Access to a learning plan and to each of its courses (with the same expiry and source).
    A user who already has the plan is refused with a ProgressError, also when the same
    enrollment is submitted twice at once (the second waits on the first one's row in the
    unique index)."""
    enrollment = _create_once(
        PlanEnrollment,
        f"{user} already has access to the learning plan “{plan}”.",
        user=user,
        plan=plan,
        expires_at=expires_at,
        enrolled_by=actor if actor is not None and actor.pk else None,
        source=source,
        source_label=source_label[:200],
    )
    event_record(
        kind=EventKind.ENROLLED,
        actor=actor,
        subject=user,
        target=plan,
        details={
            "plan_id": plan.pk,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "source": str(source),
        },
        manual=actor is not None and actor.pk != user.pk,
    )
    have = set(Enrollment.objects.filter(user=user).values_list("course_id", flat=True))
    for course in plan.courses.all():
        if course.pk not in have:
            # Enrolled in the course meanwhile, by someone else: that access stands.
            with contextlib.suppress(ProgressError):
                enrollment_create(
                    user=user,
                    course=course,
                    actor=actor,
                    expires_at=expires_at,
                    source=source,
                    source_label=source_label,
                )
    return enrollment


@transaction.atomic
def plan_enrollment_delete(*, enrollment: PlanEnrollment, actor: User | None) -> None:
    event_record(
        kind=EventKind.UNENROLLED,
        actor=actor,
        subject=enrollment.user_id,
        target=enrollment.plan,
        details={"plan_id": enrollment.plan_id},
        manual=True,
    )
    enrollment.delete()


@transaction.atomic
def plan_enrollment_set_expiry(
    *,
    enrollment: PlanEnrollment,
    expires_at: datetime | None,
    actor: User | None,
    source: AccessSource | None = None,
    source_label: str | None = None,
    manual: bool = True,
) -> PlanEnrollment:
    _access_expiry_set(
        enrollment=enrollment,
        target=enrollment.plan,
        id_key="plan_id",
        expires_at=expires_at,
        actor=actor,
        source=source,
        source_label=source_label,
        manual=manual,
    )
    return enrollment


@transaction.atomic
def external_training_record(
    *, user: User, training: ExternalTraining, completed_on: date, actor: User | None
) -> ExternalTrainingRecord:
    """Record training done outside Merit (certifications subscribe to the event)."""
    if completed_on > timezone.localdate():
        raise ProgressError("The completion date cannot be in the future.")
    record, created = ExternalTrainingRecord.objects.get_or_create(
        user=user,
        training=training,
        completed_on=completed_on,
        defaults={"recorded_by": actor if actor is not None and actor.pk else None},
    )
    if not created:
        raise ProgressError(f"“{training}” on {completed_on:%b %-d, %Y} is already recorded.")
    event_record(
        kind=EventKind.EXTERNAL_TRAINING_RECORDED,
        actor=actor,
        subject=user,
        target=training,
        details={"external_training_id": training.pk, "completed_on": completed_on.isoformat()},
        manual=actor is not None and actor.pk != user.pk,
    )
    return record
