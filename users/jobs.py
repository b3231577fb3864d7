"""Bulk actions over users, run inline or as background jobs (see lms.jobs)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType

from lms.jobs import ChunkOutcome
from lms.models import BackgroundJob
from users.models import UserGroup
from users.roles import user_rank
from users.selectors import users_visible_to
from users.services import users_add_to_group, users_set_active


def _fresh_content_types() -> None:
    """A worker process lives longer than the content-type rows it cached: when the database
    is reset under it (the test suite flushes it between tests) the cached ids point at rows
    that are gone and recording an event fails. One query per chunk keeps the ids right."""
    ContentType.objects.clear_cache()


def users_set_active_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome:
    """params: {"is_active": bool}. Users outside the creator's scope are reported, not touched."""
    _fresh_content_types()
    actor = job.created_by
    outcome = ChunkOutcome()
    if actor is None:
        outcome.errors = [
            (pk, "The admin who started this job no longer exists.") for pk in item_ids
        ]
        return outcome
    is_active = bool(job.params["is_active"])
    users = {
        user.pk: user
        for user in users_visible_to(actor).filter(pk__in=item_ids).prefetch_related("groups")
    }
    for pk in item_ids:
        if pk not in users:
            outcome.errors.append((pk, "Not found or outside your departments."))
    own = [users[pk] for pk in item_ids if pk == actor.pk and pk in users]
    for user in own:
        outcome.errors.append((user.pk, "You cannot disable or enable yourself."))
    actor_rank = user_rank(actor)
    higher = {pk for pk, user in users.items() if pk != actor.pk and user_rank(user) > actor_rank}
    for pk in item_ids:
        if pk in higher:
            outcome.errors.append((pk, "This user has more rights than you."))
    candidates = [
        users[pk] for pk in item_ids if pk in users and pk != actor.pk and pk not in higher
    ]
    changed = users_set_active(users=candidates, is_active=is_active, actor=actor)
    outcome.done = len(candidates)
    outcome.counts["changed"] += len(changed)
    outcome.counts["unchanged"] += len(candidates) - len(changed)
    return outcome


def users_add_to_group_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome:
    """params: {"group_id": int}. One INSERT per chunk; members already in the group are
    counted as unchanged, so a replayed chunk adds nobody twice."""
    _fresh_content_types()
    actor = job.created_by
    outcome = ChunkOutcome()
    group = UserGroup.objects.filter(pk=job.params.get("group_id")).first()
    if actor is None or group is None:
        reason = "The group no longer exists." if group is None else "The admin is gone."
        outcome.errors = [(pk, reason) for pk in item_ids]
        return outcome
    users = {user.pk: user for user in users_visible_to(actor).filter(pk__in=item_ids)}
    for pk in item_ids:
        if pk not in users:
            outcome.errors.append((pk, "Not found or outside your departments."))
    candidates = [users[pk] for pk in item_ids if pk in users]
    added = users_add_to_group(users=candidates, group=group, actor=actor)
    outcome.done = len(candidates)
    outcome.counts["added"] += len(added)
    outcome.counts["already in group"] += len(candidates) - len(added)
    return outcome
