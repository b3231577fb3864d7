"""Reads about courses and progress. Query shape lives here: every list is a fixed number of
queries, whatever the number of rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.module_loading import import_string

from lms.models import Event
from progress.models import (
    Activity,
    ActivityCompletion,
    ActivityTime,
    Course,
    CourseCompletion,
    Enrollment,
    ExamAttempt,
    ExternalTrainingRecord,
    LearningPlanCourse,
    Module,
    PlanEnrollment,
)

if TYPE_CHECKING:
    from users.models import User


def _subcount(queryset: QuerySet[Any], group: str) -> Coalesce:
    return Coalesce(
        Subquery(
            queryset.order_by().values(group).annotate(_n=Count("pk")).values("_n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def _subsum(queryset: QuerySet[Any], group: str, column: str) -> Coalesce:
    return Coalesce(
        Subquery(
            queryset.order_by().values(group).annotate(_s=Sum(column)).values("_s")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def courses_for_admin(*, actor: User | None = None) -> QuerySet[Course]:
    """The catalog with its counts, for the admin's course list (one query, plus one for the
    prerequisites). A department admin's enrolled/completed counts cover their users only."""
    from users.roles import Role, user_admin_role
    from users.selectors import users_visible_to

    enrollments = Enrollment.objects.filter(course=OuterRef("pk"))
    completions = CourseCompletion.objects.filter(course=OuterRef("pk"))
    if actor is not None and user_admin_role(actor) == Role.DEPARTMENT_ADMIN:
        visible = users_visible_to(actor).values("pk")
        enrollments = enrollments.filter(user__in=visible)
        completions = completions.filter(user__in=visible)
    return (
        Course.objects.annotate(
            module_count=_subcount(Module.objects.filter(course=OuterRef("pk")), "course"),
            activity_count=_subcount(
                Activity.objects.filter(module__course=OuterRef("pk")), "module__course"
            ),
            enrollment_count=_subcount(enrollments, "course"),
            completion_count=_subcount(completions, "course"),
        )
        .prefetch_related("prerequisites")
        .order_by("title")
    )


def course_learners(*, course: Course, actor: User) -> QuerySet[Enrollment]:
    """The course's learners the actor may see, with `required_done` and `completed_at`
    (one query per page)."""
    from users.selectors import users_visible_to

    return (
        Enrollment.objects.filter(course=course, user__in=users_visible_to(actor).values("pk"))
        .select_related("user")
        .annotate(
            required_done=_subcount(
                ActivityCompletion.objects.filter(
                    user=OuterRef("user"), course=OuterRef("course"), activity__is_required=True
                ),
                "course",
            ),
            completed_at=Subquery(
                CourseCompletion.objects.filter(
                    user=OuterRef("user"), course=OuterRef("course")
                ).values("completed_at")[:1]
            ),
        )
        .order_by("user__last_name", "user__first_name", "pk")
    )


def course_outline(course: Course) -> list[tuple[Module, list[Activity]]]:
    activities = Activity.objects.filter(module__course=course).order_by("position", "id")
    grouped: dict[int, list[Activity]] = defaultdict(list)
    for activity in activities:
        grouped[activity.module_id].append(activity)
    return [(module, grouped[module.pk]) for module in course.modules.order_by("position", "id")]


def enrollments_with_progress(*, user: User) -> QuerySet[Enrollment]:
    """The user's enrollments, each with `required_total`, `required_done`, `seconds` and
    `completed_at` annotated (one query)."""
    return (
        Enrollment.objects.filter(user=user)
        .select_related("course", "enrolled_by")
        .annotate(
            required_total=_subcount(
                Activity.objects.filter(module__course=OuterRef("course"), is_required=True),
                "module__course",
            ),
            required_done=_subcount(
                ActivityCompletion.objects.filter(
                    user=OuterRef("user"), course=OuterRef("course"), activity__is_required=True
                ),
                "course",
            ),
            seconds=_subsum(
                ActivityTime.objects.filter(user=OuterRef("user"), course=OuterRef("course")),
                "course",
                "seconds",
            ),
            completed_at=Subquery(
                CourseCompletion.objects.filter(
                    user=OuterRef("user"), course=OuterRef("course")
                ).values("completed_at")[:1]
            ),
        )
        .order_by("course__title")
    )


