"""Scenario 6: mark a 20-activity course complete for 10,000 enrolled users as a background
job on the real worker, end to end, with everything that follows in the same transactions:
course-completed events, the course's points and the certification linked to the course.
Each run gets its own new course (set up untimed). Compared with COPY of the same progress
rows (activity, module and course completions) and with the naive way (one
`progress_mark_complete()` call per user, timed on a sample)."""

from __future__ import annotations

import time
from typing import Any

from bench.core import Result, copy_rows_seconds
from bench.scenarios.common import job_run_and_wait, load_user_ids, require_callable

ID = "6"
TITLE = "Complete a 20-activity course for 10,000 users"
TARGET = "< 20 s with events, points and certification awards"
LEARNERS = 10_000
LEARNERS_QUICK = 1_000  # quick mode stays under two minutes; the target is scaled
MODULES = 4
ACTIVITIES_PER_MODULE = 5
COURSE_POINTS = 50


def _course_setup(ctx: Any, user_ids: list[int], tag: str) -> tuple[Any, Any]:
    """A new course of 4 x 5 activities with custom points and a linked certification, and
    the learners enrolled in it (through the enrollment service)."""
    from achievements.services import course_points_set
    from certifications.services import certification_create
    from progress.models import Activity, Course, Module
    from progress.services import enrollments_create

    course = Course.objects.create(title=f"Bench course {tag}", slug=f"bench-course-{tag}")
    for m in range(MODULES):
        module = Module.objects.create(course=course, title=f"Module {m + 1}", position=m)
        Activity.objects.bulk_create(
            Activity(module=module, title=f"Lesson {a + 1}", position=a)
            for a in range(ACTIVITIES_PER_MODULE)
        )
    course_points_set(course=course, points=COURSE_POINTS, actor=ctx.admin)
    certification = certification_create(
        title=f"Bench certification {tag}", validity_days=365, courses=[course], actor=None
    )
    enrollments_create(course=course, actor=ctx.admin, user_ids=user_ids)
    return course, certification


def _everything_done(course: Any, certification: Any, count: int) -> dict[str, Any]:
    from django.contrib.contenttypes.models import ContentType

    from achievements.models import PointsEntry
    from certifications.models import CertificationAward
    from lms.event_kinds import EventKind
    from lms.models import Event
    from progress.models import CourseCompletion

    facts = {
        "course_completions": CourseCompletion.objects.filter(course=course).count(),
        "course_completed_events": Event.objects.filter(
            kind=EventKind.COURSE_COMPLETED,
            target_type=ContentType.objects.get_for_model(course),
            target_id=course.pk,
        ).count(),
        "course_points_entries": PointsEntry.objects.filter(
            award_key=f"course:{course.pk}"
        ).count(),
        "certification_awards": CertificationAward.objects.filter(
            certification=certification, is_current=True
        ).count(),
    }
    facts["all_done"] = all(value == count for value in facts.values())
    return facts


def _copy_seconds(user_ids: list[int]) -> float:
    """COPY into a new course's progress tables (a course nobody has started)."""
    from django.utils import timezone

    from progress.models import Activity, Course, Module

    tag = time.time_ns()
    course = Course.objects.create(title=f"Bench COPY course {tag}", slug=f"bench-copy-{tag}")
    for m in range(MODULES):
        module = Module.objects.create(course=course, title=f"Module {m + 1}", position=m)
        Activity.objects.bulk_create(
            Activity(module=module, title=f"Lesson {a + 1}", position=a)
            for a in range(ACTIVITIES_PER_MODULE)
        )
    now = timezone.now()
    activities = list(Activity.objects.filter(module__course=course).values_list("pk", flat=True))
    modules = list(Module.objects.filter(course=course).values_list("pk", flat=True))
    seconds = copy_rows_seconds(
        "progress.ActivityCompletion",
        ["user_id", "activity_id", "course_id", "completed_at", "is_manual"],
        ((u, a, course.pk, now, True) for u in user_ids for a in activities),
    )
    seconds += copy_rows_seconds(
        "progress.ModuleCompletion",
        ["user_id", "module_id", "course_id", "completed_at", "is_manual"],
        ((u, m, course.pk, now, True) for u in user_ids for m in modules),
    )
    seconds += copy_rows_seconds(
        "progress.CourseCompletion",
        ["user_id", "course_id", "completed_at", "is_manual"],
        ((u, course.pk, now, True) for u in user_ids),
    )
    return seconds


def _naive_seconds_per_user(ctx: Any, user_ids: list[int]) -> float:
    from progress.services import progress_mark_complete

    course, _ = _course_setup(ctx, user_ids, f"naive-{time.time_ns()}")
    started = time.perf_counter()
    for pk in user_ids:
        progress_mark_complete(course=course, actor=ctx.admin, user_ids=[pk])
    return (time.perf_counter() - started) / len(user_ids)


def run(ctx: Any) -> list[Result]:
    require_callable("progress.jobs.progress_mark_complete_chunk")
    require_callable("achievements.services.course_points_set")
    require_callable("certifications.services.certification_create")
    learners = LEARNERS_QUICK if ctx.quick else LEARNERS
    user_ids = load_user_ids(learners)
    samples, checks = [], []
    for number in range(1 if ctx.quick else ctx.write_runs):
        course, certification = _course_setup(ctx, user_ids, f"{number}-{time.time_ns()}")
        elapsed, job = job_run_and_wait(
            kind="progress.mark_complete",
            label=f"Mark complete: {course}",
            item_ids=user_ids,
            actor=ctx.admin,
            params={
                "course_id": course.pk,
                "activity_ids": None,
                "send_email": False,
                "enroll_missing": False,
            },
        )
        samples.append(elapsed)
        checks.append(
            {**_everything_done(course, certification, len(user_ids)), "job": job.summary}
        )
    copy_s = _copy_seconds(user_ids)
    sample = 20 if ctx.quick else 100
    naive_per_user = _naive_seconds_per_user(ctx, user_ids[-sample:])
    result = Result(
        scenario=ID,
        name=f"Mark a 20-activity course complete for {len(user_ids):,} users",
        measured="end to end: job start to job end (worker)",
        samples=samples,
        target=TARGET
        if len(user_ids) == LEARNERS
        else f"< {20 * len(user_ids) / LEARNERS:.0f} s (20 s per 10,000)",
        target_s=20.0 * len(user_ids) / LEARNERS,
        items=len(user_ids),
        extra={
            "checks": checks,
            "copy_s": round(copy_s, 3),
            "naive_s_per_user": round(naive_per_user, 5),
            "naive_sample_users": sample,
        },
    )
    result.judge()
    all_done = all(check["all_done"] for check in checks)
    if not all_done:
        result.passed = False
    median = result.median or 0.0
    result.ratio_copy = median / copy_s if copy_s else None
    result.ratio_naive = naive_per_user * len(user_ids) / median if median else None
    result.note = (
        f"completions, events, course points and certification awards "
        f"{'all done' if all_done else 'NOT all done: ' + str(checks[-1])}; COPY of the "
        f"{len(user_ids) * 25:,} progress rows {copy_s:.2f} s; naive {naive_per_user * 1000:.0f} ms/user"
    )
    return [result]
