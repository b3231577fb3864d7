"""Pages per role: super admin, department admin in and out of scope, customer service,
learner, anonymous. Out of scope is 404, a missing permission 403, anonymous the login page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from achievements.models import GamificationSettings, PointsBalance, PointsEntry, UserBadge
from achievements.services import badge_grant, community_event_record, points_award
from achievements.tests.factories import BadgeFactory
from lms.event_kinds import EventKind
from lms.models import BackgroundJob
from users.models import User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _queries(request: Any) -> int:
    """How many queries one request makes (the page must then make the same with more rows)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert request().status_code == 200
    return len(queries)


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _tab(user: User, section: str = "points") -> str:
    return reverse("achievements:user_tab", args=[user.pk]) + f"?section={section}"


def _manage(user: User) -> str:
    return reverse("achievements:user_points_manage", args=[user.pk])


def _award_post(direction: str = "award", **overrides: Any) -> dict[str, Any]:
    data = {
        "direction": direction,
        f"{direction}-awarded_at": "2022-01-20T10:12",
        f"{direction}-amount": "200",
        f"{direction}-reason": "The best business proposal in the group",
    }
    data.update({f"{direction}-{k}": v for k, v in overrides.items()})
    return data


# --- the Achievements tab ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["admin_user", "sales_admin", "support_user"])
def test_admins_in_scope_see_the_tab(request: Any, who: str, learner_user: User) -> None:
    response = _client(request.getfixturevalue(who)).get(_tab(learner_user))
    assert response.status_code == 200
    assert b"Manage Points" in response.content


def test_department_admin_gets_404_for_a_user_outside_their_departments(
    sales_admin: User, outsider: User
) -> None:
    assert _client(sales_admin).get(_tab(outsider)).status_code == 404
    assert _client(sales_admin).post(_manage(outsider), _award_post()).status_code == 404
    assert not PointsEntry.objects.exists()


def test_a_learner_gets_403(learner_user: User, outsider: User) -> None:
    assert _client(learner_user).get(_tab(outsider)).status_code == 403
    assert _client(learner_user).post(_manage(outsider), _award_post()).status_code == 403
    assert not PointsEntry.objects.exists()


def test_anonymous_goes_to_login(learner_user: User) -> None:
    response = _client(None).get(_tab(learner_user))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_tab_shows_ledger_total_and_position(admin_user: User, learner_user: User) -> None:
    points_award(
        user=learner_user,
        amount=200,
        reason="The best business proposal in the group",
        actor=admin_user,
        awarded_at=timezone.make_aware(datetime(2022, 1, 20, 10, 12)),
    )
    html = _client(admin_user).get(_tab(learner_user)).content.decode()
    assert "Jan 20, 2022 10:12 AM" in html
    assert "The best business proposal in the group" in html
    assert 'data-testid="points-total">200<' in html
    assert 'data-testid="leaderboard-rank">#1<' in html


def test_a_reason_with_html_is_shown_as_text(admin_user: User, learner_user: User) -> None:
    points_award(
        user=learner_user, amount=1, reason="<b>bold</b><script>x</script>", actor=admin_user
    )
    html = _client(admin_user).get(_tab(learner_user)).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt;&lt;script&gt;" in html
    assert "<script>x</script>" not in html


def test_tab_query_count_is_the_same_for_few_and_many_entries(
    admin_user: User, learner_user: User, django_assert_num_queries: Any
) -> None:
    client = _client(admin_user)
    points_award(user=learner_user, amount=1, reason="One", actor=admin_user)
    client.get(_tab(learner_user))
    few = _queries(lambda: client.get(_tab(learner_user)))
    for i in range(30):
        points_award(user=learner_user, amount=1, reason=f"Entry {i}", actor=admin_user)
    with django_assert_num_queries(few, info="ledger tab"):
        client.get(_tab(learner_user))


def test_badges_section_query_count_is_the_same_for_few_and_many_badges(
    admin_user: User, learner_user: User, django_assert_num_queries: Any
) -> None:
    client = _client(admin_user)
    badge_grant(user=learner_user, badge=BadgeFactory(rule="manual"), actor=admin_user, reason="A")
    client.get(_tab(learner_user, "badges"))
    few = _queries(lambda: client.get(_tab(learner_user, "badges")))
    for _ in range(8):
        badge_grant(
            user=learner_user, badge=BadgeFactory(rule="manual"), actor=admin_user, reason="B"
        )
    with django_assert_num_queries(few):
        client.get(_tab(learner_user, "badges"))


