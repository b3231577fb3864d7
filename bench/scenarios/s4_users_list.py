"""Scenario 4: the users list at scale. Search "smi" plus a department filter, page 1 and page
400, through the Django test client logged in as a super admin; the query count must be the
same as on the 100-user database (no N+1, no per-row queries)."""

from __future__ import annotations

from typing import Any

from bench.core import Result, query_count, timed
from bench.scenarios.common import get_ok, logged_in_client, require_view

ID = "4"
TITLE = "Users list: search + department"
TARGET = "p95 < 100 ms, same queries as at 100 users"
SEARCH = "smi"
DEPARTMENT = "Sales"  # the division that holds 60% of the generated people
PAGES = (1, 400)


def _params(page: int) -> dict[str, Any]:
    from users.models import Department

    department = Department.objects.get(name=DEPARTMENT, parent__name="Load Company")
    return {"q": SEARCH, "department": department.pk, "page": page}


def _counts(ctx: Any) -> dict[str, int]:
    url = require_view("users:list")
    client = logged_in_client(ctx.admin)
    get_ok(client, url, _params(1))  # warm the session and caches
    return {
        f"page {page}": query_count(lambda p=page: client.get(url, _params(p))) for page in PAGES
    }


def prepare_small(ctx: Any) -> dict[str, Any]:
    return {"queries": _counts(ctx)}


def run(ctx: Any) -> list[Result]:
    url = require_view("users:list")
    client = logged_in_client(ctx.admin)
    counts = _counts(ctx)
    small = ctx.small.get(ID, {}).get("queries", {})
    results = []
    for page in PAGES:
        params = _params(page)
        response = get_ok(client, url, params)
        page_obj = response.context.get("page_obj") if response.context else None
        samples = timed(lambda p=params: get_ok(client, url, p), runs=ctx.read_runs, warmup=2)
        label = f"page {page}"
        same = small.get(label) == counts[label]
        result = Result(
            scenario=ID,
            name=f"Users list, search '{SEARCH}' + department, page {page}",
            measured="page (test client)",
            samples=samples,
            target=TARGET,
            target_s=0.100,
            extra={
                "queries": counts[label],
                "queries_at_100_users": small.get(label),
                "page_number_served": getattr(page_obj, "number", None),
                "matches": getattr(getattr(page_obj, "paginator", None), "count", None),
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
    return results
