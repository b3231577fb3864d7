"""The organisation's structure (departments, groups, custom fields): every change is in the
event log like any other admin change, and a department name its siblings already have is a
form error, never a 500, also when two admins submit it at the same moment."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from lms.context import acting_impersonator
from lms.event_kinds import EventKind
from lms.models import Event
from users.models import CustomField, Department, User, UserGroup
from users.services import (
    custom_field_delete,
    custom_field_save,
    department_create,
    department_delete,
    department_update,
    user_group_create,
    user_group_delete,
    user_group_update,
)
from users.tests.factories import UserFactory, UserGroupFactory, super_admin


def _only_event(kind: str) -> Event:
    """The one event of `kind` an admin caused (the `org` fixture's departments are the
    system's: not manual)."""
    (event,) = Event.objects.filter(kind=kind, is_manual=True)
    return event


# --- events ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_creating_a_department_records_who_what_and_where(
    admin_user: User, org: dict[str, Department]
) -> None:
    department = department_create(name=" Field Sales ", parent=org["sales"], actor=admin_user)
    event = _only_event(EventKind.DEPARTMENT_CREATED)
    assert (event.actor, event.subject_id, event.is_manual) == (admin_user, None, True)
    assert (event.target_id, event.target_label) == (department.pk, "Field Sales")
    assert event.details == {"name": "Field Sales", "parent": "My Company / Sales Department"}


@pytest.mark.django_db
def test_renaming_and_moving_a_department_records_old_and_new_values_and_the_impersonator(
    admin_user: User, org: dict[str, Department]
) -> None:
    ada = super_admin(first_name="Ada", last_name="Lovelace")
    with acting_impersonator(ada):
        department_update(
            department=org["active_sales"], name="Field Sales", parent=org["care"], actor=admin_user
        )
    event = _only_event(EventKind.DEPARTMENT_CHANGED)
    assert (event.actor, event.impersonator, event.is_manual) == (admin_user, ada, True)
    assert event.details == {
        "changes": {
            "name": ["Active Sales", "Field Sales"],
            "parent": ["My Company / Sales Department", "My Company / Customer Care"],
        }
    }


@pytest.mark.django_db
def test_saving_a_department_unchanged_records_nothing(
    admin_user: User, org: dict[str, Department]
) -> None:
    department_update(
        department=org["sales"], name="Sales Department", parent=org["root"], actor=admin_user
    )
    assert not Event.objects.filter(kind=EventKind.DEPARTMENT_CHANGED).exists()


