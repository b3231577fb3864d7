"""Writes about users and the organisation. Each service is one transaction and records
its event(s); views, tasks, commands and (later) the API all come through here."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify

from lms.event_kinds import EventKind
from lms.events import EventSpec, event_record, event_record_bulk
from users.models import CustomField, Department, User, UserGroup, UserSelection
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
def department_create(
    *, name: str, parent: Department | None = None, actor: User | None = None
) -> Department:
    """Add a department under `parent` (None: at the top level). A name its siblings already
    have, in any case, is a ValidationError on `name`, also when another admin adds it at the
    same moment (the database's unique constraint decides). Records DEPARTMENT_CREATED;
    `actor` None is the system (the demo, a data load)."""
    if actor is not None:
        _check_super_admin(actor, "departments")
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Enter a name."})
    if parent is not None:
        parent.path, parent.depth = _department_lock_key_share(parent.pk)
    if _department_name_taken(name=name, parent=parent, exclude_pk=None):
        raise ValidationError({"name": DEPARTMENT_NAME_TAKEN})
    with _department_name_unique():
        department = Department.objects.create(name=name, parent=parent)
    parent_path = parent.path if parent else "/"
    department.path = f"{parent_path}{department.pk}/"
    department.depth = (parent.depth + 1) if parent else 0
    department.save(update_fields=["path", "depth"])
    event_record(
        kind=EventKind.DEPARTMENT_CREATED,
        actor=actor,
        subject=None,
        target=department,
        details={"name": name, "parent": _department_place(parent)},
        manual=actor is not None,
    )
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


@transaction.atomic
def users_set_active(*, users: Iterable[User], is_active: bool, actor: User) -> list[User]:
    """Disable or enable users. Those already in that state are left alone (no event); the
    changed ones are updated with one UPDATE, recorded with one INSERT of events, and when
    disabled every session they have ends at once: their `session_generation` goes up, which
    changes the session hash Django checks on each request (so enabling them again does not
    bring an old session back)."""
    changed = [user for user in users if user.is_active != is_active and user.pk != actor.pk]
    if not changed:
        return []
    ids = {user.pk for user in changed}
    if is_active:
        User.objects.filter(pk__in=ids).update(is_active=True)
    else:
        User.objects.filter(pk__in=ids).update(
            is_active=False, session_generation=F("session_generation") + 1
        )
    for user in changed:
        user.is_active = is_active
    event_record_bulk(
        kind=EventKind.USER_ENABLED if is_active else EventKind.USER_DISABLED,
        actor=actor,
        specs=[EventSpec(subject=user, target=user) for user in changed],
        manual=True,
    )
    return changed


# --- details, password, role ------------------------------------------------------------

EDITABLE_FIELDS = ("first_name", "last_name", "email", "username", "phone", "address")


def _check_can_manage(actor: User, user: User) -> None:
    from users.permissions import can_edit_user

    if not can_edit_user(actor, user):
        raise PermissionDenied("You may not change this user.")


def _email_taken(email: str, *, exclude_pk: int | None) -> bool:
    users = User.objects.filter(email__iexact=email)
    if exclude_pk is not None:
        users = users.exclude(pk=exclude_pk)
    return users.exists()


def custom_field_value_clean(field: CustomField, value: Any) -> Any:
    """Normalise one custom field value to what is stored in `User.custom_fields` (JSON):
    text and choice as str, number as int/float, date as an ISO string; empty is None."""
    if value in (None, ""):
        if field.required:
            raise ValidationError({field.key: f"{field.label} is required."})
        return None
    if field.kind == CustomField.Kind.NUMBER:
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            raise ValidationError({field.key: f"{field.label} must be a number."}) from None
        return int(number) if number == number.to_integral_value() else float(number)
    if field.kind == CustomField.Kind.DATE:
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise ValidationError({field.key: f"{field.label} must be a date."}) from None
    if field.kind == CustomField.Kind.CHOICE and str(value) not in [str(c) for c in field.choices]:
        raise ValidationError({field.key: f"Pick one of the choices for {field.label}."})
    return str(value)


@transaction.atomic
def user_update(
    *,
    user: User,
    actor: User,
    data: dict[str, Any],
    departments: Iterable[Department] | None = None,
    user_groups: Iterable[UserGroup] | None = None,
    custom_fields: dict[str, Any] | None = None,
) -> dict[str, list[Any]]:
    """Change a user's details. Records one USER_UPDATED event whose details list each changed
    field as [old, new]; returns that dict (empty when nothing changed, and then no event)."""
    _check_can_manage(actor, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    changes: dict[str, list[Any]] = {}
    for name in EDITABLE_FIELDS:
        if name not in data:
            continue
        new = (data[name] or "").strip()
        if name == "email" and _email_taken(new, exclude_pk=user.pk):
            raise ValidationError({"email": "Another user already has this email address."})
        old = getattr(user, name)
        if new != old:
            changes[name] = [old, new]
            setattr(user, name, new)
    if custom_fields is not None:
        stored = dict(user.custom_fields)
        for field in CustomField.objects.all():
            if field.key not in custom_fields:
                continue
            value = custom_field_value_clean(field, custom_fields[field.key])
            if stored.get(field.key) != value:
                changes[f"custom:{field.label}"] = [stored.get(field.key), value]
                stored[field.key] = value
        user.custom_fields = stored
    user.full_clean(exclude=["password"])
    if departments is not None:
        new_departments = sorted(set(departments), key=lambda d: d.pk)
        from users.selectors import departments_visible_to

        allowed = set(departments_visible_to(actor).values_list("pk", flat=True))
        current = set(user.departments.values_list("pk", flat=True))
        if any(d.pk not in allowed and d.pk not in current for d in new_departments):
            raise ValidationError({"departments": "You can only add departments you manage."})
        old_departments = list(user.departments.order_by("pk"))
        if [d.pk for d in new_departments] != [d.pk for d in old_departments]:
            changes["departments"] = [
                [d.name for d in old_departments],
                [d.name for d in new_departments],
            ]
            user.departments.set(new_departments)
    if user_groups is not None:
        new_groups = sorted(user_groups, key=lambda g: g.pk)
        old_groups = list(user.user_groups.order_by("pk"))
        if [g.pk for g in new_groups] != [g.pk for g in old_groups]:
            changes["groups"] = [[g.name for g in old_groups], [g.name for g in new_groups]]
            user.user_groups.set(new_groups)
    if not changes:
        return {}
    user.save()
    event_record(
        kind=EventKind.USER_UPDATED,
        actor=actor,
        subject=user,
        target=user,
        details={"changes": changes},
        manual=True,
    )
    return changes


@transaction.atomic
def user_set_password(*, user: User, actor: User, password: str) -> None:
    """Set a new password chosen by an admin; Django's validators decide whether it is strong
    enough (ValidationError otherwise). The event never holds the password."""
    _check_can_manage(actor, user)
    validate_password(password, user=user)
    user.set_password(password)
    user.save(update_fields=["password"])
    event_record(
        kind=EventKind.USER_PASSWORD_SET,
        actor=actor,
        subject=user,
        target=user,
        details={"by": "admin"},
        manual=True,
    )


@transaction.atomic
def user_sessions_end(*, user: User, actor: User) -> None:
    """Log the user out everywhere: every session they have ends at its next request, as on
    disable (their `session_generation` goes up, which changes the session hash). The user
    themselves, or an admin who may edit them."""
    if actor.pk != user.pk:
        _check_can_manage(actor, user)
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    event_record(
        kind=EventKind.USER_SESSIONS_ENDED,
        actor=actor,
        subject=user,
        target=user,
        details={"by": "self" if actor.pk == user.pk else "admin"},
        manual=actor.pk != user.pk,
    )


@transaction.atomic
def user_change_roles(*, user: User, actor: User, roles: Iterable[str]) -> list[str]:
    """Only super admins change roles. Returns the new role names."""
    from users.permissions import can_change_roles

    if not can_change_roles(actor):
        raise PermissionDenied("Only a super admin can change roles.")
    if user.pk == actor.pk:
        raise ValidationError("You cannot change your own role.")
    wanted = sorted({str(r) for r in roles})
    unknown = set(wanted) - set(Role.values)
    if unknown or not wanted:
        raise ValidationError("Pick at least one valid role.")
    old = sorted(user.groups.values_list("name", flat=True))
    if old == wanted:
        return wanted
    user.groups.set(Group.objects.filter(name__in=wanted))
    user.__dict__.pop("_role_names", None)
    event_record(
        kind=EventKind.USER_ROLE_CHANGED,
        actor=actor,
        subject=user,
        target=user,
        details={"changes": {"roles": [old, wanted]}},
        manual=True,
    )
    return wanted


# --- invitations ---------------------------------------------------------------------------


def invite_url(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("users:invite_accept", kwargs={"uidb64": uid, "token": token})
    return f"{settings.MERIT_SITE_URL.rstrip('/')}{path}"


@transaction.atomic
def user_invite_send(*, user: User, actor: User) -> None:
    """Email the user a one-time link to set their password. Django's token generator hashes
    the password and last login into the token, so the link stops working once it is used."""
    _check_can_manage(actor, user)
    if not user.is_active:
        raise ValidationError("Enable the user before sending an invitation.")
    user.invited_at = timezone.now()
    user.save(update_fields=["invited_at"])
    context = {
        "user": user,
        "url": invite_url(user),
        "organisation_name": settings.MERIT_ORGANISATION_NAME,
        "inviter": actor,
    }
    subject = render_to_string("users/email/invite_subject.txt", context).strip()
    body = render_to_string("users/email/invite_body.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, None, [user.email]))
    event_record(
        kind=EventKind.USER_INVITED,
        actor=actor,
        subject=user,
        target=user,
        details={"email": user.email},
        manual=True,
    )


@transaction.atomic
def user_invite_accept(*, user: User, password: str) -> None:
    """The invited user sets their own password from the emailed link."""
    validate_password(password, user=user)
    user.set_password(password)
    fields = ["password"]
    if user.joined_at is None:
        user.joined_at = timezone.now()
        fields.append("joined_at")
    user.save(update_fields=fields)
    event_record(
        kind=EventKind.USER_PASSWORD_SET,
        actor=user,
        subject=user,
        target=user,
        details={"by": "invitation"},
        manual=False,
    )


# --- groups --------------------------------------------------------------------------------


GROUP_NAME_TAKEN = "A group with this name already exists."


def _group_save(group: UserGroup) -> None:
    """Save a checked group; a name another admin took meanwhile is the form's error."""
    if UserGroup.objects.filter(name__iexact=group.name).exclude(pk=group.pk).exists():
        raise ValidationError({"name": GROUP_NAME_TAKEN})
    group.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError as exc:
        raise ValidationError({"name": GROUP_NAME_TAKEN}) from exc


@transaction.atomic
def user_group_create(*, name: str, description: str = "", actor: User) -> UserGroup:
    """Add a group (names are unique whatever their case). Records GROUP_CREATED."""
    _check_super_admin(actor, "groups")
    group = UserGroup(name=name.strip(), description=description.strip())
    _group_save(group)
    event_record(
        kind=EventKind.GROUP_CREATED,
        actor=actor,
        subject=None,
        target=group,
        details={"name": group.name, "description": group.description},
        manual=True,
    )
    return group


@transaction.atomic
def user_group_update(*, group: UserGroup, name: str, description: str, actor: User) -> UserGroup:
    """Rename a group or change its description. Records GROUP_CHANGED with the old and new
    values; nothing changed records nothing."""
    _check_super_admin(actor, "groups")
    group = UserGroup.objects.select_for_update().get(pk=group.pk)
    changes: dict[str, list[Any]] = {}
    for field_name, value in (("name", name.strip()), ("description", description.strip())):
        if getattr(group, field_name) != value:
            changes[field_name] = [getattr(group, field_name), value]
            setattr(group, field_name, value)
    if not changes:
        return group
    _group_save(group)
    event_record(
        kind=EventKind.GROUP_CHANGED,
        actor=actor,
        subject=None,
        target=group,
        details={"changes": changes},
        manual=True,
    )
    return group


@transaction.atomic
def user_group_delete(*, group: UserGroup, actor: User) -> int:
    """Delete a group; its members stay, only their membership of it goes. Records
    GROUP_DELETED with the name and the number of members it had; returns that number."""
    _check_super_admin(actor, "groups")
    group = UserGroup.objects.select_for_update().get(pk=group.pk)
    members = group.members.count()
    event_record(
        kind=EventKind.GROUP_DELETED,
        actor=actor,
        subject=None,
        target=group,
        details={"name": group.name, "members": members},
        manual=True,
    )
    group.delete()
    return members


@transaction.atomic
def users_add_to_group(*, users: Iterable[User], group: UserGroup, actor: User) -> list[User]:
    """Add users to a group with one INSERT; those already in it are skipped (no event)."""
    users = list(users)
    through = User.user_groups.through
    already = set(
        through.objects.filter(
            usergroup_id=group.pk, user_id__in=[u.pk for u in users]
        ).values_list("user_id", flat=True)
    )
    added = [u for u in users if u.pk not in already]
    through.objects.bulk_create(
        [through(user_id=u.pk, usergroup_id=group.pk) for u in added], ignore_conflicts=True
    )
    event_record_bulk(
        kind=EventKind.USER_ADDED_TO_GROUP,
        actor=actor,
        specs=[EventSpec(subject=u, target=group, details={"group": group.name}) for u in added],
        manual=True,
    )
    return added


# --- departments ---------------------------------------------------------------------------

DEPARTMENT_NAME_TAKEN = "This parent already has a department with this name."
_DEPARTMENT_NAME_CONSTRAINT = "department_unique_name_in_parent"


def _department_name_taken(*, name: str, parent: Department | None, exclude_pk: int | None) -> bool:
    siblings = Department.objects.filter(parent=parent, name__iexact=name)
    if exclude_pk is not None:
        siblings = siblings.exclude(pk=exclude_pk)
    return siblings.exists()


@contextmanager
def _department_name_unique() -> Iterator[None]:
    """Turn a clash with the siblings' unique name constraint into the form's error. The check
    before the write gives the message in the usual case; this covers two admins adding or
    moving the same name at one moment, where the second one's write waits for the first and
    then fails. A savepoint, so the caller's transaction is still usable afterwards."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        cause = exc.__cause__
        diag = getattr(cause, "diag", None)
        if getattr(diag, "constraint_name", None) != _DEPARTMENT_NAME_CONSTRAINT:
            raise
        raise ValidationError({"name": DEPARTMENT_NAME_TAKEN}) from exc


def _department_lock_key_share(pk: int) -> tuple[str, int]:
    """The parent's path and depth as they are now, with a FOR KEY SHARE lock: it cannot move
    or be deleted (both lock it FOR UPDATE) until the caller commits, while other admins may
    still add departments beside this one (the siblings' unique name index decides a clash).
    Django's foreign keys are checked at commit, so the insert alone would not hold it."""
    table = Department._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "path", "depth" FROM "{table}" WHERE "id" = %s FOR KEY SHARE', [pk])  # noqa: S608 (the table name is the model's)
        row = cursor.fetchone()
    if row is None:
        raise ValidationError({"parent": "This parent department no longer exists."})
    return str(row[0]), int(row[1])


def _department_place(parent: Department | None) -> str:
    """Where a department sits, for an event: its parent's chain of names from the root."""
    if parent is None:
        return "(top level)"
    ids = [int(pk) for pk in parent.path.strip("/").split("/") if pk]
    names = dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))
    return " / ".join(names.get(pk, "?") for pk in ids) or parent.name


