"""Take the README's screenshots from a running Merit with demo data.

    make run                                   # in one terminal
    .venv/bin/python scripts/screenshots.py   # in another

Pages are found through Django's URL names, so a page an app does not have yet is skipped."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings.local")

import django  # noqa: E402

django.setup()

from django.urls import NoReverseMatch, reverse  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from users.models import User  # noqa: E402

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def url(name: str, *args: object) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default=str(BASE_DIR / "docs" / "screenshots"))
    options = parser.parse_args()
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    anna = User.objects.get(username="anna")
    admin_pages = [
        ("users-list", url("users:list")),
        ("user-details", url("users:detail", anna.pk)),
        ("user-achievements", url("achievements:user_tab", anna.pk)),
        ("user-progress", url("progress:user_progress", anna.pk)),
        ("user-certifications", url("certifications:user_tab", anna.pk)),
        ("user-events", url("users:events", anna.pk)),
        ("certifications", url("certifications:list")),
        ("courses", url("progress:course_list")),
        ("jobs", url("lms:job_list")),
    ]
    learner_pages = [
        ("learner-achievements", url("achievements:my_achievements")),
        ("learner-courses", url("progress:my_courses")),
        ("learner-profile", url("users:profile")),
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=ARGS
        )
        for username, pages in (("admin", admin_pages), ("anna", learner_pages)):
            context = browser.new_context(
                viewport={"width": 1360, "height": 860}, base_url=options.base_url
            )
            page = context.new_page()
            page.goto("/accounts/login/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", "merit-demo-2026")
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            for name, path in pages:
                if path is None:
                    print(f"skip {name}: no such page")
                    continue
                page.goto(path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(out / f"{name}.png"))
                print(f"saved {name}.png")
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
