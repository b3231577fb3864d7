"""Friendly 403, 404 and 500 pages. 403 and 404 use the site's layout (navigation included);
the 500 page renders without a request or any context, since it is shown when something
already went wrong."""

from __future__ import annotations

import pytest
from django.template.loader import get_template
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from users.models import User

pytestmark = pytest.mark.django_db


def _client(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_403_page_says_what_happened_in_the_site_layout(learner_user: User) -> None:
    response = _client(learner_user).get(reverse("lms:job_list"))
    assert response.status_code == 403
    assert response.templates[0].name == "403.html"
    html = response.content.decode()
    assert "You don\u2019t have access to this page" in html
    assert 'class="navbar-nav me-auto"' in html  # the site's navigation, as on every page
    assert reverse("home") in html


def test_403_for_a_department_admin_on_a_super_admin_page(sales_admin: User) -> None:
    response = _client(sales_admin).get(reverse("achievements:settings"))
    assert (
        response.status_code == 403 and "You don\u2019t have access to this page" in response.text
    )


def test_404_page_says_what_happened_in_the_site_layout(learner_user: User) -> None:
    response = _client(learner_user).get("/no-such-page/")
    assert response.status_code == 404
    assert response.templates[0].name == "404.html"
    html = response.content.decode()
    assert "Page not found" in html and 'class="navbar-nav me-auto"' in html


def test_404_page_for_a_visitor_who_is_not_logged_in() -> None:
    response = _client().get("/no-such-page/")
    assert response.status_code == 404 and "Page not found" in response.text
    assert "navbar-nav" not in response.text


def test_500_page_renders_without_a_request_or_context() -> None:
    html = get_template("500.html").render()
    assert "Something went wrong" in html
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