def _check_super_admin(actor: User, what: str) -> None:
    from users.roles import is_super_admin

    if not is_super_admin(actor):
        raise PermissionDenied(f"Only a super admin manages {what}.")


def _department_lock_subtree(
    department_pk: int, parent_pk: int | None
) -> tuple[Department, Department | None, list[Department]]:
    """Lock a department's whole subtree and its new parent with one statement in pk order,
    so two admins moving departments in each other's subtrees wait for each other instead of
    deadlocking. Returns (department, parent, subtree). While the subtree is locked no node of
    it can move and no department can be added under it (the insert's key-share lock on its
    parent waits); if the department moved between reading its path and locking, read again."""
    for _attempt in range(3):
        path = Department.objects.filter(pk=department_pk).values_list("path", flat=True).first()
        if path is None:
            raise ValidationError("This department no longer exists.")
        nodes = list(
            Department.objects.select_for_update()
            .filter(Q(path__startswith=path) | Q(pk=parent_pk))
            .order_by("pk")
        )
        by_pk = {node.pk: node for node in nodes}
        department = by_pk.get(department_pk)
        if department is None or department.path != path:
            continue
        parent = by_pk.get(parent_pk) if parent_pk is not None else None
        if parent_pk is not None and parent is None:
            raise ValidationError({"parent": "This parent department no longer exists."})
        return department, parent, [node for node in nodes if node.path.startswith(path)]
    raise ValidationError("Another admin is moving this department: try again.")


