from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.template import Context, Template
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lms.event_kinds import EventKind
from lms.events import event_record
from lms.models import Event
from users.models import Department, User
from users.roles import Role
from users.tests.factories import UserFactory, UserGroupFactory, learner
from users.tests.images import huge_png_upload, png_upload, text_upload

pytestmark = pytest.mark.django_db


def _details_post(user: User, **changes: Any) -> dict[str, Any]:
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "username": user.username,
        "phone": user.phone,
        "address": user.address,
        "departments": [d.pk for d in user.departments.all()],
        "user_groups": [g.pk for g in user.user_groups.all()],
    }
    data.update(changes)
    return data


def _snapshot(user: User) -> tuple[Any, ...]:
    user.refresh_from_db()
    return (user.email, user.phone, user.first_name, user.password, user.is_active)


# --- users list ----------------------------------------------------------------------------


def test_users_list_shows_total_and_range(client: Client, admin_user: User) -> None:
    UserFactory.create_batch(30)
    client.force_login(admin_user)
    response = client.get(reverse("users:list"))
    assert "Total: 31" in response.text
    assert "1-25 of 31" in response.text


def test_users_list_search_matches_name_username_and_email(
    client: Client, admin_user: User, learner_user: User, outsider: User
) -> None:
    client.force_login(admin_user)
    for term in ("anna", "Smith", "anna@example.com"):
        shown = set(client.get(reverse("users:list"), {"q": term}).context["users"])
        assert shown == {learner_user}, term


def test_users_list_department_filter_includes_the_subtree(
    client: Client, admin_user: User, learner_user: User, outsider: User, org: dict[str, Department]
) -> None:
    client.force_login(admin_user)
    shown = set(client.get(reverse("users:list"), {"department": org["sales"].pk}).context["users"])
    assert learner_user in shown and outsider not in shown


def test_users_list_filters_by_group_and_role(
    client: Client, admin_user: User, learner_user: User, outsider: User, support_user: User
) -> None:
    group = UserGroupFactory(name="Mentors")
    outsider.user_groups.add(group)
    client.force_login(admin_user)
    assert list(client.get(reverse("users:list"), {"group": group.pk}).context["users"]) == [
        outsider
    ]
    by_role = client.get(reverse("users:list"), {"role": Role.CUSTOMER_SERVICE}).context["users"]
    assert list(by_role) == [support_user]


def test_users_list_hides_disabled_until_asked(
    client: Client, admin_user: User, learner_user: User
) -> None:
    gone = learner(is_active=False, last_name="Gone")
    client.force_login(admin_user)
    assert gone not in client.get(reverse("users:list")).context["users"]
    disabled = client.get(reverse("users:list"), {"status": "disabled"}).context["users"]
    assert list(disabled) == [gone]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [("name", ["Adams", "Brown", "Clark"]), ("-name", ["Clark", "Brown", "Adams"])],
)
def test_users_list_sorts_by_name(client: Client, sort: str, expected: list[str]) -> None:
    viewer = UserFactory(roles=[Role.CUSTOMER_SERVICE], last_name="Brown")
    UserFactory(last_name="Clark")
    UserFactory(last_name="Adams")
    client.force_login(viewer)
    users = client.get(reverse("users:list"), {"sort": sort}).context["users"]
    assert [u.last_name for u in users] == expected


def test_users_list_sorts_by_role_and_department_and_last_login(
    client: Client, admin_user: User, learner_user: User, outsider: User
) -> None:
    client.force_login(admin_user)
    User.objects.filter(pk=outsider.pk).update(last_login=timezone.now() + timedelta(hours=1))
    by_role = list(client.get(reverse("users:list"), {"sort": "-role"}).context["users"])
    assert by_role[0] == admin_user
    by_department = list(client.get(reverse("users:list"), {"sort": "department"}).context["users"])
    assert by_department.index(learner_user) < by_department.index(outsider)  # Active < Human
    by_login = list(client.get(reverse("users:list"), {"sort": "-last_login"}).context["users"])
    assert by_login[:2] == [outsider, admin_user] and by_login[-1] == learner_user  # never
    oldest_first = list(client.get(reverse("users:list"), {"sort": "last_login"}).context["users"])
    assert oldest_first[0] == learner_user and oldest_first[-1] == outsider


