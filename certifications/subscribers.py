"""How certifications react to what other apps record (registered in lms/event_kinds.py).

A completed course or learning plan, or recorded external training, awards the certifications
linked to it. Each subscriber runs inside the transaction that recorded the events and is
idempotent: each event's id is its award's source key, so a replayed event finds its own
award and does nothing, and a repeated completion does not renew an award that is still
valid."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from certifications.models import Certification, CertificationAward
from certifications.services import AwardRequest, awards_apply
from lms.models import Event

Association = CertificationAward.Association


def _auto_award(events: Sequence[Event], links: dict[int, list[int]], association: str) -> None:
    """`links` maps a target id (course, plan or activity) to certification ids. Each event's
    id is the award's source key, so a replayed event finds its own award and does nothing;
    a repeated completion does not renew an award that is still valid."""
    wanted: dict[int, list[AwardRequest]] = defaultdict(list)
    certifications = {
        c.pk: c
        for c in Certification.objects.filter(pk__in={c for ids in links.values() for c in ids})
    }
    for event in events:
        if event.subject_id is None or event.target_id is None:
            continue
        issued_on = timezone.localdate(event.created_at)
        for certification_id in links.get(int(event.target_id), []):
            certification = certifications[certification_id]
            wanted[certification_id].append(
                AwardRequest(
                    user_id=event.subject_id,
                    issued_on=issued_on,
                    expires_on=certification.default_expiry(issued_on),
                    association=association,
                    external_training_id=(
                        int(event.target_id) if association == Association.EXTERNAL else None
                    ),
                    source_key=f"event:{event.pk}",
                )
            )
    for certification_id, requests in sorted(wanted.items()):
        awards_apply(
            certification=certifications[certification_id],
            requests=requests,
            actor=None,
            manual=False,
            keep_valid=True,
        )


def _links(through: Any, column: str, target_ids: set[int]) -> dict[int, list[int]]:
    links: dict[int, list[int]] = defaultdict(list)
    for target_id, certification_id in through.objects.filter(
        **{f"{column}__in": target_ids}
    ).values_list(column, "certification_id"):
        links[target_id].append(certification_id)
    return links


def on_course_completed(events: Sequence[Event]) -> None:
    ids = {int(e.target_id) for e in events if e.target_id is not None}
    links = _links(Certification.courses.through, "course_id", ids)
    if links:
        _auto_award(events, links, Association.COMPLETION)


def on_learning_plan_completed(events: Sequence[Event]) -> None:
    ids = {int(e.target_id) for e in events if e.target_id is not None}
    links = _links(Certification.learning_plans.through, "learningplan_id", ids)
    if links:
        _auto_award(events, links, Association.COMPLETION)


def on_external_training_recorded(events: Sequence[Event]) -> None:
    ids = {int(e.target_id) for e in events if e.target_id is not None}
    links = _links(Certification.external_trainings.through, "externaltraining_id", ids)
    if links:
        _auto_award(events, links, Association.EXTERNAL)
