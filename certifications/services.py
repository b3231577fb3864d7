"""Writes about certifications: definitions, awarding (set-based, idempotent), edits,
unassigning, the daily expiry run. Each public service is one transaction and records events.

Awarding is the hot path (one job may award everyone in the organisation), so it never queries
per user: for a batch of user ids, one query finds who exists and is in scope, one finds (and
locks) their current awards, one UPDATE ends the awards being renewed, one INSERT creates the
new awards, and one INSERT per event kind records the events."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import psycopg
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection
from django.core.mail.message import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from certifications.models import (
    Certification,
    CertificationAward,
    CertificationReminder,
)
from lms.event_kinds import EventKind
from lms.events import EventSpec, event_record, event_record_bulk
from lms.jobs import BulkResult, ChunkOutcome, bulk_run
from lms.pg_copy import copy_instances
from users.models import User
from users.selectors import users_visible_to

if TYPE_CHECKING:
    from progress.models import Course, ExternalTraining, LearningPlan

logger = logging.getLogger(__name__)
Association = CertificationAward.Association

SKIP_REPLAY = "already awarded by this run"
SKIP_HOLDS = "already holds a valid award"
SKIP_OUT_OF_SCOPE = "not found, disabled or outside your departments"


# --- definitions -------------------------------------------------------------------------


@transaction.atomic
def certification_create(
    *,
    title: str,
    description: str = "",
    validity_days: int | None,
    renewal_window_days: int = 30,
    courses: Iterable[Course] = (),
    learning_plans: Iterable[LearningPlan] = (),
    external_trainings: Iterable[ExternalTraining] = (),
    design_html: str = "",
    actor: User | None,
) -> Certification:
    certification = Certification(
        title=title,
        description=description,
        validity_days=validity_days,
        renewal_window_days=renewal_window_days,
        design_html=design_html,
    )
    certification.full_clean()
    certification.save()
    certification.courses.set(list(courses))
    certification.learning_plans.set(list(learning_plans))
    certification.external_trainings.set(list(external_trainings))
    event_record(
        kind=EventKind.CERTIFICATION_DEFINED,
        actor=actor,
        subject=None,
        target=certification,
        details={"certification_id": certification.pk, "title": title},
        manual=True,
    )
    return certification


@transaction.atomic
def certification_update(
    *, certification: Certification, actor: User | None, **changes: Any
) -> Certification:
    """Change a definition. Existing awards keep their dates: a new validity applies to the
    awards made from now on."""
    relations = {
        key: changes.pop(key)
        for key in ("courses", "learning_plans", "external_trainings")
        if key in changes
    }
    for name, value in changes.items():
        setattr(certification, name, value)
    certification.full_clean()
    certification.save()
    for name, value in relations.items():
        getattr(certification, name).set(list(value))
    event_record(
        kind=EventKind.CERTIFICATION_DEFINITION_CHANGED,
        actor=actor,
        subject=None,
        target=certification,
        details={"certification_id": certification.pk, "fields": sorted([*changes, *relations])},
        manual=True,
    )
    return certification


# --- awarding ----------------------------------------------------------------------------


@dataclass(slots=True)
class AwardRequest:
    """One user to award, with the dates and association of their award."""

    user_id: int
    issued_on: date
    expires_on: date | None
    association: str = Association.MANUAL
    external_training_id: int | None = None
    source_key: str = ""


@dataclass
class AwardOutcome:
    awarded: list[int] = field(default_factory=list)
    renewed: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)

    def as_chunk_outcome(self) -> ChunkOutcome:
        outcome = ChunkOutcome(done=len(self.awarded) + len(self.renewed))
        outcome.counts["awarded"] += len(self.awarded)
        outcome.counts["renewed"] += len(self.renewed)
        for user_id, reason in self.skipped.items():
            if reason == SKIP_OUT_OF_SCOPE:
                outcome.errors.append((user_id, reason))
            else:
                outcome.done += 1
                outcome.counts[f"skipped ({reason})"] += 1
        return outcome


def award_dates_check(
    *, issued_on: date, expires_on: date | None, always_valid: bool
) -> date | None:
    """The expiry to store, or a ValidationError when it comes before the issue date."""
    if always_valid:
        return None
    if expires_on is not None and expires_on < issued_on:
        raise ValidationError(
            {"expires_on": "The expiration date cannot be before the issue date."}
        )
    return expires_on


def _association_check(association: str, external_training: ExternalTraining | None) -> None:
    if association not in Association.values:
        raise ValidationError({"association": f"Unknown association type {association!r}."})
    if association == Association.EXTERNAL and external_training is None:
        raise ValidationError(
            {"external_training": "Choose the external training activity this award is for."}
        )


def awards_apply(
    *,
    certification: Certification,
    requests: Sequence[AwardRequest],
    actor: User | None,
    manual: bool,
    keep_valid: bool = False,
) -> AwardOutcome:
    """Award in bulk, set-based. Call inside a transaction. `actor=None` is the system
    (automatic awards): no scope check. A request whose `source_key` matches the user's current
    award is a replay and is skipped; with `keep_valid`, a user whose current award is still
    active is skipped too (automatic awards do not renew what has not started expiring).

    Concurrency: the current awards it replaces are locked (pk order). Two awarders of the
    same certification and different people (the chunks of one bulk job, on two workers) run
    side by side. When two awarders give the same person a first award at once, the partial
    unique index stops the second; it then rolls back to its savepoint, takes the
    certification's row lock (awarders of the certification take turns) and decides again,
    now seeing the other's award."""
    by_user: dict[int, AwardRequest] = {}
    for request in requests:
        by_user.setdefault(int(request.user_id), request)
    if not by_user:
        return AwardOutcome()
    for attempt in range(AWARD_ATTEMPTS):
        if attempt == 1:
            # FOR NO KEY UPDATE, outside the savepoint so that it holds: edits of the
            # certification are unaffected by the awards' foreign keys (FOR KEY SHARE).
            list(
                Certification.objects.select_for_update(no_key=True)
                .filter(pk=certification.pk)
                .values_list("pk", flat=True)
            )
        try:
            with transaction.atomic():
                return _awards_write(certification, by_user, actor, manual, keep_valid)
        except (IntegrityError, psycopg.errors.UniqueViolation) as exc:
            if "certification_award_one_current" not in str(exc) or attempt + 1 == AWARD_ATTEMPTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


