"""Scenario 1: award a certification to every user of a department subtree (the whole load
organisation: `--users` people), from the service call to the background job's end, with the
real Celery worker. Compared in the same run with

- PostgreSQL COPY of the same award rows into the same table (indexes and constraints
  included, rolled back), the database's own limit;
- the naive way: one Celery task per user calling `certification_award` for that one user,
  timed on a sample and scaled to the same number of users."""

from __future__ import annotations

import secrets
import time
from typing import Any

from bench.core import Result, copy_rows_seconds, wait_until
from bench.scenarios.common import require_callable

ID = "1"
TITLE = "Certification to a whole subtree"
TARGET = ">= 10,000 users/s, <= 3x COPY, >= 20x naive"
ROOT = "Load Company"


def _certification(title: str) -> Any:
    from certifications.services import certification_create

    return certification_create(title=title, validity_days=365, actor=None)


def _subtree_user_ids(ctx: Any) -> list[int]:
    from users.models import Department
    from users.selectors import users_resolve_selection

    root = Department.objects.get(name=ROOT, parent=None)
    return list(
        users_resolve_selection(actor=ctx.admin, department_ids=[root.pk]).values_list(
            "pk", flat=True
        )
    )


def _award_job(ctx: Any, certification: Any, user_ids: list[int]) -> tuple[float, Any]:
    """Service call to the job's end, as an admin's click would go."""
    from django.utils import timezone

    from certifications.services import certification_award_start
    from lms.models import BackgroundJob

    started = time.perf_counter()
    result = certification_award_start(
        certification=certification,
        user_ids=user_ids,
        issued_on=timezone.localdate(),
        actor=ctx.admin,
        force_background=True,
    )
    job_id = result.job.pk
    wait_until(
        lambda: BackgroundJob.objects.filter(
            pk=job_id,
            status__in=[
                BackgroundJob.Status.SUCCEEDED,
                BackgroundJob.Status.PARTIAL,
                BackgroundJob.Status.FAILED,
            ],
        ).exists(),
        timeout=1800,
        interval=0.02,
    )
    elapsed = time.perf_counter() - started
    return elapsed, BackgroundJob.objects.get(pk=job_id)


def _copy_seconds(ctx: Any, user_ids: list[int]) -> float:
    from django.utils import timezone

    certification = _certification(f"Bench COPY {secrets.token_hex(4)}")
    today = timezone.localdate()
    rows = (
        (
            certification.pk,
            pk,
            today,
            today.replace(year=today.year + 1),
            "manual",
            secrets.token_urlsafe(16),
            True,
            "",
            "copy",
            ctx.admin.pk,
        )
        for pk in user_ids
    )
    columns = ["certification_id", "user_id", "issued_on", "expires_on", "association", "code"]
    columns += ["is_current", "ended_reason", "source_key", "awarded_by_id"]
    return copy_rows_seconds("certifications.CertificationAward", columns, rows)


def _naive_seconds_per_user(ctx: Any, user_ids: list[int], sample: int) -> float:
    """One Celery task per user; enqueueing is part of the naive way's cost."""
    from django.utils import timezone

    from bench.tasks import model_ref, naive_call
    from certifications.models import CertificationAward

    certification = _certification(f"Bench naive {secrets.token_hex(4)}")
    picked = user_ids[:sample]
    started = time.perf_counter()
    for pk in picked:
        naive_call.delay(
            "certifications.services.certification_award",
            {
                "certification": model_ref(certification),
                "user_ids": [pk],
                "issued_on": timezone.localdate(),
                "actor": model_ref(ctx.admin),
            },
        )
    wait_until(
        lambda: (
            CertificationAward.objects.filter(certification=certification).count() >= len(picked)
        ),
        timeout=1800,
        interval=0.1,
    )
    return (time.perf_counter() - started) / len(picked)


def run(ctx: Any) -> list[Result]:
    require_callable("certifications.services.certification_award_start")
    user_ids = _subtree_user_ids(ctx)
    samples = []
    jobs = []
    for number in range(ctx.write_runs):
        certification = _certification(f"Bench award {number} {secrets.token_hex(4)}")
        elapsed, job = _award_job(ctx, certification, user_ids)
        samples.append(elapsed)
        jobs.append({"status": job.status, "done": job.done, "failed": job.failed})
        if job.status != "succeeded" or job.done != len(user_ids):
            raise RuntimeError(f"award job ended {job.status}: {job.done}/{len(user_ids)} done")
    copy_s = _copy_seconds(ctx, user_ids)
    sample = 200 if ctx.quick else 2000
    naive_per_user = _naive_seconds_per_user(ctx, user_ids, sample)
    result = Result(
        scenario=ID,
        name=f"Award a certification to {len(user_ids):,} users (subtree)",
        measured="end to end: service call to job end (worker)",
        samples=samples,
        target=TARGET,
        items=len(user_ids),
        extra={
            "jobs": jobs,
            "copy_s": round(copy_s, 3),
            "naive_s_per_user": round(naive_per_user, 5),
            "naive_sample_users": sample,
            "naive_extrapolated_s": round(naive_per_user * len(user_ids), 1),
        },
    )
    median = result.median or 0.0
    result.ratio_copy = median / copy_s if copy_s else None
    result.ratio_naive = naive_per_user * len(user_ids) / median if median else None
    rate = result.rate or 0.0
    result.passed = (
        rate >= 10_000 and (result.ratio_copy or 99) <= 3 and (result.ratio_naive or 0) >= 20
    )
    misses = []
    if rate < 10_000:
        misses.append(f"rate {10_000 / rate:.1f}x too slow" if rate else "no rate")
    if (result.ratio_copy or 99) > 3:
        misses.append(f"{result.ratio_copy:.1f}x COPY (target 3x)")
    if (result.ratio_naive or 0) < 20:
        misses.append(f"only {result.ratio_naive:.1f}x naive (target 20x)")
    if misses:
        result.extra["miss_by"] = ", ".join(misses)
    result.note = (
        f"{rate:,.0f} users/s; COPY of the award rows {copy_s:.2f} s; naive "
        f"{naive_per_user * 1000:.1f} ms/user over a {sample}-user sample of one task per user"
    )
    return [result]
