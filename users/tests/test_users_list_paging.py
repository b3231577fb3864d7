"""The users list's paging and search over many people: the page counts its matches in the
same query that numbers them (no separate COUNT(*)), sorts only ids, and searches one
expression per term."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from users.models import Department, User
from users.roles import Role
from users.selectors import user_list, user_list_page
from users.tests.factories import UserFactory, UserGroupFactory

pytestmark = pytest.mark.django_db


def _people(count: int, **kwargs: Any) -> list[User]:
    """`count` learners named Smith 00, Smith 01, ... (so the name order is known)."""
    return [
        UserFactory(
            first_name="Pat", last_name=f"Smith {n:02d}", username=f"smith{n:02d}", **kwargs
        )
        for n in range(count)
    ]


def test_a_later_page_shows_its_rows_and_the_exact_total(
    client: Client, admin_user: User, org: dict[str, Department]
) -> None:
    people = _people(30, departments=[org["active_sales"]])
    client.force_login(admin_user)
    response = client.get(
        reverse("users:list"), {"q": "smith", "department": org["sales"].pk, "page": 2}
    )
    assert list(response.context["users"]) == people[25:]
    assert response.context["paginator"].count == 30
    assert "Total: 30" in response.text
    assert "26-30 of 30" in response.text
    assert "Apply to all 30 matching users" in response.text


def test_a_page_past_the_end_is_not_found(client: Client, admin_user: User) -> None:
    _people(3)
    client.force_login(admin_user)
    assert client.get(reverse("users:list"), {"q": "smith", "page": 2}).status_code == 404
    assert client.get(reverse("users:list"), {"q": "smith", "page": "x"}).status_code == 404


def test_page_last_and_an_empty_result(client: Client, admin_user: User) -> None:
    people = _people(27)
    client.force_login(admin_user)
    last = client.get(reverse("users:list"), {"q": "smith", "page": "last"})
    assert list(last.context["users"]) == people[25:]
    empty = client.get(reverse("users:list"), {"q": "nobody-matches-this"})
    assert empty.status_code == 200
    assert list(empty.context["users"]) == []
    assert "Total: 0" in empty.text


def test_paging_follows_the_chosen_sort(client: Client, admin_user: User) -> None:
    people = _people(30)
    client.force_login(admin_user)
    page = client.get(reverse("users:list"), {"q": "smith", "sort": "-name", "page": 2})
    assert list(page.context["users"]) == list(reversed(people))[25:]


def test_the_page_runs_no_separate_count_query(client: Client, admin_user: User) -> None:
    _people(30)
    client.force_login(admin_user)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("users:list"), {"q": "smith", "page": 2})
    counts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(")]
    assert counts == []


@pytest.mark.parametrize("page", [1, 2])
@pytest.mark.parametrize("people", [50, 75])
def test_search_and_department_pages_cost_the_same_queries(
    client: Client,
    admin_user: User,
    org: dict[str, Department],
    django_assert_num_queries: Any,
    page: int,
    people: int,
) -> None:
    _people(people, departments=[org["active_sales"]])
    client.force_login(admin_user)
    client.get(reverse("users:list"))  # warm the session and content-type caches
    with django_assert_num_queries(12):
        response = client.get(
            reverse("users:list"), {"q": "smi", "department": org["sales"].pk, "page": page}
        )
    assert len(response.context["users"]) == 25


def test_every_term_must_match_some_field(
    admin_user: User, learner_user: User, outsider: User
) -> None:
    def found(search: str) -> set[User]:
        return set(user_list(actor=admin_user, search=search))

    assert found("anna smith") == {learner_user}  # first name and last name
    assert found("SMITH anna@EXAMPLE") == {learner_user}  # any case, e-mail
    assert found("harry") == {outsider}  # username
    assert found("anna evans") == set()  # each term must match
    assert found("annasmith") == set()  # a term never spans two fields
    assert found("a%a") == set() and found("_nna") == set()  # wildcards are literal


def test_user_list_page_numbers_the_rows_in_the_lists_order(admin_user: User) -> None:
    people = _people(12, roles=[Role.LEARNER])
    users = user_list(actor=admin_user, search="smith", sort="-name")
    rows, total = user_list_page(users=users, offset=10, limit=5)
    assert rows == list(reversed(people))[10:]
    assert total == 12
    assert user_list_page(users=users, offset=12, limit=5) == ([], None)


def test_filter_selects_list_every_choice_and_keep_the_chosen_ones(
    client: Client, admin_user: User, org: dict[str, Department]
) -> None:
    group = UserGroupFactory(name="Mentors")
    client.force_login(admin_user)
    page = client.get(reverse("users:list"), {"department": org["sales"].pk, "group": group.pk})
    assert f'<option value="{org["sales"].pk}" selected>— Sales Department</option>' in page.text
    assert f'<option value="{org["hr"].pk}">— Human Resource</option>' in page.text
    assert f'<option value="{group.pk}" selected>Mentors</option>' in page.text
    assert '<option value="">All departments</option>' in page.text
    wrong = client.get(reverse("users:list"), {"department": 0})
    assert "Select a valid choice." in wrong.text


def test_search_sees_a_renamed_user_at_once(admin_user: User, learner_user: User) -> None:
    learner_user.last_name = "Goldsmith"
    learner_user.save()
    User.objects.filter(pk=learner_user.pk).update(email="anna.g@example.org")
    assert set(user_list(actor=admin_user, search="goldsmith anna.g@")) == {learner_user}
    assert set(user_list(actor=admin_user, search="smith anna@")) == set()


def test_later_pages_reuse_the_searchs_count_instead_of_counting_again(
    client: Client, admin_user: User
) -> None:
    """A broad search's count reads every match: the first page counts, the next pages of the
    same search fetch only their ids (while the count is cached)."""
    _people(30)
    client.force_login(admin_user)
    client.get(reverse("users:list"), {"q": "smith"})  # page 1 counts the 30 matches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("users:list"), {"q": "smith", "page": 2})
    assert not [q for q in queries.captured_queries if "OVER ()" in q["sql"]]
    assert response.context["paginator"].count == 30
    assert [u.last_name for u in response.context["users"]] == [
        f"Smith {n:02d}" for n in range(25, 30)
    ]


def test_a_cached_count_that_went_stale_is_counted_again(admin_user: User) -> None:
    people = _people(30)
    users = user_list(actor=admin_user, search="smith")
    assert user_list_page(users=users, offset=0, limit=25)[1] == 30  # cached: 30
    User.objects.filter(pk__in=[p.pk for p in people[20:]]).update(is_active=False)
    # page 2 of the cached 30 is empty now: the page counts again instead of showing nothing
    assert user_list_page(users=users, offset=25, limit=25) == ([], None)
    assert user_list_page(users=users, offset=0, limit=25)[1] == 20


def test_rows_on_a_page_are_current_even_while_the_searchs_ids_are_cached(
    admin_user: User,
) -> None:
    people = _people(30)
    users = user_list(actor=admin_user, search="smith")
    user_list_page(users=users, offset=0, limit=25)  # the search's ids are cached now
    User.objects.filter(pk=people[0].pk).update(is_active=False)
    User.objects.filter(pk=people[1].pk).update(
        last_name="Jones", username="jones01", email="jones01@example.com"
    )
    rows, _ = user_list_page(users=users, offset=0, limit=25)
    assert people[0] not in rows and people[1] not in rows
    assert rows == people[2:25]


def _a_port_nothing_listens_on() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_list_answers_from_the_database_when_the_cache_is_down(
    client: Client, admin_user: User
) -> None:
    """The cache's Redis is down (nothing listens on its port): the list still shows the
    search's page and its count, numbered from the database on every request."""
    from django.test import override_settings

    people = _people(30)
    client.force_login(admin_user)
    down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_a_port_nothing_listens_on()}/0",
        }
    }
    with override_settings(CACHES=down):
        first = client.get(reverse("users:list"), {"q": "smith"})
        with CaptureQueriesContext(connection) as queries:
            second = client.get(reverse("users:list"), {"q": "smith", "page": 2})
    assert first.status_code == 200 and second.status_code == 200
    assert list(second.context["users"]) == people[25:]
    assert second.context["paginator"].count == 30
    assert [q for q in queries.captured_queries if "OVER ()" in q["sql"]]  # counted again


def test_with_nothing_kept_every_page_counts_the_search_itself(
    client: Client, admin_user: User
) -> None:
    from django.test import override_settings

    _people(30)
    client.force_login(admin_user)
    with override_settings(MERIT_USERS_LIST_COUNT_SECONDS=0):
        client.get(reverse("users:list"), {"q": "smith"})
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("users:list"), {"q": "smith", "page": 2})
    assert [q for q in queries.captured_queries if "OVER ()" in q["sql"]]
    assert response.context["paginator"].count == 30
