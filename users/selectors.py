"""Reads about users and the organisation. Query shape lives here."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber, Upper
from django.http import QueryDict
from django.utils import timezone
from redis.exceptions import RedisError

from users.models import Department, User, UserGroup, UserSelection
from users.roles import ROLE_RANK, Role, user_admin_role

logger = logging.getLogger(__name__)


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


USER_SORTS = {
    "name": ("last_name", "first_name", "id"),
    "-name": ("-last_name", "-first_name", "-id"),
    "department": ("primary_department", "last_name", "id"),
    "-department": ("-primary_department", "last_name", "id"),
    "role": ("role_rank", "last_name", "id"),
    "-role": ("-role_rank", "last_name", "id"),
    "last_login": ("last_login", "id"),
    "-last_login": ("-last_login", "id"),
}
STATUS_CHOICES = (("active", "Active"), ("disabled", "Disabled"), ("all", "All"))


def _role_rank_subquery() -> Subquery:
    """The rank of the user's highest role (3 super admin ... 0 learner), for sorting."""
    rank = Case(
        *[When(group__name=role, then=Value(rank)) for role, rank in ROLE_RANK.items()],
        default=Value(-1),
        output_field=IntegerField(),
    )
    through = User.groups.through.objects.filter(user_id=OuterRef("pk"))
    ranked = through.annotate(rank=rank).order_by("-rank")  # type: ignore[misc]
    return Subquery(ranked.values("rank")[:1])  # type: ignore[misc]


def user_list(
    *,
    actor: User,
    search: str = "",
    department: Department | None = None,
    group: UserGroup | None = None,
    role: str = "",
    status: str = "active",
    sort: str = "name",
) -> QuerySet[User]:
    """The admin's users list: scoped to the actor, searched, filtered and sorted, with
    departments and roles prefetched so the page costs the same for 25 rows or 100."""
    users = users_visible_to(actor)
    if status == "active":
        users = users.filter(is_active=True)
    elif status == "disabled":
        users = users.filter(is_active=False)
    terms = search.split()
    if terms:
        for term in terms:  # LIKE '%' || UPPER(term) || '%', with % and _ escaped
            users = users.filter(search_upper__contains=Upper(Value(term)))
    if department is not None:
        subtree = department_subtree(department)
        users = users.filter(
            Exists(
                User.departments.through.objects.filter(
                    user_id=OuterRef("pk"), department__in=subtree
                )
            )
        )
    if group is not None:
        users = users.filter(
            Exists(User.user_groups.through.objects.filter(user_id=OuterRef("pk"), usergroup=group))
        )
    if role:
        users = users.filter(
            Exists(User.groups.through.objects.filter(user_id=OuterRef("pk"), group__name=role))
        )
    order = USER_SORTS.get(sort, USER_SORTS["name"])
    if any("primary_department" in key for key in order):
        first_department = (
            User.departments.through.objects.filter(user_id=OuterRef("pk"))
            .order_by("department__name")
            .values("department__name")[:1]
        )
        users = users.annotate(primary_department=Subquery(first_department))
    if any("role_rank" in key for key in order):
        users = users.annotate(role_rank=_role_rank_subquery())
    if "last_login" in order[0]:
        field = F("last_login")
        expression = (
            field.desc(nulls_last=True) if order[0].startswith("-") else field.asc(nulls_first=True)
        )
        return users.prefetch_related("departments", "groups").order_by(expression, "id")
    return users.prefetch_related("departments", "groups").order_by(*order)


# The first ids of a search kept in the cache: 800 pages of 25.
LIST_SNAPSHOT_IDS = 20_000


def _user_list_cache_key(users: QuerySet[User]) -> str:
    sql, params = users.query.sql_with_params()
    database = connections[users.db].settings_dict["NAME"]
    digest = hashlib.sha256(repr((database, sql, params)).encode()).hexdigest()
    return f"users-list:{digest}"


# The snapshot is only a saving: when the cache cannot be reached (its Redis is down or
# restarting) the page numbers and counts the search itself, as on a first visit, instead of
# failing. redis-py's errors (refused, timed out, ...) are RedisError; a socket's, OSError.
_CACHE_DOWN = (RedisError, OSError)


def _snapshot_get(key: str) -> dict[str, Any] | None:
    try:
        snapshot: dict[str, Any] | None = cache.get(key)
    except _CACHE_DOWN:
        logger.warning("users list: the cache could not be read; counting anew", exc_info=True)
        return None
    return snapshot


def _snapshot_set(key: str, snapshot: dict[str, Any]) -> None:
    try:
        cache.set(key, snapshot, settings.MERIT_USERS_LIST_COUNT_SECONDS)
    except _CACHE_DOWN:
        logger.warning("users list: the cache could not be written", exc_info=True)


def _snapshot_delete(key: str) -> None:
    try:
        cache.delete(key)
    except _CACHE_DOWN:
        logger.warning("users list: the cache could not be written", exc_info=True)


