from __future__ import annotations

import io

import pytest

from lms.event_kinds import EventKind
from lms.models import Event
from progress.demo import seed_demo
from progress.models import (
    Activity,
    ActivityCompletion,
    Course,
    CourseCompletion,
    Enrollment,
    ExamAttempt,
    ExternalTrainingRecord,
    PlanCompletion,
)
from users.tests.factories import learner, super_admin

NAMES = ["anna", "agata", "earl", "harry", "julie", "lisa", "mark"]


def _state() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (
            Course,
            Activity,
            Enrollment,
            ActivityCompletion,
            CourseCompletion,
            ExamAttempt,
            ExternalTrainingRecord,
            Event,
        )
    )


@pytest.mark.django_db
def test_seed_demo_builds_catalog_and_learners_at_stages_and_is_idempotent() -> None:
    super_admin(username="admin")
    people = {name: learner(username=name) for name in NAMES}
    for n in range(5):
        learner(username=f"extra{n}")
    seed_demo(stdout=io.StringIO())
    first = _state()
    seed_demo(stdout=io.StringIO())
    assert _state() == first
    assert set(Course.objects.values_list("title", flat=True)) == {
        "Car Sale Dialog",
        "Customer Care Essentials",
        "Onboarding at My Company",
        "Negotiation Skills",
    }
    assert set(Activity.objects.values_list("kind", flat=True)) == set(Activity.Kind.values)
    completed = set(CourseCompletion.objects.values_list("user__username", "course__slug"))
    assert ("anna", "car-sale-dialog") in completed and (
        "harry",
        "customer-care-essentials",
    ) in completed
    assert ("earl", "onboarding-at-my-company") in completed
    assert PlanCompletion.objects.filter(user=people["lisa"]).exists()
    assert ExamAttempt.objects.filter(user=people["agata"], passed=False).exists()
    assert Event.objects.filter(kind=EventKind.COURSE_COMPLETED).count() >= 5


@pytest.mark.django_db
def test_seed_demo_skips_missing_people() -> None:
    seed_demo(stdout=io.StringIO())
    assert Course.objects.count() == 4 and not Enrollment.objects.exists()
