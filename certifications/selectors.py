"""Reads about certifications and awards. Query shape (joins, counts, scope) lives here."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from certifications.models import Certification, CertificationAward, CertificationImport
from users.models import User
from users.roles import Role, user_admin_role
from users.selectors import users_visible_to

AWARD_SORTS = {
    "username": "user__username",
    "first_name": "user__first_name",
    "last_name": "user__last_name",
    "issued_on": "issued_on",
    "expires_on": "expires_on",
    "association": "association",
}


def _scoped(awards: QuerySet[CertificationAward], actor: User) -> QuerySet[CertificationAward]:
    """Awards of users the actor may manage (every user for super admins and customer service)."""
    if user_admin_role(actor) in (Role.SUPER_ADMIN, Role.CUSTOMER_SERVICE):
        return awards
    return awards.filter(user__in=users_visible_to(actor))


def certification_awards_for_user(*, user: User) -> QuerySet[CertificationAward]:
    """The user's current awards, one per certification, with the certification joined.
    Used by the achievements tab and the progress transcript."""
    return (
        CertificationAward.objects.filter(user=user, is_current=True)
        .select_related("certification")
        .order_by("certification__title")
    )


def certification_award_history_for_user(*, user: User) -> QuerySet[CertificationAward]:
    """Every award the user ever held, current first, then the most recent."""
    return (
        CertificationAward.objects.filter(user=user)
        .select_related("certification", "external_training")
        .order_by("-is_current", "certification__title", "-issued_on", "-id")
    )


def certifications_with_counts(*, actor: User) -> QuerySet[Certification]:
    """Every certification with `awarded_count`: current awards held by users in scope."""
    current = Q(awards__is_current=True)
    if user_admin_role(actor) not in (Role.SUPER_ADMIN, Role.CUSTOMER_SERVICE):
        current &= Q(awards__user__in=users_visible_to(actor))
    return Certification.objects.annotate(awarded_count=Count("awards", filter=current)).order_by(
        "title"
    )


def awards_visible_to(actor: User) -> QuerySet[CertificationAward]:
    return _scoped(
        CertificationAward.objects.select_related("certification", "user", "external_training"),
        actor,
    )


def certification_awarded_users(
    *,
    certification: Certification,
    actor: User,
    search: str = "",
    sort: str = "last_name",
) -> QuerySet[CertificationAward]:
    """The Awarded Users page: current awards of one certification, in the actor's scope."""
    awards = awards_visible_to(actor).filter(certification=certification, is_current=True)
    if search:
        awards = awards.filter(
            Q(user__username__icontains=search)
            | Q(user__first_name__icontains=search)
            | Q(user__last_name__icontains=search)
            | Q(user__email__icontains=search)
        )
    descending = sort.startswith("-")
    field = AWARD_SORTS.get(sort.lstrip("-"), "user__last_name")
    order = f"-{field}" if descending else field
    return awards.order_by(order, "user__last_name", "user__first_name", "pk")


def certification_award_by_code(*, code: str) -> CertificationAward | None:
    return (
        CertificationAward.objects.select_related("certification", "user").filter(code=code).first()
    )


def certification_imports_visible_to(actor: User) -> QuerySet[CertificationImport]:
    imports = CertificationImport.objects.select_related("certification", "job")
    if user_admin_role(actor) == Role.SUPER_ADMIN:
        return imports
    return imports.filter(created_by=actor)
