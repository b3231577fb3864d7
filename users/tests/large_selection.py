"""Helpers for the "apply to all matching" tests of each app's bulk page: many learners made
with one INSERT, and the walk from the users list's bulk bar to the app's form."""

from __future__ import annotations

import re
from typing import Any

from django.test import Client
from django.urls import reverse

from users.models import Department, User

LARGE_SELECTION = 1500  # over Django's DATA_UPLOAD_MAX_NUMBER_FIELDS (1000)

# A form's hidden inputs as Django and crispy render them: type, name, value in that order.
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def learners_bulk_create(count: int, *, department: Department, prefix: str) -> list[int]:
    """`count` active users in `department`, in two INSERTs; their pks in order."""
    users = User.objects.bulk_create(
        User(
            username=f"{prefix}{n}",
            email=f"{prefix}{n}@example.com",
            first_name="Bulk",
            last_name=f"Learner {n:05d}",
            password="!",  # unusable
        )
        for n in range(count)
    )
    through = User.departments.through
    through.objects.bulk_create(through(user_id=u.pk, department_id=department.pk) for u in users)
    return [u.pk for u in users]


def hidden_fields(html: str) -> list[tuple[str, str]]:
    """The hidden inputs of the page's forms, except the CSRF token (the test client does not
    check it): what the form carries from the users list to its POST."""
    return [(n, v) for n, v in HIDDEN_INPUT.findall(html) if n != "csrfmiddlewaretoken"]


def as_data(fields: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    """Hidden fields (a name may repeat) plus the fields the admin fills, as test client data."""
    data: dict[str, Any] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    data.update(extra)
    return data


def bulk_bar_forward(client: Client, action: str, **filters: Any) -> str:
    """Tick "all matching" in the users list's bulk bar and pick `action`: the app page's URL
    the bar redirects to."""
    response = client.get(reverse("users:bulk"), {"action": action, "all_matching": "1", **filters})
    assert response.status_code == 302, response.status_code
    return str(response["Location"])


def logged_in(user: User) -> Client:
    """A test client logged in as `user`."""
    client = Client()
    client.force_login(user)
    return client
