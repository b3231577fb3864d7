"""Roles are Django permission groups. Their names and what each may do live here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from users.models import User


class Role(models.TextChoices):
    SUPER_ADMIN = "Super admin", "Super admin"
    DEPARTMENT_ADMIN = "Department admin", "Department admin"
    CUSTOMER_SERVICE = "Customer service", "Customer service"
    LEARNER = "Learner", "Learner"


ADMIN_ROLES = (Role.SUPER_ADMIN, Role.DEPARTMENT_ADMIN, Role.CUSTOMER_SERVICE)
# Rank decides who may impersonate whom: nobody logs in as someone with more rights.
ROLE_RANK = {
    Role.LEARNER: 0,
    Role.CUSTOMER_SERVICE: 1,
    Role.DEPARTMENT_ADMIN: 2,
    Role.SUPER_ADMIN: 3,
}

# permission codenames ("app_label.codename") each role's group holds
ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.SUPER_ADMIN: ["users.manage_users"],
    Role.DEPARTMENT_ADMIN: ["users.manage_users"],
    Role.CUSTOMER_SERVICE: ["users.manage_users"],
    Role.LEARNER: [],
}


def user_role_names(user: User) -> set[str]:
    """The role names a user holds, cached on the instance for the request."""
    cached: set[str] | None = getattr(user, "_role_names", None)
    if cached is None:
        if not user.is_authenticated or not user.pk:
            cached = set()
        else:
            cached = {group.name for group in user.groups.all()}
            if user.is_superuser:
                cached.add(Role.SUPER_ADMIN)
        user._role_names = cached  # type: ignore[attr-defined]
    return cached


def user_admin_role(user: User) -> Role | None:
    """The highest admin role the user holds, or None for a pure learner."""
    names = user_role_names(user)
    for role in (Role.SUPER_ADMIN, Role.DEPARTMENT_ADMIN, Role.CUSTOMER_SERVICE):
        if role in names:
            return role
    return None


def user_rank(user: User) -> int:
    role = user_admin_role(user)
    return ROLE_RANK[role] if role else ROLE_RANK[Role.LEARNER]


def is_super_admin(user: User) -> bool:
    return user_admin_role(user) == Role.SUPER_ADMIN


def is_learner(user: User) -> bool:
    names = user_role_names(user)
    return Role.LEARNER in names or user_admin_role(user) is None
