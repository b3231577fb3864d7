"""The audit trail as an admin reads it: the departments page lists its own changes, and a
user's Events tab names courses and certifications and says who did what, as whom."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from certifications.services import certification_award
from certifications.tests.factories import CertificationFactory
from lms.context import acting_impersonator
from lms.event_kinds import EventKind
from lms.events import event_record
from progress.services import progress_mark_complete
from progress.tests.factories import course_with, enroll
from tests.e2e.conftest import log_in, screenshot
from users.models import Department, User
from users.tests.factories import customer_service

pytestmark = pytest.mark.e2e


def test_admin_adds_renames_and_moves_a_department_and_sees_each_change(
    page: Any, admin_user: User, org: dict[str, Department]
) -> None:
    log_in(page, "admin")
    page.goto("/departments/")
    page.fill("input[name=name]", "Field Sales")
    page.select_option("select[name=parent]", str(org["sales"].pk))
    page.click("input[name=save]")
    page.wait_for_selector("text=Department “Field Sales” was created.")
    page.fill("input[name=name]", "field sales")
    page.select_option("select[name=parent]", str(org["sales"].pk))
    page.click("input[name=save]")
    page.wait_for_selector("text=This parent already has a department with this name.")
    field_sales = Department.objects.get(name="Field Sales")
    page.goto(f"/departments/{field_sales.pk}/")
    page.fill("input[name=name]", "Field Team")
    page.select_option("select[name=parent]", str(org["care"].pk))
    page.click("input[name=save]")
    page.wait_for_selector("text=The department was saved.")
    table = page.locator("[data-testid=events-table]").inner_text()
    assert "Department created" in table and "Department renamed or moved" in table
    assert "My Company / Sales Department" in table and "My Company / Customer Care" in table
    screenshot(page, "users-departments-recent-changes")


def test_the_events_tab_names_things_and_says_who_acted_as_whom(
    page: Any, admin_user: User, learner_user: User
) -> None:
    course, _ = course_with("lesson", "exam", title="Onboarding")
    enroll(learner_user, course)
    progress_mark_complete(course=course, actor=admin_user, users=[learner_user])
    certification_award(
        certification=CertificationFactory(title="Forklift safety"),
        users=[learner_user],
        issued_on=date(2026, 3, 1),
        actor=admin_user,
    )
    carl = customer_service(username="carl", first_name="Carl", last_name="Jones")
    with acting_impersonator(admin_user):
        event_record(
            kind=EventKind.USER_UPDATED,
            actor=carl,
            subject=learner_user,
            target=learner_user,
            details={"changes": {"phone": ["", "+1 555 0199"]}},
            manual=True,
        )
    log_in(page, "admin")
    page.goto(f"/users/{learner_user.pk}/events/")
    table = page.locator("[data-testid=events-table]")
    text = table.inner_text()
    assert "Ada Admin, as Carl Jones" in text and "Carl Jones as Ada Admin" not in text
    assert "Course: Onboarding" in text and "Certification: Forklift safety" in text
    assert "Course id" not in text and "Certification id" not in text
    assert table.get_by_role("link", name="Onboarding").count() > 0
    screenshot(page, "users-record-events-names")
