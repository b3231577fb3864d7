from __future__ import annotations

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from lms.event_kinds import EventKind
from lms.models import Event
from users.models import CustomField, Department, User
from users.roles import Role
from users.services import (
    custom_field_save,
    department_create,
    department_update,
    profile_update,
    user_change_roles,
    user_group_create,
    user_invite_accept,
    user_invite_send,
    user_set_password,
    user_update,
    users_add_to_group,
)
from users.tests.factories import UserFactory, UserGroupFactory
from users.tests.images import huge_png_upload, png_upload, text_upload

pytestmark = pytest.mark.django_db


def _events(user: User, kind: str) -> list[Event]:
    return list(Event.objects.filter(subject=user, kind=kind))


def test_user_update_records_old_and_new_values(admin_user: User, learner_user: User) -> None:
    old_phone = learner_user.phone
    changes = user_update(user=learner_user, actor=admin_user, data={"phone": "+1 555 0100"})
    assert changes == {"phone": [old_phone, "+1 555 0100"]}
    (event,) = _events(learner_user, EventKind.USER_UPDATED)
    assert event.details == {"changes": {"phone": [old_phone, "+1 555 0100"]}}
    assert event.actor == admin_user and event.is_manual


def test_user_update_without_changes_records_no_event(admin_user: User, learner_user: User) -> None:
    assert (
        user_update(user=learner_user, actor=admin_user, data={"phone": learner_user.phone}) == {}
    )
    assert not _events(learner_user, EventKind.USER_UPDATED)


def test_user_update_rejects_duplicate_email_case_insensitively(
    admin_user: User, learner_user: User, outsider: User
) -> None:
    with pytest.raises(ValidationError) as error:
        user_update(user=learner_user, actor=admin_user, data={"email": outsider.email.upper()})
    assert "already has this email" in str(error.value)
    learner_user.refresh_from_db()
    assert learner_user.email != outsider.email.upper()
    assert not _events(learner_user, EventKind.USER_UPDATED)


def test_user_update_rejects_malformed_email(admin_user: User, learner_user: User) -> None:
    before = learner_user.email
    with pytest.raises(ValidationError):
        user_update(user=learner_user, actor=admin_user, data={"email": "not-an-email"})
    learner_user.refresh_from_db()
    assert learner_user.email == before


def test_department_admin_cannot_update_user_outside_subtree(
    sales_admin: User, outsider: User
) -> None:
    with pytest.raises(PermissionDenied):
        user_update(user=outsider, actor=sales_admin, data={"phone": "1"})
    outsider.refresh_from_db()
    assert outsider.phone == ""


def test_user_update_records_departments_groups_and_custom_fields(
    admin_user: User, learner_user: User, org: dict[str, Department]
) -> None:
    CustomField.objects.create(label="Employee ID", key="employee_id", kind="text")
    CustomField.objects.create(label="Start date", key="start_date", kind="date")
    group = UserGroupFactory(name="Mentors")
    changes = user_update(
        user=learner_user,
        actor=admin_user,
        data={},
        departments=[org["hr"]],
        user_groups=[group],
        custom_fields={"employee_id": "MC-7", "start_date": "2024-02-01"},
    )
    assert changes["departments"] == [["Active Sales"], ["Human Resource"]]
    assert changes["groups"] == [[], ["Mentors"]]
    assert changes["custom:Employee ID"] == [None, "MC-7"]
    learner_user.refresh_from_db()
    assert learner_user.custom_fields == {"employee_id": "MC-7", "start_date": "2024-02-01"}


def test_custom_number_field_rejects_text(admin_user: User, learner_user: User) -> None:
    CustomField.objects.create(label="Desk", key="desk", kind="number")
    with pytest.raises(ValidationError):
        user_update(user=learner_user, actor=admin_user, data={}, custom_fields={"desk": "abc"})
    learner_user.refresh_from_db()
    assert learner_user.custom_fields == {}


def test_custom_choice_field_rejects_unknown_choice(admin_user: User, learner_user: User) -> None:
    CustomField.objects.create(label="Shirt", key="shirt", kind="choice", choices=["S", "M"])
    with pytest.raises(ValidationError):
        user_update(user=learner_user, actor=admin_user, data={}, custom_fields={"shirt": "XXL"})


def test_set_password_rejects_weak_password_and_keeps_old_one(
    admin_user: User, learner_user: User
) -> None:
    with pytest.raises(ValidationError) as error:
        user_set_password(user=learner_user, actor=admin_user, password="12345")
    assert "too short" in " ".join(error.value.messages)
    learner_user.refresh_from_db()
    assert learner_user.check_password("correct-horse-battery")
    assert not _events(learner_user, EventKind.USER_PASSWORD_SET)


def test_set_password_records_an_event_without_the_password(
    admin_user: User, learner_user: User
) -> None:
    user_set_password(user=learner_user, actor=admin_user, password="Plum-orchard-1987")
    learner_user.refresh_from_db()
    assert learner_user.check_password("Plum-orchard-1987")
    (event,) = _events(learner_user, EventKind.USER_PASSWORD_SET)
    assert "Plum-orchard-1987" not in str(event.details)


def test_only_super_admin_changes_roles(sales_admin: User, learner_user: User) -> None:
    with pytest.raises(PermissionDenied):
        user_change_roles(user=learner_user, actor=sales_admin, roles=[Role.SUPER_ADMIN])
    assert list(learner_user.groups.values_list("name", flat=True)) == [Role.LEARNER]


