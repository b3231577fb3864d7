"""Login throttling (users/login_throttle.py on django-axes): a lock per (username, IP) after
repeated failures, lifted after the cool-off; another address still logs in; an address that
fails across many accounts is locked too; unknown usernames are answered like known ones."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from users.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
ATTACKER = "203.0.113.7"
OFFICE = "198.51.100.20"


def _post(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def _logged_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def _answer(response) -> tuple[int, str]:
    """Status and visible text of a login answer, without what differs by request (the CSRF
    token) or echoes the input (the username typed)."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
    html = re.sub(r'name="username"[^>]*value="[^"]*"', 'name="username"', html)
    return response.status_code, html


def test_thirty_wrong_passwords_lock_the_account_from_that_address(admin_user: User) -> None:
    attacker = Client(REMOTE_ADDR=ATTACKER)
    statuses = [_post(attacker, "admin", f"guess-{n}").status_code for n in range(30)]
    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)  # "enter a correct username and..."
    assert set(statuses[limit:]) == {429}

    response = _post(attacker, "admin", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert "paused for 15 minutes" in response.content.decode()
    assert not _logged_in(attacker)


def test_after_the_cool_off_the_right_password_works(admin_user: User) -> None:
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for n in range(30):
        _post(attacker, "admin", f"guess-{n}")
    with time_machine.travel(timezone.now() + timedelta(minutes=14), tick=False):
        assert _post(attacker, "admin", PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        response = _post(attacker, "admin", PASSWORD)
        assert response.status_code == 302
        assert _logged_in(attacker)


def test_the_admin_still_logs_in_from_another_address_during_the_lock(admin_user: User) -> None:
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for n in range(30):
        _post(attacker, "admin", f"guess-{n}")
    assert _post(attacker, "admin", PASSWORD).status_code == 429

    office = Client(REMOTE_ADDR=OFFICE)
    response = _post(office, "admin", PASSWORD)
    assert response.status_code == 302
    assert _logged_in(office)


def test_changing_the_case_of_the_username_counts_against_the_same_lock(admin_user: User) -> None:
    attacker = Client(REMOTE_ADDR=ATTACKER)
    for n in range(settings.AXES_FAILURE_LIMIT):
        _post(attacker, ["admin", "Admin", "ADMIN"][n % 3], f"guess-{n}")
    assert _post(attacker, "aDmIn", PASSWORD).status_code == 429


def test_an_unknown_username_gets_the_same_answers_as_a_known_one(admin_user: User) -> None:
    attacker = Client(REMOTE_ADDR=ATTACKER)
    known = [_answer(_post(attacker, "admin", f"guess-{n}")) for n in range(15)]
    other = Client(REMOTE_ADDR=OFFICE)
    unknown = [_answer(_post(other, "nobody-here", f"guess-{n}")) for n in range(15)]
    assert [status for status, _ in known] == [status for status, _ in unknown]
    assert known == unknown


@override_settings(MERIT_LOGIN_IP_FAILURE_LIMIT=25)
def test_an_address_failing_across_many_accounts_is_locked_for_every_account(
    admin_user: User,
) -> None:
    attacker = Client(REMOTE_ADDR=ATTACKER)
    # Under the per-account limit for each name, over the per-address limit in all.
    for n in range(25):
        _post(attacker, f"name{n % 5}", f"guess-{n}")
    response = _post(attacker, "admin", PASSWORD)
    assert response.status_code == 429
    assert not _logged_in(attacker)

    office = Client(REMOTE_ADDR=OFFICE)
    assert _post(office, "admin", PASSWORD).status_code == 302


def test_a_success_clears_the_failures_of_that_address(admin_user: User) -> None:
    client = Client(REMOTE_ADDR=OFFICE)
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        _post(client, "admin", f"typo-{n}")
    assert _post(client, "admin", PASSWORD).status_code == 302
    client.logout()
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        _post(client, "admin", f"typo-again-{n}")
    assert _post(client, "admin", PASSWORD).status_code == 302