AWARD_ATTEMPTS = 4


def _awards_write(
    certification: Certification,
    by_user: dict[int, AwardRequest],
    actor: User | None,
    manual: bool,
    keep_valid: bool,
) -> AwardOutcome:
    outcome = AwardOutcome()
    ids = list(by_user)
    people = users_visible_to(actor) if actor is not None else User.objects.all()
    known = set(people.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
    for user_id in ids:
        if user_id not in known:
            outcome.skipped[user_id] = SKIP_OUT_OF_SCOPE
    current = {
        row[0]: row
        for row in CertificationAward.objects.select_for_update()
        .filter(certification=certification, is_current=True, user_id__in=known)
        .order_by("pk")
        .values_list("user_id", "pk", "source_key", "expires_on")
    }
    today = timezone.localdate()
    window = timedelta(days=certification.renewal_window_days)
    renew_award_ids: dict[int, int] = {}
    to_create: list[CertificationAward] = []
    for user_id in ids:
        if user_id not in known:
            continue
        request = by_user[user_id]
        existing = current.get(user_id)
        if existing is not None:
            _, award_id, source_key, expires_on = existing
            if request.source_key and source_key == request.source_key:
                outcome.skipped[user_id] = SKIP_REPLAY
                continue
            if keep_valid and (expires_on is None or expires_on - window > today):
                outcome.skipped[user_id] = SKIP_HOLDS
                continue
            renew_award_ids[user_id] = award_id
            outcome.renewed.append(user_id)
        else:
            outcome.awarded.append(user_id)
        to_create.append(
            CertificationAward(
                certification=certification,
                user_id=user_id,
                issued_on=request.issued_on,
                expires_on=request.expires_on,
                association=request.association,
                external_training_id=request.external_training_id,
                awarded_by_id=actor.pk if manual and actor is not None else None,
                source_key=request.source_key,
            )
        )
    if renew_award_ids:
        CertificationAward.objects.filter(pk__in=list(renew_award_ids.values())).update(
            is_current=False,
            ended_reason=CertificationAward.EndReason.RENEWED,
            ended_at=timezone.now(),
        )
    created = _awards_insert(to_create)
    awarded_specs, renewed_specs = [], []
    for award in created:
        details = {
            "certification_id": certification.pk,
            "award_id": award.pk,
            "issued_on": award.issued_on.isoformat(),
            "expires_on": award.expires_on.isoformat() if award.expires_on else None,
            "association": award.association,
        }
        if award.user_id in renew_award_ids:
            details["previous_award_id"] = renew_award_ids[award.user_id]
            renewed_specs.append(EventSpec(subject=award.user_id, target=award, details=details))
        else:
            awarded_specs.append(EventSpec(subject=award.user_id, target=award, details=details))
    event_record_bulk(
        kind=EventKind.CERTIFICATION_AWARDED, actor=actor, specs=awarded_specs, manual=manual
    )
    event_record_bulk(
        kind=EventKind.CERTIFICATION_RENEWED, actor=actor, specs=renewed_specs, manual=manual
    )
    return outcome


_AWARD_COPY_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "certification_id",
    "user_id",
    "issued_on",
    "expires_on",
    "association",
    "external_training_id",
    "code",
    "is_current",
    "ended_reason",
    "awarded_by_id",
    "source_key",
)


