"""The points ledger: append-only entries, the balance and period summaries kept beside it."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from achievements.models import GamificationSettings, PeriodPoints, PointsBalance, PointsEntry
from achievements.services import (
    period_starts,
    points_award,
    points_award_bulk,
    points_deduct,
    points_deduct_bulk,
)
from lms.event_kinds import EventKind
from lms.models import Event
from users.models import User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _ledger_sum(user: User) -> int:
    return PointsEntry.objects.filter(user=user).aggregate(total=Sum("amount"))["total"] or 0


def _balance(user: User) -> int:
    return PointsBalance.objects.get(user=user).points


def _snapshot() -> tuple[int, int, int, int]:
    return (
        PointsEntry.objects.count(),
        PointsBalance.objects.aggregate(total=Sum("points"))["total"] or 0,
        PeriodPoints.objects.count(),
        Event.objects.filter(kind__startswith="points.").count(),
    )


def test_award_appends_an_entry_and_moves_the_balance(admin_user: User, learner_user: User) -> None:
    when = timezone.make_aware(datetime(2022, 1, 20, 10, 12))
    entry = points_award(
        user=learner_user,
        amount=200,
        reason="The best business proposal in the group",
        actor=admin_user,
        awarded_at=when,
    )
    assert (entry.amount, entry.awarded_at, entry.source) == (200, when, "manual")
    assert entry.actor == admin_user
    assert _balance(learner_user) == 200 == _ledger_sum(learner_user)


def test_award_records_a_manual_points_awarded_event(admin_user: User, learner_user: User) -> None:
    entry = points_award(user=learner_user, amount=5, reason="Help", actor=admin_user)
    event = Event.objects.get(kind=EventKind.POINTS_AWARDED)
    assert event.subject_id == learner_user.pk and event.actor_id == admin_user.pk
    assert event.is_manual and event.target_id == entry.pk
    assert event.details["amount"] == 5 and event.details["reason"] == "Help"


def test_deduct_adds_a_negative_entry(admin_user: User, learner_user: User) -> None:
    points_award(user=learner_user, amount=50, reason="Good", actor=admin_user)
    entry = points_deduct(user=learner_user, amount=20, reason="Correction", actor=admin_user)
    assert entry.amount == -20
    assert _balance(learner_user) == 30 == _ledger_sum(learner_user)
    assert Event.objects.filter(kind=EventKind.POINTS_DEDUCTED, subject=learner_user).count() == 1


def test_removing_more_than_the_balance_is_refused_and_changes_nothing(
    admin_user: User, learner_user: User
) -> None:
    points_award(user=learner_user, amount=10, reason="Good", actor=admin_user)
    before = _snapshot()
    with pytest.raises(ValidationError, match="has 10 points; you cannot remove 11"):
        points_deduct(user=learner_user, amount=11, reason="Too much", actor=admin_user)
    assert _snapshot() == before


def test_removing_points_from_someone_with_none_is_refused(
    admin_user: User, learner_user: User
) -> None:
    with pytest.raises(ValidationError, match="has 0 points"):
        points_deduct(user=learner_user, amount=1, reason="Nothing there", actor=admin_user)
    assert not PointsEntry.objects.exists()


def test_a_ledger_entry_cannot_be_edited(admin_user: User, learner_user: User) -> None:
    entry = points_award(user=learner_user, amount=5, reason="Good", actor=admin_user)
    entry.amount = 500
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    assert PointsEntry.objects.get(pk=entry.pk).amount == 5


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (0, "positive"),
        (-5, "positive"),
        (2.5, "whole number"),
        ("12", "whole number"),
        (True, "whole number"),
        (100_001, "At most 100,000"),
        (10**12, "At most 100,000"),
    ],
)
def test_bad_amounts_are_refused_and_nothing_is_saved(
    admin_user: User, learner_user: User, amount: Any, message: str
) -> None:
    before = _snapshot()
    with pytest.raises(ValidationError, match=message):
        points_award(user=learner_user, amount=amount, reason="Why", actor=admin_user)
    assert _snapshot() == before


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_empty_reason_is_refused(admin_user: User, learner_user: User, reason: str) -> None:
    with pytest.raises(ValidationError, match="reason is required"):
        points_award(user=learner_user, amount=5, reason=reason, actor=admin_user)
    assert _snapshot() == (0, 0, 0, 0)


def test_a_date_in_the_far_future_is_refused(admin_user: User, learner_user: User) -> None:
    with pytest.raises(ValidationError, match="future"):
        points_award(
            user=learner_user,
            amount=5,
            reason="Later",
            actor=admin_user,
            awarded_at=timezone.now() + timedelta(days=3650),
        )
    assert _snapshot() == (0, 0, 0, 0)


def test_nothing_is_awarded_while_gamification_is_off(admin_user: User, learner_user: User) -> None:
    GamificationSettings.objects.update_or_create(pk=1, defaults={"enabled": False})
    with pytest.raises(ValidationError, match="turned off"):
        points_award(user=learner_user, amount=5, reason="Off", actor=admin_user)
    assert _snapshot() == (0, 0, 0, 0)


def test_nothing_is_removed_while_gamification_is_off(admin_user: User, learner_user: User) -> None:
    points_award(user=learner_user, amount=5, reason="On", actor=admin_user)
    GamificationSettings.objects.update_or_create(pk=1, defaults={"enabled": False})
    before = _snapshot()
    with pytest.raises(ValidationError, match="turned off"):
        points_deduct(user=learner_user, amount=5, reason="Off", actor=admin_user)
    assert _snapshot() == before


def test_an_award_is_three_statements_and_its_event(
    admin_user: User,
    learner_user: User,
    django_assert_num_queries: Any,
) -> None:
    """On PostgreSQL: the ledger row (which also checks that gamification is on), the event
    (with its savepoint: three), the balance and both period rows (one statement); plus the
    savepoint the service opens inside the test's transaction (two). No read of the settings."""
    points_award(user=learner_user, amount=1, reason="Warm the content-type cache", actor=None)
    with django_assert_num_queries(7):
        points_award(user=learner_user, amount=5, reason="Counted", actor=admin_user)
    assert _balance(learner_user) == 6 == _ledger_sum(learner_user)


