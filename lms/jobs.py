"""Background jobs: one pattern for every bulk action.

An app registers a chunk handler for a job kind in its own `jobs.py`:

    @job_handler("users.set_active")
    def users_set_active_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome: ...

and starts work with `bulk_run(...)`. Up to `MERIT_BULK_JOB_THRESHOLD` items run inline, in
the request, in one transaction; above it a `BackgroundJob` row is written and a Celery task is
enqueued after commit. The task works through the items in chunks of `MERIT_JOB_CHUNK_SIZE`;
each chunk's writes and the job's cursor commit together, so a chunk is done exactly once even
when the task runs twice or its worker dies halfway and the job is resumed. Handlers must also
be idempotent per item (unique constraints), so that a replay is a no-op."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from lms.context import acting_impersonator, current_impersonator
from lms.models import BackgroundJob

if TYPE_CHECKING:
    from users.models import User

logger = logging.getLogger(__name__)
MAX_STORED_ERRORS = 1000


@dataclass
class ChunkOutcome:
    """What a handler did with one chunk: how many items succeeded, per-item errors
    (item id, message), and counters for the summary ("awarded": 10, "skipped": 2)."""

    done: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def merge(self, other: ChunkOutcome) -> None:
        self.done += other.done
        self.errors.extend(other.errors)
        self.counts.update(other.counts)


ChunkHandler = Callable[[BackgroundJob, list[int]], ChunkOutcome]
JOB_HANDLERS: dict[str, ChunkHandler] = {}


def job_handler(kind: str) -> Callable[[ChunkHandler], ChunkHandler]:
    def register(handler: ChunkHandler) -> ChunkHandler:
        JOB_HANDLERS[kind] = handler
        return handler

    return register


@dataclass
class BulkResult:
    """Either the outcome of an inline run or the job that will do the work."""

    outcome: ChunkOutcome | None = None
    job: BackgroundJob | None = None

    @property
    def is_background(self) -> bool:
        return self.job is not None


def bulk_run(
    *,
    kind: str,
    label: str,
    item_ids: Sequence[int],
    actor: User | None,
    params: dict[str, Any] | None = None,
    force_background: bool = False,
) -> BulkResult:
    """Run a registered bulk action over `item_ids` (deduplicated, in order)."""
    if kind not in JOB_HANDLERS:
        raise KeyError(f"No job handler is registered for {kind!r}.")
    unique_ids = list(dict.fromkeys(int(pk) for pk in item_ids))
    if len(unique_ids) <= settings.MERIT_BULK_JOB_THRESHOLD and not force_background:
        job = BackgroundJob(kind=kind, label=label, created_by=actor, params=params or {})
        with transaction.atomic():
            outcome = JOB_HANDLERS[kind](job, unique_ids)
        return BulkResult(outcome=outcome)
    return BulkResult(
        job=job_create(kind=kind, label=label, item_ids=unique_ids, actor=actor, params=params)
    )


@transaction.atomic
def job_create(
    *,
    kind: str,
    label: str,
    item_ids: list[int],
    actor: User | None,
    params: dict[str, Any] | None = None,
) -> BackgroundJob:
    from lms.event_kinds import EventKind
    from lms.events import event_record
    from lms.tasks import job_run

    job = BackgroundJob.objects.create(
        kind=kind,
        label=label,
        created_by=actor,
        impersonator=current_impersonator(),
        params=params or {},
        item_ids=item_ids,
        total=len(item_ids),
    )
    event_record(
        kind=EventKind.JOB_STARTED,
        actor=actor,
        subject=None,
        target=job,
        details={"job_kind": kind, "total": len(item_ids), "label": label},
        manual=True,
    )
    transaction.on_commit(lambda: job_run.delay(job.pk))
    return job


def job_execute(*, job_id: int) -> BackgroundJob:
    """Work through a job's remaining chunks. Safe to call twice, also concurrently: each chunk
    locks the job row, re-reads the cursor, does its work and moves the cursor in one commit."""
    # A long-lived worker must not trust content-type ids cached before a database was
    # recreated (tests flush tables between runs); the cache refills with one query.
    ContentType.objects.clear_cache()
    job = BackgroundJob.objects.get(pk=job_id)
    if job.is_finished:
        return job
    handler = JOB_HANDLERS[job.kind]
    BackgroundJob.objects.filter(pk=job_id, started_at__isnull=True).update(
        started_at=timezone.now()
    )
    BackgroundJob.objects.filter(pk=job_id, status=BackgroundJob.Status.PENDING).update(
        status=BackgroundJob.Status.RUNNING, heartbeat_at=timezone.now()
    )
    chunk_size = max(1, settings.MERIT_JOB_CHUNK_SIZE)
    with acting_impersonator(job.impersonator):
        while True:
            try:
                finished = _job_run_next_chunk(job_id, handler, chunk_size)
            except Exception as exc:  # a bug or an outage: stop, say why, keep what committed
                logger.exception("Background job %s failed", job_id)
                BackgroundJob.objects.filter(pk=job_id).update(
                    status=BackgroundJob.Status.FAILED,
                    last_error=f"{type(exc).__name__}: {exc}",
                    finished_at=timezone.now(),
                )
                break
            if finished:
                break
    return BackgroundJob.objects.get(pk=job_id)


def _job_run_next_chunk(job_id: int, handler: ChunkHandler, chunk_size: int) -> bool:
    with transaction.atomic():
        job = BackgroundJob.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            return True
        if job.cursor >= job.total:
            job.status = (
                BackgroundJob.Status.PARTIAL if job.failed else BackgroundJob.Status.SUCCEEDED
            )
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "finished_at"])
            return True
        chunk = [int(pk) for pk in job.item_ids[job.cursor : job.cursor + chunk_size]]
        outcome = handler(job, chunk)
        job.cursor += len(chunk)
        job.done += outcome.done
        job.failed += len(outcome.errors)
        room = MAX_STORED_ERRORS - len(job.errors)
        if room > 0:
            job.errors.extend({"item": item, "error": msg} for item, msg in outcome.errors[:room])
        summary = Counter(job.summary)
        summary.update(outcome.counts)
        job.summary = {key: count for key, count in summary.items() if count}
        job.heartbeat_at = timezone.now()
        job.status = BackgroundJob.Status.RUNNING
        job.save(
            update_fields=[
                "cursor",
                "done",
                "failed",
                "errors",
                "summary",
                "heartbeat_at",
                "status",
            ]
        )
    return False


def job_resume_stale(*, older_than: timedelta = timedelta(minutes=2)) -> list[int]:
    """Enqueue again the jobs that are queued or running but have not moved for a while: their
    worker died, or the broker lost the message. Called when a worker starts, and by
    `manage.py resume_jobs`."""
    from lms.tasks import job_run

    cutoff = timezone.now() - older_than
    stale = list(
        BackgroundJob.objects.filter(
            status__in=[BackgroundJob.Status.PENDING, BackgroundJob.Status.RUNNING],
            created_at__lt=cutoff,
        )
        .exclude(heartbeat_at__gte=cutoff)
        .values_list("pk", flat=True)
    )
    for job_id in stale:
        job_run.delay(job_id)
    return stale
