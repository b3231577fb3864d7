"""Icons are decoration: a Bootstrap Icons glyph (`<i class="bi ...">`) in a link or button
would otherwise be read out as part of its name ("\\uf4d0 Users"). Every one is
aria-hidden; where an icon alone says something (a sort direction, a completed step, an
icon-only button), the words are there for screen readers too."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ICON = re.compile(r"<i\b[^>]*\bclass=\"(?:[^\"]*\s)?bi(?:\s[^\"]*)?\"[^>]*>", re.IGNORECASE)
PRODUCT_CODE = ("lms", "users", "achievements", "certifications", "progress", "payments")


def _template_files() -> list[Path]:
    folders = [Path(folder) for entry in settings.TEMPLATES for folder in entry["DIRS"]]
    folders += [Path(settings.BASE_DIR) / app / "templates" for app in PRODUCT_CODE]
    return sorted(path for folder in folders if folder.is_dir() for path in folder.rglob("*.html"))


def _icons_without_aria_hidden(text: str) -> list[str]:
    return [tag for tag in ICON.findall(text) if 'aria-hidden="true"' not in tag]


def test_the_check_finds_an_icon_that_is_not_hidden() -> None:
    assert _icons_without_aria_hidden('<a href="/"><i class="bi bi-people"></i> Users</a>')
    assert _icons_without_aria_hidden('<i class="me-1 bi {{ icon }}"></i>')
    assert not _icons_without_aria_hidden('<i class="bi bi-people" aria-hidden="true"></i>')
    assert not _icons_without_aria_hidden('<i class="bird"></i> <i class="fabi"></i>')


def test_every_icon_in_the_templates_is_aria_hidden() -> None:
    files = _template_files()
    assert len(files) > 50  # the project's templates were found
    missing = {
        str(path.relative_to(settings.BASE_DIR)): found
        for path in files
        if (found := _icons_without_aria_hidden(path.read_text()))
    }
    assert not missing


def test_no_python_code_writes_an_icon_that_is_not_hidden() -> None:
    """Template tags and crispy layouts build HTML in Python too."""
    root = Path(settings.BASE_DIR)
    missing = {
        str(path.relative_to(root)): found
        for app in PRODUCT_CODE
        for path in (root / app).rglob("*.py")
        if "tests" not in path.parts and (found := _icons_without_aria_hidden(path.read_text()))
    }
    assert not missing
