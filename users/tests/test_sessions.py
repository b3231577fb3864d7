"""Sessions end when they should: after the idle timeout (admins sooner than learners), on a
password change (the others; the changer's own session goes on), on disable and on "log out
everywhere", for the user and from an admin on the user's record."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from lms.event_kinds import EventKind
from lms.models import Event
from users.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "a-much-longer-new-secret-2026"


def _logged_in_client(user: User) -> Client:
    """A real login through the login page (a session like a browser's)."""
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:400]
    return client


def _is_logged_in(client: Client) -> bool:
    """Ask the site: the profile page answers 200 to someone logged in, a redirect otherwise."""
    return client.get(reverse("users:profile")).status_code == 200


# --- idle timeout -----------------------------------------------------------------------


def test_an_admin_is_logged_out_after_eight_idle_hours(admin_user: User) -> None:
    client = _logged_in_client(admin_user)
    assert _is_logged_in(client)
    with time_machine.travel(timezone.now() + timedelta(hours=7, minutes=50), tick=False):
        assert _is_logged_in(client)  # activity: the clock starts again here
    with time_machine.travel(timezone.now() + timedelta(hours=15, minutes=40), tick=False):
        assert _is_logged_in(client)
    with time_machine.travel(timezone.now() + timedelta(hours=23, minutes=45), tick=False):
        response = client.get(reverse("users:profile"), follow=True)
        assert response.redirect_chain[-1][0].startswith(reverse("login"))
        assert "logged out after 8 hours without activity" in response.content.decode()
        assert SESSION_KEY not in client.session


def test_a_learner_keeps_their_session_longer(learner_user: User) -> None:
    client = _logged_in_client(learner_user)
    assert _is_logged_in(client)
    with time_machine.travel(timezone.now() + timedelta(hours=9), tick=False):
        assert _is_logged_in(client)
    with time_machine.travel(timezone.now() + timedelta(days=9, hours=9), tick=False):
        assert _is_logged_in(client)
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        assert not _is_logged_in(client)


@override_settings(MERIT_SESSION_IDLE_HOURS_LEARNER=1)
def test_the_learner_timeout_is_a_setting(learner_user: User) -> None:
    client = _logged_in_client(learner_user)
    assert _is_logged_in(client)
    with time_machine.travel(timezone.now() + timedelta(minutes=61), tick=False):
        assert not _is_logged_in(client)


def test_the_session_cookie_expires_with_the_idle_timeout(admin_user: User) -> None:
    client = _logged_in_client(admin_user)
    client.get(reverse("users:profile"))
    assert client.session.get_expiry_age() == 8 * 3600 + 600


# --- password changes -------------------------------------------------------------------


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(
    learner_user: User,
) -> None:
    here, elsewhere = _logged_in_client(learner_user), _logged_in_client(learner_user)
    response = here.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert _is_logged_in(here)
    assert not _is_logged_in(elsewhere)


def test_an_admin_setting_someones_password_ends_that_persons_sessions(
    admin_user: User, learner_user: User
) -> None:
    learner_client = _logged_in_client(learner_user)
    admin_client = _logged_in_client(admin_user)
    response = admin_client.post(
        reverse("users:set_password", args=[learner_user.pk]), {"new_password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert not _is_logged_in(learner_client)
    assert _is_logged_in(admin_client)


def test_an_admin_setting_their_own_password_on_their_record_stays_logged_in(
    admin_user: User,
) -> None:
    here, elsewhere = _logged_in_client(admin_user), _logged_in_client(admin_user)
    response = here.post(
        reverse("users:set_password", args=[admin_user.pk]), {"new_password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert _is_logged_in(here)
    assert not _is_logged_in(elsewhere)


def test_disabling_a_user_ends_their_sessions(admin_user: User, learner_user: User) -> None:
    learner_client = _logged_in_client(learner_user)
    _logged_in_client(admin_user).post(
        reverse("users:set_active", args=[learner_user.pk]), {"is_active": "0"}
    )
    assert not _is_logged_in(learner_client)


# --- log out everywhere -----------------------------------------------------------------


def test_log_out_everywhere_ends_all_of_the_users_sessions(learner_user: User) -> None:
    here, elsewhere = _logged_in_client(learner_user), _logged_in_client(learner_user)
    response = here.post(reverse("users:my_sessions_end"), follow=True)
    assert "logged out on every device" in response.content.decode()
    assert not _is_logged_in(here)
    assert not _is_logged_in(elsewhere)
    event = Event.objects.get(kind=EventKind.USER_SESSIONS_ENDED)
    assert event.subject_id == learner_user.pk and event.actor_id == learner_user.pk
    assert _is_logged_in(_logged_in_client(learner_user))  # logging in again works


def test_an_admin_logs_a_user_out_everywhere_from_their_record(
    admin_user: User, learner_user: User
) -> None:
    learner_client = _logged_in_client(learner_user)
    admin_client = _logged_in_client(admin_user)
    record = admin_client.get(reverse("users:detail", args=[learner_user.pk]))
    assert 'data-testid="end-sessions"' in record.content.decode()
    response = admin_client.post(reverse("users:sessions_end", args=[learner_user.pk]))
    assert response.status_code == 302
    assert not _is_logged_in(learner_client)
    assert _is_logged_in(admin_client)
    event = Event.objects.get(kind=EventKind.USER_SESSIONS_ENDED)
    assert event.actor_id == admin_user.pk and event.subject_id == learner_user.pk


def test_customer_service_cannot_log_a_super_admin_out(
    support_user: User, admin_user: User
) -> None:
    admin_client = _logged_in_client(admin_user)
    response = _logged_in_client(support_user).post(
        reverse("users:sessions_end", args=[admin_user.pk])
    )
    assert response.status_code in (403, 404)
    assert _is_logged_in(admin_client)
    assert not Event.objects.filter(kind=EventKind.USER_SESSIONS_ENDED).exists()


def test_a_learner_cannot_log_someone_else_out(learner_user: User, outsider: User) -> None:
    outsider_client = _logged_in_client(outsider)
    response = _logged_in_client(learner_user).post(
        reverse("users:sessions_end", args=[outsider.pk])
    )
    assert response.status_code == 403
    assert _is_logged_in(outsider_client)


def test_an_admin_ending_their_own_sessions_from_their_record_is_logged_out_too(
    admin_user: User,
) -> None:
    here, elsewhere = _logged_in_client(admin_user), _logged_in_client(admin_user)
    response = here.post(reverse("users:sessions_end", args=[admin_user.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert not _is_logged_in(here)
    assert not _is_logged_in(elsewhere)
