"""The issue's paths: an admin selects five users in the users list, "Update progress" marks
two activities complete (with the completion email), the Progress tab shows "Manually", then
the admin resets one user's progress; a learner takes an exam in the player."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from progress.models import Activity, ActivityCompletion, CourseCompletion
from progress.tests.factories import EXAM_CONTENT, ActivityFactory, course_with, enroll
from tests.e2e.conftest import log_in, screenshot
from users.models import Department, User
from users.tests.factories import learner

pytestmark = pytest.mark.e2e
K = Activity.Kind


def test_admin_updates_progress_for_five_users_then_resets_one(
    page: Any, admin_user: User, org: dict[str, Department]
) -> None:
    course, acts = course_with(K.LESSON, K.FORM, K.LESSON, modules=2, title="Car Sale Dialog")
    Activity.objects.filter(pk=acts[2].pk).update(is_required=False)
    names = ["Agata Brown", "Earl Miller", "Julie Gibson", "Lisa Langdon", "Mark Spencer"]
    people = []
    for name in names:
        first, last = name.split()
        person = learner(first_name=first, last_name=last, username=first.lower())
        enroll(person, course)
        people.append(person)
    log_in(page, "admin")
    page.goto("/users/")
    for person in people:
        page.check(f"input[name=user_ids][value='{person.pk}']")
    screenshot(page, "progress-users-selected")
    page.click("[data-testid=bulk-bar] >> text=Update progress")
    page.wait_for_selector("[data-testid=course-pick]")
    assert "for 5 users" in page.inner_text("h1")
    page.select_option("select[name=course]", str(course.pk))
    page.click("[data-testid=course-pick] >> text=Next")
    page.wait_for_selector("[data-testid=progress-form]")
    page.check("input[name=scope][value=activities]")
    page.check(f"input[name=activities][value='{acts[0].pk}']")
    page.check(f"input[name=activities][value='{acts[1].pk}']")
    page.check("input[name=send_email]")
    screenshot(page, "progress-bulk-update-form")
    page.click("[data-testid=progress-submit]")
    page.wait_for_selector("text=10 activity completions recorded for 5 learners")
    screenshot(page, "progress-bulk-update-done")
    assert CourseCompletion.objects.filter(course=course).count() == 5
    assert len(mail.outbox) == 5
    page.goto(f"/learning/users/{people[0].pk}/progress/")
    page.wait_for_selector("[data-testid=course-progress]")
    assert page.locator("[data-testid=manual-label]").count() == 2
    screenshot(page, "progress-user-tab-manually")
    page.click("[data-testid=reset-progress]")
    page.select_option("select[name=course]", str(course.pk))
    page.click("[data-testid=course-pick] >> text=Next")
    page.wait_for_selector("[data-testid=progress-form]")
    screenshot(page, "progress-reset-form")
    page.click("[data-testid=progress-submit]")
    page.wait_for_selector("text=was reset")
    assert not ActivityCompletion.objects.filter(user=people[0]).exists()
    assert ActivityCompletion.objects.filter(user=people[1]).count() == 2
    screenshot(page, "progress-user-tab-after-reset")
    for tab in ("access", "engagement", "transcript"):
        page.goto(f"/learning/users/{people[1].pk}/{tab}/")
        screenshot(page, f"progress-user-{tab}")


def test_learner_takes_an_exam_and_fails_then_passes(page: Any, learner_user: User) -> None:
    course, acts = course_with(K.LESSON, title="Customer Care Essentials", sequential=True)
    exam = ActivityFactory(
        module=acts[0].module,
        kind=K.EXAM,
        title="Care quiz",
        position=5,
        content=EXAM_CONTENT,
        pass_mark=100,
        attempt_limit=3,
    )
    enroll(learner_user, course)
    log_in(page, "anna")
    page.goto("/learning/my-courses/")
    page.click("text=Customer Care Essentials")
    page.wait_for_selector("[data-testid=lock-reason]")
    screenshot(page, "progress-player-locked")
    page.click(f"text={acts[0].title}")
    page.click("[data-testid=complete-activity]")
    page.wait_for_selector("[data-testid=activity-completed]")
    page.goto(f"/learning/my-courses/activity/{exam.pk}/")
    page.check("#q1_0")
    page.check("#q2_0")
    page.click("[data-testid=exam-submit]")
    page.wait_for_selector("[data-testid=exam-result]")
    assert "50%" in page.inner_text("[data-testid=exam-result]")
    assert page.inner_text("[data-testid=attempts-left]") == "2 of 3 attempts left"
    screenshot(page, "progress-exam-failed")
    page.check("#q1_0")
    page.check("#q2_1")
    page.click("[data-testid=exam-submit]")
    page.wait_for_selector("[data-testid=activity-completed]")
    assert "100%" in page.inner_text("[data-testid=activity-completed]")
    screenshot(page, "progress-exam-passed")
    page.goto("/learning/my-courses/")
    screenshot(page, "progress-my-courses")
    assert CourseCompletion.objects.filter(user=learner_user, course=course).exists()
