"""Which keys of an event's details name a thing, so the Events pages show its name (linked to
its page while it exists) instead of an internal id. Models are named by "app_label.Model"
and imported when needed, as lms/event_kinds.py names subscribers, so `lms` does not import
the apps. `url` builds the admin page of one instance (None: shown, not linked)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class DetailReference:
    model: str
    label: str
    url: Callable[[Any], str] | None = None
    select_related: tuple[str, ...] = ()
    name: Callable[[Any], str] = str


def _award_name(award: Any) -> str:
    return f"{award.certification.title}, issued {award.issued_on:%b} {award.issued_on.day}, {award.issued_on.year}"


def _payments_tab(user_id: int) -> str:
    return reverse("payments:user_tab", args=[user_id])


def _course_page(course_id: int) -> str:
    return reverse("progress:course_detail", args=[course_id])


DETAIL_REFERENCES: dict[str, DetailReference] = {
    "course_id": DetailReference("progress.Course", "Course", lambda c: _course_page(c.pk)),
    "module_id": DetailReference("progress.Module", "Module", lambda m: _course_page(m.course_id)),
    "activity_id": DetailReference(
        "progress.Activity",
        "Activity",
        lambda a: _course_page(a.module.course_id),
        select_related=("module",),
    ),
    "plan_id": DetailReference("progress.LearningPlan", "Learning plan"),
    "attempt_id": DetailReference(
        "progress.ExamAttempt",
        "Exam attempt",
        select_related=("activity",),
        name=lambda attempt: f"{attempt.activity.title}: {attempt.score}%",
    ),
    "external_training_id": DetailReference("progress.ExternalTraining", "External training"),
    "certification_id": DetailReference(
        "certifications.Certification",
        "Certification",
        lambda c: reverse("certifications:awarded", args=[c.pk]),
    ),
    "award_id": DetailReference(
        "certifications.CertificationAward",
        "Award",
        lambda a: reverse("certifications:award_edit", args=[a.pk]),
        select_related=("certification",),
        name=_award_name,
    ),
    "previous_award_id": DetailReference(
        "certifications.CertificationAward",
        "Previous award",
        lambda a: reverse("certifications:award_edit", args=[a.pk]),
        select_related=("certification",),
        name=_award_name,
    ),
    "transaction_id": DetailReference(
        "payments.Transaction", "Transaction", lambda t: _payments_tab(t.user_id)
    ),
    "payment_id": DetailReference(
        "payments.Transaction", "Payment", lambda t: _payments_tab(t.user_id)
    ),
    "refund_id": DetailReference(
        "payments.Transaction", "Refund", lambda t: _payments_tab(t.user_id)
    ),
    "licence_id": DetailReference(
        "payments.SeatLicence",
        "Seat licence",
        select_related=("product", "buyer", "organisation"),
    ),
}