def enrolled_courses_seconds(*, user: User) -> int:
    """The time the user spent in the courses they are enrolled in, in one aggregate query
    (the Engagement tab's total, which shows one page of the courses)."""
    enrolled = Enrollment.objects.filter(user=user).values("course_id")
    spent = ActivityTime.objects.filter(user=user, course_id__in=enrolled).aggregate(
        total=Sum("seconds")
    )
    return int(spent["total"] or 0)


def percent(done: int, total: int) -> int:
    return round(100 * done / total) if total else 0


@dataclass
class ActivityRow:
    activity: Activity
    completion: ActivityCompletion | None = None
    seconds: int = 0
    attempts_used: int = 0
    lock_reason: str | None = None

    @property
    def attempts_left(self) -> int | None:
        if not self.activity.attempt_limit:
            return None
        return max(0, self.activity.attempt_limit - self.attempts_used)


@dataclass
class CourseProgress:
    course: Course
    enrollment: Enrollment | None
    modules: list[tuple[Module, list[ActivityRow]]] = field(default_factory=list)
    course_lock_reason: str | None = None
    completion: CourseCompletion | None = None

    @property
    def rows(self) -> list[ActivityRow]:
        return [row for _, rows in self.modules for row in rows]

    @property
    def percent(self) -> int:
        required = [r for r in self.rows if r.activity.is_required]
        return percent(sum(1 for r in required if r.completion), len(required))

    @property
    def seconds(self) -> int:
        return sum(r.seconds for r in self.rows)


def _course_lock_reason(
    *, user: User, course: Course, enrollment: Enrollment | None, now: datetime
) -> str | None:
    if enrollment is None:
        return "You are not enrolled in this course."
    if enrollment.is_expired(now):
        return f"Your access ended on {timezone.localtime(enrollment.expires_at):%b %-d, %Y}."
    missing = list(
        course.prerequisites.exclude(
            pk__in=CourseCompletion.objects.filter(user=user).values("course_id")
        ).values_list("title", flat=True)
    )
    if missing:
        return "Complete " + ", ".join(f"“{title}”" for title in missing) + " first."
    return None


def _activity_lock_reasons(
    *,
    course: Course,
    enrollment: Enrollment,
    activities: list[Activity],
    completed_ids: set[int],
    now: datetime,
) -> dict[int, str]:
    """Drip and sequence locks. An activity's own completion does not open it: one marked
    complete by an admin stays locked until its rules open it."""
    reasons: dict[int, str] = {}
    blocking: Activity | None = None
    for activity in activities:
        opens = enrollment.enrolled_at + timedelta(days=activity.drip_days)
        if activity.drip_days and opens > now:
            reasons[activity.pk] = f"Opens on {timezone.localtime(opens):%b %-d, %Y}."
        elif course.sequential and blocking is not None:
            reasons[activity.pk] = f"Complete “{blocking.title}” first."
        if (
            course.sequential
            and blocking is None
            and activity.is_required
            and activity.pk not in completed_ids
        ):
            blocking = activity
    return reasons


def course_progress(*, user: User, course: Course, now: datetime | None = None) -> CourseProgress:
    """Everything the player and the Progress tab show for one learner in one course."""
    now = now or timezone.now()
    enrollment = Enrollment.objects.filter(user=user, course=course).first()
    activities = list(
        Activity.objects.filter(module__course=course)
        .select_related("module")
        .order_by("module__position", "module_id", "position", "id")
    )
    completions = {
        c.activity_id: c
        for c in ActivityCompletion.objects.filter(user=user, course=course).select_related(
            "completed_by"
        )
    }
    seconds = dict(
        ActivityTime.objects.filter(user=user, course=course).values_list("activity_id", "seconds")
    )
    attempts = dict(
        ExamAttempt.objects.filter(user=user, course=course, forgiven_at__isnull=True)
        .values("activity_id")
        .annotate(n=Count("pk"))
        .values_list("activity_id", "n")
    )
    result = CourseProgress(
        course=course,
        enrollment=enrollment,
        completion=CourseCompletion.objects.filter(user=user, course=course).first(),
    )
    result.course_lock_reason = _course_lock_reason(
        user=user, course=course, enrollment=enrollment, now=now
    )
    reasons = (
        _activity_lock_reasons(
            course=course,
            enrollment=enrollment,
            activities=activities,
            completed_ids=set(completions),
            now=now,
        )
        if enrollment is not None
        else {}
    )
    grouped: dict[int, list[ActivityRow]] = defaultdict(list)
    modules: dict[int, Module] = {}
    for activity in activities:
        modules[activity.module_id] = activity.module
        grouped[activity.module_id].append(
            ActivityRow(
                activity=activity,
                completion=completions.get(activity.pk),
                seconds=seconds.get(activity.pk, 0),
                attempts_used=attempts.get(activity.pk, 0),
                lock_reason=result.course_lock_reason or reasons.get(activity.pk),
            )
        )
    result.modules = [(modules[mid], rows) for mid, rows in grouped.items()]
    return result