@transaction.atomic
def department_update(
    *, department: Department, name: str, parent: Department | None, actor: User
) -> Department:
    """Rename and/or move a department. Moving rewrites `path` and `depth` of the whole
    subtree; a department cannot move under itself or one of its descendants, nor next to a
    sibling of the same name (in any case; also when another admin adds that name at the same
    moment). Records one DEPARTMENT_CHANGED event with the old and new name and place;
    nothing changed records nothing."""
    _check_super_admin(actor, "departments")
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Enter a name."})
    department, parent, subtree = _department_lock_subtree(
        department.pk, parent.pk if parent is not None else None
    )
    if parent is not None and parent.path.startswith(department.path):
        raise ValidationError(
            {"parent": "A department cannot move under itself or one of its sub-departments."}
        )
    if _department_name_taken(name=name, parent=parent, exclude_pk=department.pk):
        raise ValidationError({"name": DEPARTMENT_NAME_TAKEN})
    changes: dict[str, list[Any]] = {}
    if name != department.name:
        changes["name"] = [department.name, name]
    if department.parent_id != (parent.pk if parent else None):
        changes["parent"] = [_department_place(department.parent), _department_place(parent)]
    if not changes:
        return department
    old_path, old_depth = department.path, department.depth
    new_path = f"{parent.path if parent else '/'}{department.pk}/"
    new_depth = (parent.depth + 1) if parent else 0
    department.name = name
    department.parent = parent
    with _department_name_unique():
        department.save(update_fields=["name", "parent", "updated_at"])
    if new_path != old_path:
        for node in subtree:
            node.path = new_path + node.path[len(old_path) :]
            node.depth = node.depth - old_depth + new_depth
        Department.objects.bulk_update(subtree, ["path", "depth"])
        department.path, department.depth = new_path, new_depth
    event_record(
        kind=EventKind.DEPARTMENT_CHANGED,
        actor=actor,
        subject=None,
        target=department,
        details={"changes": changes},
        manual=True,
    )
    return department


