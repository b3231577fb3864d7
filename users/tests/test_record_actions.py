"""The Details tab's own actions (Set a new password, Change role): each form posts to its own
view and service, its errors stay on it, and each change is in the event log."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from lms.event_kinds import EventKind
from lms.models import Event
from users.models import User

pytestmark = pytest.mark.django_db


def _form_action(html: str, form_id: str) -> str:
    match = re.search(rf'<form[^>]*id="{form_id}"[^>]*>', html)
    assert match, f"no form #{form_id}"
    action = re.search(r'action="([^"]*)"', match.group(0))
    return action.group(1) if action else ""


def test_the_details_tab_password_and_role_forms_post_to_their_own_views(
    client: Client, admin_user: User, learner_user: User
) -> None:
    client.force_login(admin_user)
    html = client.get(reverse("users:detail", args=[learner_user.pk])).text
    assert _form_action(html, "password-form") == reverse(
        "users:set_password", args=[learner_user.pk]
    )
    assert _form_action(html, "role-form") == reverse("users:change_role", args=[learner_user.pk])


def test_a_password_posted_where_the_form_points_is_set_and_recorded(
    client: Client, admin_user: User, learner_user: User
) -> None:
    client.force_login(admin_user)
    html = client.get(reverse("users:detail", args=[learner_user.pk])).text
    response = client.post(
        _form_action(html, "password-form"), {"new_password": "Fresh-meadow-8812"}, follow=True
    )
    assert "The new password is set." in response.text
    assert User.objects.get(pk=learner_user.pk).check_password("Fresh-meadow-8812")
    (event,) = Event.objects.filter(subject=learner_user, kind=EventKind.USER_PASSWORD_SET)
    assert (event.actor, event.is_manual) == (admin_user, True)


def test_a_weak_password_is_refused_on_the_password_form_and_changes_nothing(
    client: Client, admin_user: User, learner_user: User
) -> None:
    client.force_login(admin_user)
    response = client.post(
        reverse("users:set_password", args=[learner_user.pk]), {"new_password": "12345678"}
    )
    assert response.status_code == 400
    form = response.context["password_form"]
    assert form.errors["new_password"] and not response.context["details_form"].errors
    # the page shown again still posts each form to its own view
    assert _form_action(response.text, "password-form") == reverse(
        "users:set_password", args=[learner_user.pk]
    )
    assert "This field is required." not in response.text
    assert User.objects.get(pk=learner_user.pk).check_password("correct-horse-battery")
    assert not Event.objects.filter(kind=EventKind.USER_PASSWORD_SET).exists()


def test_a_role_posted_where_the_form_points_is_kept_and_recorded(
    client: Client, admin_user: User, learner_user: User
) -> None:
    client.force_login(admin_user)
    html = client.get(reverse("users:detail", args=[learner_user.pk])).text
    client.post(_form_action(html, "role-form"), {"roles": ["Customer service", "Learner"]})
    assert sorted(learner_user.groups.values_list("name", flat=True)) == [
        "Customer service",
        "Learner",
    ]
    (event,) = Event.objects.filter(subject=learner_user, kind=EventKind.USER_ROLE_CHANGED)
    assert event.details == {"changes": {"roles": [["Learner"], ["Customer service", "Learner"]]}}


def test_a_refused_role_change_shows_its_error_on_the_role_form(
    client: Client, admin_user: User
) -> None:
    client.force_login(admin_user)
    response = client.post(reverse("users:change_role", args=[admin_user.pk]), {"roles": []})
    assert response.status_code == 400
    assert response.context["role_form"].errors["roles"]
    assert not response.context["details_form"].errors
    assert not Event.objects.filter(kind=EventKind.USER_ROLE_CHANGED).exists()
