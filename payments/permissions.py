"""Who may do what with payments. Every admin who may open a user's record may read their
Payments tab (customer service answers questions about a charge); only super admins, and
department admins for the users of their subtree, may change anything (record a payment or a
refund, cancel a subscription, give or take back a seat) and read the revenue report. A
learner sees only their own purchases and receipts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from users.permissions import can_edit_user, can_manage_user
from users.roles import Role, user_admin_role

if TYPE_CHECKING:
    from users.models import User

CHANGING_ROLES = (Role.SUPER_ADMIN, Role.DEPARTMENT_ADMIN)


def can_view_user_payments(actor: User, subject: User) -> bool:
    return actor.pk == subject.pk or can_manage_user(actor, subject)


def can_change_user_payments(actor: User, subject: User) -> bool:
    return user_admin_role(actor) in CHANGING_ROLES and can_edit_user(actor, subject)


def can_see_payments_report(actor: User) -> bool:
    return bool(actor.is_authenticated and user_admin_role(actor) in CHANGING_ROLES)
