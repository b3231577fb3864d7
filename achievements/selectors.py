"""Reads for gamification. Ranks are indexed counts, never loops over users:
rank = 1 + the number of active users with more points (ties share a rank: 1, 2, 2, 4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from achievements.models import (
    Badge,
    GamificationSettings,
    PeriodPoints,
    PointsBalance,
    PointsEntry,
    UserBadge,
)
from achievements.rules import RULES, Rule
from achievements.services import period_starts
from users.models import Department, User, UserGroup
from users.selectors import departments_subtree_q

PERIODS = ("all", "month", "week")


def gamification_settings() -> GamificationSettings:
    return GamificationSettings.load()


def gamification_enabled() -> bool:
    return GamificationSettings.load().enabled


def points_balance(*, user: User) -> int | None:
    """The user's points total; None while gamification is off."""
    if not gamification_enabled():
        return None
    points = PointsBalance.objects.filter(user_id=user.pk).values_list("points", flat=True).first()
    return points or 0


def _scope(
    rows: QuerySet[Any], *, department: Department | None, group: UserGroup | None
) -> QuerySet[Any]:
    if department is not None:
        # The subtree's ids first (a handful of rows): an id list lets PostgreSQL probe the
        # membership index instead of hashing every membership joined to every department.
        subtree = list(
            Department.objects.filter(departments_subtree_q([department])).values_list(
                "pk", flat=True
            )
        )
        rows = rows.filter(
            Exists(
                User.departments.through.objects.filter(
                    user_id=OuterRef("user_id"), department_id__in=subtree
                )
            )
        )
    if group is not None:
        rows = rows.filter(
            Exists(
                User.user_groups.through.objects.filter(
                    user_id=OuterRef("user_id"), usergroup_id=group.pk
                )
            )
        )
    return rows


def _period_rows(period: str) -> QuerySet[Any]:
    """Everyone's points rows for the period (active and disabled users)."""
    if period == "all":
        return PointsBalance.objects.all()
    if period not in PERIODS:
        raise ValueError(f"Unknown period {period!r}")
    starts_on = period_starts(timezone.now())[period]
    return PeriodPoints.objects.filter(period=period, starts_on=starts_on)


@dataclass(frozen=True)
class Standing:
    rank: int | None
    points: int


def leaderboard_standing(
    *,
    user: User,
    period: str = "all",
    department: Department | None = None,
    group: UserGroup | None = None,
) -> Standing:
    """The user's points in the period and their rank (None for a disabled user). Two queries."""
    rows = _period_rows(period)
    points = rows.filter(user_id=user.pk).values_list("points", flat=True).first() or 0
    if not user.is_active:
        return Standing(rank=None, points=points)
    higher = (
        _scope(rows.filter(is_active=True), department=department, group=group)
        .filter(points__gt=points)
        .count()
    )
    return Standing(rank=higher + 1, points=points)


def leaderboard_rank(
    *,
    user: User,
    period: str = "all",
    department: Department | None = None,
    group: UserGroup | None = None,
) -> int | None:
    """1 + the number of active users (in the department subtree / group) with more points."""
    return leaderboard_standing(user=user, period=period, department=department, group=group).rank


@dataclass(frozen=True)
class LeaderRow:
    rank: int
    user: User
    points: int


def leaderboard_top(
    *,
    limit: int = 50,
    period: str = "all",
    department: Department | None = None,
    group: UserGroup | None = None,
) -> list[LeaderRow]:
    """The top `limit` active users by points, with shared ranks for ties. One query (plus the
    count of users above the first row's points, which is 0). Users with no points are left out."""
    rows = list(
        _scope(_period_rows(period).filter(is_active=True), department=department, group=group)
        .filter(points__gt=0)
        .select_related("user")
        .order_by("-points", "user_id")[:limit]
    )
    result: list[LeaderRow] = []
    for index, row in enumerate(rows):
        rank = result[-1].rank if index and row.points == rows[index - 1].points else index + 1
        result.append(LeaderRow(rank=rank, user=row.user, points=row.points))
    return result


def points_ledger(*, user: User) -> QuerySet[PointsEntry]:
    return (
        PointsEntry.objects.filter(user=user)
        .select_related("actor", "impersonator")
        .order_by("-awarded_at", "-id")
    )


@dataclass
class BadgeStatus:
    badge: Badge
    held: UserBadge | None
    progress: int
    rule: Rule | None

    @property
    def earned(self) -> bool:
        return self.held is not None and self.held.revoked_at is None

    @property
    def progress_label(self) -> str:
        if self.rule is None or not self.rule.kinds:
            return "Granted by an admin"
        shown = min(self.progress, self.badge.threshold)
        unit = "" if self.rule.unit == "times" else f" {self.rule.unit}"
        return f"{shown} / {self.badge.threshold}{unit}"

    @property
    def progress_percent(self) -> int:
        if not self.badge.threshold:
            return 0
        return min(100, round(100 * self.progress / self.badge.threshold))


def badge_statuses(*, user: User) -> list[BadgeStatus]:
    """Every active badge (and any inactive one the user holds) with the user's progress.
    A fixed number of queries: badges, holdings, one count per rule in use."""
    from achievements.rules import rule_counts

    holdings = {ub.badge_id: ub for ub in UserBadge.objects.filter(user=user)}
    badges = list(Badge.objects.filter(Q(is_active=True) | Q(pk__in=list(holdings))))
    progress: dict[str, int] = {}
    for key in sorted({badge.rule for badge in badges}):
        rule = RULES.get(key)
        if (
            rule is not None
            and rule.kinds
            and any(badge.rule == key and badge.pk not in holdings for badge in badges)
        ):
            progress[key] = rule_counts(rule, [user.pk]).get(user.pk, 0)
    statuses = []
    for badge in badges:
        held = holdings.get(badge.pk)
        rule = RULES.get(badge.rule)
        count = progress.get(badge.rule, 0)
        if held is not None and held.revoked_at is None:
            count = max(count, badge.threshold)
        statuses.append(BadgeStatus(badge=badge, held=held, progress=count, rule=rule))
    return statuses


def badges_held(*, user: User) -> QuerySet[UserBadge]:
    return UserBadge.objects.filter(user=user, revoked_at__isnull=True).select_related("badge")


def badge_list() -> QuerySet[Badge]:
    from django.db.models import Count

    return Badge.objects.annotate(
        holder_count=Count("holders", filter=Q(holders__revoked_at__isnull=True))
    ).order_by("category", "position", "name")


def certificates_for_user(*, user: User) -> list[Any]:
    """The user's certificates from the certifications app, or [] while it has none to give."""
    try:
        selector = import_string("certifications.selectors.certification_awards_for_user")
    except ImportError:
        return []
    return list(selector(user=user))
