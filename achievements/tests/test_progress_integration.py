"""Points from the real progress services: a passed module and course, once, even after a reset."""

from __future__ import annotations

import pytest

from achievements.models import PointsBalance, PointsEntry
from achievements.tests.factories import ActivityFactory, ModuleFactory
from progress.services import enrollment_create, progress_mark_complete, progress_reset
from users.models import User

pytestmark = pytest.mark.django_db


def test_completing_a_course_awards_module_and_course_points_once_even_after_a_reset(
    admin_user: User, learner_user: User
) -> None:
    module = ModuleFactory(title="Pitching")
    ActivityFactory(module=module, title="Open strong")
    course = module.course
    enrollment_create(user=learner_user, course=course, actor=admin_user)
    progress_mark_complete(course=course, actor=admin_user, users=[learner_user])
    assert sorted(PointsEntry.objects.values_list("source", "amount")) == [
        ("course", 50),
        ("module", 10),
    ]
    progress_reset(course=course, actor=admin_user, users=[learner_user])
    progress_mark_complete(course=course, actor=admin_user, users=[learner_user])
    assert PointsEntry.objects.count() == 2
    assert PointsBalance.objects.get(user=learner_user).points == 60
