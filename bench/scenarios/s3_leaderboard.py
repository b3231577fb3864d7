"""Scenario 3: the leaderboard at `--users` people and `--ledger` entries. Server-side time
through the selectors (one user's rank, the top 50; all time, this month, one department
subtree) and the leaderboard page through the test client."""

from __future__ import annotations

import random
from typing import Any

from bench.core import Result, timed
from bench.scenarios.common import get_ok, logged_in_client, require_callable, require_view

ID = "3"
TITLE = "Leaderboard"
TARGET = "rank < 10 ms; top 50 < 20 ms; month < 50 ms; department < 20 ms (p95)"
DEPARTMENT = "Sales"


def _someone(ctx: Any) -> Any:
    """A reproducible active learner with points (the seed picks one of the first 5,000)."""
    from achievements.models import PointsBalance
    from users.models import User

    ids = list(
        PointsBalance.objects.filter(
            is_active=True, points__gt=0, user__username__startswith="load-"
        )
        .order_by("user_id")
        .values_list("user_id", flat=True)[:5000]
    )
    return User.objects.get(pk=random.Random(ctx.seed).choice(ids))


def run(ctx: Any) -> list[Result]:
    rank = require_callable("achievements.selectors.leaderboard_rank")
    top = require_callable("achievements.selectors.leaderboard_top")
    from users.models import Department

    user = _someone(ctx)
    department = Department.objects.get(name=DEPARTMENT, parent__name="Load Company")
    cases = [
        ("Rank of one user, all time", lambda: rank(user=user), 0.010),
        ("Top 50, all time", lambda: top(limit=50), 0.020),
        ("Rank of one user, this month", lambda: rank(user=user, period="month"), 0.050),
        ("Top 50, this month", lambda: top(limit=50, period="month"), 0.050),
        (
            f"Rank of one user, department '{DEPARTMENT}' (60% of people)",
            lambda: rank(user=user, department=department),
            0.020,
        ),
        (
            f"Top 50, department '{DEPARTMENT}'",
            lambda: top(limit=50, department=department),
            0.020,
        ),
    ]
    results = []
    for name, call, limit in cases:
        result = Result(
            scenario=ID,
            name=name,
            measured="selector",
            samples=timed(call, runs=ctx.read_runs, warmup=2),
            target=f"p95 < {limit * 1000:.0f} ms",
            target_s=limit,
        )
        results.append(result)
    results[0].extra["user_rank"] = rank(user=user)
    try:
        url = require_view("achievements:leaderboard")
    except Exception:  # noqa: BLE001 - the page is optional; the selectors are the figures
        return results
    client = logged_in_client(user)
    for name, params in (
        ("Leaderboard page, all time", {}),
        ("Leaderboard page, this month", {"period": "month"}),
        (f"Leaderboard page, department '{DEPARTMENT}'", {"department": department.pk}),
    ):
        results.append(
            Result(
                scenario=ID,
                name=name,
                measured="page (test client), as the learner",
                samples=timed(
                    lambda p=params: get_ok(client, url, p), runs=ctx.read_runs, warmup=2
                ),
                target="(page: selector + render)",
            )
        )
    return results
