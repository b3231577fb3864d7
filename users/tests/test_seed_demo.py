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


def test_seed_demo_builds_the_organisation_and_219_people() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    assert User.objects.count() == 219
    assert set(Department.objects.values_list("name", flat=True)) == {
        "My Company",
        "Human Resource",
        "Customer Care",
        "Sales Department",
        "Active Sales",
        "Field Sales",
    }
    anna = User.objects.get(username="anna")
    assert anna.get_full_name() == "Anna Smith"
    assert [d.name for d in anna.departments.all()] == ["Active Sales"]
    assert anna.check_password("merit-demo-2026")
    assert anna.custom_fields["employee_id"].startswith("MC-")
    for role in Role:
        assert User.objects.filter(groups__name=role).exists(), role
    assert User.objects.filter(is_active=False).count() == 4
    field_sales = Department.objects.get(name="Field Sales")
    assert field_sales.parent.name == "Sales Department"
    # Over the bulk threshold, so a bulk action on the branch runs as a background job.
    assert field_sales.members.filter(is_active=True).count() == 150
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
