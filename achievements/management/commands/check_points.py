"""Prove that every user's balance equals the sum of their ledger; `--repair` fixes the
balances, the week/month summaries and the leaderboard's disabled flags from the ledger."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from achievements.services import points_check


class Command(BaseCommand):
    help = "Check (and with --repair, fix) points balances against the ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repair", action="store_true", help="Fix what does not match.")

    def handle(self, *args: Any, **options: Any) -> None:
        report = points_check(repair=options["repair"])
        self.stdout.write(f"Checked {report.users_checked} users.")
        for user_id, balance, ledger in report.mismatches[:200]:
            self.stdout.write(f"  user {user_id}: balance {balance}, ledger sum {ledger}")
        if len(report.mismatches) > 200:
            self.stdout.write(f"  ... and {len(report.mismatches) - 200} more")
        if report.repaired:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Repaired {len(report.mismatches)} balances, {report.periods_fixed} period "
                    f"summaries, {report.activity_fixed} leaderboard flags."
                )
            )
        elif report.mismatches:
            self.stdout.write(
                self.style.ERROR(f"{len(report.mismatches)} balances differ; run with --repair.")
            )
        else:
            self.stdout.write(self.style.SUCCESS("Every balance equals the sum of its ledger."))
