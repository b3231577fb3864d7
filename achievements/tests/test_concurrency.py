"""Concurrent awards and removals on the real PostgreSQL database: no lost updates, and a
removal can never take a balance below zero."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection
from django.db.models import Sum

from achievements.models import PointsBalance, PointsEntry
from achievements.services import points_award, points_deduct
from users.models import User


def _in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            work(index)
        except BaseException as exc:  # noqa: BLE001 - collected and checked by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()
    return errors


def _ledger_sum(user: User) -> int:
    return PointsEntry.objects.filter(user=user).aggregate(total=Sum("amount"))["total"] or 0


def test_fifty_concurrent_awards_leave_balance_equal_to_ledger(
    transactional_db: None, admin_user: User, learner_user: User
) -> None:
    errors = _in_threads(
        50,
        lambda i: points_award(
            user=learner_user, amount=i + 1, reason=f"Thread {i}", actor=admin_user
        ),
    )
    assert errors == []
    assert PointsEntry.objects.filter(user=learner_user).count() == 50
    assert PointsBalance.objects.get(user=learner_user).points == _ledger_sum(learner_user) == 1275


def test_concurrent_removals_never_go_below_zero(
    transactional_db: None, admin_user: User, learner_user: User
) -> None:
    points_award(user=learner_user, amount=100, reason="Start", actor=admin_user)
    errors = _in_threads(
        20,
        lambda i: points_deduct(user=learner_user, amount=10, reason="Take", actor=admin_user),
    )
    assert len(errors) == 10 and all(isinstance(e, ValidationError) for e in errors)
    assert PointsBalance.objects.get(user=learner_user).points == 0 == _ledger_sum(learner_user)


def test_concurrent_events_crossing_a_threshold_award_the_badge_once_and_lose_no_event(
    transactional_db: None, learner_user: User
) -> None:
    from achievements.models import UserBadge
    from achievements.services import community_event_record
    from achievements.tests.factories import BadgeFactory
    from lms.event_kinds import EventKind
    from lms.models import Event

    BadgeFactory(rule="comment_posted", threshold=1, points=25)
    errors = _in_threads(
        20,
        lambda i: community_event_record(
            kind=EventKind.COMMUNITY_COMMENT_POSTED, user=learner_user
        ),
    )
    assert errors == []
    assert Event.objects.filter(kind=EventKind.COMMUNITY_COMMENT_POSTED).count() == 20
    assert UserBadge.objects.filter(user=learner_user).count() == 1
    assert Event.objects.filter(kind=EventKind.BADGE_EARNED).count() == 1
    assert PointsBalance.objects.get(user=learner_user).points == 25 == _ledger_sum(learner_user)


def test_a_module_completion_reported_twice_at_once_awards_points_once(
    transactional_db: None, learner_user: User
) -> None:
    from achievements.tests.factories import ModuleFactory, module_completed

    module = ModuleFactory()
    errors = _in_threads(10, lambda i: module_completed(learner_user, module))
    assert errors == []
    assert PointsEntry.objects.filter(user=learner_user).count() == 1
    assert PointsBalance.objects.get(user=learner_user).points == 10


def test_two_admins_granting_the_same_badge_at_once_both_count(
    transactional_db: None, admin_user: User, learner_user: User
) -> None:
    from achievements.models import UserBadge
    from achievements.services import badge_grant
    from achievements.tests.factories import BadgeFactory

    badge = BadgeFactory(rule="manual")
    errors = _in_threads(
        8,
        lambda i: badge_grant(user=learner_user, badge=badge, actor=admin_user, reason=f"G{i}"),
    )
    assert errors == []
    assert UserBadge.objects.get(user=learner_user, badge=badge).quantity == 8


def test_bulk_awards_in_any_order_and_single_awards_at_once_never_deadlock(
    transactional_db: None, admin_user: User
) -> None:
    """Every writer locks balance rows in user order, then period rows: bulk awards naming
    the same users in different orders, and awards to one of them, all go through."""
    import random

    from achievements.services import points_award_bulk
    from users.tests.factories import UserFactory

    users = UserFactory.create_batch(8)
    ids = [user.pk for user in users]
    orders = [random.Random(i).sample(ids, len(ids)) for i in range(8)]

    def work(i: int) -> None:
        if i < len(orders):
            points_award_bulk(user_ids=orders[i], amount=1, reason=f"Bulk {i}", actor=admin_user)
        else:
            points_award(user=users[i % len(users)], amount=1, reason="One", actor=admin_user)

    errors = _in_threads(16, work)
    assert errors == []
    for user in users:  # eight bulk awards and one single award each
        assert PointsBalance.objects.get(user=user).points == _ledger_sum(user) == 9