def test_a_removal_is_three_statements_and_its_event(
    admin_user: User,
    learner_user: User,
    django_assert_num_queries: Any,
) -> None:
    """As an award: the check and change of the balance and the period rows are one."""
    points_award(user=learner_user, amount=10, reason="Start", actor=admin_user)
    with django_assert_num_queries(7):
        points_deduct(user=learner_user, amount=4, reason="Counted", actor=admin_user)
    assert _balance(learner_user) == 6 == _ledger_sum(learner_user)
    assert sorted(PeriodPoints.objects.values_list("period", "points")) == [
        ("month", 6),
        ("week", 6),
    ]


def test_bulk_award_adds_to_each_users_week_and_month(admin_user: User) -> None:
    users = UserFactory.create_batch(3)
    points_award(user=users[0], amount=4, reason="Earlier", actor=admin_user)
    points_award_bulk(user_ids=[u.pk for u in users], amount=10, reason="Quiz", actor=admin_user)
    now = period_starts(timezone.now())
    rows = {
        (row.user_id, row.period, row.starts_on): row.points for row in PeriodPoints.objects.all()
    }
    assert rows == {
        (user.pk, period, now[period]): 14 if user == users[0] else 10
        for user in users
        for period in ("week", "month")
    }


def test_deltas_on_several_dates_each_reach_their_own_week_and_month(
    learner_user: User,
) -> None:
    from achievements.services import _apply_deltas

    old = timezone.make_aware(datetime(2022, 1, 20, 10, 12))
    now = timezone.now()
    _apply_deltas([(learner_user.pk, 200, old), (learner_user.pk, 7, now)])
    rows = {(row.period, row.starts_on): row.points for row in PeriodPoints.objects.all()}
    then, this = period_starts(old), period_starts(now)
    assert rows == {
        ("week", then["week"]): 200,
        ("month", then["month"]): 200,
        ("week", this["week"]): 7,
        ("month", this["month"]): 7,
    }
    assert _balance(learner_user) == 207


