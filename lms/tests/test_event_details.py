"""Event details name things, not internal ids: "Course: Onboarding" (linked to its page while
it exists), not "Course id: 1". The names of a page's events are read in one query per kind
of thing, whatever the number of events."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from certifications.services import certification_award
from certifications.tests.factories import CertificationFactory
from lms.event_kinds import EventKind
from lms.events import event_record
from lms.models import Event
from lms.selectors import events_with_details
from progress.services import progress_mark_complete
from progress.tests.factories import course_with, enroll
from users.models import User

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_events_tab_names_courses_modules_and_certifications_with_links(
    client: Client, admin_user: User, learner_user: User
) -> None:
    course, activities = course_with("lesson", title="Onboarding")
    module = activities[0].module
    module.title = "Welcome"
    module.save()
    enroll(learner_user, course)
    progress_mark_complete(course=course, actor=admin_user, users=[learner_user])
    certification = CertificationFactory(title="Forklift")
    certification_award(
        certification=certification,
        users=[learner_user],
        issued_on=date(2026, 3, 1),
        actor=admin_user,
    )
    client.force_login(admin_user)
    html = client.get(reverse("users:events", args=[learner_user.pk])).text
    text = _text(html)
    assert "Course id" not in text and "Module id" not in text and "Certification id" not in text
    assert "Course: Onboarding" in text and "Module: Welcome" in text
    assert "Certification: Forklift" in text and "Award: Forklift, issued Mar 1, 2026" in text
    course_page = reverse("progress:course_detail", args=[course.pk])
    assert f'<a href="{course_page}">Onboarding</a>' in html
    assert (
        f'<a href="{reverse("certifications:awarded", args=[certification.pk])}">Forklift</a>'
        in html
    )


def test_a_thing_deleted_since_is_shown_by_the_events_own_label(
    admin_user: User, learner_user: User
) -> None:
    course, _ = course_with("lesson", title="Old course")
    event_record(
        kind=EventKind.ENROLLED,
        actor=admin_user,
        subject=learner_user,
        target=course,
        details={"course_id": course.pk},
        manual=True,
    )
    course_pk = course.pk
    course.delete()
    (event,) = events_with_details(Event.objects.filter(kind=EventKind.ENROLLED))
    assert [(row.label, row.value, row.url) for row in event.detail_rows] == [
        ("Course", "Old course (deleted)", None)
    ]
    assert event.details == {"course_id": course_pk}


def test_changes_and_plain_values_keep_their_labels(admin_user: User, learner_user: User) -> None:
    event_record(
        kind=EventKind.USER_UPDATED,
        actor=admin_user,
        subject=learner_user,
        details={
            "changes": {"phone": ["1", "2"], "custom:Employee ID": [None, "E-7"]},
            "by": "admin",
        },
    )
    (event,) = events_with_details(Event.objects.filter(kind=EventKind.USER_UPDATED))
    assert [(row.label, row.old, row.value) for row in event.detail_rows] == [
        ("Phone", "1", "2"),
        ("Employee ID", "(empty)", "E-7"),
        ("By", None, "admin"),
    ]


@pytest.mark.parametrize("courses", [2, 12])
def test_the_events_tab_reads_the_names_in_the_same_queries_for_more_events(
    client: Client,
    admin_user: User,
    learner_user: User,
    django_assert_num_queries: Any,
    courses: int,
) -> None:
    for n in range(courses):
        course, _ = course_with("lesson", "lesson", modules=2, title=f"Course {n}")
        enroll(learner_user, course)
        progress_mark_complete(course=course, actor=admin_user, users=[learner_user])
        certification_award(
            certification=CertificationFactory(),
            users=[learner_user],
            issued_on=date(2026, 3, 1),
            actor=admin_user,
        )
    client.force_login(admin_user)
    url = reverse("users:events", args=[learner_user.pk])
    client.get(url)
    # the session, the viewer and their roles, the subject, the count and the page of events,
    # then one query each for the courses, modules, certifications and awards named
    with django_assert_num_queries(12):
        response = client.get(url)
    shown = response.context["events"]
    assert len(shown) == min(25, Event.objects.filter(subject=learner_user).count())
    assert {"Course", "Module", "Certification", "Award"} <= {
        row.label for event in shown for row in event.detail_rows
    }


def test_a_payment_is_named_and_linked_to_the_learners_payments_tab(
    admin_user: User, learner_user: User
) -> None:
    from payments.tests.factories import course_product, pay

    pay(learner_user, course_product(price=4900, currency="EUR"), admin_user)
    (event,) = events_with_details(
        Event.objects.filter(subject=learner_user, kind=EventKind.PAYMENT_RECORDED)
    )
    rows = {row.label: row for row in event.detail_rows}
    assert "Transaction id" not in rows
    assert rows["Transaction"].url == reverse("payments:user_tab", args=[learner_user.pk])
    assert rows["Transaction"].value.startswith("Payment")
