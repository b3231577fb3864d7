"""Uploaded images are served to logged-in people with DEBUG off too; nothing else under
MEDIA_ROOT is (a job's result file has its own permission-checked view)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from users.models import User

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def media(settings: object, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path)  # type: ignore[attr-defined]
    settings.DEBUG = False  # type: ignore[attr-defined]
    for name in ("avatars/anna.png", "badges/small/star.png", "jobs/certificates-1.zip"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(PNG)
    (tmp_path.parent / "secret.txt").write_text("not for you")
    return tmp_path


def test_logged_in_people_get_avatars_and_badge_images(client: Client, learner_user: User) -> None:
    client.force_login(learner_user)
    for url in ("/media/avatars/anna.png", "/media/badges/small/star.png"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"".join(response.streaming_content) == PNG  # type: ignore[attr-defined]
        assert response["Content-Type"] == "image/png"
        assert response["X-Content-Type-Options"] == "nosniff"


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    response = client.get("/media/avatars/anna.png")
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize(
    "url",
    [
        "/media/jobs/certificates-1.zip",  # results go through their own checked view
        "/media/avatars/../jobs/certificates-1.zip",
        "/media/avatars/../../secret.txt",
        "/media/avatars/missing.png",
    ],
)
def test_nothing_else_under_media_is_served(client: Client, admin_user: User, url: str) -> None:
    client.force_login(admin_user)
    assert client.get(url).status_code == 404