def test_with_gamification_off_the_tab_shows_only_certificates(
    admin_user: User, learner_user: User
) -> None:
    points_award(user=learner_user, amount=33, reason="Kept", actor=admin_user)
    GamificationSettings.objects.update_or_create(pk=1, defaults={"enabled": False})
    html = _client(admin_user).get(_tab(learner_user)).content.decode()
    assert "Manage Points" not in html and "Kept" not in html
    assert 'data-testid="certificates"' in html
    assert _client(admin_user).get(_manage(learner_user)).status_code == 404
    GamificationSettings.objects.filter(pk=1).update(enabled=True)
    assert "Kept" in _client(admin_user).get(_tab(learner_user)).content.decode()


# --- Manage Points ------------------------------------------------------------------------------


def test_awarding_points_from_the_record(admin_user: User, learner_user: User) -> None:
    response = _client(admin_user).post(_manage(learner_user), _award_post())
    assert response.status_code == 302 and response["Location"] == _tab(learner_user)
    entry = PointsEntry.objects.get(user=learner_user)
    assert entry.amount == 200 and entry.actor == admin_user
    assert timezone.localtime(entry.awarded_at).strftime("%Y-%m-%d %H:%M") == "2022-01-20 10:12"


def test_department_admin_awards_points_in_scope(sales_admin: User, learner_user: User) -> None:
    _client(sales_admin).post(_manage(learner_user), _award_post(amount="15"))
    assert PointsBalance.objects.get(user=learner_user).points == 15


def test_removing_points_from_the_record(admin_user: User, learner_user: User) -> None:
    points_award(user=learner_user, amount=50, reason="Good", actor=admin_user)
    _client(admin_user).post(
        _manage(learner_user), _award_post("remove", amount="20", reason="Correction")
    )
    assert PointsBalance.objects.get(user=learner_user).points == 30


