"""The issue's end-to-end path: an admin finds Anna, changes her phone and sees it in her
Events tab; a department admin cannot open a user outside their department."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import log_in, screenshot
from users.models import Department, User

pytestmark = pytest.mark.e2e


def test_admin_edits_anna_and_sees_the_change_in_her_events(
    page: Any, admin_user: User, learner_user: User, outsider: User
) -> None:
    log_in(page, "admin")
    page.goto("/users/")
    page.fill("input[name=q]", "anna")
    page.click("[data-testid=search-button]")
    page.wait_for_load_state("networkidle")
    assert page.locator("[data-testid=users-total]").inner_text() == "Total: 1"
    screenshot(page, "users-list-search-anna")
    page.click("text=Anna Smith")
    page.wait_for_selector("[data-testid=record-name]")
    page.fill("input[name=phone]", "+1 555 0142")
    page.click("#details-form [name=save]")
    page.wait_for_selector("text=The changes were saved.")
    assert page.input_value("input[name=phone]") == "+1 555 0142"
    screenshot(page, "users-record-details")
    page.click(".merit-record-tabs >> text=Events")
    page.wait_for_selector("[data-testid=events-table]")
    table = page.locator("[data-testid=events-table]").inner_text()
    assert "Details changed" in table and "+1 555 0142" in table and "Manually" in table
    screenshot(page, "users-record-events")


def test_department_admin_cannot_open_a_user_outside_the_department(
    page: Any, sales_admin: User, learner_user: User, outsider: User, org: dict[str, Department]
) -> None:
    log_in(page, "salesadmin")
    page.goto("/users/")
    assert page.locator("text=Anna Smith").count() == 1
    assert page.locator("text=Harry Evans").count() == 0
    response = page.goto(f"/users/{outsider.pk}/")
    assert response is not None and response.status == 404
    screenshot(page, "users-department-admin-404")


def test_admin_sets_annas_password_and_anna_logs_in_with_it_in_a_fresh_browser(
    page: Any, browser: Any, live_server: Any, admin_user: User, learner_user: User
) -> None:
    log_in(page, "admin")
    page.goto(f"/users/{learner_user.pk}/")
    page.fill("#password-form input[name=new_password]", "Fresh-meadow-8812")
    page.click("#password-form [name=set_password]")
    page.wait_for_selector("text=The new password is set.")
    assert "This field is required." not in page.content()
    screenshot(page, "users-record-password-set")
    page.click(".merit-record-tabs >> text=Events")
    page.wait_for_selector("[data-testid=events-table]")
    assert "Password set" in page.locator("[data-testid=events-table]").inner_text()

    fresh = browser.new_context(viewport={"width": 1360, "height": 900}, base_url=live_server.url)
    try:
        anna = fresh.new_page()
        log_in(anna, "anna", "Fresh-meadow-8812")
        assert "/accounts/login/" not in anna.url
        assert anna.locator("text=Anna").count() > 0
        screenshot(anna, "users-learner-logged-in-with-new-password")
    finally:
        fresh.close()


def test_admin_changes_annas_role_and_sees_it_kept_after_a_reload(
    page: Any, admin_user: User, learner_user: User
) -> None:
    log_in(page, "admin")
    page.goto(f"/users/{learner_user.pk}/")
    page.check("#role-form input[value='Customer service']")
    page.click("#role-form [name=change_role]")
    page.wait_for_selector("text=The role was changed.")
    page.reload()
    assert page.is_checked("#role-form input[value='Customer service']")
    assert page.is_checked("#role-form input[value='Learner']")
    screenshot(page, "users-record-role-changed")
    page.click(".merit-record-tabs >> text=Events")
    page.wait_for_selector("[data-testid=events-table]")
    table = page.locator("[data-testid=events-table]").inner_text()
    assert "Role changed" in table and "Customer service" in table
    screenshot(page, "users-record-role-changed-events")
