"""Bulk mark-complete and reset over many users, run inline or as background jobs."""

from __future__ import annotations

from lms.jobs import ChunkOutcome
from lms.models import BackgroundJob
from progress.models import Course
from progress.services import ProgressError, progress_mark_complete, progress_reset
from progress.summaries import mark_complete_counts
from users.selectors import users_visible_to

OUT_OF_SCOPE = "Not found or outside your departments."


def _scope(job: BackgroundJob, item_ids: list[int], outcome: ChunkOutcome) -> list[int] | None:
    actor = job.created_by
    if actor is None:
        outcome.errors = [
            (pk, "The admin who started this job no longer exists.") for pk in item_ids
        ]
        return None
    visible = set(users_visible_to(actor).filter(pk__in=item_ids).values_list("pk", flat=True))
    for pk in item_ids:
        if pk not in visible:
            outcome.errors.append((pk, OUT_OF_SCOPE))
    return [pk for pk in item_ids if pk in visible]


def progress_mark_complete_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome:
    """params: {"course_id", "activity_ids" (None: entire course), "send_email",
    "enroll_missing"}. Summary: learners completed / already complete / errors, activity
    completions, and per activity the learners completed and skipped (progress.summaries)."""
    outcome = ChunkOutcome()
    user_ids = _scope(job, item_ids, outcome)
    if not user_ids:
        outcome.counts["errors"] += len(outcome.errors)
        return outcome
    course = Course.objects.get(pk=job.params["course_id"])
    try:
        result = progress_mark_complete(
            user_ids=user_ids,
            course=course,
            activities=job.params.get("activity_ids"),
            actor=job.created_by,
            send_email=bool(job.params.get("send_email")),
            enroll_missing=bool(job.params.get("enroll_missing")),
        )
    except ProgressError as exc:
        outcome.errors.extend((pk, str(exc)) for pk in user_ids)
        outcome.counts["errors"] += len(outcome.errors)
        return outcome
    outcome.errors.extend(result.errors)
    outcome.done = len(result.completed_users) + len(result.already_complete_users)
    outcome.counts.update(mark_complete_counts(result))
    outcome.counts["errors"] += len(outcome.errors)
    return outcome


def progress_reset_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome:
    """params: {"course_id", "activity_ids" (None: entire course)}."""
    outcome = ChunkOutcome()
    user_ids = _scope(job, item_ids, outcome)
    if not user_ids:
        outcome.counts["errors"] += len(outcome.errors)
        return outcome
    course = Course.objects.get(pk=job.params["course_id"])
    try:
        result = progress_reset(
            user_ids=user_ids,
            course=course,
            activities=job.params.get("activity_ids"),
            actor=job.created_by,
        )
    except ProgressError as exc:
        outcome.errors.extend((pk, str(exc)) for pk in user_ids)
        outcome.counts["errors"] += len(outcome.errors)
        return outcome
    outcome.done = len(user_ids)
    outcome.counts["reset"] += len(result.reset_users)
    outcome.counts["nothing to reset"] += len(result.nothing_to_reset_users)
    outcome.counts["errors"] += len(outcome.errors)
    return outcome


def progress_enroll_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome:
    """params: {"course_id", "expires_at" (ISO or None), "mark_complete", "send_email"}.
    Bulk enroll and CSV enroll; with mark_complete, the entire course is completed too."""
    from django.utils.dateparse import parse_datetime

    from progress.services import enrollments_create

    outcome = ChunkOutcome()
    user_ids = _scope(job, item_ids, outcome)
    if not user_ids:
        outcome.counts["errors"] += len(outcome.errors)
        return outcome
    course = Course.objects.get(pk=job.params["course_id"])
    raw_expiry = job.params.get("expires_at")
    result = enrollments_create(
        course=course,
        actor=job.created_by,
        user_ids=user_ids,
        expires_at=parse_datetime(raw_expiry) if raw_expiry else None,
        mark_complete=bool(job.params.get("mark_complete")),
        send_email=bool(job.params.get("send_email")),
    )
    outcome.done = len(user_ids)
    outcome.counts["enrolled"] += len(result.enrolled_users)
    outcome.counts["already enrolled"] += len(result.already_enrolled_users)
    if result.completion is not None:
        outcome.counts["completed"] += len(result.completion.completed_users)
        outcome.counts["already complete"] += len(result.completion.already_complete_users)
    outcome.counts["errors"] += len(outcome.errors)
    return outcome
