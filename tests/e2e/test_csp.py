"""The pages that use JavaScript still work under the Content-Security-Policy, and Chromium
reports no violation of it: the users list's bulk bar, a job's progress bar (which polls its
status URL), the Awarded Users "select all" box and a confirm-first button."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from certifications.tests.factories import AwardFactory, CertificationFactory
from lms.models import BackgroundJob
from progress.services import enrollment_create
from progress.tests.factories import CourseFactory
from tests.e2e.conftest import log_in, screenshot
from users.tests.factories import learner

pytestmark = pytest.mark.e2e


def _watch_csp(page: Any) -> list[str]:
    """Console errors and CSP violation events of every page the test opens."""
    problems: list[str] = []
    # Merit has no favicon; the browser's own request for one is not a page's error.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}")
            if msg.type in {"error", "warning"}
            else None
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e =>"
        " console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return problems


def test_javascript_pages_work_under_the_csp_with_no_violation(page, admin_user, org) -> None:
    problems = _watch_csp(page)
    for n in range(3):
        learner(username=f"csp{n}", last_name=f"Csp{n}", departments=[org["sales"]])
    log_in(page, "admin")

    # The users list: ticking rows shows the bulk bar with the count (static/js/merit.js).
    page.goto("/users/")
    bar = page.get_by_test_id("bulk-bar")
    assert not bar.is_visible()
    page.locator("[data-select-row]").first.check()
    bar.wait_for(state="visible")
    assert bar.locator("[data-selected-count]").inner_text() == "1"
    page.locator("[data-select-all]").check()
    assert int(bar.locator("[data-selected-count]").inner_text()) >= 4
    screenshot(page, "csp-users-bulk-bar")

    # A running job's progress bar polls its status URL and follows the job.
    job = BackgroundJob.objects.create(
        kind="points_award",
        label="CSP test job",
        created_by=admin_user,
        status=BackgroundJob.Status.RUNNING,
        total=10,
        cursor=2,
        started_at=timezone.now(),
    )
    page.goto(f"/jobs/{job.pk}/")
    BackgroundJob.objects.filter(pk=job.pk).update(cursor=7)
    expect(page.locator("[data-job-text]")).to_contain_text("7 of 10 processed")
    assert page.locator(".progress-bar").get_attribute("aria-valuenow") == "70"
    BackgroundJob.objects.filter(pk=job.pk).update(
        cursor=10,
        done=10,
        summary={"awarded": 10},
        status=BackgroundJob.Status.SUCCEEDED,
        finished_at=timezone.now(),
    )
    page.get_by_test_id("job-summary").wait_for()  # finished: the page reloaded itself
    screenshot(page, "csp-job-progress")

    # Awarded Users: the header box ticks every row (was an inline onclick).
    certification = CertificationFactory(title="CSP Cert")
    for person in learner_list(org, 2):
        AwardFactory(certification=certification, user=person)
    page.goto(f"/certifications/{certification.pk}/awarded/")
    page.locator("input[data-check-all]").check()
    boxes = page.locator("input[name=award_ids]")
    assert boxes.count() == 2
    assert all(boxes.nth(i).is_checked() for i in range(2))

    # A confirm-first button (was an inline onclick): dismissing the dialog sends nothing.
    anna = learner(username="cspanna", departments=[org["sales"]])
    enrollment_create(user=anna, course=CourseFactory(title="CSP Course"), actor=admin_user)
    page.goto(f"/learning/users/{anna.pk}/access/")
    dialogs: list[str] = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Remove").first.click()
    page.wait_for_timeout(300)
    assert dialogs and "Remove access to CSP Course?" in dialogs[0]
    assert "CSP Course" in page.content()

    assert problems == []


def learner_list(org, count: int) -> list[Any]:
    return [
        learner(username=f"awarded{n}", last_name=f"Awarded{n}", departments=[org["sales"]])
        for n in range(count)
    ]
