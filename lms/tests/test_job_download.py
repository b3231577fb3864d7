"""A background job's result file (e.g. the certificates ZIP) is downloaded through an
authorised view: /media/ serves only images, and a result holds other people's data."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lms.jobs import job_create
from lms.models import BackgroundJob
from users.models import User
from users.tests.factories import department_admin

pytestmark = pytest.mark.django_db

ZIP_BYTES = b"PK\x05\x06" + b"\0" * 18  # an empty ZIP archive


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: object, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)  # type: ignore[attr-defined]


@pytest.fixture
def zip_job(sales_admin: User, learner_user: User) -> BackgroundJob:
    job = job_create(
        kind="certifications.zip",
        label="Certificates of Sales Excellence",
        item_ids=[learner_user.pk],
        actor=sales_admin,
    )
    job.result_file.save(f"certificates-{job.pk}.zip", ContentFile(ZIP_BYTES), save=False)
    job.status = BackgroundJob.Status.SUCCEEDED  # as a job with a result is
    job.cursor = job.done = 1
    job.finished_at = timezone.now()
    job.save()
    return job


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _download(job: BackgroundJob) -> str:
    return reverse("lms:job_download", args=[job.pk])


@pytest.mark.parametrize("who", ["sales_admin", "admin_user"])
def test_the_creator_and_super_admins_download_the_result_as_an_attachment(
    who: str, zip_job: BackgroundJob, request: pytest.FixtureRequest
) -> None:
    response = _client(request.getfixturevalue(who)).get(_download(zip_job))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="certificates-{zip_job.pk}.zip"'
    )
    assert response["Content-Type"] == "application/zip"
    assert b"".join(response.streaming_content) == ZIP_BYTES  # type: ignore[attr-defined]


def test_another_department_admin_gets_404(zip_job: BackgroundJob, org: dict) -> None:
    other = department_admin(administers=[org["hr"]], username="hradmin", departments=[org["hr"]])
    assert _client(other).get(_download(zip_job)).status_code == 404


def test_customer_service_gets_404(zip_job: BackgroundJob, support_user: User) -> None:
    assert _client(support_user).get(_download(zip_job)).status_code == 404


def test_a_learner_gets_403(zip_job: BackgroundJob, learner_user: User) -> None:
    assert _client(learner_user).get(_download(zip_job)).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(zip_job: BackgroundJob) -> None:
    response = _client(None).get(_download(zip_job))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_job_without_a_result_file_is_404(sales_admin: User, learner_user: User) -> None:
    job = job_create(
        kind="users.set_active", label="x", item_ids=[learner_user.pk], actor=sales_admin
    )
    assert _client(sales_admin).get(_download(job)).status_code == 404


def test_a_result_file_gone_from_disk_is_404(zip_job: BackgroundJob, sales_admin: User) -> None:
    Path(zip_job.result_file.path).unlink()
    assert _client(sales_admin).get(_download(zip_job)).status_code == 404


def test_job_pages_link_to_the_download_view_not_to_media(
    zip_job: BackgroundJob, sales_admin: User
) -> None:
    client = _client(sales_admin)
    for url in (reverse("lms:job_detail", args=[zip_job.pk]), reverse("lms:job_list")):
        html = client.get(url).content.decode()
        assert f'href="{_download(zip_job)}"' in html, url
        assert "/media/" not in html, url
