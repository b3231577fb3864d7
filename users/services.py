"""Writes about users and the organisation. Each service is one transaction and records
its event(s); views, tasks, commands and (later) the API all come through here."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone

from lms.event_kinds import EventKind
from lms.events import EventSpec, event_record, event_record_bulk
from users.models import Department, User, UserGroup
from users.roles import Role


@transaction.atomic
def roles_ensure() -> None:
    """Create the role groups and give each exactly the permissions users/roles.py lists."""
    from django.contrib.auth.models import Permission

    from users.roles import ROLE_PERMISSIONS

    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted: list[Permission] = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            wanted.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)


@transaction.atomic
def department_create(*, name: str, parent: Department | None = None) -> Department:
    department = Department.objects.create(name=name, parent=parent)
    parent_path = parent.path if parent else "/"
    department.path = f"{parent_path}{department.pk}/"
    department.depth = (parent.depth + 1) if parent else 0
    department.save(update_fields=["path", "depth"])
    return department


@transaction.atomic
def user_create(
    *,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
    roles: Iterable[str] = (Role.LEARNER,),
    departments: Iterable[Department] = (),
    user_groups: Iterable[UserGroup] = (),
    is_active: bool = True,
    actor: User | None = None,
) -> User:
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_active=is_active,
        joined_at=timezone.now() if password else None,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.set(Group.objects.filter(name__in=list(roles)))
    user.departments.set(list(departments))
    user.user_groups.set(list(user_groups))
    event_record(
        kind=EventKind.USER_CREATED,
        actor=actor,
        subject=user,
        target=user,
        details={"roles": sorted(str(r) for r in roles)},
        manual=actor is not None,
    )
    return user


def _end_sessions(user_ids: set[int]) -> None:
    """Delete the database sessions of these users, so a disabled user is logged out at once."""
    if not user_ids:
        return
    wanted = {str(pk) for pk in user_ids}
    stale = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") in wanted
    ]
    Session.objects.filter(session_key__in=stale).delete()


@transaction.atomic
def users_set_active(*, users: Iterable[User], is_active: bool, actor: User) -> list[User]:
    """Disable or enable users. Those already in that state are left alone (no event); the
    changed ones are updated with one UPDATE, recorded with one INSERT of events, and when
    disabled their sessions end."""
    changed = [user for user in users if user.is_active != is_active and user.pk != actor.pk]
    if not changed:
        return []
    ids = {user.pk for user in changed}
    User.objects.filter(pk__in=ids).update(is_active=is_active)
    for user in changed:
        user.is_active = is_active
    if not is_active:
        _end_sessions(ids)
    event_record_bulk(
        kind=EventKind.USER_ENABLED if is_active else EventKind.USER_DISABLED,
        actor=actor,
        specs=[EventSpec(subject=user, target=user) for user in changed],
        manual=True,
    )
    return changed