def user_list_page(
    *, users: QuerySet[User], offset: int, limit: int
) -> tuple[list[User], int | None]:
    """One page of `user_list()` and the number of all its rows, in the same two queries
    whatever the page number and the number of matches.

    A broad search (three letters of a common name can match a fifth of everyone) costs one
    scan and one sort of its matches whichever page is asked for, so it is done once per
    search, not once per page: the first request numbers the matches' ids in the list's order
    and counts them (`COUNT(*) OVER ()` beside the ids, so one query; only ids and sort keys
    are sorted, not whole rows), and keeps the ids up to that page (in thousands, at most
    `LIST_SNAPSHOT_IDS`) and the count in the cache for `MERIT_USERS_LIST_COUNT_SECONDS` (0:
    not kept) under the search's SQL. A page is then a slice of those ids (or, further on, a
    LIMIT/OFFSET of the ids), and its rows are read again through the same filters, so a row
    on the page is always current: a user disabled or renamed out of the search meanwhile
    drops out at once; only the count and the positions may lag, by that many seconds. When
    the cache cannot be reached every request numbers the search itself. The count is None
    when `offset` is past the end."""
    key = _user_list_cache_key(users)
    snapshot = _snapshot_get(key)
    if snapshot is not None and offset + limit > len(snapshot["ids"]) < snapshot["count"]:
        snapshot = None  # a page beyond the ids kept: number the search again, further
    fresh = snapshot is None
    if snapshot is None:
        # Ids up to the page asked for, in whole thousands (a top-N sort when that is few).
        wanted = min(LIST_SNAPSHOT_IDS, max(1000, -(-(offset + limit) // 1000) * 1000))
        # The window functions sit in a subquery filtered on the row number, not under a
        # LIMIT: under a LIMIT PostgreSQL walks the name index for a cheap first row, not
        # seeing that COUNT(*) OVER () reads every match before the first row comes out.
        order: Any = list(users.query.order_by)  # the strings and expressions user_list() set
        numbered = (
            users.order_by()
            .annotate(
                list_position=Window(RowNumber(), order_by=order),
                matching_total=Window(Count("pk")),
            )
            .filter(list_position__lte=wanted)
            .order_by("list_position")
            .values_list("pk", "matching_total")
        )
        picked = list(numbered)
        snapshot = {"ids": [pk for pk, _ in picked], "count": picked[0][1] if picked else 0}
        _snapshot_set(key, snapshot)
    total: int = snapshot["count"]
    if offset + limit <= len(snapshot["ids"]) or len(snapshot["ids"]) == total:
        page_ids = snapshot["ids"][offset : offset + limit]
    else:  # beyond LIST_SNAPSHOT_IDS: the page's own LIMIT/OFFSET, with the kept count
        page_ids = list(users.values_list("pk", flat=True)[offset : offset + limit])
    by_pk = users.order_by().prefetch_related("departments", "groups").in_bulk(page_ids)
    rows = [by_pk[pk] for pk in page_ids if pk in by_pk]
    if not rows:
        _snapshot_delete(key)
        if not fresh:  # the list shrank under the snapshot: number it again
            return user_list_page(users=users, offset=offset, limit=limit)
        return [], None
    return rows, total


def user_record(*, actor: User, pk: int) -> User:
    """One user in the actor's scope, with what the Details tab shows."""
    return (
        users_visible_to(actor).prefetch_related("departments", "user_groups", "groups").get(pk=pk)
    )


def departments_tree() -> list[Department]:
    """All departments in tree order (by path), each with `member_count`."""
    return list(Department.objects.annotate(member_count=Count("members")).order_by("path"))


def user_groups_with_counts() -> QuerySet[UserGroup]:
    return UserGroup.objects.annotate(member_count=Count("members")).order_by("name")


def user_selection_ids(*, actor: User, token: str) -> list[int]:
    """The user ids of the actor's own selection `token` (see `UserSelection`); an empty list
    for someone else's token, an unknown one or one older than `UserSelection.max_age`. The
    ids are as they were picked: callers still scope them with `users_resolve_selection`."""
    if not token:
        return []
    ids = (
        UserSelection.objects.filter(
            token=token,
            created_by=actor,
            created_at__gte=timezone.now() - UserSelection.max_age,
        )
        .values_list("user_ids", flat=True)
        .first()
    )
    return [int(pk) for pk in ids or []]


def selected_user_ids(*, actor: User, source: QueryDict) -> list[int]:
    """The users a bulk page was sent (GET) or posts back (POST): the actor's selection named
    by `selection=<token>` when there is one, otherwise the repeated `user_ids` fields."""
    token = source.get("selection", "")
    if token:
        return user_selection_ids(actor=actor, token=token)
    return [int(pk) for pk in source.getlist("user_ids") if str(pk).isdigit()]
