from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from certifications.csv_import import (
    certification_import_apply,
    certification_import_check,
    certification_import_error_report,
)
from certifications.models import CertificationAward, CertificationImport
from certifications.tests.factories import CertificationFactory, ExternalTrainingFactory
from lms.jobs import job_execute
from lms.models import BackgroundJob
from users.models import User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _check(certification, text: str | bytes, actor):
    raw = text.encode() if isinstance(text, str) else text
    return certification_import_check(
        certification=certification, upload=io.BytesIO(raw), file_name="awards.csv", actor=actor
    )


def _errors(imported) -> dict[int, list[str]]:
    return {row["row"]: row["errors"] for row in imported.rows if row["errors"]}


def test_preview_lists_each_kind_of_error_by_row_number(admin_user):
    certification = CertificationFactory()
    UserFactory(username="anna", email="anna@example.com")
    UserFactory(username="earl", email="earl@example.com")
    UserFactory(username="mark", email="mark@example.com")
    UserFactory(username="lisa", email="lisa@example.com")
    text = (
        "username,issue date,expiration date,association,activity\n"
        "anna,2026-01-15,2027-01-15,manual,\n"  # 2 ok
        "nobody,2026-01-15,2027-01-15,manual,\n"  # 3 unknown user
        "earl,15th of Jan,2027-01-15,manual,\n"  # 4 bad date
        "mark,2026-01-15,2025-01-15,manual,\n"  # 5 expiry before issue
        "lisa,2026-01-15,always,external,Underwater basket weaving\n"  # 6 unknown activity
        "ANNA@example.com,2026-02-01,,manual,\n"  # 7 duplicate of row 2
    )
    imported = _check(certification, text, admin_user)
    errors = _errors(imported)
    assert sorted(errors) == [3, 4, 5, 6, 7]
    assert "Unknown user" in errors[3][0]
    assert "Bad issue date" in errors[4][0]
    assert "before the issue date" in errors[5][0]
    assert "Unknown activity" in errors[6][0]
    assert "Duplicate row" in errors[7][0] and "row 2" in errors[7][0]
    assert (imported.total_rows, imported.error_rows) == (6, 5)
    assert not CertificationAward.objects.exists()  # nothing written before apply


def test_apply_writes_only_the_valid_rows_with_their_dates(admin_user):
    certification = CertificationFactory(validity_days=100)
    training = ExternalTrainingFactory(title="Forklift safety")
    anna = UserFactory(username="anna")
    earl = UserFactory(username="earl", email="earl@example.com")
    text = (
        "anna,2026-01-15,,manual,\n"
        "earl@example.com,2026-02-01,always,external,forklift safety\n"
        "ghost,2026-01-15,,manual,\n"
    )
    imported = _check(certification, text, admin_user)
    result = certification_import_apply(imported=imported, actor=admin_user)
    assert result.outcome.counts["awarded"] == 2
    anna_award = CertificationAward.objects.get(user=anna)
    assert anna_award.expires_on == date(2026, 4, 25)
    earl_award = CertificationAward.objects.get(user=earl)
    assert earl_award.expires_on is None and earl_award.external_training == training
    imported.refresh_from_db()
    assert imported.status == CertificationImport.Status.APPLIED


def test_applying_twice_is_refused(admin_user):
    UserFactory(username="anna")
    imported = _check(CertificationFactory(), "anna,2026-01-15,,manual,\n", admin_user)
    certification_import_apply(imported=imported, actor=admin_user)
    with pytest.raises(ValidationError, match="already been applied"):
        certification_import_apply(imported=imported, actor=admin_user)
    assert CertificationAward.objects.count() == 1


