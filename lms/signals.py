"""When a Celery worker starts, pick up the jobs a dead worker left behind."""

from typing import Any

from celery.signals import worker_ready


@worker_ready.connect
def resume_stale_jobs(**_: Any) -> None:
    from lms.jobs import job_resume_stale

    job_resume_stale()
