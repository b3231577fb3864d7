"""Scenario 5: every tab of the admin's user record for a learner with 10,000 ledger entries
and 200 course enrollments (`bench-heavy`), through the test client as a super admin."""

from __future__ import annotations

from typing import Any

from bench.core import Result, Skip, query_count, timed
from bench.scenarios.common import get_ok, logged_in_client

ID = "5"
TITLE = "User record tabs"
TARGET = "each tab < 50 ms (p95)"


def _tabs(heavy: Any) -> list[tuple[str, str]]:
    from django.urls import NoReverseMatch, reverse

    from users.record_tabs import RECORD_TABS

    tabs = []
    for key, label, url_name in RECORD_TABS:
        try:
            tabs.append((label, reverse(url_name, args=[heavy.pk])))
        except NoReverseMatch:
            continue
        del key
    return tabs


def _heavy() -> Any:
    from bench.generate import HEAVY_USERNAME
    from users.models import User

    heavy = User.objects.filter(username=HEAVY_USERNAME).first()
    if heavy is None:
        raise Skip("the heavy learner was not generated")
    return heavy


def prepare_small(ctx: Any) -> dict[str, Any]:
    heavy = _heavy()
    client = logged_in_client(ctx.admin)
    return {label: query_count(lambda u=url: get_ok(client, u)) for label, url in _tabs(heavy)}


def run(ctx: Any) -> list[Result]:
    from django.db.models import Count

    heavy = _heavy()
    tabs = _tabs(heavy)
    if not tabs:
        raise Skip("no record tab exists yet")
    client = logged_in_client(ctx.admin)
    sizes: dict[str, Any] = {}
    for relation in ("points_entries", "enrollments"):
        if hasattr(heavy, relation):
            sizes[relation] = getattr(heavy, relation).aggregate(n=Count("pk"))["n"]
    small = ctx.small.get(ID, {})
    results = []
    for label, url in tabs:
        try:
            queries = query_count(lambda u=url: get_ok(client, u))
        except Exception as exc:  # noqa: BLE001 - one broken tab must not hide the others
            results.append(
                Result(
                    scenario=ID,
                    name=f"Tab '{label}'",
                    measured="page (test client)",
                    target="p95 < 50 ms",
                    extra={"url": url, "error": f"{type(exc).__name__}: {str(exc)[:300]}"},
                    note=f"{type(exc).__name__}: {str(exc)[:200]}",
                )
            )
            continue
        result = Result(
            scenario=ID,
            name=f"Tab '{label}'",
            measured="page (test client)",
            samples=timed(lambda u=url: get_ok(client, u), runs=ctx.read_runs, warmup=2),
            target="p95 < 50 ms",
            target_s=0.050,
            extra={"url": url, "queries": queries, "queries_small_db": small.get(label), **sizes},
            note=f"{queries} queries",
        )
        results.append(result)
    return results