@transaction.atomic
def department_delete(*, department: Department, actor: User) -> None:
    """Remove an empty department: one with sub-departments, members or admins is refused
    (ValidationError), so nobody silently loses a membership or an admin their scope.
    Records DEPARTMENT_DELETED with its name and place."""
    _check_super_admin(actor, "departments")
    department = Department.objects.select_for_update().get(pk=department.pk)
    children = Department.objects.filter(parent=department).count()
    if children:
        raise ValidationError(
            f"“{department.name}” has {children} sub-department(s): move or delete them first."
        )
    members = department.members.count()
    if members:
        raise ValidationError(
            f"{members} user(s) are in “{department.name}”: move them to another department first."
        )
    admins = department.admins.count()
    if admins:
        raise ValidationError(
            f"{admins} department admin(s) manage “{department.name}”: "
            "give them another department first."
        )
    details = {"name": department.name, "parent": _department_place(department.parent)}
    event_record(
        kind=EventKind.DEPARTMENT_DELETED,
        actor=actor,
        subject=None,
        target=department,
        details=details,
        manual=True,
    )
    department.delete()


# --- custom fields -------------------------------------------------------------------------


_CUSTOM_FIELD_AUDITED = ("label", "kind", "choices", "required", "position")


@transaction.atomic
def custom_field_save(
    *,
    actor: User,
    label: str,
    kind: str,
    choices: list[str] | None = None,
    required: bool = False,
    position: int = 0,
    field: CustomField | None = None,
) -> CustomField:
    """Define a custom field (`field` None) or change one. Records CUSTOM_FIELD_CREATED with
    its definition, or CUSTOM_FIELD_CHANGED with the old and new value of each changed part
    (nothing changed records nothing)."""
    _check_super_admin(actor, "custom fields")
    creating = field is None
    if field is None:
        base = slugify(label).replace("-", "_")[:50] or "field"
        key, n = base, 2
        while CustomField.objects.filter(key=key).exists():
            key, n = f"{base}_{n}", n + 1
        field = CustomField(key=key)
    else:
        field = CustomField.objects.select_for_update().get(pk=field.pk)
    before = {name: getattr(field, name) for name in _CUSTOM_FIELD_AUDITED}
    field.label = label.strip()
    field.kind = kind
    field.choices = [c.strip() for c in (choices or []) if c.strip()]
    field.required = required
    field.position = position
    if field.kind == CustomField.Kind.CHOICE and not field.choices:
        raise ValidationError({"choices": "A choice field needs at least one choice."})
    field.full_clean(validate_unique=False)
    after = {name: getattr(field, name) for name in _CUSTOM_FIELD_AUDITED}
    if creating:
        try:
            with transaction.atomic():
                field.save()
        except IntegrityError as exc:  # another admin added the same label at this moment
            raise ValidationError({"label": "A field with this label was just added."}) from exc
        event_record(
            kind=EventKind.CUSTOM_FIELD_CREATED,
            actor=actor,
            subject=None,
            target=field,
            details={"key": field.key, **after},
            manual=True,
        )
        return field
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if not changes:
        return field
    field.save()
    event_record(
        kind=EventKind.CUSTOM_FIELD_CHANGED,
        actor=actor,
        subject=None,
        target=field,
        details={"changes": changes},
        manual=True,
    )
    return field


