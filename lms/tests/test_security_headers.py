"""Security headers on real pages: the Content-Security-Policy (no inline scripts), the
Permissions-Policy, nosniff, the referrer policy and frame denial. (HSTS is production's:
lms/tests/test_production.py checks it through gunicorn.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from users.models import User

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parts = (part.strip().split() for part in policy.split(";") if part.strip())
    return {part[0]: part[1:] for part in parts}


def assert_security_headers(response) -> None:
    directives = _directives(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    # Forms post only to Merit, and to Stripe Checkout through the card set-up redirect.
    assert directives["form-action"] == ["'self'", "https://checkout.stripe.com"]
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("who", "url_name", "status"),
    [
        (None, "login", 200),
        ("admin_user", "users:list", 200),
        ("learner_user", "users:profile", 200),
        ("learner_user", "lms:job_list", 403),
    ],
)
def test_pages_send_the_security_headers(request, who, url_name, status) -> None:
    client = Client()
    if who:
        client.force_login(request.getfixturevalue(who))
    response = client.get(reverse(url_name))
    assert response.status_code == status
    assert_security_headers(response)


def test_the_404_page_sends_them_too(admin_user: User) -> None:
    client = Client()
    client.force_login(admin_user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_security_headers(response)


def test_no_template_holds_an_inline_script_or_event_handler() -> None:
    """The policy refuses them, so one left in a template would silently stop working."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text):
            offenders.append(f"{path}: inline <script>")
        if re.search(r"\son[a-z]+=\"", text) or "javascript:" in text:
            offenders.append(f"{path}: inline event handler")
    assert offenders == []