@pytest.mark.django_db
def test_deleting_an_empty_department_records_it(
    admin_user: User, org: dict[str, Department]
) -> None:
    empty = department_create(name="Old Team", parent=org["hr"], actor=admin_user)
    department_delete(department=empty, actor=admin_user)
    assert not Department.objects.filter(pk=empty.pk).exists()
    event = _only_event(EventKind.DEPARTMENT_DELETED)
    assert (event.actor, event.target_id, event.target_label) == (admin_user, empty.pk, "Old Team")
    assert event.details == {"name": "Old Team", "parent": "My Company / Human Resource"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("sales", "has 1 sub-department(s)"),
        ("active_sales", "1 user(s) are in “Active Sales”"),
    ],
)
def test_a_department_with_sub_departments_or_members_is_not_deleted(
    admin_user: User, learner_user: User, org: dict[str, Department], key: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        department_delete(department=org[key], actor=admin_user)
    assert message in caught.value.messages[0]
    assert Department.objects.filter(pk=org[key].pk).exists()
    assert not Event.objects.filter(kind=EventKind.DEPARTMENT_DELETED).exists()


@pytest.mark.django_db
def test_a_department_someone_administers_is_not_deleted(
    admin_user: User, org: dict[str, Department]
) -> None:
    from users.tests.factories import department_admin

    team = department_create(name="Team", parent=org["hr"], actor=admin_user)
    department_admin(administers=[team])
    with pytest.raises(ValidationError, match="department admin"):
        department_delete(department=team, actor=admin_user)
    assert Department.objects.filter(pk=team.pk).exists()


@pytest.mark.django_db
def test_group_create_rename_and_delete_are_recorded(admin_user: User) -> None:
    group = user_group_create(name="Mentors", description="Guides", actor=admin_user)
    user_group_update(group=group, name="Coaches", description="Guides", actor=admin_user)
    UserFactory(user_groups=[group])
    members = user_group_delete(group=group, actor=admin_user)
    assert members == 1 and not UserGroup.objects.exists() and User.objects.count() == 2
    created = _only_event(EventKind.GROUP_CREATED)
    changed = _only_event(EventKind.GROUP_CHANGED)
    deleted = _only_event(EventKind.GROUP_DELETED)
    assert created.details == {"name": "Mentors", "description": "Guides"}
    assert changed.details == {"changes": {"name": ["Mentors", "Coaches"]}}
    assert deleted.details == {"name": "Coaches", "members": 1}
    assert {e.actor for e in (created, changed, deleted)} == {admin_user}
    assert all(e.is_manual and e.target_id == group.pk for e in (created, changed, deleted))


@pytest.mark.django_db
def test_renaming_a_group_to_another_groups_name_is_refused(admin_user: User) -> None:
    UserGroupFactory(name="Mentors")
    group = user_group_create(name="Coaches", actor=admin_user)
    with pytest.raises(ValidationError) as caught:
        user_group_update(group=group, name="MENTORS", description="", actor=admin_user)
    assert caught.value.message_dict == {"name": ["A group with this name already exists."]}
    group.refresh_from_db()
    assert group.name == "Coaches"
    assert not Event.objects.filter(kind=EventKind.GROUP_CHANGED).exists()


@pytest.mark.django_db
def test_custom_field_create_change_and_delete_are_recorded(admin_user: User) -> None:
    field = custom_field_save(actor=admin_user, label="Shirt", kind="choice", choices=["S", "M"])
    custom_field_save(
        actor=admin_user,
        field=field,
        label="Shirt size",
        kind="choice",
        choices=["S", "M", "L"],
        required=True,
    )
    custom_field_delete(actor=admin_user, field=field)
    assert not CustomField.objects.exists()
    created = _only_event(EventKind.CUSTOM_FIELD_CREATED)
    assert created.details == {
        "key": "shirt",
        "label": "Shirt",
        "kind": "choice",
        "choices": ["S", "M"],
        "required": False,
        "position": 0,
    }
    changed = _only_event(EventKind.CUSTOM_FIELD_CHANGED)
    assert changed.details == {
        "changes": {
            "label": ["Shirt", "Shirt size"],
            "choices": [["S", "M"], ["S", "M", "L"]],
            "required": [False, True],
        }
    }
    deleted = _only_event(EventKind.CUSTOM_FIELD_DELETED)
    assert deleted.details["label"] == "Shirt size" and deleted.target_label == "Shirt size"
    assert all(e.actor == admin_user and e.is_manual for e in (created, changed, deleted))


@pytest.mark.django_db
def test_only_super_admins_change_the_organisation(
    sales_admin: User, org: dict[str, Department]
) -> None:
    group = UserGroupFactory(name="Mentors")
    with pytest.raises(PermissionDenied):
        department_update(department=org["active_sales"], name="X", parent=None, actor=sales_admin)
    with pytest.raises(PermissionDenied):
        department_delete(department=org["active_sales"], actor=sales_admin)
    with pytest.raises(PermissionDenied):
        user_group_delete(group=group, actor=sales_admin)
    assert UserGroup.objects.filter(pk=group.pk).exists()
    assert not Event.objects.filter(kind__startswith="department.", is_manual=True).exists()


# --- the tree stays right -------------------------------------------------------------------


@pytest.mark.django_db
def test_moving_a_department_to_the_top_level_rewrites_the_whole_subtree(
    admin_user: User, org: dict[str, Department]
) -> None:
    team = department_create(name="Team North", parent=org["active_sales"], actor=admin_user)
    department_update(department=org["sales"], name="Sales", parent=None, actor=admin_user)
    sales, active, team = (
        Department.objects.get(pk=d.pk) for d in (org["sales"], org["active_sales"], team)
    )
    assert (sales.path, sales.depth) == (f"/{sales.pk}/", 0)
    assert (active.path, active.depth) == (f"/{sales.pk}/{active.pk}/", 1)
    assert (team.path, team.depth) == (f"/{sales.pk}/{active.pk}/{team.pk}/", 2)
    # the rest of the tree is untouched
    assert Department.objects.get(pk=org["hr"].pk).path == f"{org['root'].path}{org['hr'].pk}/"


@pytest.mark.django_db
def test_a_department_cannot_move_under_a_grandchild(
    admin_user: User, org: dict[str, Department]
) -> None:
    team = department_create(name="Team North", parent=org["active_sales"], actor=admin_user)
    before = list(Department.objects.values_list("pk", "path", "depth", "parent_id"))
    with pytest.raises(ValidationError) as caught:
        department_update(department=org["sales"], name="Sales", parent=team, actor=admin_user)
    assert "cannot move under itself" in str(caught.value)
    assert list(Department.objects.values_list("pk", "path", "depth", "parent_id")) == before


@pytest.mark.django_db
def test_a_department_added_under_a_stale_parent_gets_the_parents_current_path(
    admin_user: User, org: dict[str, Department]
) -> None:
    stale = Department.objects.get(pk=org["active_sales"].pk)
    department_update(department=org["sales"], name="Sales", parent=org["care"], actor=admin_user)
    team = department_create(name="Team", parent=stale, actor=admin_user)
    current = Department.objects.get(pk=org["active_sales"].pk)
    assert (team.path, team.depth) == (f"{current.path}{team.pk}/", current.depth + 1)


# --- name clashes: a form error, never a 500 ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "parent_key"),
    [("active SALES", "sales"), ("my company", None)],
)
def test_adding_a_name_a_sibling_has_is_refused_on_the_name_field(
    admin_user: User, org: dict[str, Department], name: str, parent_key: str | None
) -> None:
    parent = org[parent_key] if parent_key else None
    with pytest.raises(ValidationError) as caught:
        department_create(name=name, parent=parent, actor=admin_user)
    assert caught.value.message_dict == {
        "name": ["This parent already has a department with this name."]
    }
    assert Department.objects.count() == 5


