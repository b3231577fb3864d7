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


def test_every_badge_a_demo_learner_holds_is_what_its_rule_gives() -> None:
    """The demo (every app's part) records what learners did through the services, and the
    badges follow from the rules: nobody holds "Say cheese" without a picture."""
    import io

    from django.core.management import call_command

    from achievements.rules import RULES, rule_counts

    call_command("seed_demo", stdout=io.StringIO())
    held = UserBadge.objects.filter(revoked_at__isnull=True).select_related("badge", "user")
    assert held.exists()
    for user_badge in held:
        badge, user = user_badge.badge, user_badge.user
        if badge.rule == "manual":
            continue
        reached = rule_counts(RULES[badge.rule], [user.pk]).get(user.pk, 0)
        assert reached >= badge.threshold, (user.username, badge.name, reached)
        if badge.rule == "avatar_added":
            assert user.avatar, user.username
        if badge.rule == "bio_completed":
            assert user.bio, user.username
    anna = User.objects.get(username="anna")
    assert anna.avatar and anna.bio
    assert {"Say cheese", "Storyteller", "First post"} <= set(
        UserBadge.objects.filter(user=anna).values_list("badge__name", flat=True)
    )
