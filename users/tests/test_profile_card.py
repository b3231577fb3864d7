"""The achievements card on the profile page renders in the position the gamification settings
name (header, side or main), once."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from achievements.models import GamificationSettings
from users.models import User

pytestmark = pytest.mark.django_db

CARD = 'data-testid="achievements-card"'


def _profile(user: User, position: str) -> str:
    GamificationSettings.objects.update_or_create(pk=1, defaults={"card_position": position})
    client = Client()
    client.force_login(user)
    html = client.get(reverse("users:profile")).content.decode()
    assert html.count(CARD) == 1
    return html


def _at(html: str, marker: str) -> int:
    assert marker in html, marker
    return html.index(marker)


def test_header_position_renders_the_card_above_the_profile(learner_user: User) -> None:
    html = _profile(learner_user, "header")
    assert _at(html, CARD) < _at(html, 'data-testid="profile-name"')
    assert 'data-position="header"' in html


def test_side_position_renders_the_card_under_the_profile_card(learner_user: User) -> None:
    html = _profile(learner_user, "side")
    assert _at(html, 'data-testid="profile-name"') < _at(html, CARD) < _at(html, 'class="col-lg-8"')


def test_main_position_renders_the_card_in_the_main_column(learner_user: User) -> None:
    html = _profile(learner_user, "main")
    assert _at(html, 'class="col-lg-8"') < _at(html, CARD) < _at(html, "Edit my profile")


def test_hidden_card_renders_in_no_position(learner_user: User) -> None:
    GamificationSettings.objects.update_or_create(pk=1, defaults={"card_visible": False})
    client = Client()
    client.force_login(learner_user)
    assert CARD not in client.get(reverse("users:profile")).content.decode()
