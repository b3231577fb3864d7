from __future__ import annotations

from collections.abc import Sequence

import pytest
from django.db import transaction

from lms import events as events_module
from lms.context import acting_impersonator
from lms.event_kinds import SUBSCRIBERS, EventKind
from lms.events import EventSpec, event_record, event_record_bulk
from lms.models import Event
from users.models import User
from users.tests.factories import UserFactory

SEEN: list[list[int]] = []
TEST_KIND = "test.something_happened"


def remember(events: Sequence[Event]) -> None:
    SEEN.append([event.pk for event in events])


def explode(events: Sequence[Event]) -> None:
    raise RuntimeError("subscriber failed")


@pytest.fixture
def subscribed(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Register test subscribers for TEST_KIND for one test."""

    def register(*paths: str) -> None:
        SUBSCRIBERS[TEST_KIND] = list(paths)
        events_module._subscribers_for.cache_clear()

    yield register
    SUBSCRIBERS.pop(TEST_KIND, None)
    events_module._subscribers_for.cache_clear()
    SEEN.clear()


@pytest.mark.django_db
def test_event_records_actor_subject_target_details_and_manual(admin_user: User) -> None:
    subject = UserFactory()
    event = event_record(
        kind=TEST_KIND,
        actor=admin_user,
        subject=subject,
        target=subject,
        details={"phone": ["", "555"]},
        manual=True,
    )
    event.refresh_from_db()
    assert (event.actor, event.subject, event.is_manual) == (admin_user, subject, True)
    assert event.target_label == str(subject) and event.target_id == subject.pk
    assert event.details == {"phone": ["", "555"]}
    assert event.impersonator is None


@pytest.mark.django_db
def test_event_cannot_be_edited_once_recorded(admin_user: User) -> None:
    event = event_record(kind=TEST_KIND, actor=admin_user, subject=admin_user)
    event.details = {"forged": True}
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    event.refresh_from_db()
    assert event.details == {}


@pytest.mark.django_db
def test_impersonator_comes_from_the_acting_context(admin_user: User) -> None:
    impersonated = UserFactory()
    with acting_impersonator(admin_user):
        event = event_record(kind=TEST_KIND, actor=impersonated, subject=impersonated)
    assert (event.actor, event.impersonator) == (impersonated, admin_user)


@pytest.mark.django_db
def test_subscribers_receive_the_recorded_events(subscribed, admin_user: User) -> None:  # type: ignore[no-untyped-def]
    subscribed("lms.tests.test_events.remember")
    single = event_record(kind=TEST_KIND, actor=admin_user, subject=admin_user)
    users = UserFactory.create_batch(3)
    batch = event_record_bulk(
        kind=TEST_KIND, actor=admin_user, specs=[EventSpec(subject=u) for u in users]
    )
    assert [[single.pk], [e.pk for e in batch]] == SEEN
    assert all(pk is not None for pk in SEEN[1])


@pytest.mark.django_db
def test_a_failing_subscriber_rolls_back_the_whole_change(subscribed, admin_user: User) -> None:  # type: ignore[no-untyped-def]
    subscribed("lms.tests.test_events.explode")
    subject = UserFactory(phone="111")
    with pytest.raises(RuntimeError), transaction.atomic():
        User.objects.filter(pk=subject.pk).update(phone="222")
        event_record(kind=TEST_KIND, actor=admin_user, subject=subject)
    subject.refresh_from_db()
    assert subject.phone == "111"
    assert not Event.objects.filter(kind=TEST_KIND).exists()


@pytest.mark.django_db
def test_deleting_a_user_still_removes_their_events_and_forgets_them_as_actor(
    admin_user: User,
) -> None:
    """The event log's references have no database constraint (bulk writes); Django's
    collector keeps the on_delete rules."""
    learner = UserFactory()
    event_record(kind=EventKind.USER_UPDATED, actor=admin_user, subject=learner)
    by_learner = event_record(kind=EventKind.USER_UPDATED, actor=learner, subject=admin_user)
    learner.delete()
    assert not Event.objects.filter(subject_id=learner.pk).exists()
    by_learner.refresh_from_db()
    assert by_learner.actor_id is None and by_learner.subject_id == admin_user.pk