def test_period_summaries_follow_the_date_the_points_count_for(
    admin_user: User, learner_user: User
) -> None:
    old = timezone.make_aware(datetime(2022, 1, 20, 10, 12))
    points_award(user=learner_user, amount=200, reason="Then", actor=admin_user, awarded_at=old)
    points_award(user=learner_user, amount=7, reason="Now", actor=admin_user)
    points_award(user=learner_user, amount=3, reason="Now again", actor=admin_user)
    this_month = period_starts(timezone.now())["month"]
    then = period_starts(old)
    rows = {(row.period, row.starts_on): row.points for row in PeriodPoints.objects.all()}
    assert rows[("month", this_month)] == 10
    assert rows[("month", then["month"])] == 200
    assert rows[("week", then["week"])] == 200
    assert then["week"].weekday() == 0  # weeks start on Monday


def test_bulk_award_writes_one_entry_and_event_per_user(admin_user: User) -> None:
    users = UserFactory.create_batch(4)
    points_award(user=users[0], amount=1, reason="Earlier", actor=admin_user)
    entries = points_award_bulk(
        user_ids=[u.pk for u in users] + [users[0].pk], amount=10, reason="Quiz", actor=admin_user
    )
    assert len(entries) == 4
    assert [_balance(u) for u in users] == [11, 10, 10, 10]
    assert Event.objects.filter(kind=EventKind.POINTS_AWARDED).count() == 5


def test_bulk_award_query_count_does_not_grow_with_users(
    admin_user: User, django_assert_max_num_queries: Any
) -> None:
    users = UserFactory.create_batch(60)
    with django_assert_max_num_queries(16):
        points_award_bulk(user_ids=[u.pk for u in users], amount=3, reason="Quiz", actor=admin_user)
    assert PointsBalance.objects.filter(points=3).count() == 60


def test_bulk_remove_skips_users_without_enough_points(admin_user: User) -> None:
    rich, poor = UserFactory.create_batch(2)
    points_award(user=rich, amount=30, reason="Good", actor=admin_user)
    points_award(user=poor, amount=5, reason="Good", actor=admin_user)
    outcome = points_deduct_bulk(
        user_ids=[rich.pk, poor.pk], amount=10, reason="Fix", actor=admin_user
    )
    assert [e.user_id for e in outcome.entries] == [rich.pk]
    assert list(outcome.refused) == [poor.pk]
    assert (_balance(rich), _balance(poor)) == (20, 5)


def test_check_points_reports_a_drifted_balance(admin_user: User, learner_user: User) -> None:
    points_award(user=learner_user, amount=40, reason="Good", actor=admin_user)
    PointsBalance.objects.filter(user=learner_user).update(points=999)
    out = StringIO()
    call_command("check_points", stdout=out)
    assert f"user {learner_user.pk}: balance 999, ledger sum 40" in out.getvalue()
    assert _balance(learner_user) == 999


def test_check_points_repair_sets_balances_and_periods_from_the_ledger(
    admin_user: User, learner_user: User
) -> None:
    points_award(user=learner_user, amount=40, reason="Good", actor=admin_user)
    PointsBalance.objects.filter(user=learner_user).update(points=999)
    PeriodPoints.objects.filter(user=learner_user, period="week").delete()
    PeriodPoints.objects.filter(user=learner_user, period="month").update(points=1)
    out = StringIO()
    call_command("check_points", "--repair", stdout=out)
    assert "Repaired 1 balances, 2 period summaries" in out.getvalue()
    assert _balance(learner_user) == 40
    assert sorted(PeriodPoints.objects.values_list("period", "points")) == [
        ("month", 40),
        ("week", 40),
    ]
    out = StringIO()
    call_command("check_points", stdout=out)
    assert "Every balance equals the sum of its ledger" in out.getvalue()


def test_an_award_made_while_impersonating_names_the_real_admin(
    admin_user: User, support_user: User, learner_user: User
) -> None:
    from lms.context import acting_impersonator

    with acting_impersonator(admin_user):
        entry = points_award(user=learner_user, amount=5, reason="As support", actor=support_user)
    assert (entry.actor, entry.impersonator) == (support_user, admin_user)
    assert Event.objects.get(kind=EventKind.POINTS_AWARDED).impersonator == admin_user
