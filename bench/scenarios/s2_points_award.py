"""Scenario 2: 200 points to 10,000 users."""

from __future__ import annotations

from typing import Any

from bench.core import Result, Skip
from bench.scenarios.common import require_callable

ID = "2"
TITLE = "200 points to 10,000 users"
TARGET = "< 2 s end to end"


def run(ctx: Any) -> list[Result]:
    require_callable("achievements.services.points_award_bulk")
    raise Skip("scenario not written yet")
