"""The issue's end-to-end paths: an admin awards Anna Smith 200 points from her record and
sees the entry, her total and her position; Anna sees her earned and locked badges."""

from __future__ import annotations

from typing import Any

import pytest

from achievements.demo import medal_png
from achievements.services import badge_create, badge_grant, community_event_record, points_award
from lms.event_kinds import EventKind
from tests.e2e.conftest import log_in, screenshot
from users.models import User

pytestmark = pytest.mark.e2e

REASON = "The best business proposal in the group"


def _badge(admin: User, name: str, category: str, rule: str, threshold: int, colour: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return badge_create(
        actor=admin,
        name=name,
        category=category,
        rule=rule,
        threshold=threshold,
        description=f"{name} badge",
        image=SimpleUploadedFile(f"{rule}.png", medal_png(colour, name[:1]), "image/png"),
    )


def test_admin_awards_points_from_annas_record(
    page: Any, admin_user: User, learner_user: User, outsider: User
) -> None:
    points_award(user=outsider, amount=150, reason="Customer praise", actor=admin_user)
    log_in(page, "admin")
    page.goto("/users/")
    page.fill("input[name=q]", "anna")
    page.click("[data-testid=search-button]")
    page.wait_for_load_state("networkidle")
    page.click("text=Anna Smith")
    page.wait_for_selector("[data-testid=record-name]")
    page.click(".merit-record-tabs >> text=Achievements")
    page.click("[data-testid=achievements-sections] >> text=Points")
    assert page.locator("[data-testid=leaderboard-rank]").inner_text() == "#2"
    page.click("text=Manage Points")
    page.click("button:has-text('Award points')")
    form = page.locator("[data-testid=award-form]")
    form.locator("input[name=award-awarded_at]").fill("2022-01-20T10:12")
    form.locator("input[name=award-amount]").fill("200")
    form.locator("input[name=award-reason]").fill(REASON)
    screenshot(page, "achievements-manage-points-form")
    form.locator("input[type=submit]").click()
    page.wait_for_selector("text=Awarded 200 points")
    ledger = page.locator("[data-testid=points-ledger]").inner_text()
    assert "Jan 20, 2022 10:12 AM" in ledger and REASON in ledger and "+200" in ledger
    assert page.locator("[data-testid=points-total]").inner_text() == "200"
    assert page.locator("[data-testid=leaderboard-rank]").inner_text() == "#1"
    screenshot(page, "achievements-user-tab-after-award")


def test_learner_sees_earned_and_locked_badges(
    page: Any, admin_user: User, learner_user: User
) -> None:
    _badge(admin_user, "Storyteller", "profile", "bio_completed", 1, "#6366f1")
    _badge(admin_user, "First post", "community", "post_published", 1, "#ec4899")
    _badge(admin_user, "Conversationalist", "community", "comment_posted", 10, "#d946ef")
    _badge(admin_user, "Graduate", "courses", "course_completed", 1, "#f59e0b")
    team = _badge(admin_user, "Team spirit", "engagement", "manual", 1, "#8b5cf6")
    community_event_record(kind=EventKind.COMMUNITY_POST_PUBLISHED, user=learner_user)
    for _ in range(3):
        community_event_record(kind=EventKind.COMMUNITY_COMMENT_POSTED, user=learner_user)
    badge_grant(user=learner_user, badge=team, actor=admin_user, reason="Helped onboard")
    points_award(user=learner_user, amount=200, reason=REASON, actor=admin_user)

    log_in(page, "anna")
    page.goto("/achievements/me/")
    page.click("button:has-text('Community')")
    page.wait_for_selector("button.nav-link.active:has-text('Community')")
    earned = page.locator("#cat-community [data-state=earned]")
    locked = page.locator("#cat-community [data-state=locked]")
    assert earned.count() == 1 and "First post" in earned.inner_text()
    assert locked.count() == 1 and "3 / 10 comments" in locked.inner_text()
    assert page.locator("[data-testid=leaderboard-rank]").inner_text() == "#1"
    assert REASON in page.locator("[data-testid=points-ledger]").inner_text()
    page.wait_for_timeout(300)  # let the tab's colour transition finish before the picture
    screenshot(page, "achievements-learner-page")


def test_admin_sees_badges_settings_and_the_leaderboard(
    page: Any, admin_user: User, learner_user: User, outsider: User
) -> None:
    _badge(admin_user, "Storyteller", "profile", "bio_completed", 1, "#6366f1")
    _badge(admin_user, "Conversationalist", "community", "comment_posted", 10, "#d946ef")
    points_award(user=learner_user, amount=200, reason=REASON, actor=admin_user)
    points_award(user=outsider, amount=200, reason="Tie", actor=admin_user)
    log_in(page, "admin")
    page.goto("/achievements/settings/")
    assert page.locator("text=Comments posted (10 comments)").count() == 1
    screenshot(page, "achievements-settings")
    page.goto("/achievements/leaderboard/")
    ranks = page.locator("[data-testid=leaderboard] tbody tr td:first-child").all_inner_texts()
    assert ranks == ["#1", "#1"]
    screenshot(page, "achievements-leaderboard")
