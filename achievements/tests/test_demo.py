from __future__ import annotations

from io import StringIO

import pytest

from achievements.demo import ANNA_REASON, seed_demo
from achievements.models import Badge, PointsBalance, PointsEntry, UserBadge
from lms.models import Event
from users.models import User

pytestmark = pytest.mark.django_db


def _state() -> tuple[int, int, int, int, int]:
    return (
        Badge.objects.count(),
        PointsEntry.objects.count(),
        UserBadge.objects.count(),
        Event.objects.count(),
        sum(PointsBalance.objects.values_list("points", flat=True)),
    )


def test_demo_seeds_badges_in_every_category_and_annas_points(
    admin_user: User, learner_user: User, outsider: User
) -> None:
    seed_demo(stdout=StringIO())
    assert set(Badge.objects.values_list("category", flat=True)) == {
        "profile",
        "courses",
        "community",
        "engagement",
    }
    assert all(badge.image and badge.image_small for badge in Badge.objects.all())
    entry = PointsEntry.objects.get(user=learner_user, reason=ANNA_REASON)
    assert entry.amount == 200 and entry.awarded_at.year == 2022
    assert UserBadge.objects.filter(user=learner_user).exists()
    assert PointsBalance.objects.filter(user=outsider, points__gt=0).exists()


def test_demo_twice_changes_nothing(admin_user: User, learner_user: User) -> None:
    seed_demo(stdout=StringIO())
    before = _state()
    seed_demo(stdout=StringIO())
    assert _state() == before
