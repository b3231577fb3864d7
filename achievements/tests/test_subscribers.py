"""Points and badges from what other apps record (progress, profile, community)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings

from achievements.models import (
    ActivityPoints,
    CoursePoints,
    GamificationSettings,
    PointsBalance,
    PointsEntry,
    UserBadge,
)
from achievements.services import community_event_record
from achievements.subscribers import on_module_completed
from achievements.tests.factories import (
    ActivityFactory,
    BadgeFactory,
    CourseFactory,
    ModuleFactory,
    activity_completed,
    course_completed,
    module_completed,
)
from lms.event_kinds import ORGANISATION_KINDS, EventKind
from lms.events import event_record
from lms.models import Event
from progress.models import Activity
from users.models import User

pytestmark = pytest.mark.django_db


def _points(user: User) -> int:
    balance = PointsBalance.objects.filter(user=user).first()
    return balance.points if balance else 0


def test_passing_a_module_awards_the_default_module_points(learner_user: User) -> None:
    module = ModuleFactory(title="Negotiation basics")
    module_completed(learner_user, module)
    entry = PointsEntry.objects.get(user=learner_user)
    assert (entry.amount, entry.source) == (10, "module")
    assert entry.content_label == "Negotiation basics"
    assert entry.reason == "Passed the module “Negotiation basics”"


def test_a_replayed_module_event_awards_nothing_twice(learner_user: User) -> None:
    module = ModuleFactory()
    event = module_completed(learner_user, module)
    on_module_completed([event])
    on_module_completed([event])
    assert _points(learner_user) == 10
    assert PointsEntry.objects.filter(user=learner_user).count() == 1


def test_a_reset_course_completed_again_awards_nothing_twice(learner_user: User) -> None:
    course = CourseFactory()
    course_completed(learner_user, course)
    event_record(kind=EventKind.PROGRESS_RESET, actor=None, subject=learner_user, target=course)
    course_completed(learner_user, course)
    assert _points(learner_user) == 50
    assert PointsEntry.objects.filter(user=learner_user, source="course").count() == 1


def test_custom_course_points_override_the_default(learner_user: User) -> None:
    course = CourseFactory()
    CoursePoints.objects.create(course=course, points=120)
    course_completed(learner_user, course)
    assert _points(learner_user) == 120


def test_default_points_come_from_the_settings(learner_user: User) -> None:
    GamificationSettings.objects.update_or_create(pk=1, defaults={"course_points": 75})
    course_completed(learner_user, CourseFactory())
    assert _points(learner_user) == 75


def test_a_content_item_with_custom_points_awards_them_once(learner_user: User) -> None:
    activity = ActivityFactory()
    ActivityPoints.objects.create(activity=activity, points=4)
    activity_completed(learner_user, activity)
    activity_completed(learner_user, activity)
    plain = ActivityFactory()
    activity_completed(learner_user, plain)
    assert _points(learner_user) == 4
    assert PointsEntry.objects.get(user=learner_user).source == "activity"


def test_an_admin_marking_a_module_complete_awards_points_too(
    admin_user: User, learner_user: User
) -> None:
    event_record(
        kind=EventKind.MODULE_COMPLETED,
        actor=admin_user,
        subject=learner_user,
        target=ModuleFactory(),
        details={},
        manual=True,
    )
    assert _points(learner_user) == 10


def test_nothing_is_awarded_while_gamification_is_off(learner_user: User) -> None:
    GamificationSettings.objects.update_or_create(pk=1, defaults={"enabled": False})
    BadgeFactory(rule="module_completed", threshold=1)
    module_completed(learner_user, ModuleFactory())
    assert not PointsEntry.objects.exists()
    assert not UserBadge.objects.exists()


def test_bulk_progress_events_take_the_same_queries_for_few_and_many_users() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from lms.events import EventSpec, event_record_bulk
    from users.tests.factories import UserFactory

    BadgeFactory(rule="module_completed", threshold=1, points=5)
    counts = []
    for size in (2, 3, 40):  # the first run also warms the content-type cache
        users = UserFactory.create_batch(size)
        module = ModuleFactory()
        with CaptureQueriesContext(connection) as queries:
            event_record_bulk(
                kind=EventKind.MODULE_COMPLETED,
                actor=None,
                specs=[EventSpec(subject=u, target=module) for u in users],
            )
        counts.append(len(queries))
        assert PointsBalance.objects.filter(user__in=users, points=15).count() == size
    assert counts[1] == counts[2]


# --- badge rules ------------------------------------------------------------------------------


def test_a_badge_is_earned_when_the_threshold_is_crossed(learner_user: User) -> None:
    badge = BadgeFactory(rule="comment_posted", threshold=3, points=15)
    for _ in range(2):
        community_event_record(kind=EventKind.COMMUNITY_COMMENT_POSTED, user=learner_user)
    assert not UserBadge.objects.exists()
    community_event_record(kind=EventKind.COMMUNITY_COMMENT_POSTED, user=learner_user)
    held = UserBadge.objects.get(user=learner_user)
    assert held.badge == badge and held.source == "rule"
    assert Event.objects.filter(kind=EventKind.BADGE_EARNED, subject=learner_user).count() == 1
    assert _points(learner_user) == 15


def test_a_badge_is_awarded_once_however_often_the_threshold_is_passed(learner_user: User) -> None:
    BadgeFactory(rule="comment_posted", threshold=1, points=5)
    for _ in range(4):
        community_event_record(kind=EventKind.COMMUNITY_COMMENT_POSTED, user=learner_user)
    assert UserBadge.objects.count() == 1
    assert Event.objects.filter(kind=EventKind.BADGE_EARNED).count() == 1
    assert _points(learner_user) == 5


def test_a_replayed_event_does_not_count_twice_for_distinct_rules(learner_user: User) -> None:
    BadgeFactory(rule="module_completed", threshold=2)
    module = ModuleFactory()
    event = module_completed(learner_user, module)
    on_module_completed([event])
    module_completed(learner_user, module)  # the same module again (after a reset)
    assert not UserBadge.objects.exists()
    module_completed(learner_user, ModuleFactory())
    assert UserBadge.objects.count() == 1


def test_first_lesson_badge_counts_lessons_only(learner_user: User) -> None:
    BadgeFactory(rule="lesson_completed", threshold=1, category="courses")
    activity_completed(learner_user, ActivityFactory(kind=Activity.Kind.EXAM))
    assert not UserBadge.objects.exists()
    activity_completed(learner_user, ActivityFactory(kind=Activity.Kind.LESSON))
    assert UserBadge.objects.count() == 1


@pytest.mark.parametrize(
    ("kind", "rule"),
    [
        (EventKind.PROFILE_AVATAR_ADDED, "avatar_added"),
        (EventKind.PROFILE_BIO_COMPLETED, "bio_completed"),
        (EventKind.PROFILE_SOCIAL_LINKS_ADDED, "social_links_added"),
        (EventKind.COMMUNITY_POST_PUBLISHED, "post_published"),
    ],
)
def test_profile_and_community_events_earn_their_badges(
    learner_user: User, kind: str, rule: str
) -> None:
    BadgeFactory(rule=rule, threshold=1)
    event_record(kind=kind, actor=learner_user, subject=learner_user)
    assert UserBadge.objects.filter(user=learner_user, badge__rule=rule).count() == 1


def test_an_inactive_badge_is_not_earned(learner_user: User) -> None:
    BadgeFactory(rule="post_published", threshold=1, is_active=False)
    community_event_record(kind=EventKind.COMMUNITY_POST_PUBLISHED, user=learner_user)
    assert not UserBadge.objects.exists()


def test_an_unknown_community_event_is_refused(learner_user: User) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        community_event_record(kind="community.nonsense", user=learner_user)
    assert not Event.objects.exclude(kind__in=ORGANISATION_KINDS).exists()  # but the fixtures'


def _learning_on(user: User, when: datetime) -> None:
    activity_completed(user, ActivityFactory(), at=when)


@override_settings(TIME_ZONE="America/New_York")
def test_streak_badge_after_seven_consecutive_days_in_the_org_time_zone(learner_user: User) -> None:
    BadgeFactory(rule="learning_streak", threshold=7, category="engagement")
    # 02:30 UTC is the evening before in New York: these are seven consecutive local days,
    # though in UTC the first one falls a day later than the rest would suggest.
    start = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)  # Sunday 1 March, 21:30 in New York
    for day in range(6):
        _learning_on(learner_user, start + timedelta(days=day))
    assert not UserBadge.objects.exists()
    _learning_on(learner_user, start + timedelta(days=6))
    assert UserBadge.objects.filter(badge__rule="learning_streak").count() == 1


@override_settings(TIME_ZONE="America/New_York")
def test_two_activities_on_one_local_day_count_as_one_streak_day(learner_user: User) -> None:
    BadgeFactory(rule="learning_streak", threshold=2, category="engagement")
    # 23:00 UTC on 2 March and 03:00 UTC on 3 March are both 2 March in New York.
    _learning_on(learner_user, datetime(2026, 3, 2, 23, 0, tzinfo=UTC))
    _learning_on(learner_user, datetime(2026, 3, 3, 3, 0, tzinfo=UTC))
    assert not UserBadge.objects.exists()


def test_a_gap_breaks_the_streak(learner_user: User) -> None:
    BadgeFactory(rule="learning_streak", threshold=3, category="engagement")
    start = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    for day in (0, 1, 3):
        _learning_on(learner_user, start + timedelta(days=day))
    assert not UserBadge.objects.exists()
    _learning_on(learner_user, start + timedelta(days=4))
    assert not UserBadge.objects.exists()
    _learning_on(learner_user, start + timedelta(days=5))
    assert UserBadge.objects.count() == 1


def test_disabled_users_leave_the_leaderboard_rows(admin_user: User, learner_user: User) -> None:
    from achievements.services import points_award
    from users.services import users_set_active

    points_award(user=learner_user, amount=5, reason="Good", actor=admin_user)
    users_set_active(users=[learner_user], is_active=False, actor=admin_user)
    assert PointsBalance.objects.get(user=learner_user).is_active is False
    learner_user.refresh_from_db()
    users_set_active(users=[learner_user], is_active=True, actor=admin_user)
    assert PointsBalance.objects.get(user=learner_user).is_active is True
