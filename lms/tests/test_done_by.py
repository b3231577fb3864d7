"""Who did something reads the same way on every page: when Ada Admin was logged in as Carl
Jones (the record's actor is Carl, its impersonator Ada), "Ada Admin, as Carl Jones": the
person first, then whose account they used."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from achievements.services import points_award
from lms.context import acting_impersonator
from lms.event_kinds import EventKind
from lms.events import event_record
from lms.jobs import job_create
from lms.templatetags.events_tags import done_by
from users.models import Department, User
from users.services import department_create
from users.tests.factories import customer_service, super_admin

pytestmark = pytest.mark.django_db

RIGHT = "Ada Admin, as Carl Jones"
WRONG = "Carl Jones as Ada Admin"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


@pytest.fixture
def carl(db: None) -> User:
    return customer_service(username="carl", first_name="Carl", last_name="Jones")


def test_done_by_names_the_person_then_the_account_they_used(admin_user: User, carl: User) -> None:
    assert _text(done_by(carl, admin_user)) == RIGHT
    assert done_by(carl) == "Carl Jones"
    assert done_by(None) == "System"
    assert done_by(None, nobody="Automatic") == "Automatic"


def test_the_events_tab_says_who_the_right_way_round(
    client: Client, admin_user: User, carl: User, learner_user: User
) -> None:
    with acting_impersonator(admin_user):
        event_record(
            kind=EventKind.USER_UPDATED,
            actor=carl,
            subject=learner_user,
            target=learner_user,
            details={"changes": {"phone": ["", "+1 555 0100"]}},
            manual=True,
        )
    client.force_login(admin_user)
    page = _text(client.get(reverse("users:events", args=[learner_user.pk])).text)
    assert RIGHT in page and WRONG not in page


def test_the_organisation_pages_say_who_the_right_way_round(
    client: Client, admin_user: User, org: dict[str, Department]
) -> None:
    carl = super_admin(username="carl", first_name="Carl", last_name="Jones")
    with acting_impersonator(admin_user):
        department_create(name="Field Sales", parent=org["sales"], actor=carl)
    client.force_login(admin_user)
    page = _text(client.get(reverse("users:department_list")).text)
    assert RIGHT in page and WRONG not in page


def test_the_points_ledger_says_who_the_right_way_round(
    client: Client, admin_user: User, carl: User, learner_user: User
) -> None:
    with acting_impersonator(admin_user):
        points_award(user=learner_user, amount=5, reason="Helping out", actor=carl)
    client.force_login(admin_user)
    page = _text(client.get(reverse("achievements:user_tab", args=[learner_user.pk])).text)
    assert RIGHT in page and WRONG not in page


def test_the_engagement_tab_says_who_the_right_way_round(
    client: Client, admin_user: User, carl: User, learner_user: User
) -> None:
    from progress.tests.factories import course_with

    course, _ = course_with("lesson", title="Onboarding")
    with acting_impersonator(admin_user):
        event_record(
            kind=EventKind.ENROLLED,
            actor=carl,
            subject=learner_user,
            target=course,
            details={"course_id": course.pk},
            manual=True,
        )
    client.force_login(admin_user)
    page = _text(client.get(reverse("progress:user_engagement", args=[learner_user.pk])).text)
    assert RIGHT in page and WRONG not in page


def test_the_jobs_pages_say_who_started_a_job_the_right_way_round(
    client: Client, admin_user: User, carl: User
) -> None:
    with acting_impersonator(admin_user):
        job = job_create(
            kind="users.add_to_group", label="Add to group", item_ids=[1, 2], actor=carl
        )
    client.force_login(admin_user)
    detail = _text(client.get(reverse("lms:job_detail", args=[job.pk])).text)
    listing = _text(client.get(reverse("lms:job_list")).text)
    assert RIGHT in detail and "impersonated" not in detail
    assert RIGHT in listing
