"""Two-factor authentication with real TOTP codes computed from the device's key
(django_otp.oath.totp) at the time the test sets (time-machine): set-up from the profile,
the code step at login, recovery codes (shown once, each usable once), the setting that makes
it required for a role, and impersonation refused without a verified second factor."""

from __future__ import annotations

import functools
import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import is_verified
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from lms.event_kinds import EventKind
from lms.models import Event
from users.models import User
from users.permissions import can_impersonate

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
STEP = timedelta(seconds=30)


def code_for(device: TOTPDevice) -> str:
    """The code an authenticator app shows now for this device's key."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{value:0{device.digits}d}"


def _password_step(client: Client, user: User, next_url: str = "") -> object:
    data = {"username": user.username, "password": PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)


def _set_up(client: Client, user: User) -> tuple[TOTPDevice, list[str]]:
    page = client.get(reverse("users:two_factor"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(
        reverse("users:two_factor"), {"action": "confirm", "code": code_for(device)}
    )
    assert response.status_code == 200, response.content.decode()[:500]
    codes = re.findall(r'data-testid="recovery-code">([^<]+)<', response.content.decode())
    device.refresh_from_db()
    return device, codes


def _enabled_admin(admin_user: User) -> tuple[TOTPDevice, list[str]]:
    client = Client()
    client.force_login(admin_user)
    return _set_up(client, admin_user)


# --- set-up ------------------------------------------------------------------------------


def test_set_up_shows_a_qr_code_and_the_key_then_turns_on_with_a_real_code(
    admin_user: User,
) -> None:
    client = Client()
    client.force_login(admin_user)
    profile = client.get(reverse("users:profile")).content.decode()
    assert 'data-testid="two-factor-status">Off' in profile

    page = client.get(reverse("users:two_factor")).content.decode()
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    assert 'src="data:image/svg+xml;base64,' in page
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page)
    assert secret and len(secret.group(1)) == 32
    assert client.get(reverse("users:two_factor")).status_code == 200
    assert TOTPDevice.objects.filter(user=admin_user).count() == 1  # the same one on reload

    response = client.post(
        reverse("users:two_factor"), {"action": "confirm", "code": code_for(device)}
    )
    assert response.status_code == 200
    codes = re.findall(r'data-testid="recovery-code">([^<]+)<', response.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert StaticToken.objects.filter(device__user=admin_user).count() == 10
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id  # verified now
    assert Event.objects.filter(
        kind=EventKind.USER_TWO_FACTOR_ENABLED, subject_id=admin_user.pk
    ).exists()
    # Shown once: the page never shows them again.
    again = client.get(reverse("users:two_factor")).content.decode()
    assert not any(code in again for code in codes)
    assert "10 recovery codes left" in again


def test_a_wrong_code_at_set_up_changes_nothing(admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    client.get(reverse("users:two_factor"))
    device = TOTPDevice.objects.get(user=admin_user)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("users:two_factor"), {"action": "confirm", "code": wrong})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not StaticToken.objects.exists()
    assert not Event.objects.filter(kind=EventKind.USER_TWO_FACTOR_ENABLED).exists()


# --- login -------------------------------------------------------------------------------


def test_login_asks_for_the_code_after_the_password(admin_user: User) -> None:
    device, _ = _enabled_admin(admin_user)
    client = Client()
    response = _password_step(client, admin_user, next_url="/certifications/")
    assert response.status_code == 302 and response["Location"] == reverse("two_factor_verify")
    assert SESSION_KEY not in client.session  # not logged in by the password alone
    assert client.get(reverse("users:list")).status_code == 302

    wrong = client.post(reverse("two_factor_verify"), {"code": "000000x"})
    assert wrong.status_code == 400 and SESSION_KEY not in client.session

    with time_machine.travel(timezone.now() + STEP, tick=False):
        response = client.post(reverse("two_factor_verify"), {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == "/certifications/"
    assert client.session[SESSION_KEY] == str(admin_user.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_a_code_works_only_once(admin_user: User) -> None:
    device, _ = _enabled_admin(admin_user)
    with time_machine.travel(timezone.now() + STEP, tick=False):
        code = code_for(device)
        first, second = Client(), Client()
        _password_step(first, admin_user)
        assert first.post(reverse("two_factor_verify"), {"code": code}).status_code == 302
        _password_step(second, admin_user)
        assert second.post(reverse("two_factor_verify"), {"code": code}).status_code == 400
        assert SESSION_KEY not in second.session


def test_a_recovery_code_logs_in_once(admin_user: User) -> None:
    _, codes = _enabled_admin(admin_user)
    client = Client()
    _password_step(client, admin_user)
    response = client.post(reverse("two_factor_verify"), {"code": codes[0]}, follow=True)
    assert response.redirect_chain and SESSION_KEY in client.session
    assert "You used a recovery code; 9 are left" in response.content.decode()

    other = Client()
    _password_step(other, admin_user)
    assert other.post(reverse("two_factor_verify"), {"code": codes[0]}).status_code == 400
    assert SESSION_KEY not in other.session


def test_five_wrong_codes_end_the_login_attempt(admin_user: User) -> None:
    _enabled_admin(admin_user)
    client = Client()
    _password_step(client, admin_user)
    for _ in range(4):
        assert client.post(reverse("two_factor_verify"), {"code": "123456"}).status_code == 400
    response = client.post(reverse("two_factor_verify"), {"code": "123456"})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert client.get(reverse("two_factor_verify")).status_code == 302  # back to the password


def test_the_code_step_times_out(admin_user: User) -> None:
    device, _ = _enabled_admin(admin_user)
    client = Client()
    _password_step(client, admin_user)
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        response = client.post(reverse("two_factor_verify"), {"code": code_for(device)})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert SESSION_KEY not in client.session


def test_new_recovery_codes_replace_the_old_ones(admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    device, old = _set_up(client, admin_user)
    with time_machine.travel(timezone.now() + STEP, tick=False):
        response = client.post(
            reverse("users:two_factor"), {"action": "codes", "code": code_for(device)}
        )
    new = re.findall(r'data-testid="recovery-code">([^<]+)<', response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new)


def test_turning_it_off_needs_a_current_code(learner_user: User) -> None:
    client = Client()
    client.force_login(learner_user)
    device, _ = _set_up(client, learner_user)
    refused = client.post(reverse("users:two_factor"), {"action": "disable", "code": "999999"})
    assert refused.status_code == 400
    assert TOTPDevice.objects.filter(user=learner_user, confirmed=True).exists()
    with time_machine.travel(timezone.now() + STEP, tick=False):
        response = client.post(
            reverse("users:two_factor"), {"action": "disable", "code": code_for(device)}
        )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=learner_user).exists()
    assert not StaticToken.objects.exists()
    assert Event.objects.filter(kind=EventKind.USER_TWO_FACTOR_DISABLED).exists()


# --- required by role --------------------------------------------------------------------


@override_settings(MERIT_REQUIRE_2FA_FOR=["super_admin"])
def test_a_super_admin_without_it_can_only_set_it_up(admin_user: User) -> None:
    client = Client()
    _password_step(client, admin_user)
    response = client.get(reverse("users:list"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("users:two_factor")
    assert "Your role requires two-factor authentication" in response.content.decode()
    device, _ = _set_up(client, admin_user)
    assert device.confirmed
    assert client.get(reverse("users:list")).status_code == 200  # verified by the set-up


@override_settings(MERIT_REQUIRE_2FA_FOR=["super_admin"])
def test_a_required_role_cannot_turn_it_off(admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    device, _ = _set_up(client, admin_user)
    with time_machine.travel(timezone.now() + STEP, tick=False):
        response = client.post(
            reverse("users:two_factor"), {"action": "disable", "code": code_for(device)}
        )
    assert response.status_code == 400
    assert "Your role requires two-factor authentication" in response.content.decode()
    assert TOTPDevice.objects.filter(user=admin_user, confirmed=True).exists()


@override_settings(MERIT_REQUIRE_2FA_FOR=["super_admin"])
def test_a_session_without_the_code_is_sent_to_the_code_step(admin_user: User) -> None:
    device, _ = _enabled_admin(admin_user)
    client = Client()
    client.force_login(admin_user)  # a session that never passed the second factor
    response = client.get(reverse("users:list"))
    assert response.status_code == 302 and response["Location"] == reverse("two_factor_verify")
    with time_machine.travel(timezone.now() + STEP, tick=False):
        verify = client.post(reverse("two_factor_verify"), {"code": code_for(device)})
        assert verify.status_code == 302
        assert client.get(reverse("users:list")).status_code == 200


@override_settings(MERIT_REQUIRE_2FA_FOR=["super_admin"])
def test_other_roles_are_not_asked_when_only_super_admins_must(learner_user: User) -> None:
    client = Client()
    _password_step(client, learner_user)
    assert client.get(reverse("users:profile")).status_code == 200


# --- impersonation -----------------------------------------------------------------------


def _with_otp_state(user: User, device: TOTPDevice | None) -> User:
    """The user as django-otp's middleware hands it to views: verified when the session
    passed `device`."""
    user.otp_device = device
    user.is_verified = functools.partial(is_verified, user)
    return user


@override_settings(MERIT_REQUIRE_2FA_FOR=["super_admin"])
def test_impersonation_needs_a_verified_second_factor_when_required(
    admin_user: User, learner_user: User
) -> None:
    device, _ = _enabled_admin(admin_user)
    assert not can_impersonate(hijacker=_with_otp_state(admin_user, None), hijacked=learner_user)
    assert can_impersonate(hijacker=_with_otp_state(admin_user, device), hijacked=learner_user)


@override_settings(MERIT_REQUIRE_2FA_FOR=["super_admin"])
def test_an_unverified_admin_cannot_start_impersonating(
    admin_user: User, learner_user: User
) -> None:
    device, _ = _enabled_admin(admin_user)
    acquire = {"user_pk": learner_user.pk, "next": reverse("home")}

    unverified = Client()
    unverified.force_login(admin_user)
    unverified.post(reverse("hijack:acquire"), acquire)
    assert not unverified.session.get("hijack_history")
    assert unverified.session.get(SESSION_KEY) == str(admin_user.pk)

    verified = Client()
    _password_step(verified, admin_user)
    with time_machine.travel(timezone.now() + STEP, tick=False):
        verified.post(reverse("two_factor_verify"), {"code": code_for(device)})
        response = verified.post(reverse("hijack:acquire"), acquire)
    assert response.status_code == 302
    assert verified.session.get(SESSION_KEY) == str(learner_user.pk)
    assert verified.session.get("hijack_history")


def test_without_the_setting_impersonation_works_as_before(
    admin_user: User, learner_user: User
) -> None:
    client = Client()
    client.force_login(admin_user)
    client.post(reverse("hijack:acquire"), {"user_pk": learner_user.pk, "next": "/"})
    assert client.session.get(SESSION_KEY) == str(learner_user.pk)


def test_right_after_a_wrong_code_the_page_says_to_wait(admin_user: User) -> None:
    device, _ = _enabled_admin(admin_user)
    client = Client()
    _password_step(client, admin_user)
    with time_machine.travel(timezone.now() + STEP, tick=False):
        client.post(reverse("two_factor_verify"), {"code": "000000"})
        response = client.post(reverse("two_factor_verify"), {"code": code_for(device)})
        assert response.status_code == 400
        assert "Too many wrong codes: wait 1 second and try again." in response.content.decode()
    with time_machine.travel(timezone.now() + STEP + timedelta(seconds=2), tick=False):
        response = client.post(reverse("two_factor_verify"), {"code": code_for(device)})
    assert response.status_code == 302 and SESSION_KEY in client.session


@override_settings(MERIT_REQUIRE_2FA_FOR=["super_admin"])
def test_back_from_impersonation_the_admin_shows_a_code_again(
    admin_user: User, learner_user: User
) -> None:
    """django-hijack logs in anew both ways (a new session), so the verified device does not
    come back with the admin: the code step asks again instead of letting the admin in."""
    device, _ = _enabled_admin(admin_user)
    client = Client()
    _password_step(client, admin_user)
    with time_machine.travel(timezone.now() + STEP, tick=False):
        client.post(reverse("two_factor_verify"), {"code": code_for(device)})
        client.post(reverse("hijack:acquire"), {"user_pk": learner_user.pk, "next": "/"})
        assert client.get(reverse("users:profile")).status_code == 200  # as the learner
        client.post(reverse("hijack:release"), {"next": reverse("users:list")})
        assert client.session.get(SESSION_KEY) == str(admin_user.pk)
        response = client.get(reverse("users:list"))
        assert response.status_code == 302 and response["Location"] == reverse("two_factor_verify")
    with time_machine.travel(timezone.now() + 2 * STEP, tick=False):
        assert (
            client.post(reverse("two_factor_verify"), {"code": code_for(device)}).status_code == 302
        )
        assert client.get(reverse("users:list")).status_code == 200
