"""Through the event log's subscribers: a course completed by "Update progress" awards the
certifications linked to the course and the course's points, once."""

from __future__ import annotations

import pytest

from certifications.models import CertificationAward
from certifications.tests.factories import CertificationFactory
from progress.models import Activity
from progress.selectors import points_total
from progress.services import progress_mark_complete, progress_reset
from progress.tests.factories import course_with, enroll
from users.models import User

K = Activity.Kind
pytestmark = pytest.mark.django_db


def test_manual_course_completion_awards_linked_certification_once(
    admin_user: User, learner_user: User
) -> None:
    course, acts = course_with(K.LESSON, K.EXAM)
    certification = CertificationFactory()
    certification.courses.add(course)
    enroll(learner_user, course)
    progress_mark_complete(
        users=[learner_user], course=course, activities=acts[:1], actor=admin_user
    )
    assert not CertificationAward.objects.filter(user=learner_user).exists()
    progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    assert (
        CertificationAward.objects.filter(user=learner_user, certification=certification).count()
        == 1
    )


def test_reset_keeps_issued_certification_and_points(admin_user: User, learner_user: User) -> None:
    course, _ = course_with(K.LESSON, K.FORM)
    certification = CertificationFactory()
    certification.courses.add(course)
    enroll(learner_user, course)
    progress_mark_complete(users=[learner_user], course=course, actor=admin_user)
    points = points_total(user=learner_user)
    assert points is not None and points > 0
    progress_reset(users=[learner_user], course=course, actor=admin_user)
    assert CertificationAward.objects.filter(user=learner_user).count() == 1
    assert points_total(user=learner_user) == points
