"""Scenario 5: User record tabs (10,000 entries, 200 enrollments)."""

from __future__ import annotations

from typing import Any

from bench.core import Result, Skip
from bench.scenarios.common import require_callable

ID = "5"
TITLE = "User record tabs (10,000 entries, 200 enrollments)"
TARGET = "each tab < 50 ms"


def run(ctx: Any) -> list[Result]:
    require_callable("achievements.models.LedgerEntry")
    raise Skip("scenario not written yet")