@transaction.atomic
def custom_field_delete(*, actor: User, field: CustomField) -> None:
    """Remove a definition; values stay in users' JSON (harmless, and restorable). Records
    CUSTOM_FIELD_DELETED with the definition it had."""
    _check_super_admin(actor, "custom fields")
    field = CustomField.objects.select_for_update().get(pk=field.pk)
    event_record(
        kind=EventKind.CUSTOM_FIELD_DELETED,
        actor=actor,
        subject=None,
        target=field,
        details={
            "key": field.key,
            **{name: getattr(field, name) for name in _CUSTOM_FIELD_AUDITED},
        },
        manual=True,
    )
    field.delete()


# --- the learner's own profile -------------------------------------------------------------

SOCIAL_KEYS = ("website", "linkedin", "twitter", "facebook")


@transaction.atomic
def profile_update(
    *,
    user: User,
    bio: str,
    social_links: dict[str, str],
    avatar: UploadedFile | None = None,
    remove_avatar: bool = False,
) -> list[str]:
    """A user edits their own profile. Going from empty to set records PROFILE_AVATAR_ADDED /
    PROFILE_BIO_COMPLETED / PROFILE_SOCIAL_LINKS_ADDED (badges hang on these); any other change
    records PROFILE_UPDATED. Returns the kinds recorded."""
    from lms.images import image_validate_and_normalise

    user = User.objects.select_for_update().get(pk=user.pk)
    normalised = None
    if avatar is not None:
        try:
            normalised = image_validate_and_normalise(
                avatar,
                max_bytes=settings.MERIT_AVATAR_MAX_BYTES,
                max_pixels=settings.MERIT_IMAGE_MAX_PIXELS,
                max_side=512,
                square=True,
            )
        except ValidationError as exc:
            raise ValidationError({"avatar": exc.messages}) from None
    links = {k: (social_links.get(k) or "").strip() for k in SOCIAL_KEYS}
    links = {k: v for k, v in links.items() if v}
    bio = bio.strip()
    kinds: list[str] = []
    changed: list[str] = []
    had_avatar, had_bio, had_links = bool(user.avatar), bool(user.bio), bool(user.social_links)
    if normalised is not None:
        old_avatar = (user.avatar.name or "") if user.avatar else ""
        user.avatar.save(normalised.name or "avatar.png", normalised, save=False)
        if old_avatar:
            transaction.on_commit(lambda: default_storage.delete(old_avatar))
        changed.append("avatar")
        if not had_avatar:
            kinds.append(EventKind.PROFILE_AVATAR_ADDED)
    elif remove_avatar and user.avatar:
        old_avatar = user.avatar.name or ""
        user.avatar = ""  # type: ignore[assignment]
        transaction.on_commit(lambda: default_storage.delete(old_avatar))
        changed.append("avatar")
    if bio != user.bio:
        changed.append("bio")
        if not had_bio and bio:
            kinds.append(EventKind.PROFILE_BIO_COMPLETED)
        user.bio = bio
    if links != user.social_links:
        changed.append("social_links")
        if not had_links and links:
            kinds.append(EventKind.PROFILE_SOCIAL_LINKS_ADDED)
        user.social_links = links
    if not changed:
        return []
    user.full_clean(exclude=["password"])
    user.save()
    milestone_fields: dict[str, str] = {
        EventKind.PROFILE_AVATAR_ADDED: "avatar",
        EventKind.PROFILE_BIO_COMPLETED: "bio",
        EventKind.PROFILE_SOCIAL_LINKS_ADDED: "social_links",
    }
    for kind in kinds:
        event_record(kind=kind, actor=user, subject=user, target=user, manual=False)
    rest = [name for name in changed if name not in {milestone_fields[k] for k in kinds}]
    if rest:
        event_record(
            kind=EventKind.PROFILE_UPDATED,
            actor=user,
            subject=user,
            target=user,
            details={"fields": rest},
            manual=False,
        )
        kinds.append(EventKind.PROFILE_UPDATED)
    return [str(k) for k in kinds]


