from celery import shared_task

from lms.jobs import job_execute


@shared_task(name="lms.job_run", acks_late=True)
def job_run(job_id: int) -> None:
    """Run (or resume) one background job; see lms.jobs."""
    job_execute(job_id=job_id)