def activity_lock_reason(*, user: User, activity: Activity) -> str | None:
    progress = course_progress(user=user, course=activity.module.course)
    for row in progress.rows:
        if row.activity.pk == activity.pk:
            return row.lock_reason
    return "This activity is not part of the course."


def user_enrollments(*, user: User) -> QuerySet[Enrollment]:
    """The user's enrollments with their course, in the Progress tab's order (course title)."""
    return Enrollment.objects.filter(user=user).select_related("course")


def user_courses_progress(
    *, user: User, enrollments: Sequence[Enrollment] | None = None
) -> list[CourseProgress]:
    """Per enrolled course (`enrollments`, e.g. one page of `user_enrollments()`; all of them
    by default), each activity with its completion (and who marked it), time and attempts, for
    the admin's Progress tab. Four queries for the given courses, whatever their number."""
    if enrollments is None:
        enrollments = list(user_enrollments(user=user))
    course_ids = [e.course_id for e in enrollments]
    activities = list(
        Activity.objects.filter(module__course_id__in=course_ids)
        .select_related("module")
        .order_by("module__position", "module_id", "position", "id")
    )
    completions = {
        c.activity_id: c
        for c in ActivityCompletion.objects.filter(
            user=user, course_id__in=course_ids
        ).select_related("completed_by")
    }
    seconds = dict(
        ActivityTime.objects.filter(user=user, course_id__in=course_ids).values_list(
            "activity_id", "seconds"
        )
    )
    course_done = {
        c.course_id: c for c in CourseCompletion.objects.filter(user=user, course_id__in=course_ids)
    }
    by_course: dict[int, dict[int, list[ActivityRow]]] = defaultdict(lambda: defaultdict(list))
    modules: dict[int, Module] = {}
    for activity in activities:
        modules[activity.module_id] = activity.module
        by_course[activity.module.course_id][activity.module_id].append(
            ActivityRow(
                activity=activity,
                completion=completions.get(activity.pk),
                seconds=seconds.get(activity.pk, 0),
            )
        )
    return [
        CourseProgress(
            course=e.course,
            enrollment=e,
            completion=course_done.get(e.course_id),
            modules=[(modules[mid], rows) for mid, rows in by_course[e.course_id].items()],
        )
        for e in enrollments
    ]


def courses_not_enrolled(*, user: User) -> QuerySet[Course]:
    """The catalog without the courses the user is enrolled in (what access can be added to)."""
    return Course.objects.exclude(pk__in=Enrollment.objects.filter(user=user).values("course_id"))


def plan_enrollments_for(*, user: User) -> QuerySet[PlanEnrollment]:
    return PlanEnrollment.objects.filter(user=user).select_related("plan")


def learner_plans(*, user: User) -> list[dict[str, Any]]:
    """The learner's learning plans, each with its courses in order and which are complete
    (three queries)."""
    enrollments = list(
        PlanEnrollment.objects.filter(user=user)
        .select_related("plan")
        .prefetch_related(
            Prefetch(
                "plan__plan_courses",
                queryset=LearningPlanCourse.objects.select_related("course").order_by("position"),
            )
        )
    )
    done = set(CourseCompletion.objects.filter(user=user).values_list("course_id", flat=True))
    plans = []
    for enrollment in enrollments:
        steps = [(pc.course, pc.course_id in done) for pc in enrollment.plan.plan_courses.all()]
        finished = sum(1 for _, ok in steps if ok)
        plans.append(
            {
                "enrollment": enrollment,
                "plan": enrollment.plan,
                "steps": steps,
                "percent": percent(finished, len(steps)),
            }
        )
    return plans


