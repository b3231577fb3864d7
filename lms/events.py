"""Recording events: the one write path into the event log (see lms/event_kinds.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from lms.context import current_impersonator
from lms.event_kinds import SUBSCRIBERS, EventKind
from lms.models import Event
from lms.pg_copy import copy_instances

if TYPE_CHECKING:
    from users.models import User

Subscriber = Callable[[Sequence[Event]], None]
_UNSET: Any = object()


@dataclass(frozen=True)
class EventSpec:
    """One event to record in a batch (see `event_record_bulk`)."""

    subject: User | int | None
    target: models.Model | None = None
    details: dict[str, Any] = field(default_factory=dict)


@cache
def _subscribers_for(kind: str) -> tuple[Subscriber, ...]:
    return tuple(import_string(path) for path in SUBSCRIBERS.get(kind, []))


def _target_fields(target: models.Model | None) -> dict[str, Any]:
    if target is None:
        return {"target_type": None, "target_id": None, "target_label": ""}
    return {
        "target_type": ContentType.objects.get_for_model(target),
        "target_id": target.pk,
        "target_label": str(target)[:255],
    }


def _subject_id(subject: User | int | None) -> int | None:
    if subject is None or isinstance(subject, int):
        return subject
    return subject.pk


def event_record(
    *,
    kind: EventKind | str,
    actor: User | None,
    subject: User | int | None,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
    manual: bool = False,
    impersonator: User | None = _UNSET,
    at: Any = None,
) -> Event:
    """Append one event and hand it to the subscribers of its kind, in the caller's transaction."""
    with transaction.atomic():
        event = Event(
            kind=str(kind),
            actor=actor if actor is not None and actor.pk else None,
            impersonator=current_impersonator() if impersonator is _UNSET else impersonator,
            subject_id=_subject_id(subject),
            details=details or {},
            is_manual=manual,
            created_at=at or timezone.now(),
            **_target_fields(target),
        )
        event.save()
        _dispatch(str(kind), [event])
    return event


def event_record_bulk(
    *,
    kind: EventKind | str,
    actor: User | None,
    specs: Iterable[EventSpec],
    manual: bool = False,
    impersonator: User | None = _UNSET,
) -> list[Event]:
    """Append many events of one kind with one INSERT, then hand the batch to the subscribers.
    Bulk jobs use this so that a job's awards are not one round trip each."""
    now = timezone.now()
    real_impersonator = current_impersonator() if impersonator is _UNSET else impersonator
    impersonator_id = real_impersonator.pk if real_impersonator is not None else None
    actor_id = actor.pk if actor is not None and actor.pk else None
    kind_name = str(kind)
    type_ids: dict[type[models.Model], int] = {}
    events = []
    for spec in specs:
        target = spec.target
        if target is None:
            target_type_id, target_id, target_label = None, None, ""
        else:
            model = type(target)
            if model not in type_ids:
                type_ids[model] = ContentType.objects.get_for_model(model).pk
            target_type_id, target_id, target_label = type_ids[model], target.pk, str(target)[:255]
        # Positional arguments in field order (as Django builds rows read from the database):
        # several times cheaper than keywords through the foreign-key descriptors, which adds
        # up over the events of a large job.
        row: tuple[Any, ...] = (
            None,
            kind_name,
            actor_id,
            impersonator_id,
            _subject_id(spec.subject),
            target_type_id,
            target_id,
            target_label,
            spec.details,
            manual,
            now,
        )
        events.append(Event(*row))  # type: ignore[misc]  # django-stubs reads *row as "id"
    if not events:
        return []
    with transaction.atomic():
        _events_insert(events)
        _dispatch(str(kind), events)
    return events


_EVENT_COPY_COLUMNS = (
    "id",
    "kind",
    "actor_id",
    "impersonator_id",
    "subject_id",
    "target_type_id",
    "target_id",
    "target_label",
    "details",
    "is_manual",
    "created_at",
)


assert tuple(f.attname for f in Event._meta.concrete_fields) == _EVENT_COPY_COLUMNS


def _events_insert(events: list[Event]) -> None:
    """Insert events and give them their primary keys with COPY (several times faster than
    Django's multi-row INSERT for a job of thousands of events)."""
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    copy_instances(
        events,
        _EVENT_COPY_COLUMNS[1:],
        lambda event: (
            event.kind,
            event.actor_id,
            event.impersonator_id,
            event.subject_id,
            event.target_type_id,
            event.target_id,
            event.target_label,
            dumps(event.details),
            event.is_manual,
            event.created_at,
        ),
    )


def _dispatch(kind: str, events: Sequence[Event]) -> None:
    for subscriber in _subscribers_for(kind):
        subscriber(events)