def _awards_insert(awards: list[CertificationAward]) -> list[CertificationAward]:
    """Insert new awards and give them their primary keys with COPY (several times faster than
    a multi-row INSERT for thousands of rows)."""
    if not awards:
        return awards
    now = timezone.now()
    for award in awards:
        award.created_at = award.updated_at = now
    return copy_instances(
        awards,
        _AWARD_COPY_COLUMNS[1:],
        lambda award: (
            now,
            now,
            award.certification_id,
            award.user_id,
            award.issued_on,
            award.expires_on,
            award.association,
            award.external_training_id,
            award.code,
            True,
            "",
            award.awarded_by_id,
            award.source_key,
        ),
    )


@dataclass(frozen=True)
class AwardTerms:
    issued_on: date
    expires_on: date | None
    association: str
    external_training_id: int | None


def award_terms(
    *,
    certification: Certification,
    issued_on: date,
    expires_on: date | None = None,
    always_valid: bool = False,
    association: str = Association.MANUAL,
    external_training: ExternalTraining | None = None,
) -> AwardTerms:
    """Check the terms of a manual award; an empty expiry means the certification's validity."""
    _association_check(association, external_training)
    if not always_valid and expires_on is None:
        expires_on = certification.default_expiry(issued_on)
        always_valid = expires_on is None
    expires = award_dates_check(
        issued_on=issued_on, expires_on=expires_on, always_valid=always_valid
    )
    return AwardTerms(
        issued_on=issued_on,
        expires_on=expires,
        association=association,
        external_training_id=external_training.pk if external_training else None,
    )


@transaction.atomic
def certification_award(
    *,
    certification: Certification,
    users: Iterable[User] | None = None,
    user_ids: Iterable[int] | None = None,
    issued_on: date,
    expires_on: date | None = None,
    always_valid: bool = False,
    association: str = Association.MANUAL,
    external_training: ExternalTraining | None = None,
    actor: User | None,
    source_key: str = "",
) -> AwardOutcome:
    """Award (or renew) a certification for users, in one transaction. A user who holds it
    already gets a new award and the earlier one is kept as history. Users outside the actor's
    scope are skipped. Raises ValidationError for bad dates or an empty selection."""
    ids = [u.pk for u in users] if users is not None else [int(pk) for pk in user_ids or ()]
    if not ids:
        raise ValidationError("Choose at least one user.")
    terms = award_terms(
        certification=certification,
        issued_on=issued_on,
        expires_on=expires_on,
        always_valid=always_valid,
        association=association,
        external_training=external_training,
    )
    key = source_key or f"batch:{uuid.uuid4().hex}"
    return awards_apply(
        certification=certification,
        requests=[
            AwardRequest(
                user_id=pk,
                issued_on=terms.issued_on,
                expires_on=terms.expires_on,
                association=terms.association,
                external_training_id=terms.external_training_id,
                source_key=key,
            )
            for pk in ids
        ],
        actor=actor,
        manual=True,
    )


