"""`manage.py seed_demo`: the demo organisation, people and each app's demo data.

Idempotent: running it twice changes nothing. Each app contributes `<app>/demo.py` with
`seed_demo(*, stdout)`; an app without one is skipped."""

from __future__ import annotations

import importlib
from typing import Any

from django.core.management.base import BaseCommand

# The catalog (progress) comes before certifications, which link themselves to its courses and
# external trainings: the other way round those links appeared only on a second run.
APPS_IN_ORDER = ("users", "achievements", "progress", "certifications", "payments")


class Command(BaseCommand):
    help = "Load the demo organisation and data (safe to run again: nothing changes)."

    def handle(self, *args: Any, **options: Any) -> None:
        for app in APPS_IN_ORDER:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                self.stdout.write(f"{app}: no demo data, skipped")
                continue
            module.seed_demo(stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS("Demo data is ready. Log in as admin / merit-demo-2026.")
        )
