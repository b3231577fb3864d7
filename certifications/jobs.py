"""Chunk handlers for the certifications' background jobs (see lms.jobs)."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import connection

from certifications.certificates import (
    CertificateRenderError,
    certificate_filename,
    certificate_pdf,
)
from certifications.models import Certification, CertificationAward, CertificationImport
from certifications.services import AwardRequest, awards_apply
from lms.jobs import ChunkOutcome
from lms.models import BackgroundJob


def certification_award_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome:
    """Award one chunk of users. The job's batch id is every award's source key, so a chunk
    that runs again after its worker died skips the users it already awarded."""
    params = job.params
    certification = Certification.objects.get(pk=params["certification_id"])
    issued_on = date.fromisoformat(params["issued_on"])
    expires_on = date.fromisoformat(params["expires_on"]) if params.get("expires_on") else None
    key = f"award:{params['batch']}"
    outcome = awards_apply(
        certification=certification,
        requests=[
            AwardRequest(
                user_id=user_id,
                issued_on=issued_on,
                expires_on=expires_on,
                association=params["association"],
                external_training_id=params.get("external_training_id"),
                source_key=key,
            )
            for user_id in item_ids
        ],
        actor=job.created_by,
        manual=True,
    )
    return outcome.as_chunk_outcome()


def _import_valid_rows(import_id: int, numbers: list[int]) -> dict[int, dict[str, Any]]:
    """The import's valid rows among the file's row `numbers`, read from its row in the
    database for every chunk, by row number. PostgreSQL unpacks the stored array and returns
    only this chunk's rows, so a chunk does not decode the whole file, and nothing is kept in
    the process between chunks: an id says nothing about which import it is once imports are
    deleted and ids handed out again (a database reset, a restored backup)."""
    table = CertificationImport._meta.db_table
    with connection.cursor() as cursor:
        # A join with the chunk's numbers (hashed), not `= ANY(array)`, which would compare
        # every row of the file with every number of the chunk.
        cursor.execute(
            f'SELECT item.value FROM "{table}" AS imported '  # noqa: S608 (the model's table)
            "CROSS JOIN LATERAL jsonb_array_elements(imported.rows) AS item(value) "
            "JOIN unnest(%s::int[]) AS wanted(number) "
            "ON wanted.number = (item.value ->> 'row')::int "
            "WHERE imported.id = %s AND item.value -> 'errors' = '[]'::jsonb",
            [numbers, import_id],
        )
        found = [json.loads(value) if isinstance(value, str) else value for (value,) in cursor]
    return {row["row"]: row for row in found}


def certification_import_finish(job: BackgroundJob) -> None:
    CertificationImport.objects.filter(pk=job.params["import_id"]).update(
        status=CertificationImport.Status.APPLIED
    )


# Sequential: a file may hold the same person twice, and its rows apply in file order.
def certification_import_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome:
    """Apply one chunk of a CSV import; items are the file's row numbers."""
    imported = (
        CertificationImport.objects.select_related("certification")
        .defer("rows")
        .get(pk=job.params["import_id"])
    )
    rows = _import_valid_rows(imported.pk, item_ids)
    key = f"import:{imported.pk}"
    requests = [
        AwardRequest(
            user_id=row["user_id"],
            issued_on=date.fromisoformat(row["issued"]),
            expires_on=date.fromisoformat(row["expires"]) if row["expires"] else None,
            association=row["assoc"],
            external_training_id=row["training_id"],
            source_key=key,
        )
        for row in (rows.get(number) for number in item_ids)
        if row is not None
    ]
    outcome = awards_apply(
        certification=imported.certification,
        requests=requests,
        actor=job.created_by,
        manual=True,
    ).as_chunk_outcome()
    return outcome


def _zip_workdir(job: BackgroundJob) -> Path:
    return Path(settings.MEDIA_ROOT) / "jobs" / f"certificates-{job.pk}"


def certificates_zip_finish(job: BackgroundJob) -> None:
    """Pack the PDFs every chunk rendered into the job's result ZIP (PDFs are compressed
    already: stored, not deflated)."""
    workdir = _zip_workdir(job)
    workdir.mkdir(parents=True, exist_ok=True)
    archive_path = workdir.with_suffix(".zip")
    with zipfile.ZipFile(archive_path, "w", compression=zipfile.ZIP_STORED) as archive:
        for pdf in sorted(workdir.glob("*.pdf")):
            archive.write(pdf, arcname=pdf.name)
    with archive_path.open("rb") as handle:
        job.result_file.save(f"certificates-{job.pk}.zip", File(handle), save=False)
    archive_path.unlink(missing_ok=True)
    shutil.rmtree(workdir, ignore_errors=True)


# Small chunks: rendering a PDF is slow next to writing a row, so with small chunks progress
# moves, every worker process renders, and a worker that WeasyPrint made grow is recycled
# between chunks (CELERY_WORKER_MAX_MEMORY_PER_CHILD).
def certificates_zip_chunk(job: BackgroundJob, item_ids: list[int]) -> ChunkOutcome:
    """Render one chunk of PDFs into the job's work folder (a rerun overwrites the same files);
    `certificates_zip_finish` packs the folder when every chunk is done."""
    outcome = ChunkOutcome()
    workdir = _zip_workdir(job)
    workdir.mkdir(parents=True, exist_ok=True)
    awards = CertificationAward.objects.filter(pk__in=item_ids).select_related(
        "certification", "user"
    )
    for award in awards:
        try:
            (workdir / certificate_filename(award)).write_bytes(certificate_pdf(award))
            outcome.done += 1
            outcome.counts["certificates"] += 1
        except CertificateRenderError as exc:
            outcome.errors.append((award.pk, str(exc)))
    missing = set(item_ids) - {a.pk for a in awards}
    outcome.errors.extend((pk, "Award not found.") for pk in sorted(missing))
    return outcome
