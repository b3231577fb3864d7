"""The users list's bulk bar forwards more than 100 users to another app's bulk page as one
server-side selection (`?selection=<token>`) instead of one `user_ids` field per user."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from users.models import Department, User, UserSelection
from users.tests.large_selection import LARGE_SELECTION, bulk_bar_forward, learners_bulk_create

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_bar_forwards_all_matching_users_over_100_as_one_selection(
    admin_user: User, org: dict[str, Department]
) -> None:
    ids = learners_bulk_create(LARGE_SELECTION, department=org["care"], prefix="care")
    location = bulk_bar_forward(_client(admin_user), "progress:bulk_enroll")
    path, _, query = location.partition("?")
    assert path == reverse("progress:bulk_enroll")
    fields = QueryDict(query)
    assert list(fields) == ["selection"] and len(location) < 100
    selection = UserSelection.objects.get(token=fields["selection"])
    assert selection.created_by == admin_user
    assert sorted(selection.user_ids) == sorted([*ids, admin_user.pk])


def test_the_bar_forwards_100_users_as_readable_user_ids(
    admin_user: User, org: dict[str, Department]
) -> None:
    learners_bulk_create(99, department=org["care"], prefix="care")  # and the admin: 100
    location = bulk_bar_forward(_client(admin_user), "achievements:bulk_points")
    assert len(QueryDict(location.partition("?")[2]).getlist("user_ids")) == 100
    assert not UserSelection.objects.exists()


def test_the_bar_forwards_101_users_as_a_selection(
    admin_user: User, org: dict[str, Department]
) -> None:
    learners_bulk_create(100, department=org["care"], prefix="care")
    location = bulk_bar_forward(_client(admin_user), "achievements:bulk_points")
    assert "selection=" in location and "user_ids" not in location
    assert len(UserSelection.objects.get().user_ids) == 101
