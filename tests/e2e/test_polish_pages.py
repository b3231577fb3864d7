"""Pages changed in the last review's polish: navigation per role, error pages, the job result
download, the "Enroll in course" bulk action and the achievements card positions."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.template.loader import get_template
from django.utils import timezone

from achievements.models import GamificationSettings
from lms.jobs import job_create
from lms.models import BackgroundJob
from progress.models import Enrollment
from progress.tests.factories import course_with
from tests.e2e.conftest import log_in, screenshot
from users.models import User

pytestmark = pytest.mark.e2e


def test_department_admin_navigation_and_the_403_page(
    page: Any, sales_admin: User, learner_user: User
) -> None:
    log_in(page, "salesadmin")
    page.goto(f"/learning/users/{learner_user.pk}/progress/")
    nav = page.locator(".navbar-nav.me-auto")
    assert nav.locator("text=Gamification").count() == 0
    assert nav.locator(".nav-link.active").inner_text().strip() == "Users"
    screenshot(page, "nav-department-admin-record-tab")
    response = page.goto("/achievements/settings/")
    assert response is not None and response.status == 403
    page.wait_for_selector("text=have access to this page")
    screenshot(page, "error-403")


def test_404_and_500_pages(page: Any, learner_user: User) -> None:
    log_in(page, "anna")
    response = page.goto("/no-such-page/")
    assert response is not None and response.status == 404
    page.wait_for_selector("text=Page not found")
    screenshot(page, "error-404")
    page.set_content(get_template("500.html").render())
    page.wait_for_selector("text=Something went wrong")
    screenshot(page, "error-500")


def test_the_job_creator_downloads_the_result(
    page: Any, settings: Any, tmp_path: Any, sales_admin: User, learner_user: User
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    job = job_create(
        kind="certifications.zip",
        label="Certificates of “Sales Excellence” (1 PDFs)",
        item_ids=[learner_user.pk],
        actor=sales_admin,
    )
    job.result_file.save(f"certificates-{job.pk}.zip", ContentFile(b"PK\x05\x06" + b"\0" * 18))
    # Finished, as a job with a result is: a pending one would be resumed by a running worker.
    BackgroundJob.objects.filter(pk=job.pk).update(
        status=BackgroundJob.Status.SUCCEEDED, cursor=1, done=1, finished_at=timezone.now()
    )
    log_in(page, "salesadmin")
    page.goto(f"/jobs/{job.pk}/")
    screenshot(page, "job-detail-download")
    with page.expect_download() as download:
        page.click("[data-testid=job-download]")
    assert download.value.suggested_filename == f"certificates-{job.pk}.zip"


def test_enroll_in_course_from_the_users_list(
    page: Any, admin_user: User, learner_user: User
) -> None:
    course, _ = course_with("lesson", title="Car Sale Dialog")
    log_in(page, "admin")
    page.goto("/users/")
    page.check(f"input[name=user_ids][value='{learner_user.pk}']")
    screenshot(page, "users-bulk-bar-enroll")
    page.click("button[value='progress:bulk_enroll']")
    page.wait_for_selector("[data-testid=enroll-form]")
    page.select_option("select[name=course]", label="Car Sale Dialog")
    screenshot(page, "users-bulk-enroll-form")
    page.click("[data-testid=enroll-submit]")
    page.wait_for_selector("text=1 enrolled")
    assert Enrollment.objects.filter(user=learner_user, course=course).exists()


@pytest.mark.parametrize("position", ["header", "side", "main"])
def test_profile_achievements_card_positions(page: Any, position: str, learner_user: User) -> None:
    GamificationSettings.objects.update_or_create(pk=1, defaults={"card_position": position})
    log_in(page, "anna")
    page.goto("/profile/")
    card = page.locator("[data-testid=achievements-card]")
    assert card.count() == 1 and card.get_attribute("data-position") == position
    screenshot(page, f"profile-card-{position}")
