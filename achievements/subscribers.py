"""How achievements react to what other apps record (registered in lms/event_kinds.py).

Every subscriber runs inside the transaction that recorded the events and is idempotent:
points for a module or course are keyed "module:<id>" / "course:<id>" per user, badges are
unique per user, so a replayed event (or a reset course completed again) awards nothing twice.
While gamification is off nothing is awarded."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from achievements.models import ActivityPoints, CoursePoints, GamificationSettings, PointsEntry
from achievements.services import AutoAward, badges_evaluate, points_award_once, points_sync_active
from lms.models import Event


def _enabled() -> GamificationSettings | None:
    config = GamificationSettings.load()
    return config if config.enabled else None


def _subjects(events: Sequence[Event]) -> list[int]:
    return sorted({event.subject_id for event in events if event.subject_id is not None})


def _evaluate_badges(events: Sequence[Event]) -> None:
    by_kind: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_kind[event.kind].append(event)
    for kind, group in by_kind.items():
        badges_evaluate(
            kind=kind,
            user_ids=_subjects(group),
            since=min(event.created_at for event in group),
        )


def on_module_completed(events: Sequence[Event]) -> None:
    config = _enabled()
    if config is None:
        return
    points_award_once(
        [
            AutoAward(
                user_id=event.subject_id,
                amount=config.module_points,
                reason=f"Passed the module “{event.target_label}”",
                source=PointsEntry.Source.MODULE,
                award_key=f"module:{event.target_id}",
                content_type_id=event.target_type_id,
                content_id=event.target_id,
                content_label=event.target_label,
            )
            for event in events
            if event.subject_id is not None and event.target_id is not None
        ]
    )
    _evaluate_badges(events)


def on_course_completed(events: Sequence[Event]) -> None:
    config = _enabled()
    if config is None:
        return
    course_ids = {event.target_id for event in events if event.target_id is not None}
    custom = dict(
        CoursePoints.objects.filter(course_id__in=course_ids).values_list("course_id", "points")
    )
    points_award_once(
        [
            AutoAward(
                user_id=event.subject_id,
                amount=custom.get(event.target_id, config.course_points),
                reason=f"Passed the course “{event.target_label}”",
                source=PointsEntry.Source.COURSE,
                award_key=f"course:{event.target_id}",
                content_type_id=event.target_type_id,
                content_id=event.target_id,
                content_label=event.target_label,
            )
            for event in events
            if event.subject_id is not None and event.target_id is not None
        ]
    )
    _evaluate_badges(events)


def on_activity_completed(events: Sequence[Event]) -> None:
    config = _enabled()
    if config is None:
        return
    activity_ids = {event.target_id for event in events if event.target_id is not None}
    custom = dict(
        ActivityPoints.objects.filter(activity_id__in=activity_ids).values_list(
            "activity_id", "points"
        )
    )
    points_award_once(
        [
            AutoAward(
                user_id=event.subject_id,
                amount=custom[event.target_id],
                reason=f"Completed “{event.target_label}”",
                source=PointsEntry.Source.ACTIVITY,
                award_key=f"activity:{event.target_id}",
                content_type_id=event.target_type_id,
                content_id=event.target_id,
                content_label=event.target_label,
            )
            for event in events
            if event.subject_id is not None and event.target_id in custom
        ]
    )
    _evaluate_badges(events)


def on_badge_event(events: Sequence[Event]) -> None:
    """Profile and community events: only badge rules count them."""
    if _enabled() is None:
        return
    _evaluate_badges(events)


def on_user_active_changed(events: Sequence[Event]) -> None:
    """Disabled users leave the leaderboards (and come back when enabled)."""
    points_sync_active(user_ids=_subjects(events))
