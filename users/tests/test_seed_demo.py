from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from lms.models import Event
from users.models import CustomField, Department, User, UserGroup
from users.roles import Role

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        User.objects.count(),
        Department.objects.count(),
        UserGroup.objects.count(),
        CustomField.objects.count(),
        Event.objects.count(),
    )


def test_seed_demo_builds_the_organisation_and_69_people() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    assert User.objects.count() == 69
    assert set(Department.objects.values_list("name", flat=True)) == {
        "My Company",
        "Human Resource",
        "Customer Care",
        "Sales Department",
        "Active Sales",
    }
    anna = User.objects.get(username="anna")
    assert anna.get_full_name() == "Anna Smith"
    assert [d.name for d in anna.departments.all()] == ["Active Sales"]
    assert anna.check_password("merit-demo-2026")
    assert anna.custom_fields["employee_id"].startswith("MC-")
    for role in Role:
        assert User.objects.filter(groups__name=role).exists(), role
    assert User.objects.filter(is_active=False).count() == 4
    salesadmin = User.objects.get(username="salesadmin")
    assert [d.name for d in salesadmin.administered_departments.all()] == ["Sales Department"]


def test_seed_demo_twice_changes_nothing() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    before = _counts()
    snapshot = list(User.objects.order_by("pk").values_list("username", "phone", "last_login"))
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == before
    assert list(User.objects.order_by("pk").values_list("username", "phone", "last_login")) == (
        snapshot
    )
