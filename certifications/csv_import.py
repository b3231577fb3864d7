"""CSV import of awards: parse and check every row first (set-based lookups, no query per
row), keep the result for the preview, then apply the valid rows (a job for large files).

Columns: username or email, issue date, expiration date (or "always", or empty for the
certification's validity), association type, external activity. A header row is optional."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower

from certifications.models import Certification, CertificationAward, CertificationImport
from lms.csv_safety import csv_render
from lms.jobs import BulkResult, bulk_run
from progress.models import ExternalTraining
from users.models import User
from users.selectors import users_visible_to

Association = CertificationAward.Association
MAX_BYTES = 20 * 1024 * 1024
LOOKUP_BATCH = 10_000  # stays well under PostgreSQL's 65,535 parameters per query
HEADER_WORDS = {"username", "email", "user", "username or email", "login"}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d")
ASSOCIATIONS = {
    "": Association.MANUAL,
    "manual": Association.MANUAL,
    "manually awarded": Association.MANUAL,
    "completion": Association.COMPLETION,
    "course completion": Association.COMPLETION,
    "learning plan completion": Association.COMPLETION,
    "course/learning plan completion": Association.COMPLETION,
    "external": Association.EXTERNAL,
    "external training": Association.EXTERNAL,
    "external training activity": Association.EXTERNAL,
}


def _parse_date(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    return None


def _decode(raw: bytes) -> str:
    if b"\x00" in raw[:4096]:
        raise ValidationError("This file is not a CSV file (it looks like a binary file).")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError("This file is not a CSV file (it is not text).")


def csv_rows_read(upload: IO[bytes]) -> list[list[str]]:
    """The file's rows without the optional header; ValidationError when it is not a CSV."""
    raw = upload.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ValidationError("The file is larger than 20 MB.")
    text = _decode(raw)
    if not text.strip():
        raise ValidationError("The file is empty.")
    try:
        rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise ValidationError(f"This file is not a valid CSV file: {exc}") from exc
    if rows and rows[0] and rows[0][0].strip().lower() in HEADER_WORDS:
        rows = [["#header"], *rows[1:]]
    data = [row for row in rows if row != ["#header"]]
    if not data:
        raise ValidationError("The file has no rows to import.")
    if not any(len(row) >= 2 for row in data):
        raise ValidationError(
            "This does not look like a certification CSV: expected columns username or email, "
            "issue date, expiration date, association type, external activity."
        )
    return rows


def _users_by_login(actor: User, logins: Iterable[str]) -> dict[str, int]:
    """Lower-cased username or email -> user id, for active users in the actor's scope."""
    wanted = sorted({login.lower() for login in logins if login})
    found: dict[str, int] = {}
    visible = users_visible_to(actor).filter(is_active=True)
    for start in range(0, len(wanted), LOOKUP_BATCH):
        batch = wanted[start : start + LOOKUP_BATCH]
        for pk, username in (
            visible.annotate(username_lower=Lower("username"))
            .filter(username_lower__in=batch)
            .values_list("pk", "username_lower")
        ):
            found[username] = pk
        emails = [login for login in batch if "@" in login and login not in found]
        if emails:
            for pk, email in (
                visible.annotate(email_lower=Lower("email"))
                .filter(email_lower__in=emails)
                .values_list("pk", "email_lower")
            ):
                found.setdefault(email, pk)
    return found


def _trainings_by_name() -> dict[str, int]:
    trainings: dict[str, int] = {}
    for pk, title in ExternalTraining.objects.values_list("pk", "title"):
        trainings[title.strip().lower()] = pk
        trainings[str(pk)] = pk
    return trainings