def test_removing_more_than_the_balance_shows_a_clear_error(
    admin_user: User, learner_user: User
) -> None:
    points_award(user=learner_user, amount=5, reason="Good", actor=admin_user)
    response = _client(admin_user).post(
        _manage(learner_user), _award_post("remove", amount="6", reason="Too much")
    )
    assert response.status_code == 200
    assert "has 5 points; you cannot remove 6" in response.content.decode()
    assert PointsEntry.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", "0", "greater than or equal to 1"),
        ("amount", "-5", "greater than or equal to 1"),
        ("amount", "2.5", "whole number"),
        ("amount", "100001", "less than or equal to 100000"),
        ("amount", "", "This field is required"),
        ("reason", "", "This field is required"),
        ("reason", "   ", "This field is required"),
        ("awarded_at", "2999-01-01T10:00", "cannot be in the future"),
        ("awarded_at", "not a date", "Enter a valid date/time"),
    ],
)
def test_bad_input_shows_an_error_and_saves_nothing(
    admin_user: User, learner_user: User, field: str, value: str, message: str
) -> None:
    response = _client(admin_user).post(_manage(learner_user), _award_post(**{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PointsEntry.objects.exists() and not PointsBalance.objects.exists()


# --- settings and badges -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("admin_user", 200), ("sales_admin", 403), ("support_user", 403), ("learner_user", 403)],
)
def test_only_super_admins_open_the_settings(request: Any, who: str, status: int) -> None:
    user = request.getfixturevalue(who)
    assert _client(user).get(reverse("achievements:settings")).status_code == status
    assert _client(user).get(reverse("achievements:badge_create")).status_code == status


def test_anonymous_is_sent_to_login_from_settings() -> None:
    response = _client(None).get(reverse("achievements:settings"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_saving_settings_records_an_event(admin_user: User) -> None:
    from lms.models import Event

    response = _client(admin_user).post(
        reverse("achievements:settings"),
        {
            "card_visible": "on",
            "card_position": "main",
            "card_badge_count": "3",
            "module_points": "12",
            "course_points": "60",
        },
    )
    assert response.status_code == 302
    config = GamificationSettings.load()
    assert (config.enabled, config.card_position, config.card_badge_count) == (False, "main", 3)
    assert Event.objects.filter(kind=EventKind.GAMIFICATION_SETTINGS_CHANGED).exists()


def test_settings_page_query_count_is_the_same_for_few_and_many_badges(
    admin_user: User, django_assert_num_queries: Any
) -> None:
    client = _client(admin_user)
    BadgeFactory()
    client.get(reverse("achievements:settings"))
    few = _queries(lambda: client.get(reverse("achievements:settings")))
    BadgeFactory.create_batch(10)
    with django_assert_num_queries(few):
        client.get(reverse("achievements:settings"))


def test_uploading_a_non_image_badge_shows_an_error_and_saves_nothing(admin_user: User) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from achievements.models import Badge

    response = _client(admin_user).post(
        reverse("achievements:badge_create"),
        {
            "name": "Fake",
            "category": "profile",
            "rule": "manual",
            "threshold": "1",
            "points": "0",
            "is_active": "on",
            "image_upload": SimpleUploadedFile("x.png", b"not an image", content_type="image/png"),
        },
    )
    assert response.status_code == 200
    assert "not an image" in response.content.decode()
    assert not Badge.objects.exists()


def test_dry_run_page_shows_the_count_and_changes_nothing(
    admin_user: User, learner_user: User
) -> None:
    for _ in range(2):
        community_event_record(kind=EventKind.COMMUNITY_COMMENT_POSTED, user=learner_user)
    badge = BadgeFactory(rule="comment_posted", threshold=2)
    response = _client(admin_user).get(reverse("achievements:badge_apply", args=[badge.pk]))
    assert "1 user would earn this badge" in response.content.decode()
    assert not UserBadge.objects.exists()


def test_granting_and_revoking_a_badge_from_the_record(
    sales_admin: User, learner_user: User
) -> None:
    badge = BadgeFactory(rule="manual")
    client = _client(sales_admin)
    client.post(
        reverse("achievements:user_badge_grant", args=[learner_user.pk]),
        {"badge": badge.pk, "quantity": "2", "reason": "Helped the team", "content": "Onboarding"},
    )
    held = UserBadge.objects.get(user=learner_user, revoked_at__isnull=True)
    assert (held.quantity, held.content_label) == (2, "Onboarding")
    html = client.get(_tab(learner_user, "badges")).content.decode()
    assert 'data-testid="badge-quantity">\u00d72<' in html
    assert "Helped the team · Onboarding" in html
    client.post(
        reverse("achievements:user_badge_revoke", args=[learner_user.pk, badge.pk]),
        {"reason": "Given by mistake"},
    )
    assert UserBadge.objects.get(user=learner_user).revoked_reason == "Given by mistake"


# --- bulk actions --------------------------------------------------------------------------------


def test_bulk_points_form_lists_only_users_in_scope(
    sales_admin: User, learner_user: User, outsider: User
) -> None:
    url = (
        reverse("achievements:bulk_points") + f"?user_ids={learner_user.pk}&user_ids={outsider.pk}"
    )
    html = _client(sales_admin).get(url).content.decode()
    assert "1 user selected" in html and "Anna Smith" in html and "Harry Evans" not in html


def test_bulk_award_inline_skips_users_out_of_scope(
    sales_admin: User, learner_user: User, outsider: User
) -> None:
    response = _client(sales_admin).post(
        reverse("achievements:bulk_points"),
        {
            "user_ids": [learner_user.pk, outsider.pk],
            "direction": "award",
            "awarded_at": "2026-01-05T09:00",
            "amount": "25",
            "reason": "Sales contest",
        },
    )
    assert response.status_code == 302
    assert list(PointsEntry.objects.values_list("user_id", "amount")) == [(learner_user.pk, 25)]
    assert not BackgroundJob.objects.exists()


def test_bulk_points_is_forbidden_to_learners(learner_user: User) -> None:
    response = _client(learner_user).post(
        reverse("achievements:bulk_points"),
        {"user_ids": [learner_user.pk], "direction": "award", "amount": "25", "reason": "Me"},
    )
    assert response.status_code == 403
    assert not PointsEntry.objects.exists()


def test_bulk_badge_grant_inline(admin_user: User) -> None:
    badge = BadgeFactory(rule="manual")
    users = UserFactory.create_batch(3)
    _client(admin_user).post(
        reverse("achievements:bulk_badge"),
        {"user_ids": [u.pk for u in users], "badge": badge.pk, "reason": "Launch team"},
    )
    assert UserBadge.objects.filter(badge=badge).count() == 3


def test_bulk_award_over_the_threshold_starts_a_job(admin_user: User, settings: Any) -> None:
    settings.MERIT_BULK_JOB_THRESHOLD = 3
    users = UserFactory.create_batch(4)
    response = _client(admin_user).post(
        reverse("achievements:bulk_points"),
        {
            "user_ids": [u.pk for u in users],
            "direction": "award",
            "awarded_at": "2026-01-05T09:00",
            "amount": "5",
            "reason": "Everyone",
        },
    )
    job = BackgroundJob.objects.get()
    assert response["Location"] == job.get_absolute_url()
    assert job.total == 4 and job.kind == "achievements.points"


# --- the learner's pages ------------------------------------------------------------------------


def test_learner_sees_earned_and_locked_badges_with_progress(learner_user: User) -> None:
    BadgeFactory(name="Conversationalist", rule="comment_posted", threshold=10)
    BadgeFactory(name="First comment", rule="comment_posted", threshold=1)
    for _ in range(3):
        community_event_record(kind=EventKind.COMMUNITY_COMMENT_POSTED, user=learner_user)
    html = _client(learner_user).get(reverse("achievements:my_achievements")).content.decode()
    assert "3 / 10 comments" in html
    assert 'data-state="earned"' in html and 'data-state="locked"' in html


def test_my_achievements_query_count_is_the_same_for_few_and_many(
    admin_user: User, learner_user: User, django_assert_num_queries: Any
) -> None:
    client = _client(learner_user)
    BadgeFactory(rule="comment_posted", threshold=5)
    points_award(user=learner_user, amount=1, reason="One", actor=admin_user)
    client.get(reverse("achievements:my_achievements"))
    few = _queries(lambda: client.get(reverse("achievements:my_achievements")))
    BadgeFactory.create_batch(6, rule="comment_posted", threshold=5)
    for i in range(10):
        points_award(user=learner_user, amount=1, reason=f"Entry {i}", actor=admin_user)
    with django_assert_num_queries(few):
        client.get(reverse("achievements:my_achievements"))


def test_my_achievements_with_gamification_off(learner_user: User) -> None:
    GamificationSettings.objects.update_or_create(pk=1, defaults={"enabled": False})
    html = _client(learner_user).get(reverse("achievements:my_achievements")).content.decode()
    assert "not used" in html and "badge-tile" not in html


def test_anonymous_my_achievements_goes_to_login() -> None:
    response = _client(None).get(reverse("achievements:my_achievements"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_leaderboard_page_query_count_is_the_same_for_few_and_many(
    admin_user: User, learner_user: User, django_assert_num_queries: Any
) -> None:
    client = _client(learner_user)
    points_award(user=learner_user, amount=3, reason="One", actor=admin_user)
    client.get(reverse("achievements:leaderboard"))
    few = _queries(lambda: client.get(reverse("achievements:leaderboard")))
    for user in UserFactory.create_batch(12):
        points_award(user=user, amount=7, reason="Many", actor=admin_user)
    with django_assert_num_queries(few):
        response = client.get(reverse("achievements:leaderboard"))
    assert 'data-testid="my-rank">#13<' in response.content.decode()


def test_leaderboard_is_404_while_gamification_is_off(learner_user: User) -> None:
    GamificationSettings.objects.update_or_create(pk=1, defaults={"enabled": False})
    assert _client(learner_user).get(reverse("achievements:leaderboard")).status_code == 404


# --- the profile card ---------------------------------------------------------------------------


def _card(viewer: User, **context: Any) -> str:
    from django.template import Context, Template

    return Template('{% include "achievements/_achievements_card.html" %}').render(
        Context({"user": viewer, **context})
    )


def test_card_shows_points_and_badges(admin_user: User, learner_user: User) -> None:
    badge_grant(
        user=learner_user,
        badge=BadgeFactory(rule="manual", name="Star"),
        actor=admin_user,
        reason="x",
    )
    html = _card(admin_user, profile_user=learner_user)
    assert 'data-testid="achievements-card"' in html and 'title="Star"' in html


def test_card_hidden_by_the_settings_renders_nothing(learner_user: User) -> None:
    GamificationSettings.objects.update_or_create(pk=1, defaults={"card_visible": False})
    assert _card(learner_user).strip() == ""


def test_card_renders_nothing_while_gamification_is_off(learner_user: User) -> None:
    GamificationSettings.objects.update_or_create(pk=1, defaults={"enabled": False})
    assert _card(learner_user).strip() == ""


def test_card_honours_the_position_and_badge_count(admin_user: User, learner_user: User) -> None:
    GamificationSettings.objects.update_or_create(
        pk=1, defaults={"card_position": "header", "card_badge_count": 3}
    )
    for _ in range(5):
        badge_grant(
            user=learner_user, badge=BadgeFactory(rule="manual"), actor=admin_user, reason="x"
        )
    assert _card(learner_user, card_slot="side").strip() == ""
    html = _card(learner_user, card_slot="header")
    assert html.count('class="achv-badge-img') == 3 and "and more" in html
    assert html.count("View all") == 1  # one link to the full page, not one per row


@pytest.mark.parametrize("slot", ["header", "side", "main"])
def test_card_links_to_the_full_page_once_in_every_position(
    admin_user: User, learner_user: User, slot: str
) -> None:
    GamificationSettings.objects.update_or_create(
        pk=1, defaults={"card_position": slot, "card_badge_count": 1}
    )
    for _ in range(3):
        badge_grant(
            user=learner_user, badge=BadgeFactory(rule="manual"), actor=admin_user, reason="x"
        )
    assert _card(learner_user, card_slot=slot).count("View all") == 1


def test_certificates_section_lists_the_users_certificates(
    admin_user: User, learner_user: User
) -> None:
    from certifications.tests.factories import AwardFactory

    AwardFactory(user=learner_user, certification__title="Safe Selling")
    html = _client(admin_user).get(_tab(learner_user, "certificates")).content.decode()
    assert "Safe Selling" in html


def test_certificates_stay_visible_with_gamification_off(
    admin_user: User, learner_user: User
) -> None:
    from certifications.tests.factories import AwardFactory

    AwardFactory(user=learner_user, certification__title="Safe Selling")
    GamificationSettings.objects.update_or_create(pk=1, defaults={"enabled": False})
    html = _client(admin_user).get(_tab(learner_user)).content.decode()
    assert "Safe Selling" in html and "Points history" not in html


# --- points per course and content item -------------------------------------------------------


def test_super_admin_sets_course_and_content_points(admin_user: User, learner_user: User) -> None:
    from achievements.models import ActivityPoints, CoursePoints
    from achievements.tests.factories import ActivityFactory, course_completed

    activity = ActivityFactory()
    course = activity.module.course
    url = reverse("achievements:course_points_edit", args=[course.pk])
    response = _client(admin_user).post(
        url, {"course_points": "80", f"activity_{activity.pk}": "6"}
    )
    assert response.status_code == 302
    assert CoursePoints.objects.get(course=course).points == 80
    assert ActivityPoints.objects.get(activity=activity).points == 6
    course_completed(learner_user, course)
    assert PointsBalance.objects.get(user=learner_user).points == 80
    _client(admin_user).post(url, {"course_points": "", f"activity_{activity.pk}": ""})
    assert not CoursePoints.objects.exists() and not ActivityPoints.objects.exists()


def test_negative_course_points_are_refused(admin_user: User) -> None:
    from achievements.models import CoursePoints
    from achievements.tests.factories import CourseFactory

    course = CourseFactory()
    response = _client(admin_user).post(
        reverse("achievements:course_points_edit", args=[course.pk]), {"course_points": "-3"}
    )
    assert response.status_code == 200 and "greater than or equal to 0" in response.content.decode()
    assert not CoursePoints.objects.exists()


@pytest.mark.parametrize("who", ["sales_admin", "support_user", "learner_user"])
def test_only_super_admins_set_course_points(request: Any, who: str) -> None:
    from achievements.tests.factories import CourseFactory

    course = CourseFactory()
    client = _client(request.getfixturevalue(who))
    assert client.get(reverse("achievements:course_points")).status_code == 403
    assert (
        client.post(
            reverse("achievements:course_points_edit", args=[course.pk]), {"course_points": "5"}
        ).status_code
        == 403
    )


def test_course_points_list_query_count_is_the_same_for_few_and_many(admin_user: User) -> None:
    from achievements.models import CoursePoints
    from achievements.tests.factories import CourseFactory

    client = _client(admin_user)
    CoursePoints.objects.create(course=CourseFactory(), points=5)
    client.get(reverse("achievements:course_points"))
    few = _queries(lambda: client.get(reverse("achievements:course_points")))
    for course in CourseFactory.create_batch(8):
        CoursePoints.objects.create(course=course, points=9)
    CourseFactory.create_batch(4)
    assert _queries(lambda: client.get(reverse("achievements:course_points"))) == few


def test_long_points_history_is_paged(admin_user: User, learner_user: User) -> None:
    from achievements.services import points_award_bulk

    for i in range(55):
        points_award_bulk(
            user_ids=[learner_user.pk], amount=1, reason=f"Entry {i}", actor=admin_user
        )
    client = _client(admin_user)
    first = client.get(_tab(learner_user)).content.decode()
    assert "Page 1 of 2" in first and "Entry 54" in first and "Entry 0<" not in first
    second = client.get(_tab(learner_user) + "&page=2").content.decode()
    assert "Entry 0<" in second


def test_super_admin_creates_a_badge_with_an_image(admin_user: User) -> None:
    from achievements.models import Badge
    from achievements.tests.factories import png_upload

    response = _client(admin_user).post(
        reverse("achievements:badge_create"),
        {
            "name": "Chatterbox",
            "description": "Ten comments",
            "category": "community",
            "rule": "comment_posted",
            "threshold": "10",
            "points": "15",
            "is_active": "on",
            "image_upload": png_upload(),
        },
    )
    assert response.status_code == 302
    badge = Badge.objects.get(name="Chatterbox")
    assert (badge.rule, badge.threshold, badge.points) == ("comment_posted", 10, 15)
    assert badge.image.name.endswith(".png") and badge.image_small


def test_editing_a_badge_keeps_its_holders(admin_user: User, learner_user: User) -> None:
    badge = BadgeFactory(name="Chatty", rule="comment_posted", threshold=1, category="community")
    community_event_record(kind=EventKind.COMMUNITY_COMMENT_POSTED, user=learner_user)
    response = _client(admin_user).post(
        reverse("achievements:badge_update", args=[badge.pk]),
        {
            "name": "Chatty",
            "description": "",
            "category": "community",
            "rule": "comment_posted",
            "threshold": "20",
            "points": "0",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    badge.refresh_from_db()
    assert badge.threshold == 20
    assert UserBadge.objects.filter(badge=badge, revoked_at__isnull=True).count() == 1


def test_applying_a_rule_from_the_page_starts_a_job(admin_user: User, learner_user: User) -> None:
    community_event_record(kind=EventKind.COMMUNITY_COMMENT_POSTED, user=learner_user)
    badge = BadgeFactory(rule="comment_posted", threshold=1)
    response = _client(admin_user).post(reverse("achievements:badge_apply", args=[badge.pk]))
    job = BackgroundJob.objects.get(kind="achievements.badge_apply")
    assert response["Location"] == job.get_absolute_url()
    assert job.item_ids == [learner_user.pk]


def test_department_admin_cannot_apply_rules(sales_admin: User) -> None:
    badge = BadgeFactory(rule="comment_posted", threshold=1)
    response = _client(sales_admin).post(reverse("achievements:badge_apply", args=[badge.pk]))
    assert response.status_code == 403
    assert not BackgroundJob.objects.exists()


def test_bulk_actions_while_gamification_is_off_go_back_with_a_message(
    admin_user: User, learner_user: User
) -> None:
    GamificationSettings.objects.update_or_create(pk=1, defaults={"enabled": False})
    response = _client(admin_user).post(
        reverse("achievements:bulk_points"),
        {"user_ids": [learner_user.pk], "direction": "award", "amount": "5", "reason": "Off"},
        follow=True,
    )
    assert "Gamification is turned off" in response.content.decode()
    assert not PointsEntry.objects.exists()


def test_learner_page_links_to_their_department_leaderboard(
    admin_user: User, learner_user: User, org: dict[str, Any]
) -> None:
    points_award(user=learner_user, amount=5, reason="Good", actor=admin_user)
    html = _client(learner_user).get(reverse("achievements:my_achievements")).content.decode()
    assert f"?department={org['active_sales'].pk}" in html
    response = _client(learner_user).get(
        reverse("achievements:leaderboard") + f"?department={org['active_sales'].pk}"
    )
    assert 'data-testid="my-rank">#1<' in response.content.decode()


def test_anonymous_and_learners_learn_nothing_from_badge_and_course_ids(
    learner_user: User,
) -> None:
    for url in (
        reverse("achievements:badge_update", args=[999999]),
        reverse("achievements:course_points_edit", args=[999999]),
    ):
        anonymous = _client(None).get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
        assert _client(learner_user).get(url).status_code == 403
