from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from certifications.models import CertificationAward, CertificationReminder
from certifications.selectors import certification_awards_for_user
from certifications.services import (
    SKIP_OUT_OF_SCOPE,
    certification_award,
    certification_award_unassign,
    certification_award_update,
    certification_create,
    certification_reminders_send,
)
from certifications.tests.factories import (
    AwardFactory,
    CertificationFactory,
    CourseFactory,
    ExternalTrainingFactory,
    LearningPlanFactory,
)
from lms.event_kinds import EventKind
from lms.events import event_record
from lms.models import Event
from users.roles import user_role_names
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 1)


def _events(kind: str) -> int:
    return Event.objects.filter(kind=kind).count()


def test_create_records_an_event_and_links_courses(admin_user):
    course = CourseFactory()
    certification = certification_create(
        title="Sales Excellence", validity_days=365, courses=[course], actor=admin_user
    )
    assert list(certification.courses.all()) == [course]
    assert _events(EventKind.CERTIFICATION_DEFINED) == 1


def test_award_uses_the_validity_for_the_expiry(admin_user):
    certification = CertificationFactory(validity_days=365)
    user = UserFactory()
    outcome = certification_award(
        certification=certification, users=[user], issued_on=TODAY, actor=admin_user
    )
    award = CertificationAward.objects.get(user=user)
    assert outcome.awarded == [user.pk]
    assert award.expires_on == TODAY + timedelta(days=365)
    assert award.is_current and len(award.code) >= 20
    assert _events(EventKind.CERTIFICATION_AWARDED) == 1


def test_award_always_valid_has_no_expiry(admin_user):
    user = UserFactory()
    certification_award(
        certification=CertificationFactory(),
        users=[user],
        issued_on=TODAY,
        always_valid=True,
        actor=admin_user,
    )
    award = CertificationAward.objects.get(user=user)
    assert award.expires_on is None
    assert award.status == CertificationAward.Status.ALWAYS_VALID


def test_award_to_a_holder_renews_and_keeps_the_earlier_award_in_history(admin_user):
    certification = CertificationFactory()
    user = UserFactory()
    first = AwardFactory(certification=certification, user=user, issued_on=date(2025, 1, 1))
    outcome = certification_award(
        certification=certification, users=[user], issued_on=TODAY, actor=admin_user
    )
    assert outcome.renewed == [user.pk] and outcome.awarded == []
    first.refresh_from_db()
    assert not first.is_current and first.ended_reason == "renewed"
    current = CertificationAward.objects.get(user=user, is_current=True)
    assert current.issued_on == TODAY and current.code != first.code
    assert CertificationAward.objects.filter(user=user).count() == 2
    event = Event.objects.get(kind=EventKind.CERTIFICATION_RENEWED)
    assert event.details["previous_award_id"] == first.pk


def test_replaying_the_same_batch_awards_nobody_twice(admin_user):
    certification = CertificationFactory()
    users = UserFactory.create_batch(3)
    for _ in range(2):
        outcome = certification_award(
            certification=certification,
            users=users,
            issued_on=TODAY,
            actor=admin_user,
            source_key="job:replayed",
        )
    assert len(outcome.skipped) == 3
    assert CertificationAward.objects.filter(certification=certification).count() == 3
    assert _events(EventKind.CERTIFICATION_AWARDED) == 3


def test_one_current_award_per_user_is_enforced_by_the_database():
    award = AwardFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        AwardFactory(certification=award.certification, user=award.user)


def test_expiry_before_issue_is_refused_and_nothing_is_written(admin_user):
    with pytest.raises(ValidationError):
        certification_award(
            certification=CertificationFactory(),
            users=[UserFactory()],
            issued_on=TODAY,
            expires_on=TODAY - timedelta(days=1),
            actor=admin_user,
        )
    assert not CertificationAward.objects.exists()
    assert not Event.objects.filter(kind__startswith="certification.awarded").exists()


def test_empty_selection_is_refused(admin_user):
    with pytest.raises(ValidationError, match="at least one user"):
        certification_award(
            certification=CertificationFactory(), user_ids=[], issued_on=TODAY, actor=admin_user
        )


def test_external_association_needs_the_activity(admin_user):
    with pytest.raises(ValidationError):
        certification_award(
            certification=CertificationFactory(),
            users=[UserFactory()],
            issued_on=TODAY,
            association=CertificationAward.Association.EXTERNAL,
            actor=admin_user,
        )
    assert not CertificationAward.objects.exists()


def test_department_admin_awards_only_inside_their_departments(sales_admin, learner_user, outsider):
    outcome = certification_award(
        certification=CertificationFactory(),
        users=[learner_user, outsider],
        issued_on=TODAY,
        actor=sales_admin,
    )
    assert outcome.awarded == [learner_user.pk]
    assert outcome.skipped == {outsider.pk: SKIP_OUT_OF_SCOPE}
    assert not CertificationAward.objects.filter(user=outsider).exists()


