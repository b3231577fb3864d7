"""The top navigation: each role sees only the links it may open, and the link of the section
the page belongs to is highlighted."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from users.models import User

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _nav(html: str) -> list[tuple[str, bool]]:
    """(href, highlighted) of each link in the main navigation."""
    menu = html.split('<ul class="navbar-nav me-auto">', 1)[1].split("</ul>", 1)[0]
    return [
        (href, "active" in classes.split())
        for classes, href in re.findall(r'<a class="([^"]*)" href="([^"]+)"', menu)
    ]


ADMIN_LINKS = {
    reverse("users:list"),
    reverse("progress:course_list"),
    reverse("certifications:list"),
    reverse("lms:job_list"),
}
LEARNER_LINKS = {
    reverse("progress:my_courses"),
    reverse("achievements:my_achievements"),
    reverse("certifications:my_certificates"),
    reverse("users:profile"),
}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (
            "admin_user",
            ADMIN_LINKS | {reverse("achievements:settings"), reverse("payments:report")},
        ),
        ("sales_admin", ADMIN_LINKS | {reverse("payments:report")}),
        ("support_user", ADMIN_LINKS),
        ("learner_user", LEARNER_LINKS),
    ],
)
def test_each_role_sees_exactly_the_links_it_may_open(
    role: str, expected: set[str], request: pytest.FixtureRequest
) -> None:
    client = _client(request.getfixturevalue(role))
    links = {href for href, _ in _nav(client.get(reverse("users:profile")).text)}
    assert links == expected
    for href in links:
        assert client.get(href).status_code == 200, href


def test_admins_who_may_not_open_gamification_get_403_there(
    sales_admin: User, support_user: User
) -> None:
    for user in (sales_admin, support_user):
        assert _client(user).get(reverse("achievements:settings")).status_code == 403


def test_a_dual_role_admin_in_the_learner_view_sees_the_learner_links(admin_user: User) -> None:
    client = _client(admin_user)
    client.post(reverse("view_mode"), {"mode": "learner"})
    assert {href for href, _ in _nav(client.get(reverse("users:profile")).text)} == LEARNER_LINKS


@pytest.mark.parametrize(
    "url_name",
    [
        "progress:user_progress",
        "progress:user_access",
        "progress:user_activity",
        "progress:user_engagement",
        "progress:user_transcript",
        "achievements:user_tab",
        "certifications:user_tab",
        "users:events",
        "payments:user_tab",
    ],
)
def test_a_users_record_tabs_highlight_users(
    url_name: str, admin_user: User, learner_user: User
) -> None:
    response = _client(admin_user).get(reverse(url_name, args=[learner_user.pk]))
    assert response.status_code == 200
    assert [href for href, active in _nav(response.text) if active] == [reverse("users:list")]


@pytest.mark.parametrize(
    ("url_name", "highlighted"),
    [
        ("progress:course_list", "progress:course_list"),
        ("certifications:list", "certifications:list"),
        ("achievements:settings", "achievements:settings"),
        ("lms:job_list", "lms:job_list"),
        ("users:list", "users:list"),
        ("payments:report", "payments:report"),
    ],
)
def test_admin_sections_highlight_their_own_link(
    url_name: str, highlighted: str, admin_user: User
) -> None:
    html = _client(admin_user).get(reverse(url_name)).text
    assert [href for href, active in _nav(html) if active] == [reverse(highlighted)]


@pytest.mark.parametrize(
    ("url_name", "highlighted"),
    [
        ("progress:my_courses", "progress:my_courses"),
        ("achievements:my_achievements", "achievements:my_achievements"),
        ("certifications:my_certificates", "certifications:my_certificates"),
        ("users:profile", "users:profile"),
        ("payments:mine", "users:profile"),
    ],
)
def test_learner_sections_highlight_their_own_link(
    url_name: str, highlighted: str, learner_user: User
) -> None:
    html = _client(learner_user).get(reverse(url_name)).text
    assert [href for href, active in _nav(html) if active] == [reverse(highlighted)]


def test_the_learner_menu_has_no_achievements_while_gamification_is_off(
    learner_user: User,
) -> None:
    from achievements.models import GamificationSettings

    achievements = reverse("achievements:my_achievements")
    on = {href for href, _ in _nav(_client(learner_user).get(reverse("users:profile")).text)}
    assert achievements in on
    GamificationSettings.objects.update_or_create(pk=1, defaults={"enabled": False})
    off = {href for href, _ in _nav(_client(learner_user).get(reverse("users:profile")).text)}
    assert off == on - {achievements}