def certification_award_start(
    *,
    certification: Certification,
    user_ids: Sequence[int],
    issued_on: date,
    expires_on: date | None = None,
    always_valid: bool = False,
    association: str = Association.MANUAL,
    external_training: ExternalTraining | None = None,
    actor: User | None,
    force_background: bool = False,
) -> BulkResult:
    """Award through the bulk-job machinery: inline up to the threshold, a background job with
    a progress bar above it. Bad terms raise ValidationError before anything is written."""
    if not user_ids:
        raise ValidationError("Choose at least one user.")
    terms = award_terms(
        certification=certification,
        issued_on=issued_on,
        expires_on=expires_on,
        always_valid=always_valid,
        association=association,
        external_training=external_training,
    )
    return bulk_run(
        kind="certifications.award",
        label=f"Award “{certification.title}”",
        item_ids=user_ids,
        actor=actor,
        params={
            "certification_id": certification.pk,
            "issued_on": terms.issued_on.isoformat(),
            "expires_on": terms.expires_on.isoformat() if terms.expires_on else None,
            "association": terms.association,
            "external_training_id": terms.external_training_id,
            "batch": uuid.uuid4().hex,
        },
        force_background=force_background,
    )


@transaction.atomic
def certification_award_update(
    *,
    award: CertificationAward,
    issued_on: date,
    expires_on: date | None,
    always_valid: bool,
    association: str,
    external_training: ExternalTraining | None = None,
    actor: User | None,
) -> CertificationAward:
    """Edit a current award's dates and association; expiry before issue is refused."""
    _association_check(association, external_training)
    expires = award_dates_check(
        issued_on=issued_on, expires_on=expires_on, always_valid=always_valid
    )
    if not always_valid and expires is None:
        raise ValidationError({"expires_on": "Give an expiration date or choose “Always valid”."})
    award = (
        CertificationAward.objects.select_for_update()
        .select_related("certification")
        .get(pk=award.pk)
    )
    if not award.is_current:
        raise ValidationError("This award has ended; only current awards can be edited.")
    before = {
        "issued_on": award.issued_on.isoformat(),
        "expires_on": award.expires_on.isoformat() if award.expires_on else None,
        "association": award.association,
    }
    award.issued_on = issued_on
    award.expires_on = expires
    award.association = association
    award.external_training = external_training if association == Association.EXTERNAL else None
    if expires is None or expires >= timezone.localdate():
        award.expired_marked_at = None
    award.save()
    after = {
        "issued_on": award.issued_on.isoformat(),
        "expires_on": award.expires_on.isoformat() if award.expires_on else None,
        "association": award.association,
    }
    event_record(
        kind=EventKind.CERTIFICATION_UPDATED,
        actor=actor,
        subject=award.user_id,
        target=award,
        details={
            "certification_id": award.certification_id,
            "award_id": award.pk,
            "before": before,
            "after": after,
        },
        manual=True,
    )
    return award


@transaction.atomic
def certification_award_unassign(
    *, award: CertificationAward, actor: User | None
) -> CertificationAward:
    """End a current award. The row stays (history, and the verification page says it was
    unassigned) and the event log records who did it."""
    award = (
        CertificationAward.objects.select_for_update()
        .select_related("certification")
        .get(pk=award.pk)
    )
    if not award.is_current:
        raise ValidationError("This award has already ended.")
    award.is_current = False
    award.ended_reason = CertificationAward.EndReason.UNASSIGNED
    award.ended_at = timezone.now()
    award.save(update_fields=["is_current", "ended_reason", "ended_at", "updated_at"])
    event_record(
        kind=EventKind.CERTIFICATION_UNASSIGNED,
        actor=actor,
        subject=award.user_id,
        target=award,
        details={"certification_id": award.certification_id, "award_id": award.pk},
        manual=True,
    )
    return award


