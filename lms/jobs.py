"""Background jobs: one pattern for every bulk action.

Each job kind is listed in lms/job_kinds.py with the dotted path of its chunk handler, a
function in its app's `jobs.py`:

    def users_set_active_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome: ...

and work starts with `bulk_run(...)`. Up to `MERIT_BULK_JOB_THRESHOLD` items run inline, in
the request, in one transaction; above it a `BackgroundJob` row and its chunk rows (of
`MERIT_JOB_CHUNK_SIZE` items) are written and Celery tasks are enqueued after commit: one per
chunk when the kind's items are independent (`parallel=True`, the default, on PostgreSQL), so
every worker process takes chunks; else one task that runs the chunks in order. Each chunk's
writes, its "finished" mark and the job's cursor commit together, so a chunk is done exactly
once even when its task runs twice or its worker dies halfway and the job is resumed. Handlers
must also be idempotent per item (unique constraints), so that a replay is a no-op."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from lms.context import acting_impersonator, current_impersonator
from lms.job_kinds import JOB_KINDS
from lms.models import BackgroundJob, BackgroundJobChunk

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
JobFinalizer = Callable[[BackgroundJob], None]


@dataclass(frozen=True)
class ResolvedJobKind:
    """A job kind of lms/job_kinds.py with its functions imported."""

    handler: ChunkHandler
    parallel: bool
    finalize: JobFinalizer | None
    max_chunk_size: int | None


@cache
def job_kind(kind: str) -> ResolvedJobKind:
    """The functions of a job kind (KeyError for a kind lms/job_kinds.py does not list)."""
    spec = JOB_KINDS[kind]
    return ResolvedJobKind(
        handler=import_string(spec.handler),
        parallel=spec.parallel,
        finalize=import_string(spec.finalize) if spec.finalize else None,
        max_chunk_size=spec.max_chunk_size,
    )


# A job is cut into at least this many chunks (when it has enough items), so that every worker
# process has work until near the end instead of one finishing the last big chunk alone.
MIN_CHUNKS = 8
MIN_CHUNK_SIZE = 100


def _chunk_size(kind: str, total: int) -> int:
    size = max(1, settings.MERIT_JOB_CHUNK_SIZE)
    size = min(size, max(MIN_CHUNK_SIZE, -(-total // MIN_CHUNKS)))
    cap = job_kind(kind).max_chunk_size
    return min(size, cap) if cap else size


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
    if kind not in JOB_KINDS:
        raise KeyError(f"lms/job_kinds.py lists no job kind {kind!r}.")
    unique_ids = list(dict.fromkeys(int(pk) for pk in item_ids))
    if len(unique_ids) <= settings.MERIT_BULK_JOB_THRESHOLD and not force_background:
        job = BackgroundJob(kind=kind, label=label, created_by=actor, params=params or {})
        with transaction.atomic():
            outcome = job_kind(kind).handler(job, unique_ids)
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

    job = BackgroundJob.objects.create(
        kind=kind,
        label=label,
        created_by=actor,
        impersonator=current_impersonator(),
        params=params or {},
        item_ids=item_ids,
        total=len(item_ids),
    )
    _chunks_create(job, item_ids)
    event_record(
        kind=EventKind.JOB_STARTED,
        actor=actor,
        subject=None,
        target=job,
        details={"job_kind": kind, "total": len(item_ids), "label": label},
        manual=True,
    )
    transaction.on_commit(lambda: job_dispatch(job.pk))
    return job


def _chunks_create(job: BackgroundJob, item_ids: Sequence[int]) -> None:
    size = _chunk_size(job.kind, len(item_ids))
    BackgroundJobChunk.objects.bulk_create(
        BackgroundJobChunk(job=job, index=index, item_ids=list(item_ids[start : start + size]))
        for index, start in enumerate(range(0, len(item_ids), size))
    )


def _chunks_ensure(job_id: int) -> None:
    """A job written without chunk rows (by hand, or before chunks existed) gets them for the
    items its cursor has not passed."""
    if BackgroundJobChunk.objects.filter(job_id=job_id).exists():
        return
    with transaction.atomic():
        job = BackgroundJob.objects.select_for_update().get(pk=job_id)
        if job.is_finished or job.chunks.exists():
            return
        _chunks_create(job, [int(pk) for pk in job.item_ids[job.cursor :]])


def _runs_in_parallel(kind: str) -> bool:
    return settings.MERIT_JOB_PARALLEL and job_kind(kind).parallel


def job_dispatch(job_id: int) -> None:
    """Enqueue a job's unfinished work: one task per chunk for parallel kinds (each worker
    process takes chunks as it frees up), else one task that runs the chunks in order.
    Enqueuing twice is harmless: a finished chunk is skipped."""
    from lms.tasks import job_chunk_run, job_run

    _chunks_ensure(job_id)
    kind = BackgroundJob.objects.values_list("kind", flat=True).get(pk=job_id)
    if not _runs_in_parallel(kind):
        job_run.delay(job_id)
        return
    pending = list(
        BackgroundJobChunk.objects.filter(job_id=job_id, finished_at__isnull=True)
        .order_by("index")
        .values_list("index", flat=True)
    )
    for index in pending:
        job_chunk_run.delay(job_id, index)
    if not pending:
        job_run.delay(job_id)  # nothing left to do but finishing


def job_execute(*, job_id: int) -> BackgroundJob:
    """Work through a job's unfinished chunks in order, in this process, then finish the job.
    Safe to call twice, also concurrently, and beside chunk tasks: each chunk locks its row,
    skips itself when finished, and commits its writes with its "finished" mark."""
    _chunks_ensure(job_id)
    pending = list(
        BackgroundJobChunk.objects.filter(job_id=job_id, finished_at__isnull=True)
        .order_by("index")
        .values_list("index", flat=True)
    )
    for index in pending:
        if not job_run_chunk(job_id=job_id, index=index):
            break
    job_finish_if_done(job_id)
    return BackgroundJob.objects.get(pk=job_id)


DEADLOCK_RETRIES = 3


def job_run_chunk(*, job_id: int, index: int) -> bool:
    """Run one chunk of a job, exactly once. Returns False when the job has failed (or has
    finished), so that a sequential run stops. A deadlock against a concurrent chunk rolls the
    chunk back and runs it again; any other exception fails the job and keeps what committed."""
    # A long-lived worker must not trust content-type ids cached before a database was
    # recreated (tests flush tables between runs); the cache refills with one query.
    ContentType.objects.clear_cache()
    _chunks_ensure(job_id)
    _job_mark_started(job_id)
    kind = BackgroundJob.objects.values_list("kind", flat=True).get(pk=job_id)
    handler = job_kind(kind).handler
    for attempt in range(1, DEADLOCK_RETRIES + 1):
        try:
            with acting_impersonator(_job_impersonator(job_id)):
                return _chunk_run_once(job_id, index, handler)
        except Exception as exc:  # a bug or an outage: stop, say why, keep what committed
            if attempt < DEADLOCK_RETRIES and _is_retryable(exc):
                logger.warning("Job %s chunk %s: %s; retrying", job_id, index, exc)
                continue
            logger.exception("Background job %s failed in chunk %s", job_id, index)
            _job_fail(job_id, exc)
            return False
    return False  # pragma: no cover - the loop always returns


def _is_retryable(exc: BaseException) -> bool:
    """A deadlock or serialization failure against a concurrent chunk: Django wraps the
    database's error (an OperationalError caused by it), a COPY raises psycopg's own."""
    retryable = {"DeadlockDetected", "SerializationFailure"}
    return type(exc).__name__ in retryable or type(exc.__cause__).__name__ in retryable


def _job_impersonator(job_id: int) -> User | None:
    job = BackgroundJob.objects.select_related("impersonator").only("impersonator").get(pk=job_id)
    return job.impersonator


def _job_mark_started(job_id: int) -> None:
    now = timezone.now()
    BackgroundJob.objects.filter(pk=job_id, started_at__isnull=True).update(started_at=now)
    BackgroundJob.objects.filter(pk=job_id, status=BackgroundJob.Status.PENDING).update(
        status=BackgroundJob.Status.RUNNING, heartbeat_at=now
    )


def _job_fail(job_id: int, exc: BaseException) -> None:
    BackgroundJob.objects.filter(pk=job_id).exclude(
        status__in=[BackgroundJob.Status.SUCCEEDED, BackgroundJob.Status.PARTIAL]
    ).update(
        status=BackgroundJob.Status.FAILED,
        last_error=f"{type(exc).__name__}: {exc}",
        finished_at=timezone.now(),
    )


def _chunk_run_once(job_id: int, index: int, handler: ChunkHandler) -> bool:
    with transaction.atomic():
        # Only the chunk's row: a join here would lock the job row for the whole chunk and
        # make parallel chunks take turns.
        chunk = (
            BackgroundJobChunk.objects.select_for_update(of=("self",))
            .filter(job_id=job_id, index=index)
            .order_by()
            .first()
        )
        # The big item list stays in the database: each chunk carries its own ids.
        job = BackgroundJob.objects.defer("item_ids").get(pk=job_id)
        if job.is_finished:
            return False
        if chunk is None or chunk.finished_at is not None:
            return True
        item_ids = [int(pk) for pk in chunk.item_ids]
        outcome = handler(job, item_ids)
        chunk.finished_at = timezone.now()
        chunk.save(update_fields=["finished_at"])
        _constraints_check_now()
        _job_fold(job_id, len(item_ids), outcome)
    return True


def _constraints_check_now() -> None:
    """Run the chunk's deferred foreign-key checks now (slow for a large chunk) rather than at
    COMMIT, while no other chunk waits for the job row lock taken next."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _job_fold(job_id: int, items: int, outcome: ChunkOutcome) -> None:
    """Add a chunk's outcome to the job row (locked briefly, at the end of the chunk, so that
    parallel chunks only queue for this short update)."""
    job = BackgroundJob.objects.select_for_update().defer("item_ids").get(pk=job_id)
    job.cursor += items
    job.done += outcome.done
    job.failed += len(outcome.errors)
    room = MAX_STORED_ERRORS - len(job.errors)
    if room > 0:
        job.errors.extend({"item": item, "error": msg} for item, msg in outcome.errors[:room])
    summary = Counter(job.summary)
    summary.update(outcome.counts)
    job.summary = {key: count for key, count in summary.items() if count}
    job.heartbeat_at = timezone.now()
    if not job.is_finished:
        job.status = BackgroundJob.Status.RUNNING
    job.save(
        update_fields=["cursor", "done", "failed", "errors", "summary", "heartbeat_at", "status"]
    )


def job_finish_if_done(job_id: int) -> None:
    """Finish the job when no chunk is left: run the kind's finalizer, set the final status.
    The job row lock makes exactly one of the last chunks do it."""
    try:
        with transaction.atomic():
            job = BackgroundJob.objects.select_for_update().defer("item_ids").get(pk=job_id)
            if job.is_finished:
                return
            if BackgroundJobChunk.objects.filter(job_id=job_id, finished_at__isnull=True).exists():
                return
            finalize = job_kind(job.kind).finalize
            if finalize is not None:
                finalize(job)
            job.status = (
                BackgroundJob.Status.PARTIAL if job.failed else BackgroundJob.Status.SUCCEEDED
            )
            job.finished_at = timezone.now()
            job.save(update_fields=["status", "finished_at", "result_file"])
    except Exception as exc:
        logger.exception("Background job %s failed while finishing", job_id)
        _job_fail(job_id, exc)


def job_resume_stale(*, older_than: timedelta = timedelta(minutes=2)) -> list[int]:
    """Enqueue again the jobs that are queued or running but have not moved for a while: their
    worker died, or the broker lost the message. Called when a worker starts, and by
    `manage.py resume_jobs`."""
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
        job_dispatch(job_id)
    return stale
