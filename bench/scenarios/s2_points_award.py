"""Scenario 2: award 200 points to 10,000 selected users, end to end (selection, the bulk
action's background job on the real worker), then prove the ledger and the balances exact.
Compared with COPY of the same 10,000 ledger rows and with the naive way (one
`points_award()` call, one save and one transaction, per user, timed on a sample)."""

from __future__ import annotations

import time
from typing import Any

from bench.core import Result, copy_rows_seconds
from bench.scenarios.common import job_run_and_wait, load_user_ids, require_callable

ID = "2"
TITLE = "200 points to 10,000 users"
TARGET = "< 2 s end to end, ledger and balances exact"
SELECTED = 10_000
AMOUNT = 200


def _balances(user_ids: list[int]) -> dict[int, int]:
    from achievements.models import PointsBalance

    return dict(PointsBalance.objects.filter(user_id__in=user_ids).values_list("user_id", "points"))


def _ledger_sums(user_ids: list[int]) -> dict[int, int]:
    from django.db.models import Sum

    from achievements.models import PointsEntry

    return dict(
        PointsEntry.objects.filter(user_id__in=user_ids)
        .order_by()
        .values("user_id")
        .annotate(total=Sum("amount"))
        .values_list("user_id", "total")
    )


def _copy_seconds(user_ids: list[int]) -> float:
    from django.utils import timezone

    now = timezone.now()
    rows = ((pk, AMOUNT, "Bench COPY", now, "manual") for pk in user_ids)
    return copy_rows_seconds(
        "achievements.PointsEntry", ["user_id", "amount", "reason", "awarded_at", "source"], rows
    )


def _naive_seconds_per_user(ctx: Any, user_ids: list[int]) -> float:
    from achievements.services import points_award
    from users.models import User

    people = list(User.objects.filter(pk__in=user_ids))
    started = time.perf_counter()
    for person in people:
        points_award(user=person, amount=AMOUNT, reason="Bench naive", actor=ctx.admin)
    return (time.perf_counter() - started) / len(people)


def run(ctx: Any) -> list[Result]:
    require_callable("achievements.jobs.points_chunk")
    from achievements.models import PointsEntry
    from users.selectors import users_resolve_selection

    wanted = load_user_ids(SELECTED)
    samples, checks = [], []
    for number in range(ctx.write_runs):
        before = _balances(wanted)
        reason = f"Bench award run {number} {time.time_ns()}"
        started = time.perf_counter()
        ids = list(
            users_resolve_selection(actor=ctx.admin, user_ids=wanted).values_list("pk", flat=True)
        )
        _, job = job_run_and_wait(
            kind="achievements.points",
            label=f"Award {AMOUNT} points",
            item_ids=ids,
            actor=ctx.admin,
            params={"direction": "award", "amount": AMOUNT, "reason": reason},
        )
        samples.append(time.perf_counter() - started)
        after = _balances(ids)
        new_entries = PointsEntry.objects.filter(reason=reason)
        exact = (
            new_entries.count() == len(ids)
            and new_entries.values("user_id").distinct().count() == len(ids)
            and all(after[pk] - before.get(pk, 0) == AMOUNT for pk in ids)
            and _ledger_sums(ids) == after
        )
        checks.append({"users": len(ids), "job_done": job.done, "exact": exact})
    copy_s = _copy_seconds(wanted)
    sample = 100 if ctx.quick else 1000
    naive_per_user = _naive_seconds_per_user(ctx, wanted[-sample:])
    result = Result(
        scenario=ID,
        name=f"Award {AMOUNT} points to {len(wanted):,} selected users",
        measured="end to end: selection + job on the worker",
        samples=samples,
        target=TARGET,
        target_s=2.0,
        items=len(wanted),
        extra={
            "checks": checks,
            "copy_s": round(copy_s, 3),
            "naive_s_per_user": round(naive_per_user, 5),
            "naive_sample_users": sample,
        },
    )
    result.judge()
    all_exact = all(check["exact"] for check in checks)
    if not all_exact:
        result.passed = False
    median = result.median or 0.0
    result.ratio_copy = median / copy_s if copy_s else None
    result.ratio_naive = naive_per_user * len(wanted) / median if median else None
    result.note = (
        f"ledger and balances {'exact' if all_exact else 'NOT exact'} after every run; COPY of "
        f"the ledger rows {copy_s:.2f} s; naive {naive_per_user * 1000:.1f} ms/user "
        f"({sample}-user sample of points_award())"
    )
    return [result]