@transaction.atomic
def certification_import_check(
    *, certification: Certification, upload: IO[bytes], file_name: str, actor: User
) -> CertificationImport:
    """Parse and check a CSV; stores the preview (every row with its errors) and writes no
    award. Raises ValidationError when the file is not a CSV at all."""
    rows = csv_rows_read(upload)
    users = _users_by_login(actor, (row[0].strip() for row in rows if row and row != ["#header"]))
    trainings = _trainings_by_name()
    seen: dict[int, int] = {}
    checked: list[dict[str, Any]] = []
    for number, row in enumerate(rows, start=1):
        if row == ["#header"]:
            continue
        cells = [cell.strip() for cell in row] + [""] * 5
        login, issued_text, expires_text, assoc_text, activity = cells[:5]
        errors: list[str] = []
        user_id = users.get(login.lower()) if login else None
        if not login:
            errors.append("No username or email.")
        elif user_id is None:
            errors.append(f"Unknown user “{login}”.")
        elif user_id in seen:
            errors.append(f"Duplicate row: this user is already on row {seen[user_id]}.")
        else:
            seen[user_id] = number
        issued = _parse_date(issued_text)
        if issued is None:
            errors.append(f"Bad issue date “{issued_text}” (use YYYY-MM-DD).")
        expires: date | None = None
        if expires_text.lower() in {"always", "always valid"}:
            expires = None
        elif not expires_text:
            expires = certification.default_expiry(issued) if issued else None
        else:
            expires = _parse_date(expires_text)
            if expires is None:
                errors.append(f"Bad expiration date “{expires_text}” (use YYYY-MM-DD or always).")
            elif issued is not None and expires < issued:
                errors.append("The expiration date is before the issue date.")
        association = ASSOCIATIONS.get(assoc_text.lower())
        if association is None:
            errors.append(f"Unknown association type “{assoc_text}”.")
        training_id = None
        if activity:
            training_id = trainings.get(activity.lower())
            if training_id is None:
                errors.append(f"Unknown activity “{activity}”.")
        elif association == Association.EXTERNAL:
            errors.append("Unknown activity: an external training award needs the activity.")
        checked.append(
            {
                "row": number,
                "cells": cells[:5],
                "user_id": user_id,
                "issued": issued.isoformat() if issued else "",
                "expires": expires.isoformat() if expires else "",
                "assoc": association or "",
                "training_id": training_id if association == Association.EXTERNAL else None,
                "errors": errors,
            }
        )
    return CertificationImport.objects.create(
        certification=certification,
        created_by=actor,
        file_name=file_name[:255],
        rows=checked,
        total_rows=len(checked),
        error_rows=sum(1 for row in checked if row["errors"]),
    )


def certification_import_apply(
    *, imported: CertificationImport, actor: User, force_background: bool = False
) -> BulkResult:
    """Award the valid rows (a background job above the threshold). Applying twice does
    nothing the second time."""
    with transaction.atomic():
        locked = CertificationImport.objects.select_for_update().get(pk=imported.pk)
        if locked.status != CertificationImport.Status.PREVIEW:
            raise ValidationError("This import has already been applied.")
        valid = [row["row"] for row in locked.rows if not row["errors"]]
        if not valid:
            raise ValidationError("There are no valid rows to apply.")
        background = force_background or len(valid) > settings.MERIT_BULK_JOB_THRESHOLD
        result = bulk_run(
            kind="certifications.import",
            label=f"Import “{locked.certification.title}” from {locked.file_name or 'CSV'}",
            item_ids=valid,
            actor=actor,
            params={"import_id": locked.pk},
            force_background=force_background,
        )
        locked.status = (
            CertificationImport.Status.APPLYING
            if background
            else CertificationImport.Status.APPLIED
        )
        locked.job = result.job
        if result.outcome is not None:
            locked.summary = dict(result.outcome.counts)
        locked.save(update_fields=["status", "job", "summary", "updated_at"])
    return result


def certification_import_error_report(imported: CertificationImport) -> str:
    """The rows with errors as a CSV (formula-safe) the admin can fix and upload again."""
    return csv_render(
        [
            "row",
            "username or email",
            "issue date",
            "expiration date",
            "association",
            "activity",
            "errors",
        ],
        (
            [row["row"], *row["cells"], " ".join(row["errors"])]
            for row in imported.rows
            if row["errors"]
        ),
    )