def test_unknown_user_ids_are_skipped(admin_user):
    outcome = certification_award(
        certification=CertificationFactory(), user_ids=[999_999], issued_on=TODAY, actor=admin_user
    )
    assert outcome.skipped == {999_999: SKIP_OUT_OF_SCOPE}
    assert not CertificationAward.objects.exists()


def test_award_queries_do_not_grow_with_the_number_of_users(admin_user, django_assert_num_queries):
    certification = CertificationFactory()
    few, many = UserFactory.create_batch(3), UserFactory.create_batch(60)
    AwardFactory(certification=certification, user=few[0])  # one renewal in each batch
    AwardFactory(certification=certification, user=many[0])
    user_role_names(admin_user)  # the role lookup is cached per request
    ContentType.objects.get_for_model(CertificationAward)  # and the events' target type
    # Savepoint + release (the optimistic write), and per event kind one id allocation + COPY.
    with django_assert_num_queries(17):
        certification_award(
            certification=certification, users=few, issued_on=TODAY, actor=admin_user
        )
    with django_assert_num_queries(17):
        certification_award(
            certification=certification, users=many, issued_on=TODAY, actor=admin_user
        )
    assert CertificationAward.objects.filter(is_current=True).count() == 63


def test_update_changes_dates_and_records_before_and_after(admin_user):
    award = AwardFactory(issued_on=TODAY)
    certification_award_update(
        award=award,
        issued_on=TODAY,
        expires_on=TODAY + timedelta(days=10),
        always_valid=False,
        association=CertificationAward.Association.MANUAL,
        actor=admin_user,
    )
    award.refresh_from_db()
    assert award.expires_on == TODAY + timedelta(days=10)
    event = Event.objects.get(kind=EventKind.CERTIFICATION_UPDATED)
    assert event.details["after"]["expires_on"] == (TODAY + timedelta(days=10)).isoformat()


def test_update_with_expiry_before_issue_is_refused(admin_user):
    award = AwardFactory(issued_on=TODAY)
    before = award.expires_on
    with pytest.raises(ValidationError):
        certification_award_update(
            award=award,
            issued_on=TODAY,
            expires_on=TODAY - timedelta(days=1),
            always_valid=False,
            association=CertificationAward.Association.MANUAL,
            actor=admin_user,
        )
    award.refresh_from_db()
    assert award.expires_on == before
    assert not Event.objects.filter(kind=EventKind.CERTIFICATION_UPDATED).exists()


def test_unassign_keeps_the_award_in_history_and_logs_it(admin_user):
    award = AwardFactory()
    certification_award_unassign(award=award, actor=admin_user)
    award.refresh_from_db()
    assert not award.is_current and award.ended_reason == "unassigned"
    assert not certification_awards_for_user(user=award.user).exists()
    assert Event.objects.filter(kind=EventKind.CERTIFICATION_UNASSIGNED, actor=admin_user).exists()


def test_unassign_twice_is_refused(admin_user):
    award = AwardFactory()
    certification_award_unassign(award=award, actor=admin_user)
    with pytest.raises(ValidationError):
        certification_award_unassign(award=award, actor=admin_user)


def test_selector_gives_current_awards_with_status():
    user = UserFactory()
    today = timezone.localdate()
    AwardFactory(user=user, expires_on=today + timedelta(days=200), issued_on=today)
    AwardFactory(user=user, expires_on=today + timedelta(days=5), issued_on=today)
    AwardFactory(
        user=user, issued_on=today - timedelta(days=30), expires_on=today - timedelta(days=1)
    )
    AwardFactory(user=user, expires_on=None)
    AwardFactory(user=user, is_current=False, ended_reason="unassigned")
    statuses = sorted(award.status for award in certification_awards_for_user(user=user))
    assert statuses == ["active", "always_valid", "expired", "expiring"]


# --- automatic awards --------------------------------------------------------------------


def test_course_completion_awards_the_linked_certification():
    course = CourseFactory()
    certification = CertificationFactory()
    certification.courses.add(course)
    user = UserFactory()
    event_record(
        kind=EventKind.COURSE_COMPLETED,
        actor=user,
        subject=user,
        target=course,
        details={"course_id": course.pk},
    )
    award = CertificationAward.objects.get(user=user, certification=certification)
    assert award.association == CertificationAward.Association.COMPLETION
    assert award.awarded_by is None


def test_replayed_completion_event_awards_nothing_twice():
    course = CourseFactory()
    certification = CertificationFactory()
    certification.courses.add(course)
    user = UserFactory()
    event = event_record(
        kind=EventKind.COURSE_COMPLETED,
        actor=user,
        subject=user,
        target=course,
        details={"course_id": course.pk},
    )
    from certifications.subscribers import on_course_completed

    on_course_completed([event])
    event_record(kind=EventKind.COURSE_COMPLETED, actor=user, subject=user, target=course)
    assert CertificationAward.objects.filter(user=user).count() == 1
    assert _events(EventKind.CERTIFICATION_AWARDED) == 1


