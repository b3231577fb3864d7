from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone

from certifications.csv_import import certification_import_apply, certification_import_check
from certifications.models import Certification, CertificationAward
from certifications.services import certification_award_start
from lms.jobs import job_execute
from users.models import Department, User, UserGroup
from users.roles import Role
from users.selectors import users_resolve_selection


class Command(BaseCommand):
    help = (
        "Award a certification (title or id) to users, groups, departments (with their "
        "subtrees) or the rows of a CSV file. Runs the work here, in this process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("certification", help="Certification title or id.")
        parser.add_argument("--users", nargs="+", default=[], help="Usernames or emails.")
        parser.add_argument("--group", nargs="+", default=[], help="Group names.")
        parser.add_argument("--department", nargs="+", default=[], help="Department names.")
        parser.add_argument("--csv", help="A CSV file (see the import page for the columns).")
        parser.add_argument("--issued-on", help="Issue date, YYYY-MM-DD (default today).")
        parser.add_argument("--expires-on", help="Expiration date (default: the validity).")
        parser.add_argument("--always-valid", action="store_true")
        parser.add_argument(
            "--actor", help="Username of the admin to record (default: a super admin)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        certification = self._certification(options["certification"])
        actor = self._actor(options.get("actor"))
        if options.get("csv"):
            path = Path(options["csv"])
            if not path.exists():
                raise CommandError(f"No such file: {path}")
            try:
                with path.open("rb") as handle:
                    imported = certification_import_check(
                        certification=certification, upload=handle, file_name=path.name, actor=actor
                    )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            for row in imported.rows:
                if row["errors"]:
                    self.stderr.write(f"row {row['row']}: {' '.join(row['errors'])}")
            if not imported.valid_rows:
                raise CommandError("No valid rows to apply.")
            result = certification_import_apply(imported=imported, actor=actor)
            self._report(result)
            return
        user_ids = self._user_ids(options["users"])
        group_ids = self._ids(UserGroup, options["group"], "group")
        department_ids = self._ids(Department, options["department"], "department")
        ids = list(
            users_resolve_selection(
                actor=actor, user_ids=user_ids, group_ids=group_ids, department_ids=department_ids
            ).values_list("pk", flat=True)
        )
        if not ids:
            raise CommandError("The selection resolves to no active users.")
        try:
            result = certification_award_start(
                certification=certification,
                user_ids=ids,
                issued_on=date.fromisoformat(options["issued_on"])
                if options.get("issued_on")
                else timezone.localdate(),
                expires_on=date.fromisoformat(options["expires_on"])
                if options.get("expires_on")
                else None,
                always_valid=options["always_valid"],
                association=CertificationAward.Association.MANUAL,
                actor=actor,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self._report(result)

    def _report(self, result: Any) -> None:
        if result.job is not None:
            job = job_execute(job_id=result.job.pk)
            counts = job.summary
            self.stdout.write(f"Job #{job.pk} {job.get_status_display()}.")
        else:
            counts = dict(result.outcome.counts)
        self.stdout.write(
            ", ".join(f"{key}: {value}" for key, value in sorted(counts.items()))
            or "Nothing to do."
        )

    def _certification(self, value: str) -> Certification:
        found = Certification.objects.filter(
            Q(title__iexact=value) | Q(pk=int(value) if value.isdigit() else None)
        ).first()
        if found is None:
            raise CommandError(f"Unknown certification {value!r}.")
        return found

    def _actor(self, username: str | None) -> User:
        if username:
            actor = User.objects.filter(username=username).first()
            if actor is None:
                raise CommandError(f"Unknown user {username!r}.")
            return actor
        actor = (
            User.objects.filter(Q(is_superuser=True) | Q(groups__name=Role.SUPER_ADMIN))
            .order_by("pk")
            .first()
        )
        if actor is None:
            raise CommandError("No super admin exists; pass --actor.")
        return actor

    def _user_ids(self, logins: list[str]) -> list[int]:
        ids = []
        for login in logins:
            user = User.objects.filter(Q(username__iexact=login) | Q(email__iexact=login)).first()
            if user is None:
                raise CommandError(f"Unknown user {login!r}.")
            ids.append(user.pk)
        return ids

    def _ids(self, model: Any, names: list[str], what: str) -> list[int]:
        ids = []
        for name in names:
            pks = list(model.objects.filter(name__iexact=name).values_list("pk", flat=True))
            if not pks:
                raise CommandError(f"Unknown {what} {name!r}.")
            ids.extend(pks)
        return ids
