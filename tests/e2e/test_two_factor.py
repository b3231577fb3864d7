"""Two-factor authentication in Chromium: an admin sets up an authenticator from their
profile (the code typed is computed from the device's key, as the app would), sees the
recovery codes once, logs out, and logs in again with password and code."""

from __future__ import annotations

from typing import Any

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.e2e.conftest import log_in, screenshot
from users.models import User

pytestmark = pytest.mark.e2e


def _app_code(device: TOTPDevice, ahead: int = 0) -> str:
    """What the authenticator app shows (`ahead` steps later: the set-up used up this step's
    code, and the server accepts the next step's)."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=ahead)
    return f"{value:0{device.digits}d}"


def test_admin_sets_up_totp_logs_out_and_logs_in_with_a_code(page: Any, admin_user: User) -> None:
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    log_in(page, "admin")
    page.goto("/profile/")
    assert page.get_by_test_id("two-factor-status").inner_text() == "Off"
    page.get_by_test_id("two-factor-manage").click()
    page.get_by_test_id("totp-qr").wait_for()
    assert page.get_by_test_id("totp-qr").evaluate("img => img.naturalWidth > 0")
    screenshot(page, "two-factor-setup")

    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    page.fill("input[name=code]", _app_code(device))
    page.get_by_test_id("confirm-two-factor").click()
    page.get_by_test_id("recovery-codes").wait_for()
    assert page.get_by_test_id("recovery-code").count() == 10
    screenshot(page, "two-factor-recovery-codes")

    page.goto("/profile/")
    assert page.get_by_test_id("two-factor-status").inner_text() == "On"
    page.locator(".navbar .dropdown-toggle").click()
    page.get_by_role("button", name="Log out", exact=True).click()
    page.wait_for_load_state("networkidle")

    log_in(page, "admin")
    assert page.url.endswith("/accounts/two-factor/")
    page.get_by_test_id("two-factor-verify").wait_for()
    screenshot(page, "two-factor-login-code")
    page.fill("input[name=code]", "000000")
    page.get_by_role("button", name="Verify").click()
    assert "That code is not right" in page.get_by_test_id("code-error").inner_text()
    page.wait_for_timeout(1500)  # a person retypes: django-otp waits a second after a failure
    device.refresh_from_db()
    page.fill("input[name=code]", _app_code(device, ahead=1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_load_state("networkidle")
    screenshot(page, "two-factor-after-code")
    page.wait_for_url("**/users/")
    assert page.get_by_test_id("bulk-bar").count() == 1  # the admin's users list
    assert problems == [] or all("400" in text for text in problems)
