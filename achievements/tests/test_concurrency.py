"""Concurrent awards and removals on the real PostgreSQL database: no lost updates, and a
removal can never take a balance below zero."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection
from django.db.models import Sum

from achievements.models import PointsBalance, PointsEntry
from achievements.services import points_award, points_deduct
from users.models import User

pytestmark = pytest.mark.postgres


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
    requires_postgres: None, transactional_db: None, admin_user: User, learner_user: User
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
    requires_postgres: None, transactional_db: None, admin_user: User, learner_user: User
) -> None:
    points_award(user=learner_user, amount=100, reason="Start", actor=admin_user)
    errors = _in_threads(
        20,
        lambda i: points_deduct(user=learner_user, amount=10, reason="Take", actor=admin_user),
    )
    assert len(errors) == 10 and all(isinstance(e, ValidationError) for e in errors)
    assert PointsBalance.objects.get(user=learner_user).points == 0 == _ledger_sum(learner_user)
