"""Every kind of background job Merit runs, and the functions that do its work.

The jobs' counterpart of lms/event_kinds.py: the one place to read what can run in the
background. A handler is a dotted path to `(job, item_ids) -> ChunkOutcome` that does one
chunk of items inside the chunk's transaction; a finalizer, `(job) -> None`, runs once after
the last chunk, in the transaction that finishes the job. `manage.py check` imports every path
here (lms.checks), so a typo fails at start, not in the middle of an admin's bulk action."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class JobKind:
    """How a job kind runs. `parallel`: its items are independent (no two items touch the same
    rows), so its chunks run as separate Celery tasks on every worker process at once.
    `max_chunk_size`: a smaller chunk for heavy items (PDFs), so progress moves and a worker
    can be recycled between chunks."""

    handler: str
    parallel: bool = True
    finalize: str | None = None
    max_chunk_size: int | None = None


JOB_KINDS: dict[str, JobKind] = {
    "users.set_active": JobKind("users.jobs.users_set_active_chunk"),
    "users.add_to_group": JobKind("users.jobs.users_add_to_group_chunk"),
    "achievements.points": JobKind("achievements.jobs.points_chunk"),
    "achievements.badge_grant": JobKind("achievements.jobs.badge_grant_chunk"),
    "achievements.badge_apply": JobKind("achievements.jobs.badge_apply_chunk"),
    "certifications.award": JobKind("certifications.jobs.certification_award_chunk"),
    # Rows of one file may name the same person twice: applied in file order, one task.
    "certifications.import": JobKind(
        "certifications.jobs.certification_import_chunk",
        parallel=False,
        finalize="certifications.jobs.certification_import_finish",
    ),
    "certifications.zip": JobKind(
        "certifications.jobs.certificates_zip_chunk",
        finalize="certifications.jobs.certificates_zip_finish",
        max_chunk_size=50,
    ),
    "progress.mark_complete": JobKind("progress.jobs.progress_mark_complete_chunk"),
    "progress.reset": JobKind("progress.jobs.progress_reset_chunk"),
    "progress.enroll": JobKind("progress.jobs.progress_enroll_chunk"),
}
