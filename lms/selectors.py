from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet

from lms.event_references import DETAIL_REFERENCES, DetailReference
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
    return events_with_details(
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


# --- an event's details, readable ------------------------------------------------------------


@dataclass(frozen=True)
class EventDetailRow:
    """One line of an event's details: "Phone: 555 → 556" (a change: `old` is set) or
    "Course: Onboarding" (linked to `url` while the course exists)."""

    label: str
    value: str
    old: str | None = None
    url: str | None = None


def _detail_label(key: str) -> str:
    if key.startswith("custom:"):  # a custom field's own label, as the admin wrote it
        return key.removeprefix("custom:")
    return key.replace("_", " ").capitalize()


def _detail_value(value: Any) -> str:
    if value in (None, "", [], {}):
        return "(empty)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(empty)"
    return str(value)


def _detail_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _reference_group(reference: DetailReference) -> tuple[str, tuple[str, ...]]:
    return reference.model, reference.select_related


def events_with_details(events: Iterable[Event]) -> list[Event]:
    """The events with `detail_rows` (a list of EventDetailRow) set on each: the ids their
    details hold (`course_id`, `certification_id`, ..., see lms/event_references.py) become
    the names of those things, linked to their pages while they exist. One query per kind of
    thing the page names, whatever the number of events; a thing deleted since shows the
    event's own label for it when it was the event's target."""
    events = list(events)
    wanted: dict[tuple[str, tuple[str, ...]], set[int]] = defaultdict(set)
    for event in events:
        for key, value in (event.details or {}).items():
            reference = DETAIL_REFERENCES.get(key)
            pk = _detail_id(value)
            if reference is not None and pk is not None:
                wanted[_reference_group(reference)].add(pk)
    found: dict[tuple[str, tuple[str, ...]], dict[int, Any]] = {}
    for group, ids in wanted.items():
        model_path, related = group
        model = apps.get_model(model_path)
        found[group] = model._default_manager.select_related(*related).in_bulk(sorted(ids))
    for event in events:
        event.detail_rows = _detail_rows(event, found)  # type: ignore[attr-defined]
    return events


def _detail_rows(
    event: Event, found: dict[tuple[str, tuple[str, ...]], dict[int, Any]]
) -> list[EventDetailRow]:
    details = event.details or {}
    rows: list[EventDetailRow] = []
    changes = details.get("changes")
    if isinstance(changes, dict):
        for field_name, pair in changes.items():
            old, new = pair if isinstance(pair, list) and len(pair) == 2 else ("", pair)
            rows.append(
                EventDetailRow(
                    label=_detail_label(field_name),
                    value=_detail_value(new),
                    old=_detail_value(old),
                )
            )
    for key, value in details.items():
        if key == "changes":
            continue
        reference = DETAIL_REFERENCES.get(key)
        pk = _detail_id(value)
        if reference is None or pk is None:
            rows.append(EventDetailRow(label=_detail_label(key), value=_detail_value(value)))
            continue
        thing = found.get(_reference_group(reference), {}).get(pk)
        if thing is not None:
            url = reference.url(thing) if reference.url is not None else None
            rows.append(EventDetailRow(label=reference.label, value=reference.name(thing), url=url))
            continue
        model = apps.get_model(reference.model)
        was_target = (
            event.target_id == pk
            and event.target_type_id == ContentType.objects.get_for_model(model).pk
        )
        gone = f"{event.target_label} (deleted)" if was_target and event.target_label else "deleted"
        rows.append(EventDetailRow(label=reference.label, value=gone))
    return rows