@pytest.mark.parametrize("rows", [25, 100])
def test_users_list_query_count_does_not_grow_with_rows(
    client: Client,
    admin_user: User,
    org: dict[str, Department],
    django_assert_num_queries: Any,
    rows: int,
) -> None:
    group = UserGroupFactory(name="Mentors")
    UserFactory.create_batch(rows - 1, departments=[org["sales"], org["hr"]], user_groups=[group])
    client.force_login(admin_user)
    client.get(reverse("users:list"))  # warm the session and content-type caches
    with django_assert_num_queries(11):
        response = client.get(reverse("users:list"), {"per_page": 100, "sort": "role"})
    assert len(response.context["users"]) == rows


# --- bulk actions --------------------------------------------------------------------------


def test_bulk_disable_asks_for_confirmation_then_disables_inline(
    client: Client, admin_user: User, learner_user: User, outsider: User
) -> None:
    client.force_login(admin_user)
    ids = [learner_user.pk, outsider.pk]
    page = client.get(reverse("users:bulk"), {"action": "disable", "user_ids": ids})
    assert page.status_code == 200 and "Disable 2 users?" in page.text
    assert User.objects.filter(pk__in=ids, is_active=True).count() == 2
    response = client.post(
        reverse("users:bulk"),
        {"action": "disable", "user_ids": ",".join(map(str, ids))},
        follow=True,
    )
    assert "2 users disabled." in response.text
    assert User.objects.filter(pk__in=ids, is_active=False).count() == 2


def test_bulk_add_to_group_inline(client: Client, admin_user: User, learner_user: User) -> None:
    group = UserGroupFactory(name="New Hires")
    client.force_login(admin_user)
    response = client.post(
        reverse("users:bulk"),
        {"action": "add_to_group", "user_ids": str(learner_user.pk), "group": group.pk},
        follow=True,
    )
    assert "1 users added to New Hires." in response.text
    assert list(group.members.all()) == [learner_user]


def test_bulk_add_to_group_without_group_is_an_error(
    client: Client, admin_user: User, learner_user: User
) -> None:
    client.force_login(admin_user)
    response = client.post(
        reverse("users:bulk"), {"action": "add_to_group", "user_ids": str(learner_user.pk)}
    )
    assert response.status_code == 400 and "Pick the group" in response.text
    assert not learner_user.user_groups.exists()


def test_bulk_by_department_admin_skips_users_outside_the_subtree(
    client: Client, sales_admin: User, learner_user: User, outsider: User
) -> None:
    client.force_login(sales_admin)
    client.post(
        reverse("users:bulk"),
        {"action": "disable", "user_ids": f"{learner_user.pk},{outsider.pk}"},
    )
    assert User.objects.get(pk=outsider.pk).is_active
    assert not User.objects.get(pk=learner_user.pk).is_active


def test_bulk_all_matching_uses_the_filters(
    client: Client, admin_user: User, learner_user: User, outsider: User, org: dict[str, Department]
) -> None:
    client.force_login(admin_user)
    page = client.get(
        reverse("users:bulk"),
        {"action": "disable", "all_matching": "1", "department": org["sales"].pk},
    )
    assert page.context["count"] == 1
    assert page.context["form"].initial["user_ids"] == str(learner_user.pk)
    assert outsider not in page.context["preview"]


def test_bulk_other_app_action_forwards_user_ids(
    client: Client, admin_user: User, learner_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "users.views.users_list.BULK_ACTIONS", [("Jobs", "lms:job_list", "bi-star")]
    )
    client.force_login(admin_user)
    response = client.get(
        reverse("users:bulk"), {"action": "lms:job_list", "user_ids": [learner_user.pk]}
    )
    assert response["Location"] == f"{reverse('lms:job_list')}?user_ids={learner_user.pk}"


# --- details tab ---------------------------------------------------------------------------


def test_details_edit_saves_and_records_the_change(
    client: Client, admin_user: User, learner_user: User
) -> None:
    client.force_login(admin_user)
    url = reverse("users:detail", args=[learner_user.pk])
    response = client.post(url, _details_post(learner_user, phone="+1 555 0199"), follow=True)
    assert "The changes were saved." in response.text
    learner_user.refresh_from_db()
    assert learner_user.phone == "+1 555 0199"
    event = Event.objects.get(subject=learner_user, kind=EventKind.USER_UPDATED)
    assert event.details["changes"] == {"phone": ["", "+1 555 0199"]}


