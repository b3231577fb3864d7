"""A selection of users kept on the server for another app's bulk page (`UserSelection`):
only its creator can read it, for a day."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.http import QueryDict
from django.utils import timezone

from users.models import User, UserSelection
from users.selectors import selected_user_ids, user_selection_ids
from users.services import user_selection_create
from users.tests.factories import super_admin

pytestmark = pytest.mark.django_db


def _query(**fields: Any) -> QueryDict:
    query = QueryDict(mutable=True)
    for name, value in fields.items():
        query.setlist(name, [str(v) for v in value] if isinstance(value, list) else [str(value)])
    return query


def test_a_selection_is_read_back_by_its_creator(admin_user: User) -> None:
    selection = user_selection_create(actor=admin_user, user_ids=[5, 3, 5, 9])
    assert selection.user_ids == [5, 3, 9]
    assert selected_user_ids(actor=admin_user, source=_query(selection=selection.token)) == [
        5,
        3,
        9,
    ]


def test_another_admins_selection_selects_nobody(admin_user: User) -> None:
    selection = user_selection_create(actor=admin_user, user_ids=[5, 3])
    other = super_admin(username="other-admin")
    assert selected_user_ids(actor=other, source=_query(selection=selection.token)) == []


def test_an_unknown_selection_selects_nobody_even_with_user_ids(admin_user: User) -> None:
    source = _query(selection="not-a-token", user_ids=[5, 3])
    assert selected_user_ids(actor=admin_user, source=source) == []


def test_without_a_selection_the_user_ids_are_read(admin_user: User) -> None:
    source = _query(user_ids=["5", "x", "3"])
    assert selected_user_ids(actor=admin_user, source=source) == [5, 3]


def test_a_selection_older_than_a_day_selects_nobody(admin_user: User) -> None:
    selection = user_selection_create(actor=admin_user, user_ids=[5])
    UserSelection.objects.filter(pk=selection.pk).update(
        created_at=timezone.now() - timedelta(days=1, minutes=1)
    )
    assert user_selection_ids(actor=admin_user, token=selection.token) == []


def test_making_a_selection_deletes_those_older_than_a_day(admin_user: User) -> None:
    old = user_selection_create(actor=admin_user, user_ids=[5])
    recent = user_selection_create(actor=admin_user, user_ids=[6])
    UserSelection.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=1, minutes=1)
    )
    UserSelection.objects.filter(pk=recent.pk).update(
        created_at=timezone.now() - timedelta(hours=23)
    )
    newest = user_selection_create(actor=admin_user, user_ids=[7])
    assert set(UserSelection.objects.values_list("pk", flat=True)) == {recent.pk, newest.pk}


def test_selection_tokens_are_long_and_distinct(admin_user: User) -> None:
    tokens = {user_selection_create(actor=admin_user, user_ids=[1]).token for _ in range(20)}
    assert len(tokens) == 20 and all(len(token) >= 22 for token in tokens)


def test_a_selection_goes_with_the_admin_who_made_it(admin_user: User) -> None:
    user_selection_create(actor=admin_user, user_ids=[1])
    admin_user.delete()
    assert not UserSelection.objects.exists()
