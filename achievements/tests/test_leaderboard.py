"""Leaderboard ranks: indexed counts, shared ranks for ties, disabled users left out."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from achievements.models import GamificationSettings
from achievements.selectors import leaderboard_rank, leaderboard_top, points_balance
from achievements.services import points_award
from users.models import Department, User
from users.services import users_set_active
from users.tests.factories import UserFactory, UserGroupFactory

pytestmark = pytest.mark.django_db


def _give(actor: User, points: dict[User, int]) -> None:
    for user, amount in points.items():
        points_award(user=user, amount=amount, reason="Test", actor=actor)


def test_ties_share_a_rank(admin_user: User) -> None:
    a, b, c, d = UserFactory.create_batch(4)
    _give(admin_user, {a: 100, b: 50, c: 50, d: 10})
    assert [leaderboard_rank(user=u) for u in (a, b, c, d)] == [1, 2, 2, 4]
    assert [(row.rank, row.points) for row in leaderboard_top(limit=10)] == [
        (1, 100),
        (2, 50),
        (2, 50),
        (4, 10),
    ]


def test_a_user_without_points_ranks_after_everyone_with_points(admin_user: User) -> None:
    a, b = UserFactory.create_batch(2)
    _give(admin_user, {a: 5})
    assert leaderboard_rank(user=b) == 2


def test_disabled_users_are_left_out(admin_user: User) -> None:
    a, b, c = UserFactory.create_batch(3)
    _give(admin_user, {a: 100, b: 50, c: 10})
    users_set_active(users=[a], is_active=False, actor=admin_user)
    a.refresh_from_db()
    assert leaderboard_rank(user=b) == 1
    assert leaderboard_rank(user=a) is None
    assert [row.user for row in leaderboard_top()] == [b, c]


def test_department_leaderboard_counts_the_subtree(
    admin_user: User, org: dict[str, Department]
) -> None:
    top_sales = UserFactory(departments=[org["sales"]])
    active_sales = UserFactory(departments=[org["active_sales"]])
    hr = UserFactory(departments=[org["hr"]])
    _give(admin_user, {hr: 500, top_sales: 100, active_sales: 50})
    assert leaderboard_rank(user=active_sales) == 3
    assert leaderboard_rank(user=active_sales, department=org["sales"]) == 2
    assert leaderboard_rank(user=active_sales, department=org["active_sales"]) == 1
    assert [row.user for row in leaderboard_top(department=org["sales"])] == [
        top_sales,
        active_sales,
    ]


def test_group_leaderboard(admin_user: User) -> None:
    group = UserGroupFactory(name="Mentors")
    a, b = UserFactory.create_batch(2, user_groups=[group])
    outside = UserFactory()
    _give(admin_user, {outside: 900, a: 20, b: 30})
    assert leaderboard_rank(user=a, group=group) == 2
    assert [row.user for row in leaderboard_top(group=group)] == [b, a]


def test_period_leaderboards_count_only_points_dated_in_the_period(admin_user: User) -> None:
    veteran, newcomer = UserFactory.create_batch(2)
    old = timezone.make_aware(datetime(2022, 1, 20, 10, 12))
    points_award(user=veteran, amount=1000, reason="Then", actor=admin_user, awarded_at=old)
    points_award(user=veteran, amount=5, reason="Now", actor=admin_user)
    points_award(user=newcomer, amount=40, reason="Now", actor=admin_user)
    assert leaderboard_rank(user=veteran) == 1
    assert leaderboard_rank(user=veteran, period="month") == 2
    assert leaderboard_rank(user=newcomer, period="week") == 1
    assert [(row.user, row.points) for row in leaderboard_top(period="month")] == [
        (newcomer, 40),
        (veteran, 5),
    ]


def test_leaderboard_rank_is_two_queries_whatever_the_number_of_users(
    admin_user: User, django_assert_num_queries: object
) -> None:
    users = UserFactory.create_batch(30)
    _give(admin_user, {u: 10 + i for i, u in enumerate(users)})
    with django_assert_num_queries(2):  # type: ignore[operator]
        assert leaderboard_rank(user=users[0]) == 30


def test_points_balance_is_none_while_gamification_is_off(
    admin_user: User, learner_user: User
) -> None:
    _give(admin_user, {learner_user: 12})
    assert points_balance(user=learner_user) == 12
    GamificationSettings.objects.update_or_create(pk=1, defaults={"enabled": False})
    assert points_balance(user=learner_user) is None
    GamificationSettings.objects.filter(pk=1).update(enabled=True)
    assert points_balance(user=learner_user) == 12
