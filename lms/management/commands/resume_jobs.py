"""`manage.py resume_jobs`: enqueue again the background jobs that are queued or running but
have not moved for a while (their worker died, or the broker lost their messages). A worker
does the same when it starts; this is for ops after an outage of the broker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from lms.jobs import job_resume_stale


class Command(BaseCommand):
    help = "Enqueue again the background jobs that have not moved for a while."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=2,
            metavar="MINUTES",
            help="resume jobs with no progress for this many minutes (default 2)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        minutes = options["older_than"]
        if minutes < 0:
            raise CommandError("--older-than must be 0 or more minutes.")
        resumed = job_resume_stale(older_than=timedelta(minutes=minutes))
        if resumed:
            ids = ", ".join(str(pk) for pk in resumed)
            self.stdout.write(f"Enqueued again {len(resumed)} job(s): {ids}.")
        else:
            self.stdout.write("No job was waiting.")
