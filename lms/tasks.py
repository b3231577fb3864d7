from celery import shared_task

from lms.jobs import job_execute, job_finish_if_done, job_run_chunk


@shared_task(name="lms.job_run", acks_late=True)
def job_run(job_id: int) -> None:
    """Run (or resume) one background job's chunks in order; see lms.jobs."""
    job_execute(job_id=job_id)


@shared_task(name="lms.job_chunk_run", acks_late=True)
def job_chunk_run(job_id: int, index: int) -> None:
    """Run one chunk of a parallel job; the last chunk to finish finishes the job."""
    if job_run_chunk(job_id=job_id, index=index):
        job_finish_if_done(job_id)
