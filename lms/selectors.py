from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db.models import QuerySet

from lms.models import BackgroundJob, Event
from users.models import User
from users.roles import is_super_admin


def events_for_user(
    *,
    subject: User,
    kind: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[Event]:
    events = Event.objects.filter(subject=subject).select_related("actor", "impersonator")
    if kind:
        events = events.filter(kind=kind)
    if date_from:
        events = events.filter(created_at__date__gte=date_from)
    if date_to:
        events = events.filter(created_at__date__lte=date_to)
    return events.order_by("-created_at", "-id")


def events_of_kinds(*, kinds: Iterable[str], limit: int = 10) -> list[Event]:
    """The latest events of these kinds, newest first, with who did them (for the
    organisation pages' "Recent changes")."""
    return list(
        Event.objects.filter(kind__in=[str(kind) for kind in kinds])
        .select_related("actor", "impersonator")
        .order_by("-created_at", "-id")[:limit]
    )


def jobs_visible_to(actor: User) -> QuerySet[BackgroundJob]:
    """Super admins see every job; other admins see the jobs they started."""
    jobs = BackgroundJob.objects.select_related("created_by", "impersonator").defer(
        "item_ids", "errors"
    )
    if is_super_admin(actor):
        return jobs
    return jobs.filter(created_by=actor)
