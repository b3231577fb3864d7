"""Demo certifications and awards for `manage.py seed_demo`. Idempotent: a certification is
looked up by title, and a planned award is skipped when the user already has any award of it."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

from django.utils import timezone

from certifications.models import Certification, CertificationAward
from certifications.services import certification_award, certification_create
from progress.models import Course, ExternalTraining
from users.models import User

DEFINITIONS: list[dict[str, Any]] = [
    {
        "title": "Sales Excellence",
        "description": "Consultative selling, objection handling and closing, as taught in "
        "Car Sale Dialog.",
        "validity_days": 365,
        "renewal_window_days": 30,
    },
    {
        "title": "Customer Care Fundamentals",
        "description": "Handling calls, complaints and follow-ups the way our customers expect.",
        "validity_days": 730,
        "renewal_window_days": 60,
    },
    {
        "title": "Workplace Safety",
        "description": "Fire safety, first aid and evacuation drill.",
        "validity_days": None,
        "renewal_window_days": 30,
    },
    {
        "title": "Product Expert",
        "description": "Deep knowledge of the current model line-up.",
        "validity_days": 180,
        "renewal_window_days": 30,
    },
]

# (certification, username, issued days ago): expiry follows the validity
AWARDS: list[tuple[str, str, int]] = [
    ("Sales Excellence", "anna", 60),  # active
    ("Sales Excellence", "agata", 350),  # expiring in 15 days
    ("Sales Excellence", "earl", 400),  # expired 35 days ago
    ("Sales Excellence", "mark", 20),
    ("Customer Care Fundamentals", "julie", 100),
    ("Customer Care Fundamentals", "lisa", 30),
    ("Customer Care Fundamentals", "harry", 800),  # renewed below: kept in history
    ("Customer Care Fundamentals", "harry", 10),
    ("Workplace Safety", "admin", 200),  # always valid
    ("Workplace Safety", "harry", 90),
    ("Workplace Safety", "anna", 45),
    ("Product Expert", "lisa", 170),  # expiring
]


def seed_demo(*, stdout: Any) -> None:
    actor = User.objects.filter(username="admin").first()
    certifications: dict[str, Certification] = {}
    for definition in DEFINITIONS:
        certification = Certification.objects.filter(title=definition["title"]).first()
        if certification is None:
            certification = certification_create(actor=actor, **definition)
        certifications[certification.title] = certification
    course = Course.objects.filter(title="Car Sale Dialog").first()
    sales = certifications["Sales Excellence"]
    if course is not None and not sales.courses.filter(pk=course.pk).exists():
        sales.courses.add(course)
    training = ExternalTraining.objects.order_by("pk").first()
    expert = certifications["Product Expert"]
    if training is not None and not expert.external_trainings.exists():
        expert.external_trainings.add(training)

    today = timezone.localdate()
    users = {u.username: u for u in User.objects.filter(username__in={a[1] for a in AWARDS})}
    plan: dict[tuple[str, str], list[int]] = defaultdict(list)
    for title, username, days_ago in AWARDS:
        plan[(title, username)].append(days_ago)
    already = Counter(
        CertificationAward.objects.filter(certification__in=certifications.values()).values_list(
            "certification__title", "user__username"
        )
    )
    made = 0
    for (title, username), days in plan.items():
        user = users.get(username)
        if user is None:
            continue
        for days_ago in days[already[(title, username)] :]:  # what an earlier run did is skipped
            certification_award(
                certification=certifications[title],
                users=[user],
                issued_on=today - timedelta(days=days_ago),
                actor=actor,
                source_key=f"demo:{days_ago}",
            )
            made += 1
    stdout.write(f"certifications: {len(certifications)} certifications, {made} awards added\n")
