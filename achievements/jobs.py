"""Bulk actions of the achievements app, run inline or as background jobs (see lms.jobs)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from achievements.models import Badge
from achievements.services import (
    badge_grant_bulk,
    badges_award_by_rule,
    points_award_bulk,
    points_deduct_bulk,
)
from lms.jobs import ChunkOutcome
from lms.models import BackgroundJob
from users.models import User
from users.selectors import users_visible_to

OUT_OF_SCOPE = "Not found or outside your departments."


def _fresh_content_types() -> None:
    """A long-lived worker caches content-type ids; after a test database is flushed and
    re-created they are stale and events naming a target would fail. One cheap query per chunk.
    (Better done once per task in lms; see the report.)"""
    ContentType.objects.clear_cache()


def _in_scope(job: BackgroundJob, item_ids: list[int], outcome: ChunkOutcome) -> list[int]:
    actor = job.created_by
    if actor is None:
        outcome.errors.extend(
            (pk, "The admin who started this job no longer exists.") for pk in item_ids
        )
        return []
    visible = set(users_visible_to(actor).filter(pk__in=item_ids).values_list("pk", flat=True))
    outcome.errors.extend((pk, OUT_OF_SCOPE) for pk in item_ids if pk not in visible)
    return [pk for pk in item_ids if pk in visible]


def points_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome:
    """params: {"direction": "award"|"remove", "amount": int, "reason": str, "awarded_at": iso}"""
    _fresh_content_types()
    outcome = ChunkOutcome()
    ids = _in_scope(job, item_ids, outcome)
    if not ids:
        return outcome
    params = job.params
    awarded_at = datetime.fromisoformat(params["awarded_at"]) if params.get("awarded_at") else None
    try:
        if params.get("direction") == "remove":
            result = points_deduct_bulk(
                user_ids=ids,
                amount=int(params["amount"]),
                reason=params["reason"],
                actor=job.created_by,
                awarded_at=awarded_at,
            )
            outcome.errors.extend(result.refused.items())
            outcome.done += len(result.entries)
            outcome.counts["removed"] += len(result.entries)
        else:
            entries = points_award_bulk(
                user_ids=ids,
                amount=int(params["amount"]),
                reason=params["reason"],
                actor=job.created_by,
                awarded_at=awarded_at,
            )
            outcome.done += len(entries)
            outcome.counts["awarded"] += len(entries)
    except ValidationError as exc:
        outcome.errors.extend((pk, "; ".join(exc.messages)) for pk in ids)
    return outcome


def badge_grant_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome:
    """params: {"badge_id": int, "reason": str}"""
    _fresh_content_types()
    outcome = ChunkOutcome()
    ids = _in_scope(job, item_ids, outcome)
    badge = Badge.objects.filter(pk=job.params["badge_id"]).first()
    if badge is None or job.created_by is None:
        outcome.errors.extend((pk, "The badge no longer exists.") for pk in ids)
        return outcome
    if not ids:
        return outcome
    try:
        granted = badge_grant_bulk(
            user_ids=ids, badge=badge, actor=job.created_by, reason=job.params["reason"]
        )
    except ValidationError as exc:
        outcome.errors.extend((pk, "; ".join(exc.messages)) for pk in ids)
        return outcome
    outcome.done += len(ids)
    outcome.counts["granted"] += len(granted)
    outcome.counts["already held"] += len(ids) - len(granted)
    return outcome


def badge_apply_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome:
    """params: {"badge_id": int}. Re-checks each user's history, so a replay awards nothing."""
    _fresh_content_types()
    from achievements.rules import RULES, rule_counts

    outcome = ChunkOutcome()
    badge = Badge.objects.filter(pk=job.params["badge_id"]).first()
    rule = RULES.get(badge.rule) if badge is not None else None
    if badge is None or rule is None:
        outcome.errors.extend((pk, "The badge or its rule no longer exists.") for pk in item_ids)
        return outcome
    active = set(User.objects.filter(pk__in=item_ids, is_active=True).values_list("pk", flat=True))
    counts = rule_counts(rule, active)
    reached = [pk for pk in item_ids if counts.get(pk, 0) >= badge.threshold and pk in active]
    awarded = badges_award_by_rule(badge=badge, user_ids=reached)
    outcome.done = len(item_ids)
    outcome.counts["awarded"] += len(awarded)
    outcome.counts["unchanged"] += len(item_ids) - len(awarded)
    return outcome