def test_change_roles_records_old_and_new_roles(admin_user: User, learner_user: User) -> None:
    user_change_roles(
        user=learner_user, actor=admin_user, roles=[Role.CUSTOMER_SERVICE, Role.LEARNER]
    )
    assert set(learner_user.groups.values_list("name", flat=True)) == {
        Role.CUSTOMER_SERVICE,
        Role.LEARNER,
    }
    (event,) = _events(learner_user, EventKind.USER_ROLE_CHANGED)
    assert event.details["changes"]["roles"] == [
        [Role.LEARNER],
        sorted([Role.CUSTOMER_SERVICE, Role.LEARNER]),
    ]


def test_invite_emails_a_one_time_link_and_accepting_marks_joined(
    admin_user: User, django_capture_on_commit_callbacks: object
) -> None:
    invited = UserFactory(joined_at=None, password=None)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        user_invite_send(user=invited, actor=admin_user)
    (message,) = mail.outbox
    assert message.to == [invited.email]
    link = next(line for line in message.body.splitlines() if "/invitation/" in line)
    token = link.rstrip("/").split("/")[-1]
    invited.refresh_from_db()
    assert invited.invited_at is not None
    assert default_token_generator.check_token(invited, token)
    user_invite_accept(user=invited, password="Velvet-harbour-2031")
    invited.refresh_from_db()
    assert invited.joined_at is not None and invited.check_password("Velvet-harbour-2031")
    assert not default_token_generator.check_token(invited, token)


def test_users_add_to_group_skips_members_already_in_it(admin_user: User) -> None:
    group = UserGroupFactory(name="Mentors")
    member, newcomer = UserFactory(user_groups=[group]), UserFactory()
    added = users_add_to_group(users=[member, newcomer], group=group, actor=admin_user)
    assert added == [newcomer]
    assert set(group.members.all()) == {member, newcomer}
    assert Event.objects.filter(kind=EventKind.USER_ADDED_TO_GROUP).count() == 1


def test_group_names_are_unique_case_insensitively(admin_user: User) -> None:
    user_group_create(name="Mentors", actor=admin_user)
    with pytest.raises(ValidationError):
        user_group_create(name="mentors", actor=admin_user)


def test_moving_a_department_rewrites_the_subtree_paths(
    admin_user: User, org: dict[str, Department]
) -> None:
    team = department_create(name="Team North", parent=org["active_sales"])
    department_update(department=org["sales"], name="Sales", parent=org["care"], actor=admin_user)
    org["active_sales"].refresh_from_db()
    team.refresh_from_db()
    care = org["care"]
    assert org["active_sales"].path == f"{care.path}{org['sales'].pk}/{org['active_sales'].pk}/"
    assert team.path.startswith(org["active_sales"].path) and team.depth == 4


def test_a_department_cannot_move_under_its_own_descendant(
    admin_user: User, org: dict[str, Department]
) -> None:
    with pytest.raises(ValidationError):
        department_update(
            department=org["sales"], name="Sales", parent=org["active_sales"], actor=admin_user
        )
    org["sales"].refresh_from_db()
    assert org["sales"].parent == org["root"]


def test_only_super_admins_define_custom_fields(support_user: User) -> None:
    with pytest.raises(PermissionDenied):
        custom_field_save(actor=support_user, label="Desk", kind="text")
    assert not CustomField.objects.exists()


def test_choice_custom_field_needs_choices(admin_user: User) -> None:
    with pytest.raises(ValidationError):
        custom_field_save(actor=admin_user, label="Shirt", kind="choice", choices=[])


def test_profile_first_bio_avatar_and_links_record_milestones(learner_user: User) -> None:
    kinds = profile_update(
        user=learner_user,
        bio="I sell things.",
        social_links={"linkedin": "https://www.linkedin.com/in/anna"},
        avatar=png_upload(300, 200),
    )
    assert set(kinds) == {
        EventKind.PROFILE_AVATAR_ADDED,
        EventKind.PROFILE_BIO_COMPLETED,
        EventKind.PROFILE_SOCIAL_LINKS_ADDED,
    }
    learner_user.refresh_from_db()
    assert learner_user.avatar.width == learner_user.avatar.height == 200


def test_profile_later_change_records_profile_updated(learner_user: User) -> None:
    profile_update(user=learner_user, bio="First.", social_links={})
    kinds = profile_update(user=learner_user, bio="Second.", social_links={})
    assert kinds == [EventKind.PROFILE_UPDATED]
    assert _events(learner_user, EventKind.PROFILE_BIO_COMPLETED)[0].details == {}


@pytest.mark.parametrize(
    ("upload", "message"),
    [(text_upload, "not an image"), (huge_png_upload, "The image is too large: max")],
)
def test_profile_rejects_bad_avatars_and_changes_nothing(
    learner_user: User, upload: object, message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        profile_update(user=learner_user, bio="Hi", social_links={}, avatar=upload())  # type: ignore[operator]
    assert message in " ".join(error.value.messages)
    learner_user.refresh_from_db()
    assert not learner_user.avatar and learner_user.bio == ""
    assert not Event.objects.filter(subject=learner_user, kind__startswith="profile.").exists()
