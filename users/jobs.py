"""Bulk actions over users, run inline or as background jobs (see lms.jobs)."""

from __future__ import annotations

from lms.jobs import ChunkOutcome, job_handler
from lms.models import BackgroundJob
from users.models import UserGroup
from users.selectors import users_visible_to
from users.services import users_add_to_group, users_set_active


@job_handler("users.set_active")
def users_set_active_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome:
    """params: {"is_active": bool}. Users outside the creator's scope are reported, not touched."""
    actor = job.created_by
    outcome = ChunkOutcome()
    if actor is None:
        outcome.errors = [
            (pk, "The admin who started this job no longer exists.") for pk in item_ids
        ]
        return outcome
    is_active = bool(job.params["is_active"])
    users = {user.pk: user for user in users_visible_to(actor).filter(pk__in=item_ids)}
    for pk in item_ids:
        if pk not in users:
            outcome.errors.append((pk, "Not found or outside your departments."))
    own = [users[pk] for pk in item_ids if pk == actor.pk and pk in users]
    for user in own:
        outcome.errors.append((user.pk, "You cannot disable or enable yourself."))
    candidates = [users[pk] for pk in item_ids if pk in users and pk != actor.pk]
    changed = users_set_active(users=candidates, is_active=is_active, actor=actor)
    outcome.done = len(candidates)
    outcome.counts["changed"] += len(changed)
    outcome.counts["unchanged"] += len(candidates) - len(changed)
    return outcome


@job_handler("users.add_to_group")
def users_add_to_group_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome:
    """params: {"group_id": int}. One INSERT per chunk; members already in the group are
    counted as unchanged, so a replayed chunk adds nobody twice."""
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