def test_details_duplicate_email_is_refused_case_insensitively(
    client: Client, admin_user: User, learner_user: User, outsider: User
) -> None:
    client.force_login(admin_user)
    before = _snapshot(learner_user)
    response = client.post(
        reverse("users:detail", args=[learner_user.pk]),
        _details_post(learner_user, email=outsider.email.upper()),
    )
    assert response.status_code == 400
    assert "Another user already has this email address." in response.text
    assert _snapshot(learner_user) == before
    assert not Event.objects.filter(kind=EventKind.USER_UPDATED).exists()


def test_details_malformed_email_is_refused(
    client: Client, admin_user: User, learner_user: User
) -> None:
    client.force_login(admin_user)
    before = _snapshot(learner_user)
    response = client.post(
        reverse("users:detail", args=[learner_user.pk]),
        _details_post(learner_user, email="anna@@example"),
    )
    assert response.status_code == 400 and "Enter a valid email address." in response.text
    assert _snapshot(learner_user) == before


def test_department_admin_posting_to_a_user_outside_the_subtree_gets_404(
    client: Client, sales_admin: User, outsider: User
) -> None:
    client.force_login(sales_admin)
    before = _snapshot(outsider)
    response = client.post(
        reverse("users:detail", args=[outsider.pk]), _details_post(outsider, phone="1")
    )
    assert response.status_code == 404
    assert _snapshot(outsider) == before


def test_department_admin_keeps_memberships_outside_their_subtree(
    client: Client, sales_admin: User, learner_user: User, org: dict[str, Department]
) -> None:
    learner_user.departments.add(org["hr"])
    client.force_login(sales_admin)
    client.post(
        reverse("users:detail", args=[learner_user.pk]),
        _details_post(learner_user, departments=[org["sales"].pk]),
    )
    assert set(learner_user.departments.all()) == {org["hr"], org["sales"]}


