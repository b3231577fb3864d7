"""Scenario 7: certificate PDFs with WeasyPrint. One certificate rendered warm in-process
(p50); a ZIP of 1,000 certificates as a background job on the real worker (two prefork
children); the workers' resident memory sampled while the ZIP job runs."""

from __future__ import annotations

import threading
import time
from typing import Any

from bench.core import Result, timed, wait_until
from bench.scenarios.common import require_callable

ID = "7"
TITLE = "Certificate PDF"
TARGET = "p50 < 150 ms; 1,000 in a ZIP < 2 min; worker < 300 MB"
ZIP_FULL = 1000
ZIP_QUICK = 50


def _awards(ctx: Any, count: int) -> list[int]:
    from django.utils import timezone

    from certifications.models import CertificationAward
    from certifications.services import certification_award, certification_create
    from users.models import User

    ids = list(
        CertificationAward.objects.filter(is_current=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )
    if len(ids) < count:
        certification = certification_create(
            title=f"Bench PDF {time.time_ns()}", validity_days=365, actor=None
        )
        users = User.objects.filter(username__startswith="load-").order_by("pk")[:count]
        certification_award(
            certification=certification,
            user_ids=list(users.values_list("pk", flat=True)),
            issued_on=timezone.localdate(),
            actor=ctx.admin,
        )
        ids = list(
            CertificationAward.objects.filter(certification=certification)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return ids[:count]


def run(ctx: Any) -> list[Result]:
    certificate_pdf = require_callable("certifications.certificates.certificate_pdf")
    require_callable("certifications.jobs.certificates_zip_chunk")
    from certifications.models import CertificationAward
    from lms.jobs import bulk_run
    from lms.models import BackgroundJob

    count = ZIP_QUICK if ctx.quick else ZIP_FULL
    award_ids = _awards(ctx, count)
    award = CertificationAward.objects.select_related("certification", "user").get(pk=award_ids[0])
    runs = max(5, ctx.read_runs // 2)
    single = Result(
        scenario=ID,
        name="One certificate PDF, warm",
        measured="function certificate_pdf() in-process",
        samples=timed(lambda: certificate_pdf(award), runs=runs, warmup=2),
        target="p50 < 150 ms",
        target_s=0.150,
        target_stat="median",
    )

    peak: list[float] = []
    stop = threading.Event()

    def sample_memory() -> None:
        while not stop.is_set():
            peak.extend(ctx.worker.child_rss_mb())
            time.sleep(0.25)

    baseline = ctx.worker.child_rss_mb()
    sampler = threading.Thread(target=sample_memory, daemon=True)
    sampler.start()
    started = time.perf_counter()
    result = bulk_run(
        kind="certifications.zip",
        label=f"Bench ZIP of {count} certificates",
        item_ids=award_ids,
        actor=ctx.admin,
        force_background=True,
    )
    job_id = result.job.pk
    finished = (
        BackgroundJob.Status.SUCCEEDED,
        BackgroundJob.Status.PARTIAL,
        BackgroundJob.Status.FAILED,
    )
    wait_until(
        lambda: BackgroundJob.objects.filter(pk=job_id, status__in=finished).exists(),
        timeout=1800,
        interval=0.1,
    )
    zip_s = time.perf_counter() - started
    stop.set()
    sampler.join()
    job = BackgroundJob.objects.get(pk=job_id)
    if job.status != BackgroundJob.Status.SUCCEEDED:
        raise RuntimeError(f"ZIP job ended {job.status}: {job.last_error or job.errors[:3]}")
    zip_target = 120.0 * count / ZIP_FULL
    archive = Result(
        scenario=ID,
        name=f"ZIP of {count:,} certificates",
        measured="end to end: job start to ZIP written (worker)",
        samples=[zip_s],
        target=f"< {zip_target:.0f} s" + ("" if count == ZIP_FULL else " (2 min per 1,000)"),
        target_s=zip_target,
        items=count,
        extra={"result_file": job.result_file.name},
        note=f"chunks of 50 PDFs as separate tasks on both worker children; {count / zip_s:.1f} PDFs/s",
    )
    highest = max(peak, default=0.0)
    memory_extra: dict[str, Any] = {
        "peak_mb": round(highest, 1),
        "baseline_mb": [round(x, 1) for x in baseline],
    }
    if highest >= 300:
        memory_extra["miss_by"] = f"{highest - 300:.0f} MB over"
    memory = Result(
        scenario=ID,
        name="Worker child memory during the ZIP",
        measured="peak RSS of a worker child (/proc)",
        target="< 300 MB",
        passed=highest < 300,
        extra=memory_extra,
        note=f"peak {highest:.0f} MB (children at start: "
        + ", ".join(f"{x:.0f}" for x in baseline)
        + " MB)",
    )
    return [single, archive, memory]