@pytest.mark.django_db
def test_moving_next_to_a_sibling_of_the_same_name_is_a_form_error(
    client: Client, admin_user: User, org: dict[str, Department]
) -> None:
    other = department_create(name="active sales", parent=org["care"], actor=admin_user)
    client.force_login(admin_user)
    response = client.post(
        reverse("users:department_edit", args=[other.pk]),
        {"name": "Active Sales", "parent": org["sales"].pk},
    )
    assert response.status_code == 400
    assert "This parent already has a department with this name." in response.text
    assert Department.objects.get(pk=other.pk).parent == org["care"]


@pytest.mark.django_db
def test_deleting_a_department_through_the_page(
    client: Client, admin_user: User, org: dict[str, Department]
) -> None:
    client.force_login(admin_user)
    refused = client.post(
        reverse("users:department_edit", args=[org["sales"].pk]), {"delete": "1"}, follow=True
    )
    assert "has 1 sub-department(s)" in refused.text
    empty = department_create(name="Old Team", parent=org["hr"], actor=admin_user)
    done = client.post(
        reverse("users:department_edit", args=[empty.pk]), {"delete": "1"}, follow=True
    )
    assert "Department “Old Team” was deleted." in done.text
    assert not Department.objects.filter(pk=empty.pk).exists()


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    """Synchronisation, not a timing assertion: poll until `condition`, fail after a minute."""
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting until {what}")
        time.sleep(0.02)


def _someone_waits_on_a_lock() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return bool(cursor.fetchone()[0])