# --- impersonation (django-hijack signals, connected in users/apps.py) --------------------


def impersonation_started(*, hijacker: User, hijacked: User, **_: Any) -> None:
    event_record(
        kind=EventKind.USER_IMPERSONATION_STARTED,
        actor=hijacker,
        subject=hijacked,
        target=hijacked,
        impersonator=None,
        manual=True,
    )


def impersonation_ended(*, hijacker: User, hijacked: User, **_: Any) -> None:
    event_record(
        kind=EventKind.USER_IMPERSONATION_ENDED,
        actor=hijacker,
        subject=hijacked,
        target=hijacked,
        impersonator=None,
        manual=True,
    )


@transaction.atomic
def user_add(
    *,
    actor: User,
    username: str,
    email: str,
    first_name: str = "",
    last_name: str = "",
    departments: Iterable[Department] = (),
    user_groups: Iterable[UserGroup] = (),
    roles: Iterable[str] = (Role.LEARNER,),
    send_invite: bool = True,
) -> User:
    """An admin adds a person. Only super admins give admin roles; a department admin must
    put the person in at least one department they manage (or they could not see them)."""
    from users.permissions import can_change_roles, can_manage_users
    from users.selectors import departments_visible_to

    if not can_manage_users(actor):
        raise PermissionDenied("You may not add users.")
    roles = sorted({str(r) for r in roles}) or [Role.LEARNER]
    if roles != [Role.LEARNER] and not can_change_roles(actor):
        raise PermissionDenied("Only a super admin can give admin roles.")
    departments = list(departments)
    allowed = set(departments_visible_to(actor).values_list("pk", flat=True))
    if any(d.pk not in allowed for d in departments):
        raise ValidationError({"departments": "You can only add people to departments you manage."})
    from users.roles import user_admin_role

    if user_admin_role(actor) == Role.DEPARTMENT_ADMIN and not departments:
        raise ValidationError({"departments": "Pick at least one of your departments."})
    email = email.strip()
    if _email_taken(email, exclude_pk=None):
        raise ValidationError({"email": "Another user already has this email address."})
    if User.objects.filter(username__iexact=username.strip()).exists():
        raise ValidationError({"username": "Another user already has this username."})
    user = user_create(
        username=username.strip(),
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        roles=roles,
        departments=departments,
        user_groups=list(user_groups),
        actor=actor,
    )
    if send_invite:
        user_invite_send(user=user, actor=actor)
    return user


@transaction.atomic
def user_selection_create(*, actor: User, user_ids: Iterable[int]) -> UserSelection:
    """Keep `user_ids` (deduplicated, in order) on the server under a new unguessable token,
    for the actor's next bulk page (see `UserSelection`), and delete selections older than
    `UserSelection.max_age`. It changes nothing about anyone, so it records no event: the bulk
    action done with it does."""
    UserSelection.objects.filter(created_at__lt=timezone.now() - UserSelection.max_age).delete()
    return UserSelection.objects.create(
        token=secrets.token_urlsafe(16),
        created_by=actor,
        user_ids=list(dict.fromkeys(int(pk) for pk in user_ids)),
    )