def test_missing_csrf_token_is_403_and_changes_nothing(
    admin_user: User, learner_user: User
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    before = _snapshot(learner_user)
    response = client.post(
        reverse("users:detail", args=[learner_user.pk]), _details_post(learner_user, phone="9")
    )
    assert response.status_code == 403
    assert _snapshot(learner_user) == before


def test_details_shows_and_saves_custom_fields(
    client: Client, admin_user: User, learner_user: User
) -> None:
    from users.models import CustomField

    CustomField.objects.create(label="Start date", key="start_date", kind="date")
    client.force_login(admin_user)
    url = reverse("users:detail", args=[learner_user.pk])
    assert "Start date" in client.get(url).text
    client.post(url, _details_post(learner_user, cf_start_date="2024-03-01"))
    learner_user.refresh_from_db()
    assert learner_user.custom_fields == {"start_date": "2024-03-01"}


def test_weak_password_is_refused_with_the_validator_message(
    client: Client, admin_user: User, learner_user: User
) -> None:
    client.force_login(admin_user)
    before = _snapshot(learner_user)
    response = client.post(
        reverse("users:set_password", args=[learner_user.pk]), {"new_password": "password"}
    )
    assert response.status_code == 400 and "This password is too common." in response.text
    assert _snapshot(learner_user) == before


def test_role_change_by_super_admin(client: Client, admin_user: User, learner_user: User) -> None:
    client.force_login(admin_user)
    client.post(
        reverse("users:change_role", args=[learner_user.pk]),
        {"roles": [Role.CUSTOMER_SERVICE, Role.LEARNER]},
    )
    assert set(learner_user.groups.values_list("name", flat=True)) == {
        Role.CUSTOMER_SERVICE,
        Role.LEARNER,
    }


def test_disabled_user_is_logged_out_and_cannot_log_in(
    client: Client, admin_user: User, learner_user: User
) -> None:
    anna = Client()
    anna.force_login(learner_user)
    client.force_login(admin_user)
    client.post(reverse("users:set_active", args=[learner_user.pk]), {"is_active": "0"})
    assert anna.get(reverse("users:profile")).status_code == 302
    assert not Client().login(username="anna", password="correct-horse-battery")
    assert Event.objects.filter(subject=learner_user, kind=EventKind.USER_DISABLED).exists()


def test_a_disabled_users_old_session_stays_ended_after_they_are_enabled_again(
    client: Client, admin_user: User, learner_user: User
) -> None:
    """Being logged out is not only `is_active`: the session itself is void (its hash
    changed), so enabling the user again does not bring a stolen or forgotten session back."""
    anna = Client()
    anna.force_login(learner_user)
    other_browser = Client()
    other_browser.force_login(learner_user)
    client.force_login(admin_user)
    set_active = reverse("users:set_active", args=[learner_user.pk])
    client.post(set_active, {"is_active": "0"})
    client.post(set_active, {"is_active": "1"})
    assert anna.get(reverse("users:profile")).status_code == 302
    assert other_browser.get(reverse("users:profile")).status_code == 302
    fresh = Client()
    fresh.force_login(User.objects.get(pk=learner_user.pk))
    assert fresh.get(reverse("users:profile")).status_code == 200


def test_sessions_made_before_session_generation_existed_stay_valid(learner_user: User) -> None:
    """At generation 0 the session hash is Django's own, so deploying the field logs nobody out."""
    from django.contrib.auth.base_user import AbstractBaseUser

    assert learner_user.session_generation == 0
    assert learner_user.get_session_auth_hash() == AbstractBaseUser._get_session_auth_hash(
        learner_user
    )


def test_resend_invite_emails_the_user(
    client: Client,
    admin_user: User,
    learner_user: User,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("users:invite", args=[learner_user.pk]))
    assert [m.to for m in mail.outbox] == [[learner_user.email]]
    assert "/invitation/" in mail.outbox[0].body


def test_invitation_link_sets_password_once(client: Client, admin_user: User) -> None:
    from users.services import invite_url

    invited = UserFactory(joined_at=None)
    path = invite_url(invited).split("://", 1)[1].split("/", 1)[1]
    url = f"/{path}"
    response = client.post(
        url, {"new_password1": "Quiet-lantern-4410", "new_password2": "Quiet-lantern-4410"}
    )
    assert response.status_code == 302
    invited.refresh_from_db()
    assert invited.joined_at is not None
    again = client.get(url)
    assert again.status_code == 400 and "no longer works" in again.text


def test_impersonation_records_start_and_end_events(
    client: Client, admin_user: User, learner_user: User
) -> None:
    client.force_login(admin_user)
    client.post(reverse("hijack:acquire"), {"user_pk": learner_user.pk, "next": "/profile/"})
    profile = client.get(reverse("users:profile"))
    assert "You are logged in as" in profile.text
    client.post(reverse("users:profile"), {"bio": "Changed while impersonated"})
    client.post(reverse("hijack:release"), {"next": "/users/"})
    kinds = list(
        Event.objects.filter(subject=learner_user).order_by("id").values_list("kind", flat=True)
    )
    assert kinds == [
        EventKind.USER_IMPERSONATION_STARTED,
        EventKind.PROFILE_BIO_COMPLETED,
        EventKind.USER_IMPERSONATION_ENDED,
    ]
    bio_event = Event.objects.get(kind=EventKind.PROFILE_BIO_COMPLETED)
    assert bio_event.actor == learner_user and bio_event.impersonator == admin_user


def test_customer_service_cannot_impersonate_an_admin(
    client: Client, support_user: User, sales_admin: User
) -> None:
    client.force_login(support_user)
    response = client.post(reverse("hijack:acquire"), {"user_pk": sales_admin.pk})
    assert response.status_code == 403
    assert not Event.objects.filter(kind=EventKind.USER_IMPERSONATION_STARTED).exists()


# --- events tab ----------------------------------------------------------------------------


def test_events_tab_filters_by_kind_and_date(
    client: Client, admin_user: User, learner_user: User
) -> None:
    old = event_record(
        kind=EventKind.USER_ENABLED,
        actor=admin_user,
        subject=learner_user,
        at=timezone.now() - timedelta(days=10),
    )
    new = event_record(
        kind=EventKind.USER_UPDATED,
        actor=admin_user,
        subject=learner_user,
        details={"changes": {"phone": ["1", "2"]}},
        manual=True,
    )
    client.force_login(admin_user)
    url = reverse("users:events", args=[learner_user.pk])
    by_kind = client.get(url, {"kind": EventKind.USER_UPDATED})
    assert list(by_kind.context["events"]) == [new]
    assert "Manually" in by_kind.text and "Phone:" in by_kind.text
    since = (timezone.now() - timedelta(days=2)).date().isoformat()
    assert list(client.get(url, {"date_from": since}).context["events"]) == [new]
    assert list(client.get(url, {"date_to": since}).context["events"]) == [old]


def test_events_tab_shows_the_impersonator(
    client: Client, admin_user: User, learner_user: User, support_user: User
) -> None:
    event_record(
        kind=EventKind.PROFILE_UPDATED,
        actor=learner_user,
        subject=learner_user,
        impersonator=support_user,
    )
    client.force_login(admin_user)
    response = client.get(reverse("users:events", args=[learner_user.pk]))
    by = response.text.split('data-testid="done-by"')[1].split("</td>")[0]
    text = " ".join(re.sub(r"<[^>]+>", "", by.split(">", 1)[1]).split())
    assert text == f"{support_user}, as {learner_user}"  # the real person first


@pytest.mark.parametrize("count", [3, 25])
def test_events_tab_query_count_is_constant(
    client: Client,
    admin_user: User,
    learner_user: User,
    support_user: User,
    django_assert_num_queries: Any,
    count: int,
) -> None:
    for n in range(count):
        event_record(
            kind=EventKind.USER_UPDATED,
            actor=admin_user if n % 2 else support_user,
            subject=learner_user,
            target=learner_user,
            impersonator=support_user,
            details={"changes": {"phone": [str(n), str(n + 1)]}},
        )
    client.force_login(admin_user)
    url = reverse("users:events", args=[learner_user.pk])
    client.get(url)
    with django_assert_num_queries(8):
        response = client.get(url)
    assert len(response.context["events"]) == count


# --- profile -------------------------------------------------------------------------------


def test_profile_saves_bio_links_and_avatar(client: Client, learner_user: User) -> None:
    client.force_login(learner_user)
    response = client.post(
        reverse("users:profile"),
        {"bio": "Hello", "website": "https://anna.example", "avatar": png_upload()},
        follow=True,
    )
    assert "Your profile was saved." in response.text
    learner_user.refresh_from_db()
    assert learner_user.bio == "Hello" and learner_user.avatar
    assert learner_user.social_links == {"website": "https://anna.example"}


def test_profile_refuses_a_malformed_link(client: Client, learner_user: User) -> None:
    client.force_login(learner_user)
    response = client.post(reverse("users:profile"), {"bio": "x", "linkedin": "not a url"})
    assert response.status_code == 400 and "Enter a valid URL." in response.text
    learner_user.refresh_from_db()
    assert learner_user.bio == "" and learner_user.social_links == {}


@pytest.mark.parametrize(
    ("make_upload", "message"),
    [(text_upload, "not an image"), (huge_png_upload, "The image is too large: max")],
)
def test_profile_refuses_bad_avatars(
    client: Client, learner_user: User, make_upload: Any, message: str
) -> None:
    client.force_login(learner_user)
    response = client.post(reverse("users:profile"), {"bio": "x", "avatar": make_upload()})
    assert response.status_code == 400 and message in response.text
    learner_user.refresh_from_db()
    assert not learner_user.avatar and learner_user.bio == ""


def test_optional_include_renders_nothing_for_a_missing_template() -> None:
    template = Template('{% load users_tags %}[{% optional_include "nope/_missing.html" %}]')
    assert template.render(Context({})) == "[]"


def test_optional_include_renders_an_existing_template() -> None:
    template = Template('{% load users_tags %}{% optional_include "users/_avatar.html" %}')
    person = User(first_name="Anna", last_name="Smith")
    assert "AS" in template.render(Context({"person": person}))


# --- organisation pages --------------------------------------------------------------------


def test_super_admin_creates_and_moves_departments(
    client: Client, admin_user: User, org: dict[str, Department]
) -> None:
    client.force_login(admin_user)
    client.post(
        reverse("users:department_list"), {"name": "Field Sales", "parent": org["sales"].pk}
    )
    field_sales = Department.objects.get(name="Field Sales")
    assert field_sales.path == f"{org['sales'].path}{field_sales.pk}/"
    client.post(
        reverse("users:department_edit", args=[field_sales.pk]),
        {"name": "Field Team", "parent": org["care"].pk},
    )
    field_sales.refresh_from_db()
    assert field_sales.name == "Field Team" and field_sales.parent == org["care"]


def test_duplicate_department_name_under_one_parent_is_refused(
    client: Client, admin_user: User, org: dict[str, Department]
) -> None:
    client.force_login(admin_user)
    response = client.post(
        reverse("users:department_list"), {"name": "active sales", "parent": org["sales"].pk}
    )
    assert response.status_code == 400 and "already has a department" in response.text
    assert Department.objects.count() == 5


def test_super_admin_creates_groups_and_sees_member_counts(
    client: Client, admin_user: User, learner_user: User
) -> None:
    client.force_login(admin_user)
    client.post(reverse("users:group_list"), {"name": "Mentors", "description": ""})
    group = learner_user.user_groups.model.objects.get(name="Mentors")
    learner_user.user_groups.add(group)
    page = client.get(reverse("users:group_list"))
    assert [(g.name, g.member_count) for g in page.context["groups"]] == [("Mentors", 1)]


def test_super_admin_manages_custom_fields(client: Client, admin_user: User) -> None:
    from users.models import CustomField

    client.force_login(admin_user)
    client.post(
        reverse("users:customfield_list"),
        {"label": "Shirt size", "kind": "choice", "choices": "S\nM\nL", "position": 1},
    )
    field = CustomField.objects.get()
    assert (field.key, field.choices) == ("shirt_size", ["S", "M", "L"])
    client.post(reverse("users:customfield_edit", args=[field.pk]), {"delete": "1"})
    assert not CustomField.objects.exists()


# --- registration --------------------------------------------------------------------------


def test_login_page_accepts_email_or_username(client: Client, learner_user: User) -> None:
    assert "Username or email" in client.get(reverse("login")).text
    response = client.post(
        reverse("login"), {"username": "ANNA@example.com", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302


def test_password_reset_sends_an_email_with_a_link(client: Client, learner_user: User) -> None:
    response = client.post(reverse("password_reset"), {"email": learner_user.email}, follow=True)
    assert "Check your email" in response.text
    (message,) = mail.outbox
    assert "/accounts/reset/" in message.body and message.subject == "Reset your Merit password"


def test_customer_service_cannot_change_a_super_admins_password(
    client: Client, support_user: User, admin_user: User
) -> None:
    client.force_login(support_user)
    before = _snapshot(admin_user)
    page = client.get(reverse("users:detail", args=[admin_user.pk]))
    assert page.status_code == 200 and "has more rights than you" in page.text
    response = client.post(
        reverse("users:set_password", args=[admin_user.pk]),
        {"new_password": "Fresh-meadow-8812"},
    )
    assert response.status_code == 403
    assert client.post(reverse("users:set_active", args=[admin_user.pk])).status_code == 403
    assert _snapshot(admin_user) == before


def test_department_admin_cannot_add_a_department_outside_the_subtree_by_hand(
    sales_admin: User, learner_user: User, org: dict[str, Department]
) -> None:
    from django.core.exceptions import ValidationError

    from users.services import user_update

    with pytest.raises(ValidationError):
        user_update(user=learner_user, actor=sales_admin, data={}, departments=[org["hr"]])
    assert list(learner_user.departments.all()) == [org["active_sales"]]


def test_bulk_disable_skips_users_with_more_rights(
    client: Client, support_user: User, admin_user: User, learner_user: User
) -> None:
    client.force_login(support_user)
    response = client.post(
        reverse("users:bulk"),
        {"action": "disable", "user_ids": f"{admin_user.pk},{learner_user.pk}"},
        follow=True,
    )
    assert "This user has more rights than you." in response.text
    assert User.objects.get(pk=admin_user.pk).is_active
    assert not User.objects.get(pk=learner_user.pk).is_active


@pytest.mark.parametrize("rows", [25, 100])
def test_users_list_for_a_department_admin_has_constant_queries(
    client: Client,
    sales_admin: User,
    org: dict[str, Department],
    django_assert_num_queries: Any,
    rows: int,
) -> None:
    UserFactory.create_batch(rows - 1, departments=[org["active_sales"]])
    UserFactory.create_batch(3, departments=[org["hr"]])  # outside: never shown
    client.force_login(sales_admin)
    client.get(reverse("users:list"))
    with django_assert_num_queries(13):
        response = client.get(reverse("users:list"), {"per_page": 100, "sort": "department"})
    assert len(response.context["users"]) == rows


@pytest.mark.parametrize("count", [2, 30])
def test_organisation_list_pages_have_constant_queries(
    client: Client,
    admin_user: User,
    org: dict[str, Department],
    django_assert_num_queries: Any,
    count: int,
) -> None:
    from users.services import custom_field_save, department_create, user_group_create

    for n in range(count):
        department_create(name=f"Team {n}", parent=org["sales"], actor=admin_user)
        user_group_create(name=f"Group {n}", actor=admin_user)
        custom_field_save(actor=admin_user, label=f"Field {n}", kind="text")
    client.force_login(admin_user)
    client.get(reverse("users:department_list"))
    # each page: the session, its user and their roles, the page's rows and its recent changes
    # (who made them joined in); the departments page also reads the parent choices
    expected = {"users:department_list": 6, "users:group_list": 5, "users:customfield_list": 5}
    for url_name, queries in expected.items():
        with django_assert_num_queries(queries):
            assert client.get(reverse(url_name)).status_code == 200


# --- adding users --------------------------------------------------------------------------


def _new_person(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "first_name": "Nina",
        "last_name": "Patel",
        "email": "nina.patel@example.com",
        "username": "nina",
        "send_invite": "on",
    }
    data.update(changes)
    return data


def test_super_admin_adds_a_user_with_roles_and_an_invitation(
    client: Client,
    admin_user: User,
    org: dict[str, Department],
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("users:add"),
            _new_person(departments=[org["hr"].pk], roles=[Role.CUSTOMER_SERVICE, Role.LEARNER]),
        )
    nina = User.objects.get(username="nina")
    assert response["Location"] == reverse("users:detail", args=[nina.pk])
    assert set(nina.groups.values_list("name", flat=True)) == {Role.CUSTOMER_SERVICE, Role.LEARNER}
    assert not nina.has_usable_password() and nina.invited_at is not None
    assert [m.to for m in mail.outbox] == [["nina.patel@example.com"]]
    assert Event.objects.filter(
        subject=nina, kind=EventKind.USER_CREATED, actor=admin_user
    ).exists()


def test_department_admin_adds_learners_only_in_their_departments(
    client: Client, sales_admin: User, org: dict[str, Department]
) -> None:
    client.force_login(sales_admin)
    outside = client.post(reverse("users:add"), _new_person(departments=[org["hr"].pk]))
    assert outside.status_code == 400 and "Select a valid choice" in outside.text
    nowhere = client.post(reverse("users:add"), _new_person())
    assert nowhere.status_code == 400 and "Pick at least one of your departments." in nowhere.text
    assert not User.objects.filter(username="nina").exists()
    client.post(
        reverse("users:add"),
        _new_person(departments=[org["active_sales"].pk], roles=[Role.SUPER_ADMIN]),
    )
    nina = User.objects.get(username="nina")
    assert list(nina.groups.values_list("name", flat=True)) == [Role.LEARNER]


def test_adding_a_user_with_a_taken_email_is_refused(
    client: Client, admin_user: User, learner_user: User
) -> None:
    client.force_login(admin_user)
    before = User.objects.count()
    response = client.post(reverse("users:add"), _new_person(email="ANNA@example.com"))
    assert response.status_code == 400
    assert "Another user already has this email address." in response.text
    assert User.objects.count() == before


def test_add_user_page_is_for_admins_only(client: Client, learner_user: User) -> None:
    assert client.get(reverse("users:add")).status_code == 302
    client.force_login(learner_user)
    assert client.post(reverse("users:add"), _new_person()).status_code == 403
    assert not User.objects.filter(username="nina").exists()


def test_a_super_admin_cannot_impersonate_another_super_admin(
    client: Client, admin_user: User
) -> None:
    from users.tests.factories import super_admin

    other = super_admin(username="root2")
    client.force_login(admin_user)
    page = client.get(reverse("users:detail", args=[other.pk]))
    assert 'data-testid="impersonate"' not in page.text
    assert client.post(reverse("hijack:acquire"), {"user_pk": other.pk}).status_code == 403
    assert not Event.objects.filter(kind=EventKind.USER_IMPERSONATION_STARTED).exists()