@pytest.mark.parametrize(
    "content",
    [b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", b"", b"just one line of prose\n"],
    ids=["binary", "empty", "prose"],
)
def test_a_file_that_is_not_a_csv_is_refused_and_nothing_is_stored(admin_user, content):
    with pytest.raises(ValidationError):
        _check(CertificationFactory(), content, admin_user)
    assert not CertificationImport.objects.exists()


def test_users_outside_the_department_admins_scope_are_unknown(sales_admin, learner_user, outsider):
    imported = _check(
        CertificationFactory(), "anna,2026-01-15,,,\nharry,2026-01-15,,,\n", sales_admin
    )
    assert list(_errors(imported)) == [2]


def test_ten_percent_bad_rows_apply_the_rest(admin_user):
    users = UserFactory.create_batch(50)
    lines = [f"{u.username},2026-01-15,2027-01-15,manual," for u in users[:45]]
    lines += [f"missing{n},2026-01-15,2027-01-15,manual," for n in range(5)]
    imported = _check(CertificationFactory(), "\n".join(lines), admin_user)
    assert imported.error_rows == 5
    certification_import_apply(imported=imported, actor=admin_user)
    assert CertificationAward.objects.count() == 45


def test_error_report_is_csv_safe(admin_user):
    imported = _check(CertificationFactory(), '=HYPERLINK("x"),2026-01-15,,,\n', admin_user)
    report = list(csv.reader(io.StringIO(certification_import_error_report(imported))))
    assert report[1][1].startswith("'=")
    assert "Unknown user" in report[1][-1]


@override_settings(MERIT_BULK_JOB_THRESHOLD=5, MERIT_JOB_CHUNK_SIZE=4)
def test_large_file_applies_as_a_job_that_resumes_without_duplicates(admin_user):
    users = UserFactory.create_batch(12)
    text = "\n".join(f"{u.username},2026-01-15,,manual," for u in users)
    imported = _check(CertificationFactory(), text, admin_user)
    result = certification_import_apply(imported=imported, actor=admin_user)
    assert result.job is not None
    job = job_execute(job_id=result.job.pk)
    job_execute(job_id=result.job.pk)
    assert job.status == BackgroundJob.Status.SUCCEEDED and job.summary == {"awarded": 12}
    imported.refresh_from_db()
    assert imported.status == CertificationImport.Status.APPLIED
    assert CertificationAward.objects.count() == 12


@override_settings(MERIT_JOB_CHUNK_SIZE=5000)
def test_a_file_of_50000_rows_is_checked_and_applied(admin_user):
    User.objects.bulk_create(
        [User(username=f"bulk{n}", email=f"bulk{n}@example.com") for n in range(50_000)],
        batch_size=5000,
    )
    text = "\n".join(
        f"bulk{n},2026-01-15,2027-01-15,manual," if n % 10 else f"bulk{n},2026-13-45,,manual,"
        for n in range(50_000)
    )
    imported = _check(CertificationFactory(), text, admin_user)
    assert (imported.total_rows, imported.error_rows) == (50_000, 5_000)
    result = certification_import_apply(imported=imported, actor=admin_user)
    job = job_execute(job_id=result.job.pk)
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert CertificationAward.objects.count() == 45_000


def test_an_import_applies_its_own_rows_when_an_earlier_import_had_the_same_id(admin_user):
    """A worker lives through many imports; ids are handed out again after a database reset or
    a restored backup. The rows a chunk applies are always those of the import it names now."""
    from certifications.jobs import certification_import_chunk

    certification = CertificationFactory()
    anna, bob = UserFactory(username="anna-csv"), UserFactory(username="bob-csv")
    earlier = _check(certification, "anna-csv,2026-01-15,,manual,\n", admin_user)
    job = BackgroundJob(kind="certifications.import", created_by=admin_user)
    job.params = {"import_id": earlier.pk}
    assert +certification_import_chunk(job, [1]).counts == {"awarded": 1}
    # The earlier import goes (a reset), and the next one gets its id.
    reused_id = earlier.pk
    CertificationImport.objects.filter(pk=reused_id).delete()
    CertificationAward.objects.all().delete()
    later = _check(certification, "bob-csv,2026-02-01,,manual,\n", admin_user)
    CertificationImport.objects.filter(pk=later.pk).update(id=reused_id)

    outcome = certification_import_chunk(job, [1])

    assert +outcome.counts == {"awarded": 1}
    assert list(CertificationAward.objects.values_list("user", "issued_on")) == [
        (bob.pk, date(2026, 2, 1))
    ]
    assert not CertificationAward.objects.filter(user=anna).exists()


def test_a_chunk_applies_only_its_own_valid_rows_in_file_order(admin_user):
    from certifications.jobs import certification_import_chunk

    users = UserFactory.create_batch(4)
    text = "\n".join(
        [
            f"{users[0].username},2026-01-15,,manual,",
            "nobody-at-all,2026-01-15,,manual,",
            f"{users[1].username},2026-01-15,,manual,",
            f"{users[2].username},2026-01-15,,manual,",
            f"{users[3].username},2026-01-15,,manual,",
        ]
    )
    imported = _check(CertificationFactory(), text, admin_user)
    job = BackgroundJob(kind="certifications.import", created_by=admin_user)
    job.params = {"import_id": imported.pk}
    outcome = certification_import_chunk(job, [4, 2, 3])  # row 2 has an error
    assert +outcome.counts == {"awarded": 2}
    assert set(CertificationAward.objects.values_list("user", flat=True)) == {
        users[1].pk,
        users[2].pk,
    }
