"""What a screen reader announces for links and buttons with icons: their words only, never
the icon font's private-use glyph ("\\uf4d0 Users")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import log_in, screenshot
from users.models import User

pytestmark = pytest.mark.e2e

PRIVATE_USE = range(0xE000, 0xF900)  # where icon fonts put their glyphs


def _names(page: Any, role: str) -> list[str]:
    """The accessible names Chromium computes for every element of `role` on the page."""
    snapshot = page.locator("body").aria_snapshot()
    return [
        line.split(f"- {role} ", 1)[1].split('"')[1]
        for line in snapshot.splitlines()
        if f'- {role} "' in line
    ]


def test_links_and_buttons_are_named_by_their_words_only(
    page: Any, admin_user: User, learner_user: User
) -> None:
    log_in(page, "admin")
    for url in ("/users/", f"/users/{learner_user.pk}/", "/departments/"):
        page.goto(url)
        names = _names(page, "link") + _names(page, "button")
        assert names, url
        glyphs = [name for name in names if any(ord(ch) in PRIVATE_USE for ch in name)]
        assert not glyphs, (url, glyphs)
    page.goto("/users/")
    assert page.get_by_role("link", name="Users", exact=True).count() >= 1
    assert page.get_by_role("button", name="Search", exact=True).count() == 1
    screenshot(page, "users-list-accessible-names")