def _two_admins_at_once(
    monkeypatch: Any, admin: User, first: Callable[[Client], Any], second: Callable[[Client], Any]
) -> dict[str, Any]:
    """Two admins' requests: the first inserts its department and pauses before committing; the
    second runs until it waits on the first one's row (the unique name index or a lock); then
    the first commits. The response (or exception) of each."""
    first_inserted = threading.Event()
    first_may_commit = threading.Event()
    save = Department.save

    def save_pausing_the_first(self: Department, *args: Any, **kwargs: Any) -> None:
        save(self, *args, **kwargs)
        if threading.current_thread().name == "first" and not first_inserted.is_set():
            first_inserted.set()
            first_may_commit.wait(60)

    monkeypatch.setattr(Department, "save", save_pausing_the_first)
    outcomes: dict[str, Any] = {}

    def run(request: Callable[[Client], Any]) -> None:
        client = Client()
        client.force_login(admin)
        try:
            outcomes[threading.current_thread().name] = request(client)
        except BaseException as exc:  # noqa: BLE001
            outcomes[threading.current_thread().name] = exc
        finally:
            connection.close()

    one = threading.Thread(target=run, args=(first,), name="first")
    two = threading.Thread(target=run, args=(second,), name="second")
    one.start()
    _wait_until(first_inserted.is_set, "the first admin inserted the department")
    two.start()
    _wait_until(_someone_waits_on_a_lock, "the second admin waits on the first one's row")
    first_may_commit.set()
    one.join()
    two.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_admins_adding_one_name_at_once_get_one_department_and_a_form_error(
    admin_user: User, org: dict[str, Department], monkeypatch: Any
) -> None:
    url = reverse("users:department_list")
    outcomes = _two_admins_at_once(
        monkeypatch,
        admin_user,
        lambda c: c.post(url, {"name": "Field Sales", "parent": org["sales"].pk}),
        lambda c: c.post(url, {"name": "field sales", "parent": org["sales"].pk}),
    )
    assert getattr(outcomes["first"], "status_code", outcomes["first"]) == 302
    refusal = outcomes["second"]
    assert getattr(refusal, "status_code", refusal) == 400
    assert "This parent already has a department with this name." in refusal.text
    assert Department.objects.filter(parent=org["sales"], name__iexact="field sales").count() == 1
    assert Event.objects.filter(kind=EventKind.DEPARTMENT_CREATED).count() == 6  # 5 + 1


@pytest.mark.django_db(transaction=True)
def test_moving_into_a_parent_while_another_admin_adds_that_name_is_a_form_error(
    admin_user: User, org: dict[str, Department], monkeypatch: Any
) -> None:
    mover = department_create(name="field team", parent=org["hr"], actor=admin_user)
    outcomes = _two_admins_at_once(
        monkeypatch,
        admin_user,
        lambda c: c.post(
            reverse("users:department_list"), {"name": "Field Team", "parent": org["care"].pk}
        ),
        lambda c: c.post(
            reverse("users:department_edit", args=[mover.pk]),
            {"name": "field team", "parent": org["care"].pk},
        ),
    )
    assert getattr(outcomes["first"], "status_code", outcomes["first"]) == 302
    refusal = outcomes["second"]
    assert getattr(refusal, "status_code", refusal) == 400
    assert "This parent already has a department with this name." in refusal.text
    mover.refresh_from_db()
    assert (mover.parent, mover.path) == (org["hr"], f"{org['hr'].path}{mover.pk}/")
    assert not Event.objects.filter(kind=EventKind.DEPARTMENT_CHANGED).exists()


# --- the pages show the changes ------------------------------------------------------------


@pytest.mark.django_db
def test_organisation_pages_list_their_recent_changes_with_labels(
    client: Client, admin_user: User, org: dict[str, Department]
) -> None:
    department_create(name="Field Sales", parent=org["sales"], actor=admin_user)
    group = user_group_create(name="Mentors", actor=admin_user)
    user_group_update(group=group, name="Coaches", description="", actor=admin_user)
    custom_field_save(actor=admin_user, label="Shirt", kind="text")
    client.force_login(admin_user)
    departments = client.get(reverse("users:department_list")).text
    groups = client.get(reverse("users:group_list")).text
    fields = client.get(reverse("users:customfield_list")).text
    assert "Department created" in departments and "department.created" not in departments
    assert "Group renamed or changed" in groups and "Group created" in groups
    assert "Mentors" in groups and "Coaches" in groups
    assert "Custom field created" in fields and "Group created" not in fields
