from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest
from django.test import override_settings
from pypdf import PdfReader

from certifications.certificates import (
    CertificateRenderError,
    certificate_pdf,
    certificates_zip_bytes,
    qr_data_uri,
)
from certifications.models import CertificationAward
from certifications.tests.factories import AwardFactory, CertificationFactory
from lms.jobs import bulk_run, job_execute
from lms.models import BackgroundJob
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@override_settings(MERIT_ORGANISATION_NAME="Acme Training")
def test_pdf_names_the_learner_certification_dates_code_and_organisation():
    user = UserFactory(first_name="Anna", last_name="Smith")
    award = AwardFactory(
        user=user,
        certification=CertificationFactory(title="Sales Excellence"),
        issued_on=date(2026, 1, 15),
        expires_on=date(2027, 1, 15),
    )
    text = _text(certificate_pdf(award))
    assert "Anna Smith" in text
    assert "Sales Excellence" in text
    assert award.code in text.replace("\n", "")
    assert "January 15, 2026" in text and "January 15, 2027" in text
    assert "Acme Training".upper() in text.upper()


def test_pdf_of_an_always_valid_award_says_so():
    award = AwardFactory(expires_on=None)
    assert "Always valid" in _text(certificate_pdf(award))


@override_settings(MERIT_SITE_URL="https://lms.example.com")
def test_qr_code_is_an_svg_data_uri_of_the_verification_url():
    uri = qr_data_uri("https://lms.example.com/certifications/verify/abc/")
    assert uri.startswith("data:image/svg+xml;base64,")


def test_custom_design_is_used():
    certification = CertificationFactory(design_html="<h1>Custom for {{ learner_name }}</h1>")
    award = AwardFactory(
        certification=certification, user=UserFactory(first_name="Earl", last_name="Miller")
    )
    assert "Custom for Earl Miller" in _text(certificate_pdf(award))


def test_a_design_that_fails_to_render_raises_a_clear_error():
    certification = CertificationFactory(title="Broken", design_html="{% if %}")
    award = AwardFactory(certification=certification)
    with pytest.raises(CertificateRenderError, match="Broken"):
        certificate_pdf(award)


def test_zip_holds_one_pdf_per_award():
    certification = CertificationFactory()
    awards = AwardFactory.create_batch(3, certification=certification)
    data, errors = certificates_zip_bytes(
        CertificationAward.objects.filter(pk__in=[a.pk for a in awards]).select_related(
            "certification", "user"
        )
    )
    assert errors == []
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert len(names) == 3 and all(name.endswith(".pdf") for name in names)


@override_settings(MERIT_JOB_CHUNK_SIZE=2)
def test_zip_job_writes_the_result_file_once_all_chunks_are_done(admin_user):
    awards = AwardFactory.create_batch(5, certification=CertificationFactory())
    result = bulk_run(
        kind="certifications.zip",
        label="ZIP",
        item_ids=[a.pk for a in awards],
        actor=admin_user,
        force_background=True,
    )
    job = job_execute(job_id=result.job.pk)
    assert job.status == BackgroundJob.Status.SUCCEEDED
    assert job.summary == {"certificates": 5}
    with job.result_file.open("rb") as handle:
        assert len(zipfile.ZipFile(handle).namelist()) == 5


def test_a_design_cannot_read_local_files_or_fetch_urls():
    from certifications.certificates import url_fetcher

    fetcher = url_fetcher()
    for url in ("file:///etc/passwd", "http://169.254.169.254/latest/meta-data/"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher.fetch(url)


def test_a_design_sees_plain_values_not_models():
    user = UserFactory(first_name="Anna", last_name="Smith")
    certification = CertificationFactory(
        design_html="<p>[{{ award.user.password }}] {{ learner_name }}</p>"
    )
    text = _text(certificate_pdf(AwardFactory(user=user, certification=certification)))
    assert "[] Anna Smith" in text
