"""Reads about users and the organisation. Query shape lives here."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet

from users.models import Department, User, UserGroup
from users.roles import Role, user_admin_role


def department_subtree(department: Department) -> QuerySet[Department]:
    return Department.objects.filter(path__startswith=department.path)


def departments_subtree_q(departments: Iterable[Department], prefix: str = "") -> Q:
    """A Q on `<prefix>path` matching every department in the subtrees of `departments`."""
    condition = Q(pk__in=[])
    for department in departments:
        condition |= Q(**{f"{prefix}path__startswith": department.path})
    return condition


def users_in_departments(departments: Iterable[Department]) -> QuerySet[User]:
    """Users who belong to any department in the subtrees of `departments`."""
    subtree = Department.objects.filter(departments_subtree_q(departments))
    membership = User.departments.through.objects.filter(
        user_id=OuterRef("pk"), department__in=subtree
    )
    return User.objects.filter(Exists(membership))


def users_visible_to(actor: User) -> QuerySet[User]:
    """The users an admin may see and edit: everyone for super admins and customer service,
    the subtrees of the departments they administer for department admins, nobody otherwise."""
    role = user_admin_role(actor)
    if role in (Role.SUPER_ADMIN, Role.CUSTOMER_SERVICE):
        return User.objects.all()
    if role == Role.DEPARTMENT_ADMIN:
        return users_in_departments(actor.administered_departments.all())
    return User.objects.none()


def departments_visible_to(actor: User) -> QuerySet[Department]:
    role = user_admin_role(actor)
    if role in (Role.SUPER_ADMIN, Role.CUSTOMER_SERVICE):
        return Department.objects.all()
    if role == Role.DEPARTMENT_ADMIN:
        return Department.objects.filter(
            departments_subtree_q(actor.administered_departments.all())
        )
    return Department.objects.none()


def users_resolve_selection(
    *,
    actor: User,
    user_ids: Iterable[int] = (),
    group_ids: Iterable[int] = (),
    department_ids: Iterable[int] = (),
    include_disabled: bool = False,
) -> QuerySet[User]:
    """Distinct users picked directly, through groups, or through departments (with their
    subtrees), limited to what the actor may manage. Ordered by pk, so jobs are reproducible."""
    departments = list(Department.objects.filter(pk__in=list(department_ids)))
    picked = Q(pk__in=list(user_ids)) | Q(
        Exists(
            User.user_groups.through.objects.filter(
                user_id=OuterRef("pk"), usergroup_id__in=list(group_ids)
            )
        )
    )
    if departments:
        subtree = Department.objects.filter(departments_subtree_q(departments))
        picked |= Q(
            Exists(
                User.departments.through.objects.filter(
                    user_id=OuterRef("pk"), department__in=subtree
                )
            )
        )
    users = users_visible_to(actor).filter(picked)
    if not include_disabled:
        users = users.filter(is_active=True)
    return users.order_by("pk")


def user_groups_all() -> QuerySet[UserGroup]:
    return UserGroup.objects.all()
