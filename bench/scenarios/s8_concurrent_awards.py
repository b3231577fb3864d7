"""Scenario 8: 50 clients, 10,000 awards/deductions to one user."""

from __future__ import annotations

from typing import Any

from bench.core import Result, Skip
from bench.scenarios.common import require_callable

ID = "8"
TITLE = "50 clients, 10,000 awards/deductions to one user"
TARGET = ">= 500 ops/s, balance = ledger sum"


def run(ctx: Any) -> list[Result]:
    require_callable("achievements.services.points_award")
    raise Skip("scenario not written yet")