# --- expiry and reminders ----------------------------------------------------------------


@dataclass
class ReminderRun:
    renewal_emails: int = 0
    expired_emails: int = 0
    marked_expired: int = 0


def _reminder_candidates(*, stage: str, today: date) -> QuerySet[CertificationAward]:
    already = CertificationReminder.objects.filter(award=OuterRef("pk"), stage=stage)
    return (
        CertificationAward.objects.filter(is_current=True, expires_on__isnull=False)
        .exclude(Exists(already))
        .select_related("certification", "user")
        .order_by("pk")
    )


def certification_reminders_send(*, today: date | None = None) -> ReminderRun:
    """The daily expiry run: email learners whose award entered its renewal window or expired
    (once per award per stage: the reminder row's unique constraint), and mark expired awards.
    Safe to run twice, also at the same time: the second run finds nothing left to send."""
    today = today or timezone.localdate()
    run = ReminderRun()
    to_send: list[tuple[CertificationAward, str]] = []
    with transaction.atomic():
        for certification in Certification.objects.filter(validity_days__isnull=False).order_by(
            "pk"
        ):
            window_end = today + timedelta(days=certification.renewal_window_days)
            for award in _reminder_candidates(
                stage=CertificationReminder.Stage.RENEWAL, today=today
            ).filter(
                certification=certification, expires_on__gte=today, expires_on__lte=window_end
            ):
                to_send.append((award, CertificationReminder.Stage.RENEWAL))
        for award in _reminder_candidates(
            stage=CertificationReminder.Stage.EXPIRED, today=today
        ).filter(expires_on__lt=today):
            to_send.append((award, CertificationReminder.Stage.EXPIRED))
        CertificationReminder.objects.bulk_create(
            [CertificationReminder(award=award, stage=stage) for award, stage in to_send]
        )
        expired = list(
            CertificationAward.objects.select_for_update()
            .filter(is_current=True, expires_on__lt=today, expired_marked_at__isnull=True)
            .select_related("certification")
            .order_by("pk")
        )
        if expired:
            CertificationAward.objects.filter(pk__in=[a.pk for a in expired]).update(
                expired_marked_at=timezone.now()
            )
            event_record_bulk(
                kind=EventKind.CERTIFICATION_EXPIRED,
                actor=None,
                specs=[
                    EventSpec(
                        subject=a.user_id,
                        target=a,
                        details={
                            "certification_id": a.certification_id,
                            "award_id": a.pk,
                            "expires_on": a.expires_on.isoformat() if a.expires_on else None,
                        },
                    )
                    for a in expired
                ],
            )
        run.marked_expired = len(expired)
        event_record_bulk(
            kind=EventKind.CERTIFICATION_REMINDER_SENT,
            actor=None,
            specs=[
                EventSpec(
                    subject=award.user_id,
                    target=award,
                    details={"certification_id": award.certification_id, "stage": stage},
                )
                for award, stage in to_send
            ],
        )
    # Sent after the reminder rows committed: a crash here loses an email rather than sending
    # it twice on the next run.
    messages = [_reminder_email(award, stage) for award, stage in to_send if award.user.email]
    if messages:
        with get_connection() as connection:
            connection.send_messages(messages)
    for _, stage in to_send:
        if stage == CertificationReminder.Stage.RENEWAL:
            run.renewal_emails += 1
        else:
            run.expired_emails += 1
    return run


def _reminder_email(award: CertificationAward, stage: str) -> EmailMessage:
    context = {
        "award": award,
        "stage": stage,
        "organisation_name": settings.MERIT_ORGANISATION_NAME,
        "site_url": settings.MERIT_SITE_URL.rstrip("/"),
        "certificates_url": settings.MERIT_SITE_URL.rstrip("/")
        + reverse("certifications:my_certificates"),
    }
    if stage == CertificationReminder.Stage.RENEWAL:
        subject = f"Your certification “{award.certification.title}” is due for renewal"
    else:
        subject = f"Your certification “{award.certification.title}” has expired"
    body = render_to_string("certifications/email_reminder.txt", context)
    return EmailMessage(subject=subject, body=body, to=[award.user.email])
