"""Every users view, every role: super admin, department admin in and out of scope, customer
service, learner (403) and anonymous (login redirect)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from users.models import Department, User
from users.tests.factories import learner

pytestmark = pytest.mark.django_db

# (url name, takes the subject's pk, method)
RECORD_VIEWS = [
    ("users:detail", "get"),
    ("users:events", "get"),
    ("users:set_password", "post"),
    ("users:set_active", "post"),
    ("users:invite", "post"),
]
ORG_VIEWS = ["users:department_list", "users:group_list", "users:customfield_list"]


@pytest.fixture
def client_as(client: Client) -> Callable[[User | None], Client]:
    def log_in(user: User | None) -> Client:
        if user is not None:
            client.force_login(user)
        return client

    return log_in


def _call(client: Client, method: str, url: str) -> int:
    return (client.get(url) if method == "get" else client.post(url, {})).status_code


@pytest.mark.parametrize(("url_name", "method"), RECORD_VIEWS)
def test_record_views_per_role(
    client_as: Callable[[User | None], Client],
    admin_user: User,
    sales_admin: User,
    support_user: User,
    learner_user: User,
    outsider: User,
    url_name: str,
    method: str,
) -> None:
    in_scope = reverse(url_name, args=[learner_user.pk])
    out_of_scope = reverse(url_name, args=[outsider.pk])
    ok = {200, 302, 400}
    assert _call(client_as(admin_user), method, out_of_scope) in ok
    assert _call(client_as(support_user), method, out_of_scope) in ok
    assert _call(client_as(sales_admin), method, in_scope) in ok
    assert _call(client_as(sales_admin), method, out_of_scope) == 404
    assert _call(client_as(learner()), method, in_scope) == 403


@pytest.mark.parametrize(("url_name", "method"), RECORD_VIEWS)
def test_record_views_send_anonymous_to_login(
    client: Client, learner_user: User, url_name: str, method: str
) -> None:
    url = reverse(url_name, args=[learner_user.pk])
    response = client.get(url) if method == "get" else client.post(url, {})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_role_change_is_super_admin_only(
    client_as: Callable[[User | None], Client],
    sales_admin: User,
    support_user: User,
    learner_user: User,
) -> None:
    url = reverse("users:change_role", args=[learner_user.pk])
    assert client_as(sales_admin).post(url, {"roles": ["Super admin"]}).status_code == 403
    assert client_as(support_user).post(url, {"roles": ["Super admin"]}).status_code == 403
    assert list(learner_user.groups.values_list("name", flat=True)) == ["Learner"]


def test_users_list_per_role(
    client_as: Callable[[User | None], Client],
    admin_user: User,
    sales_admin: User,
    support_user: User,
    learner_user: User,
    outsider: User,
) -> None:
    url = reverse("users:list")
    assert client_as(admin_user).get(url).status_code == 200
    assert client_as(support_user).get(url).status_code == 200
    response = client_as(sales_admin).get(url)
    assert response.status_code == 200
    shown = set(response.context["users"])
    assert learner_user in shown and outsider not in shown
    assert client_as(learner_user).get(url).status_code == 403


def test_users_list_sends_anonymous_to_login(client: Client) -> None:
    response = client.get(reverse("users:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url_name", [*ORG_VIEWS, "users:bulk"])
def test_learners_get_403_and_anonymous_login(
    client_as: Callable[[User | None], Client], learner_user: User, url_name: str
) -> None:
    url = reverse(url_name)
    assert client_as(None).get(url).status_code == 302
    assert client_as(learner_user).get(url).status_code == 403


@pytest.mark.parametrize("url_name", ORG_VIEWS)
def test_organisation_pages_are_super_admin_only(
    client_as: Callable[[User | None], Client],
    admin_user: User,
    sales_admin: User,
    support_user: User,
    url_name: str,
) -> None:
    url = reverse(url_name)
    assert client_as(sales_admin).get(url).status_code == 403
    assert client_as(support_user).get(url).status_code == 403
    assert client_as(admin_user).get(url).status_code == 200


def test_department_edit_is_super_admin_only(
    client_as: Callable[[User | None], Client],
    admin_user: User,
    sales_admin: User,
    org: dict[str, Department],
) -> None:
    url = reverse("users:department_edit", args=[org["sales"].pk])
    assert client_as(sales_admin).post(url, {"name": "Hijacked"}).status_code == 403
    org["sales"].refresh_from_db()
    assert org["sales"].name == "Sales Department"
    assert client_as(admin_user).get(url).status_code == 200


def test_profile_is_for_any_logged_in_user(
    client_as: Callable[[User | None], Client], learner_user: User
) -> None:
    url = reverse("users:profile")
    assert client_as(None).get(url).status_code == 302
    assert client_as(learner_user).get(url).status_code == 200