def test_completion_when_the_award_is_expiring_renews_it():
    course = CourseFactory()
    certification = CertificationFactory(renewal_window_days=30)
    certification.courses.add(course)
    user = UserFactory()
    today = timezone.localdate()
    AwardFactory(
        certification=certification,
        user=user,
        issued_on=today - timedelta(days=360),
        expires_on=today + timedelta(days=5),
    )
    event_record(kind=EventKind.COURSE_COMPLETED, actor=user, subject=user, target=course)
    assert CertificationAward.objects.filter(user=user).count() == 2
    assert CertificationAward.objects.get(user=user, is_current=True).issued_on == today


def test_learning_plan_completion_awards_the_linked_certification():
    plan = LearningPlanFactory()
    certification = CertificationFactory()
    certification.learning_plans.add(plan)
    user = UserFactory()
    event_record(kind=EventKind.LEARNING_PLAN_COMPLETED, actor=user, subject=user, target=plan)
    assert CertificationAward.objects.filter(user=user, certification=certification).exists()


def test_external_training_awards_with_the_activity():
    training = ExternalTrainingFactory()
    certification = CertificationFactory()
    certification.external_trainings.add(training)
    user = UserFactory()
    event_record(
        kind=EventKind.EXTERNAL_TRAINING_RECORDED, actor=None, subject=user, target=training
    )
    award = CertificationAward.objects.get(user=user)
    assert award.association == CertificationAward.Association.EXTERNAL
    assert award.external_training == training


def test_completion_of_an_unlinked_course_awards_nothing():
    CertificationFactory().courses.add(CourseFactory())
    user = UserFactory()
    event_record(kind=EventKind.COURSE_COMPLETED, actor=user, subject=user, target=CourseFactory())
    assert not CertificationAward.objects.exists()


# --- expiry ------------------------------------------------------------------------------


def test_reminders_email_once_per_award_per_stage_and_mark_expired():
    certification = CertificationFactory(renewal_window_days=30)
    expiring = AwardFactory(
        certification=certification, issued_on=date(2025, 3, 20), expires_on=date(2026, 3, 20)
    )
    expired = AwardFactory(
        certification=certification, issued_on=date(2025, 2, 1), expires_on=date(2026, 2, 1)
    )
    AwardFactory(certification=certification, issued_on=TODAY, expires_on=date(2027, 3, 1))
    AwardFactory(certification=certification, issued_on=TODAY, expires_on=None)

    first = certification_reminders_send(today=TODAY)
    second = certification_reminders_send(today=TODAY)

    assert (first.renewal_emails, first.expired_emails, first.marked_expired) == (1, 1, 1)
    assert (second.renewal_emails, second.expired_emails, second.marked_expired) == (0, 0, 0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([expiring.user.email, expired.user.email])
    assert "renewal" in next(m.subject for m in mail.outbox if m.to == [expiring.user.email])
    expired.refresh_from_db()
    assert expired.expired_marked_at is not None
    assert CertificationReminder.objects.count() == 2
    assert _events(EventKind.CERTIFICATION_EXPIRED) == 1
    assert _events(EventKind.CERTIFICATION_REMINDER_SENT) == 2


def test_an_expiring_award_later_gets_the_expired_email_too():
    certification = CertificationFactory(renewal_window_days=30)
    AwardFactory(
        certification=certification, issued_on=date(2025, 3, 10), expires_on=date(2026, 3, 10)
    )
    certification_reminders_send(today=TODAY)
    certification_reminders_send(today=date(2026, 3, 11))
    assert [m.subject.split()[-1] for m in mail.outbox] == ["renewal", "expired"]


def test_unassigned_awards_get_no_reminder(admin_user):
    award = AwardFactory(issued_on=date(2025, 3, 10), expires_on=date(2026, 3, 10))
    certification_award_unassign(award=award, actor=admin_user)
    run = certification_reminders_send(today=TODAY)
    assert run.renewal_emails == 0 and not mail.outbox


@pytest.mark.django_db(transaction=True)
def test_concurrent_awards_to_the_same_users_take_turns(admin_user):
    """Two awarders at once (two admins, or a job and a course completion): without the lock
    both would insert a current award and one would fail on the unique constraint."""
    import threading

    from django.db import connection

    certification = CertificationFactory()
    users = UserFactory.create_batch(40)
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def award(key: str) -> None:
        try:
            start.wait()
            certification_award(
                certification=certification,
                users=users,
                issued_on=TODAY,
                actor=admin_user,
                source_key=key,
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=award, args=(key,)) for key in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert CertificationAward.objects.filter(is_current=True).count() == 40
    assert CertificationAward.objects.count() == 80  # one award each, then one renewal each
