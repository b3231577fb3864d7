from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from certifications.services import certification_reminders_send


class Command(BaseCommand):
    help = (
        "Email learners whose certification entered its renewal window or expired (once per "
        "award per stage) and mark expired awards. Safe to run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="Run as if today were this date (YYYY-MM-DD).")

    def handle(self, *args: Any, **options: Any) -> None:
        today = date.fromisoformat(options["date"]) if options.get("date") else None
        run = certification_reminders_send(today=today)
        self.stdout.write(
            f"Renewal reminders sent: {run.renewal_emails}; expiry emails sent: "
            f"{run.expired_emails}; awards marked expired: {run.marked_expired}."
        )
