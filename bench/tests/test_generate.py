"""`bench.generate` at a tiny size: the counts it promises, and the same data again
from the same seed. (Timings are the benchmark's business, not the suite's.)"""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction

from bench.generate import (
    ACTIVITIES_PER_MODULE,
    BENCH_ADMIN_USERNAME,
    COURSE_COUNT,
    DIVISIONS,
    HEAVY_LEDGER,
    HEAVY_USERNAME,
    MODULES_PER_COURSE,
    SQUADS_PER_TEAM,
    TEAMS_PER_DIVISION,
    GenerateError,
    generate,
)
from users.models import Department, User
from users.roles import Role


def _generate(users: int, seed: int, ledger: int = 0) -> str:
    out = StringIO()
    generate(users=users, ledger=ledger, seed=seed, stdout=out)
    return out.getvalue()


def _model_or_skip(label: str) -> Any:
    """The other apps' models are generated only once those apps exist."""
    try:
        return apps.get_model(label)
    except LookupError:
        pytest.skip(f"{label} does not exist yet")


def _snapshot() -> list[tuple[str, str, str, str, list[str], list[str]]]:
    """The generated people as the seed decides them, without primary keys."""
    people = (
        User.objects.filter(username__startswith="load-")
        .prefetch_related("departments", "user_groups")
        .order_by("username")
    )
    return [
        (
            user.username,
            user.first_name,
            user.last_name,
            user.email,
            sorted(d.name for d in user.departments.all()),
            sorted(g.name for g in user.user_groups.all()),
        )
        for user in people
    ]


@pytest.mark.django_db
def test_generate_load_creates_the_users_and_the_department_tree() -> None:
    _generate(users=60, seed=7)
    assert User.objects.filter(username__startswith="load-").count() == 60
    expected = 1 + len(DIVISIONS) + len(DIVISIONS) * TEAMS_PER_DIVISION * (1 + SQUADS_PER_TEAM)
    root = Department.objects.get(name="Load Company")
    assert Department.objects.filter(path__startswith=root.path).count() == expected


@pytest.mark.django_db
def test_generate_load_puts_every_user_in_one_squad_as_a_learner() -> None:
    _generate(users=40, seed=7)
    people = User.objects.filter(username__startswith="load-").prefetch_related(
        "departments", "groups"
    )
    for user in people:
        assert [d.depth for d in user.departments.all()] == [3]
        assert [g.name for g in user.groups.all()] == [Role.LEARNER]


@pytest.mark.django_db
def test_generate_load_creates_courses_of_twenty_activities() -> None:
    from progress.models import Activity, Course

    _generate(users=5, seed=7)
    courses = Course.objects.filter(slug__startswith="load-course-")
    assert courses.count() == COURSE_COUNT
    per_course = MODULES_PER_COURSE * ACTIVITIES_PER_MODULE
    assert per_course == 20
    assert Activity.objects.filter(module__course__in=courses).count() == COURSE_COUNT * 20


@pytest.mark.django_db
def test_generate_load_creates_a_super_admin_for_the_benchmark() -> None:
    _generate(users=5, seed=7)
    admin = User.objects.get(username=BENCH_ADMIN_USERNAME)
    assert set(admin.groups.values_list("name", flat=True)) == {Role.SUPER_ADMIN, Role.LEARNER}


@pytest.mark.django_db
def test_generate_load_gives_the_same_people_from_the_same_seed() -> None:
    with transaction.atomic():
        _generate(users=50, seed=11)
        first = _snapshot()
        transaction.set_rollback(True)
    assert not User.objects.filter(username__startswith="load-").exists()
    _generate(users=50, seed=11)
    assert _snapshot() == first


@pytest.mark.django_db
def test_generate_load_gives_different_people_from_another_seed() -> None:
    with transaction.atomic():
        _generate(users=50, seed=11)
        first = _snapshot()
        transaction.set_rollback(True)
    _generate(users=50, seed=12)
    assert _snapshot() != first


@pytest.mark.django_db
def test_generate_load_refuses_to_add_a_second_load_to_the_same_database() -> None:
    _generate(users=5, seed=7)
    with pytest.raises(GenerateError, match="already exist"):
        _generate(users=5, seed=7)
    assert User.objects.filter(username__startswith="load-").count() == 5


@pytest.mark.django_db
def test_generate_load_rejects_a_size_below_one_user() -> None:
    with pytest.raises(GenerateError, match="--users"):
        _generate(users=0, seed=7)
    assert not User.objects.filter(username__startswith="load-").exists()


@pytest.mark.django_db
def test_generate_load_writes_the_ledger_with_balances_equal_to_its_sums() -> None:
    from django.db.models import Sum

    entry_model = _model_or_skip("achievements.PointsEntry")
    balance_model = _model_or_skip("achievements.PointsBalance")
    _generate(users=30, seed=7, ledger=400)
    assert entry_model.objects.count() == 400 + HEAVY_LEDGER
    sums = dict(
        entry_model.objects.order_by()
        .values("user_id")
        .annotate(total=Sum("amount"))
        .values_list("user_id", "total")
    )
    assert dict(balance_model.objects.values_list("user_id", "points")) == sums


@pytest.mark.django_db
def test_generate_load_keeps_period_summaries_equal_to_the_ledger() -> None:
    from achievements.services import period_starts

    entry_model = _model_or_skip("achievements.PointsEntry")
    period_model = _model_or_skip("achievements.PeriodPoints")
    _generate(users=10, seed=7, ledger=200)
    expected: dict[tuple[int, str, Any], int] = {}
    for user_id, amount, at in entry_model.objects.values_list("user_id", "amount", "awarded_at"):
        for period, starts_on in period_starts(at).items():
            key = (user_id, str(period), starts_on)
            expected[key] = expected.get(key, 0) + amount
    stored = {
        (row.user_id, row.period, row.starts_on): row.points for row in period_model.objects.all()
    }
    assert stored == expected


@pytest.mark.django_db
def test_generate_load_gives_the_heavy_user_an_enrollment_in_every_course() -> None:
    enrollment_model = _model_or_skip("progress.Enrollment")
    _generate(users=5, seed=7)
    heavy = User.objects.get(username=HEAVY_USERNAME)
    assert enrollment_model.objects.filter(user=heavy).count() == COURSE_COUNT