def exam_attempts_for(*, user: User) -> QuerySet[ExamAttempt]:
    return ExamAttempt.objects.filter(user=user).select_related("activity", "course", "forgiven_by")


def progress_events_for(*, user: User, limit: int = 50) -> QuerySet[Event]:
    """The user's content actions log: progress events, newest first."""
    return Event.objects.filter(subject=user, kind__startswith="progress.").select_related(
        "actor", "impersonator"
    )[:limit]


def _guarded(dotted: str) -> Any:
    """Another app's selector, or None while that app is not there yet."""
    try:
        return import_string(dotted)
    except ImportError:
        return None


def points_total(*, user: User) -> int | None:
    """Total points (None: gamification is off or the achievements app is not installed)."""
    selector = _guarded("achievements.selectors.points_balance")
    if selector is None:
        return None
    value = selector(user=user)
    return None if value is None else int(value)


def certifications_for(*, user: User) -> list[Any]:
    selector = _guarded("certifications.selectors.certification_awards_for_user")
    if selector is None:
        return []
    return list(selector(user=user))


@dataclass
class Transcript:
    user: Any
    courses: list[CourseCompletion]
    external: list[ExternalTrainingRecord]
    certifications: list[Any]
    points: int | None
    generated_at: datetime


def transcript_for(*, user: User) -> Transcript:
    return Transcript(
        user=user,
        courses=list(
            CourseCompletion.objects.filter(user=user)
            .select_related("course")
            .order_by("-completed_at")
        ),
        external=list(ExternalTrainingRecord.objects.filter(user=user).select_related("training")),
        certifications=certifications_for(user=user),
        points=points_total(user=user),
        generated_at=timezone.now(),
    )


def certification_label(award: Any) -> tuple[str, Any, Any]:
    """(title, awarded date, expiry) of a certification award, whatever its exact shape."""
    certification = getattr(award, "certification", None)
    title = str(certification) if certification is not None else str(award)
    awarded = next(
        (
            getattr(award, n)
            for n in ("issued_on", "awarded_at", "issued_at")
            if getattr(award, n, None)
        ),
        None,
    )
    expires = getattr(award, "expires_on", None) or getattr(award, "expires_at", None)
    return title, awarded, expires


def users_from_identifiers(*, actor: User, values: list[str]) -> tuple[list[int], list[str]]:
    """Users named by email or username (CSV enroll), limited to those the actor may manage:
    (their ids, the values that matched nobody). Two queries, whatever the file size."""
    from django.db.models.functions import Lower

    from users.selectors import users_visible_to

    wanted = {v.lower() for v in values}
    visible = users_visible_to(actor).filter(is_active=True)
    by_key: dict[str, int] = {}
    for pk, email in (
        visible.annotate(email_l=Lower("email"))
        .filter(email_l__in=wanted)
        .values_list("pk", "email_l")
    ):
        by_key[email] = pk
    rest = [v for v in wanted if v not in by_key]
    if rest:
        for pk, username in (
            visible.annotate(username_l=Lower("username"))
            .filter(username_l__in=rest)
            .values_list("pk", "username_l")
        ):
            by_key[username] = pk
    ids = list(dict.fromkeys(by_key[v.lower()] for v in values if v.lower() in by_key))
    unknown = list(dict.fromkeys(v for v in values if v.lower() not in by_key))
    return ids, unknown


def activities_complete_for_all(
    *, course: Course, users: QuerySet[User] | Sequence[int], user_count: int
) -> set[int]:
    """The course's activities that every one of `users` (a queryset, or ids) has completed:
    one grouped query, the users as a subquery when they are a queryset (a selection can be
    far more ids than a query may carry)."""
    if not user_count:
        return set()
    user_ids: Any = users.values("pk") if isinstance(users, QuerySet) else list(users)
    return set(
        ActivityCompletion.objects.filter(activity__module__course=course, user_id__in=user_ids)
        .values("activity_id")
        .annotate(users=Count("user_id", distinct=True))
        .filter(users__gte=user_count)
        .values_list("activity_id", flat=True)
    )
