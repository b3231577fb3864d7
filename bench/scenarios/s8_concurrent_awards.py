"""Scenario 8: fifty concurrent clients send 10,000 mixed awards and deductions to one user,
each through the service (`points_award` / `points_deduct`), from separate processes with
their own database connections, started together. Afterwards the balance must equal the
ledger sum, every operation must appear exactly once, and no deduction may have been lost."""

from __future__ import annotations

import multiprocessing
import random
import time
from typing import Any

from bench.core import Result
from bench.scenarios.common import require_callable

ID = "8"
TITLE = "50 clients, 10,000 awards and deductions to one user"
TARGET = ">= 500 operations/s, balance = ledger sum, no duplicates"
CLIENTS = 50
OPERATIONS = 10_000
OPERATIONS_QUICK = 1_000
START_BALANCE = 100_000


def _client(
    number: int,
    count: int,
    user_id: int,
    actor_id: int,
    run_tag: str,
    seed: int,
    barrier: Any,
    results: Any,
) -> None:
    """One client process: `count` operations on the user, in order; puts (awards,
    deductions, refusals) on `results`."""
    from django.core.exceptions import ValidationError
    from django.db import connections

    from achievements.services import points_award, points_deduct
    from users.models import User

    connections.close_all()
    user = User.objects.get(pk=user_id)
    actor = User.objects.get(pk=actor_id)
    rng = random.Random(seed * 1000 + number)
    awards = deductions = refused = 0
    barrier.wait()
    for op in range(count):
        reason = f"{run_tag} c{number} op{op}"
        amount = rng.randint(1, 50)
        if rng.random() < 0.7:
            points_award(user=user, amount=amount, reason=reason, actor=actor)
            awards += 1
        else:
            try:
                points_deduct(user=user, amount=amount, reason=reason, actor=actor)
                deductions += 1
            except ValidationError:
                refused += 1
    connections.close_all()
    results.put((awards, deductions, refused))


def run(ctx: Any) -> list[Result]:
    require_callable("achievements.services.points_deduct")
    from django.db import connections
    from django.db.models import Count, Sum

    from achievements.models import PointsBalance, PointsEntry
    from achievements.services import points_award
    from users.models import User

    target = User.objects.filter(username__startswith="load-").order_by("pk").last()
    points_award(user=target, amount=START_BALANCE, reason="Bench starting balance", actor=None)
    total = OPERATIONS_QUICK if ctx.quick else OPERATIONS
    per_client = total // CLIENTS
    run_tag = f"bench8-{time.time_ns()}"
    connections.close_all()  # forked children must not share this process's connection
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(CLIENTS + 1)
    queue = context.Queue()
    clients = [
        context.Process(
            target=_client,
            args=(n, per_client, target.pk, ctx.admin.pk, run_tag, ctx.seed, barrier, queue),
        )
        for n in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    try:
        barrier.wait(timeout=120)
        started = time.perf_counter()
        outcomes = [queue.get(timeout=1800) for _ in clients]
        elapsed = time.perf_counter() - started
    finally:
        for client in clients:
            client.join(timeout=60)
            if client.is_alive():
                client.terminate()
    awards = sum(o[0] for o in outcomes)
    deductions = sum(o[1] for o in outcomes)
    refused = sum(o[2] for o in outcomes)
    entries = PointsEntry.objects.filter(user=target, reason__startswith=run_tag)
    stored = entries.count()
    distinct = entries.aggregate(n=Count("reason", distinct=True))["n"]
    ledger_sum = PointsEntry.objects.filter(user=target).aggregate(s=Sum("amount"))["s"]
    balance = PointsBalance.objects.get(user=target).points
    consistent = balance == ledger_sum and stored == distinct == awards + deductions
    result = Result(
        scenario=ID,
        name=f"{CLIENTS} clients, {per_client * CLIENTS:,} awards/deductions to one user",
        measured="end to end: 50 processes calling the services",
        samples=[elapsed],
        target=TARGET,
        items=per_client * CLIENTS,
        extra={
            "awards": awards,
            "deductions": deductions,
            "refused": refused,
            "entries_stored": stored,
            "distinct_operations": distinct,
            "balance": balance,
            "ledger_sum": ledger_sum,
        },
    )
    rate = result.rate or 0.0
    result.passed = consistent and rate >= 500
    if rate < 500:
        result.extra["miss_by"] = f"{500 / rate:.1f}x too slow" if rate else "no rate"
    if not consistent:
        result.extra["miss_by"] = "INCONSISTENT: " + str(result.extra.get("miss_by", ""))
    result.note = (
        f"{rate:,.0f} ops/s; balance {balance:,} "
        f"{'=' if balance == ledger_sum else '!='} ledger sum {ledger_sum:,}; "
        f"{stored:,} entries for {awards + deductions:,} operations ({refused} refused)"
    )
    return [result]
