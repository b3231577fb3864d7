"""Who may do what to whom. Views and services both ask here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from users.roles import Role, is_super_admin, user_admin_role, user_rank

if TYPE_CHECKING:
    from users.models import User


def can_manage_users(actor: User) -> bool:
    """Has the "manage users" permission (super admin, department admin, customer service)."""
    return bool(actor.is_authenticated and actor.is_active and actor.has_perm("users.manage_users"))


def can_manage_user(actor: User, subject: User) -> bool:
    """May edit this particular user: manage permission, and the subject in the actor's scope."""
    from users.selectors import users_visible_to

    if not can_manage_users(actor):
        return False
    return users_visible_to(actor).filter(pk=subject.pk).exists()


def can_change_roles(actor: User) -> bool:
    return is_super_admin(actor)


def can_impersonate(*, hijacker: User, hijacked: User) -> bool:
    """django-hijack's permission check: nobody logs in as a user with more rights than their
    own, nobody but a super admin... and not even a super admin logs in as another super admin,
    and only users they may manage; someone whose role requires two-factor authentication only
    from a session that passed it."""
    from users.two_factor import two_factor_required, two_factor_verified

    if hijacker.pk == hijacked.pk or not hijacked.is_active:
        return False
    if two_factor_required(hijacker) and not two_factor_verified(hijacker):
        return False  # a stolen password alone must not open other people's accounts
    if not can_manage_users(hijacker):
        return False
    if is_super_admin(hijacked):
        return False
    if user_rank(hijacked) > user_rank(hijacker):
        return False
    if user_admin_role(hijacker) == Role.CUSTOMER_SERVICE and user_admin_role(hijacked) is not None:
        return False
    return can_manage_user(hijacker, hijacked)


def can_edit_user(actor: User, subject: User) -> bool:
    """May change this user's details, password, status or invitation: they are in the actor's
    scope and hold no more rights than the actor (customer service cannot reset a super
    admin's password, a department admin cannot disable a super admin)."""
    if not can_manage_user(actor, subject):
        return False
    return actor.pk == subject.pk or user_rank(subject) <= user_rank(actor)
