"""Scenario 4: the users list at scale. Search "smi" plus a department filter, page 1 and page
400, through the Django test client logged in as a super admin; the query count must be the
same as on the 100-user database (no N+1, no per-row queries).

A search's ordered ids and count are kept in the cache for 30 s (`users.selectors.
user_list_page`), so the page is measured twice: paging through a search (what an admin does
after the first page) and the first visit of a search (with MERIT_USERS_LIST_COUNT_SECONDS=0,
the product's own setting for keeping nothing, so every request numbers and counts the search
as a first visit does; the bench needs no product helper to find the cache entry). The
selector's own SQL is timed too, to show where the page's time goes."""

from __future__ import annotations

from typing import Any

from bench.core import Result, query_count, timed
from bench.scenarios.common import get_ok, logged_in_client, require_callable, require_view

ID = "4"
TITLE = "Users list: search + department"
TARGET = "p95 < 100 ms, same queries as at 100 users"
SEARCH = "smi"
DEPARTMENT = "Sales"  # the division that holds 60% of the generated people
PER_PAGE = 25


def _department() -> Any:
    from users.models import Department

    return Department.objects.get(name=DEPARTMENT, parent__name="Load Company")


def _params(page: int) -> dict[str, Any]:
    return {"q": SEARCH, "department": _department().pk, "page": page}


def _matches(ctx: Any) -> int:
    user_list = require_callable("users.selectors.user_list")
    return int(user_list(actor=ctx.admin, search=SEARCH, department=_department()).count())


def _pages(ctx: Any) -> dict[str, int]:
    """Page 1 and page 400, or the last page when there are fewer (quick mode, 100 users).
    (The test client records no template context outside the test runner, so the number of
    matches comes from the selector.)"""
    last = max(1, -(-_matches(ctx) // PER_PAGE))
    return {"page 1": 1, "page 400": min(400, last)}


def _nothing_kept() -> Any:
    """Every request is a search's first visit: the users list keeps no snapshot."""
    from django.test import override_settings

    return override_settings(MERIT_USERS_LIST_COUNT_SECONDS=0)


def _counts(ctx: Any) -> dict[str, int]:
    """Queries of each page on its first visit (nothing kept in the cache), so that the
    100-user and the 100,000-user databases are compared in the same state."""
    url = require_view("users:list")
    client = logged_in_client(ctx.admin)
    pages = _pages(ctx)
    with _nothing_kept():
        return {
            label: query_count(lambda p=page: get_ok(client, url, _params(p)))
            for label, page in pages.items()
        }


def prepare_small(ctx: Any) -> dict[str, Any]:
    return {"queries": _counts(ctx)}


def _selector_results(ctx: Any) -> list[Result]:
    from django.db.models import Count, Window

    user_list = require_callable("users.selectors.user_list")
    department = _department()
    users = user_list(actor=ctx.admin, search=SEARCH, department=department)

    def snapshot() -> list[Any]:
        return list(users.annotate(total=Window(Count("pk"))).values_list("pk", "total")[:20_000])

    return [
        Result(
            scenario=ID,
            name="First visit: the search's ordered ids to page 400 and count (one query)",
            measured="selector SQL",
            samples=timed(snapshot, runs=ctx.read_runs, warmup=1),
            target="(part of the page)",
        )
    ]


def _first_visit(ctx: Any, client: Any, url: str, label: str, page: int) -> Result:
    """The page with nothing kept in the cache between requests."""
    params = _params(page)
    with _nothing_kept():
        samples = timed(lambda: get_ok(client, url, params), runs=ctx.read_runs, warmup=2)
    result = Result(
        scenario=ID,
        name=f"Users list, search '{SEARCH}' + department, {label}, first visit of the search",
        measured="page (test client), nothing kept in the cache",
        samples=samples,
        target="p95 < 100 ms",
        target_s=0.100,
    )
    result.judge()
    return result


def run(ctx: Any) -> list[Result]:
    url = require_view("users:list")
    client = logged_in_client(ctx.admin)
    counts = _counts(ctx)
    small = ctx.small.get(ID, {}).get("queries", {})
    pages = _pages(ctx)
    results = []
    for label, page in pages.items():
        params = _params(page)
        samples = timed(lambda p=params: get_ok(client, url, p), runs=ctx.read_runs, warmup=2)
        same = small.get(label) == counts[label]
        result = Result(
            scenario=ID,
            name=f"Users list, search '{SEARCH}' + department, {label}"
            + ("" if f"page {page}" == label else f" (last page is {page})"),
            measured="page (test client), paging a search",
            samples=samples,
            target=TARGET,
            target_s=0.100,
            extra={
                "queries": counts[label],
                "queries_at_100_users": small.get(label),
                "matches": _matches(ctx),
            },
        )
        result.judge()
        if not same:
            result.passed = False
        result.note = (
            f"{counts[label]} queries ({small.get(label)} at 100 users)"
            f"{'' if same else ': the query count grows with the data'}"
        )
        results.append(result)
    for label, page in pages.items():
        results.append(_first_visit(ctx, client, url, label, page))
    results.extend(_selector_results(ctx))
    results.append(_selective_search(ctx, client, url))
    return results


def _selective_search(ctx: Any, client: Any, url: str) -> Result:
    """A search that matches one person (part of an e-mail address): the trigram index on the
    stored search column (users/migrations/0003) answers it without reading the whole table."""
    from users.models import User

    person = User.objects.filter(username__startswith="load-").order_by("pk")[4710:4711].get()
    term = person.email.split("@")[0][-12:]
    params = {"q": term}
    return Result(
        scenario=ID,
        name=f"Users list, selective search '{term}', page 1",
        measured="page (test client)",
        samples=timed(lambda: get_ok(client, url, params), runs=ctx.read_runs, warmup=2),
        target="p95 < 100 ms",
        target_s=0.100,
    )
