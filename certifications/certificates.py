"""PDF certificates (WeasyPrint) with a QR code of the public verification page, and ZIPs of
many certificates for the Awarded Users page."""

from __future__ import annotations

import base64
import io
import logging
import zipfile
from collections.abc import Iterable
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.template import Context, Engine, Template, TemplateSyntaxError
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from certifications.models import Certification, CertificationAward

logger = logging.getLogger(__name__)


class CertificateRenderError(Exception):
    """The certificate design could not be turned into a PDF; the message says why."""


def verification_url(award: CertificationAward) -> str:
    return settings.MERIT_SITE_URL.rstrip("/") + reverse("certifications:verify", args=[award.code])


def qr_data_uri(text: str) -> str:
    """The QR code of `text` as an SVG data URI (no raster, sharp at any print size)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=1)
    svg = image.to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def certificate_context(award: CertificationAward) -> dict[str, Any]:
    """Plain values only: a custom design (a template a super admin typed) sees strings and
    dates, never model instances it could walk to other data (`user.password`)."""
    url = verification_url(award)
    certification = award.certification
    return {
        "certification": {"title": certification.title, "description": certification.description},
        "learner_name": award.user.get_full_name() or award.user.username,
        "organisation_name": settings.MERIT_ORGANISATION_NAME,
        "issued_on": award.issued_on,
        "expires_on": award.expires_on,
        "code": award.code,
        "verification_url": url,
        "qr_code": qr_data_uri(url),
        "generated_at": timezone.now(),
    }


def url_fetcher() -> Any:
    """WeasyPrint may load only inline `data:` resources: a design cannot read local files
    (file:///etc/passwd) or make the server fetch URLs on its network."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, timeout=2)


def design_check(design_html: str) -> None:
    """Raise CertificateRenderError when a custom design is not a valid template."""
    if design_html.strip():
        try:
            Engine.get_default().from_string(design_html)
        except TemplateSyntaxError as exc:
            raise CertificateRenderError(f"The certificate design has an error: {exc}") from exc


def certificate_html(award: CertificationAward) -> str:
    certification: Certification = award.certification
    context = certificate_context(award)
    try:
        if certification.design_html.strip():
            template: Template = Engine.get_default().from_string(certification.design_html)
            return template.render(Context(context))
        return get_template("certifications/certificate_default.html").render(context)
    except Exception as exc:
        raise CertificateRenderError(
            f"The certificate design of “{certification.title}” could not be rendered: {exc}"
        ) from exc


def certificate_pdf(award: CertificationAward) -> bytes:
    """The award's certificate as PDF bytes, or CertificateRenderError with a clear message."""
    from weasyprint import HTML

    html = certificate_html(award)
    try:
        return HTML(string=html, url_fetcher=url_fetcher()).write_pdf()  # type: ignore[no-any-return]
    except Exception as exc:
        logger.warning("Certificate %s failed to render: %s", award.pk, exc)
        raise CertificateRenderError(
            f"The certificate design of “{award.certification.title}” could not be turned "
            f"into a PDF: {exc}"
        ) from exc


def certificate_filename(award: CertificationAward) -> str:
    who = slugify(award.user.get_full_name() or award.user.username) or f"user-{award.user_id}"
    return f"{slugify(award.certification.title)}-{who}-{award.code[:8]}.pdf"


def certificates_zip(awards: Iterable[CertificationAward], out: Any) -> list[tuple[int, str]]:
    """Write the PDFs of `awards` into a ZIP file object; returns (award id, error) for the
    awards whose design failed (the others are still written)."""
    errors: list[tuple[int, str]] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for award in awards:
            try:
                archive.writestr(certificate_filename(award), certificate_pdf(award))
            except CertificateRenderError as exc:
                errors.append((award.pk, str(exc)))
    return errors


def certificates_zip_bytes(
    awards: Iterable[CertificationAward],
) -> tuple[bytes, list[tuple[int, str]]]:
    buffer = io.BytesIO()
    errors = certificates_zip(awards, buffer)
    return buffer.getvalue(), errors
