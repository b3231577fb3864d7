"""Scenario 3: Leaderboard rank and top 50."""

from __future__ import annotations

from typing import Any

from bench.core import Result, Skip
from bench.scenarios.common import require_callable

ID = "3"
TITLE = "Leaderboard rank and top 50"
TARGET = "rank p95 < 10 ms, top 50 < 20 ms"


def run(ctx: Any) -> list[Result]:
    require_callable("achievements.selectors.leaderboard_rank")
    raise Skip("scenario not written yet")
