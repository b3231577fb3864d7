"""Writes for gamification. Each public service is one transaction and records its events.

The ledger, the balance and the period summaries change together: the ledger gets new rows,
the balance and the week/month summaries get `points = points + n` (an UPDATE, or on
PostgreSQL an INSERT ... ON CONFLICT DO UPDATE; never read-modify-write), all in the caller's
transaction. On PostgreSQL the balances and period rows of one award, bulk or single, are one
statement, and a single award or removal is three statements besides its event (the ledger
row, which also refuses while gamification is off, the event, the balance and period rows,
last, so the busy balance row is locked only until the commit).
Removing points checks and changes the balance in one conditional UPDATE
(`... WHERE points >= n`); bulk removal locks the rows (`select_for_update`, in pk order) and
then checks them. Either way two removals cannot both pass the check. Automatic awards (per
module, course, content item, badge) and rule badges are unique per user, inserted with
ON CONFLICT DO NOTHING, so replays and races award nothing twice."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.utils import timezone

from achievements.models import (
    MAX_POINTS_PER_ENTRY,
    ActivityPoints,
    Badge,
    CoursePoints,
    GamificationSettings,
    PeriodPoints,
    PointsBalance,
    PointsEntry,
    UserBadge,
)
from achievements.rules import RULES, local_date, rule_counts, rules_for_kind
from lms.context import current_impersonator
from lms.event_kinds import EventKind
from lms.events import EventSpec, event_record, event_record_bulk
from lms.images import image_resized, image_validate_and_normalise
from lms.jobs import BulkResult, bulk_run

if TYPE_CHECKING:
    from progress.models import Activity, Course
    from users.models import User

EARLIEST_AWARD_DATE = datetime(2000, 1, 1, tzinfo=UTC)
BADGE_IMAGE_SIDE = 256
BADGE_IMAGE_SMALL_SIDE = 64
COMMUNITY_KINDS = {
    str(EventKind.COMMUNITY_POST_PUBLISHED),
    str(EventKind.COMMUNITY_COMMENT_POSTED),
    str(EventKind.COMMUNITY_REACTION_RECEIVED),
}


# --- validation -----------------------------------------------------------------------------


def points_validate_amount(amount: Any) -> int:
    """A whole positive number of points up to the cap, or a ValidationError saying why."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        if isinstance(amount, float) and amount.is_integer():
            amount = int(amount)
        else:
            raise ValidationError("Points must be a whole number.", code="not_whole")
    if amount <= 0:
        raise ValidationError("Points must be a positive whole number.", code="not_positive")
    if amount > MAX_POINTS_PER_ENTRY:
        raise ValidationError(
            f"At most {MAX_POINTS_PER_ENTRY:,} points at a time.", code="too_many"
        )
    return amount


def points_validate_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Say why: the reason is required.", code="no_reason")
    if len(reason) > 255:
        raise ValidationError("Keep the reason under 255 characters.", code="long_reason")
    return reason


def points_validate_date(awarded_at: datetime | None) -> datetime:
    now = timezone.now()
    if awarded_at is None:
        return now
    if timezone.is_naive(awarded_at):
        awarded_at = timezone.make_aware(awarded_at)
    if awarded_at > now + timedelta(minutes=5):
        raise ValidationError("The date cannot be in the future.", code="future")
    if awarded_at < EARLIEST_AWARD_DATE:
        raise ValidationError("The date must be in 2000 or later.", code="too_old")
    return awarded_at


def gamification_require_enabled() -> GamificationSettings:
    config = GamificationSettings.load()
    if not config.enabled:
        raise ValidationError("Gamification is turned off.", code="disabled")
    return config


# --- balances and period summaries ----------------------------------------------------------


def period_starts(moment: datetime) -> dict[str, date]:
    """The week (Monday) and month the moment falls in, in the organisation's time zone."""
    day = local_date(moment)
    return {
        PeriodPoints.Period.WEEK: day - timedelta(days=day.weekday()),
        PeriodPoints.Period.MONTH: day.replace(day=1),
    }


PeriodKey = tuple[int, str, date]  # (user_id, period, starts_on)
PeriodStarts = tuple[tuple[str, date], ...]  # ((period, starts_on), ...) of one moment


@dataclass
class _Totals:
    """Deltas (user_id, amount, awarded_at) summed per user and per user and period."""

    per_user: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    per_period: dict[PeriodKey, int] = field(default_factory=lambda: defaultdict(int))
    moments: set[PeriodStarts] = field(default_factory=set)  # a bulk award has one


def _totals(deltas: Sequence[tuple[int, int, datetime]]) -> _Totals:
    totals = _Totals()
    starts_at: dict[datetime, PeriodStarts] = {}
    for user_id, amount, awarded_at in deltas:
        totals.per_user[user_id] += amount
        starts = starts_at.get(awarded_at)
        if starts is None:
            starts = tuple((str(p), day) for p, day in period_starts(awarded_at).items())
            starts_at[awarded_at] = starts
            totals.moments.add(starts)
        for period, starts_on in starts:
            totals.per_period[(user_id, period, starts_on)] += amount
    return totals


def _apply_deltas(deltas: Sequence[tuple[int, int, datetime]]) -> None:
    """Add (user_id, amount, awarded_at) to the balances and the week/month summaries, in the
    transaction that appends the matching ledger rows. Each row is changed by one atomic
    `points = points + n` (never read, added to in Python and written back). Every writer locks
    a user's balance row before their period rows, and rows in (user, period, start) order, so
    concurrent awards, removals and batches cannot deadlock."""
    if not deltas:
        return
    _upsert(_totals(deltas))


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _upsert(totals: _Totals) -> None:
    """ONE statement whatever the number of users: the balances upserted in a data-modifying
    CTE (INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO UPDATE SET points = points + n),
    then the period rows upserted from its RETURNING rows. Joining on the CTE's output (and
    sorting) makes PostgreSQL lock every balance row before the first period row. When every
    delta has the same date (a bulk award) the period rows are the users' totals crossed with
    that week and month, so only the (user, points) arrays are sent."""
    from users.models import User

    balances, periods = _table(PointsBalance), _table(PeriodPoints)
    user_ids = sorted(totals.per_user)
    params: list[Any] = [
        user_ids,
        [totals.per_user[pk] for pk in user_ids],
        timezone.now(),
    ]
    if len(totals.moments) == 1:
        ((first, first_on), (second, second_on)) = next(iter(totals.moments))
        rows = """
            SELECT delta.user_id, x.period, x.starts_on, delta.points, balance.is_active
            FROM delta
            JOIN balance ON balance.user_id = delta.user_id
            CROSS JOIN (VALUES (%s::varchar, %s::date), (%s::varchar, %s::date))
                AS x(period, starts_on)
            ORDER BY delta.user_id, x.period, x.starts_on
        """
        params += [first, first_on, second, second_on]
    else:
        keys = sorted(totals.per_period)
        rows = """
            SELECT t.user_id, t.period, t.starts_on, t.points, balance.is_active
            FROM unnest(%s::bigint[], %s::varchar[], %s::date[], %s::integer[])
                AS t(user_id, period, starts_on, points)
            JOIN balance ON balance.user_id = t.user_id
            ORDER BY t.user_id, t.period, t.starts_on
        """
        params += [
            [key[0] for key in keys],
            [key[1] for key in keys],
            [key[2] for key in keys],
            [totals.per_period[key] for key in keys],
        ]
    new_rows = f"""
        INSERT INTO {balances} AS b (user_id, points, is_active, updated_at)
        SELECT delta.user_id, delta.points,
            (SELECT u.is_active FROM {_table(User)} u WHERE u.id = delta.user_id), %s
        FROM delta
        {{only_missing}}
        ORDER BY delta.user_id
        ON CONFLICT (user_id) DO UPDATE
        SET points = b.points + EXCLUDED.points, updated_at = EXCLUDED.updated_at
        RETURNING b.user_id, b.is_active
    """  # noqa: S608
    if len(user_ids) > 1:
        balance = f"balance AS ({new_rows.format(only_missing='')})"
    else:
        # One user: UPDATE first, INSERT only when there is no row. Many clients awarding one
        # user at once queue on the row lock in turn; INSERT ... ON CONFLICT would instead make
        # every one of them wait on each committing writer's unique-index entry, and wake them
        # all at each commit.
        balance = f"""
            changed AS (
                UPDATE {balances} AS b SET points = b.points + %s, updated_at = %s
                WHERE b.user_id = %s
                RETURNING b.user_id, b.is_active
            ), added AS (
                {new_rows.format(only_missing="WHERE NOT EXISTS (SELECT FROM changed)")}
            ), balance AS (
                SELECT * FROM changed UNION ALL SELECT * FROM added
            )
        """  # noqa: S608
        params[2:2] = [params[1][0], params[2], user_ids[0]]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH delta AS (
                SELECT * FROM unnest(%s::bigint[], %s::integer[]) AS t(user_id, points)
            ), {balance}
            INSERT INTO {periods} AS p (user_id, period, starts_on, points, is_active)
            {rows}
            ON CONFLICT (user_id, period, starts_on) DO UPDATE
            SET points = p.points + EXCLUDED.points
            """,  # noqa: S608 - table names from the models, values as parameters
            params,
        )


def _balance_take(*, user_id: int, amount: int, awarded_at: datetime) -> bool:
    """Remove `amount` from the user's balance and period rows if the balance has that much;
    False (and nothing changed) when it has not. The check and the change are one conditional
    UPDATE (`... WHERE points >= n`): it locks the row, and after waiting for a concurrent
    writer PostgreSQL re-checks the condition on the newest version, so two removals cannot
    both pass. On PostgreSQL the period rows are changed in the same statement, from the
    UPDATE's RETURNING row (so only when it passed, and after the balance row is locked)."""
    per_period = _totals([(user_id, -amount, awarded_at)]).per_period
    period_keys = sorted(per_period)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH balance AS (
                UPDATE {_table(PointsBalance)}
                SET points = points - %s, updated_at = %s
                WHERE user_id = %s AND points >= %s
                RETURNING user_id, is_active
            ), changed AS (
                INSERT INTO {_table(PeriodPoints)} AS p (user_id, period, starts_on, points, is_active)
                SELECT balance.user_id, t.period, t.starts_on, t.points, balance.is_active
                FROM unnest(%s::varchar[], %s::date[], %s::integer[]) AS t(period, starts_on, points)
                CROSS JOIN balance
                ORDER BY t.period, t.starts_on
                ON CONFLICT (user_id, period, starts_on) DO UPDATE
                SET points = p.points + EXCLUDED.points
            )
            SELECT count(*) FROM balance
            """,  # noqa: S608 - table names from the models, values as parameters
            [
                amount,
                timezone.now(),
                user_id,
                amount,
                [key[1] for key in period_keys],
                [key[2] for key in period_keys],
                [per_period[key] for key in period_keys],
            ],
        )
        (removed,) = cursor.fetchone()
    return bool(removed)


def _content_fields(content: models.Model | None) -> dict[str, Any]:
    if content is None:
        return {"content_type": None, "content_id": None, "content_label": ""}
    return {
        "content_type": ContentType.objects.get_for_model(content),
        "content_id": content.pk,
        "content_label": str(content)[:255],
    }


def _entry_details(entry: PointsEntry) -> dict[str, Any]:
    return {
        "amount": entry.amount,
        "reason": entry.reason,
        "source": entry.source,
        "awarded_at": entry.awarded_at.isoformat(),
        "content": entry.content_label,
    }


_ENTRY_COLUMNS = (
    "user_id",
    "amount",
    "reason",
    "awarded_at",
    "source",
    "content_type_id",
    "content_id",
    "content_label",
    "actor_id",
    "impersonator_id",
    "created_at",
)


def _entry_values(
    *,
    amount: int,
    reason: str,
    awarded_at: datetime,
    source: str,
    actor: User | None,
    content: models.Model | None,
) -> dict[str, Any]:
    """The ledger columns shared by every entry of one award (all but `user_id`)."""
    content_fields = _content_fields(content)
    impersonator = current_impersonator()
    return {
        "amount": amount,
        "reason": reason,
        "awarded_at": awarded_at,
        "source": source,
        "content_type": content_fields["content_type"],
        "content_id": content_fields["content_id"],
        "content_label": content_fields["content_label"],
        "actor": actor if actor is not None and actor.pk else None,
        "impersonator": impersonator,
        "created_at": timezone.now(),
    }


def _entry_row(values: dict[str, Any]) -> list[Any]:
    """`values` as query parameters, in `_ENTRY_COLUMNS` order after `user_id`."""
    adapt = connection.ops.adapt_datetimefield_value

    def pk(instance: models.Model | None) -> Any:
        return instance.pk if instance is not None else None

    return [
        values["amount"],
        values["reason"],
        adapt(values["awarded_at"]),
        values["source"],
        pk(values["content_type"]),
        values["content_id"],
        values["content_label"],
        pk(values["actor"]),
        pk(values["impersonator"]),
        adapt(values["created_at"]),
    ]


def _entry_built(pk: int, user_id: int, values: dict[str, Any]) -> PointsEntry:
    """The model instance of a ledger row inserted with SQL (for events and callers)."""
    entry = PointsEntry(pk=pk, user_id=user_id, **values)
    entry._state.adding = False
    entry._state.db = connection.alias
    return entry


def _entry_append(*, user_id: int, values: dict[str, Any]) -> PointsEntry:
    """Append one ledger row, unless gamification is off: then ValidationError, nothing
    written. The on/off check rides in the INSERT (`... WHERE NOT EXISTS (the settings row,
    turned off)`), so an award costs no read of the settings and no cache can be stale: it
    sees the setting as its own statement does. No settings row means the defaults (on)."""
    names = ", ".join(connection.ops.quote_name(column) for column in _ENTRY_COLUMNS)
    placeholders = ", ".join(["%s"] * len(_ENTRY_COLUMNS))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_table(PointsEntry)} ({names}) SELECT {placeholders} "  # noqa: S608
            f"WHERE NOT EXISTS (SELECT 1 FROM {_table(GamificationSettings)} WHERE NOT enabled) "
            "RETURNING id",
            [user_id, *_entry_row(values)],
        )
        row = cursor.fetchone()
    if row is None:
        raise ValidationError("Gamification is turned off.", code="disabled")
    return _entry_built(row[0], user_id, values)


def _entries_built(pairs: Iterable[tuple[int, int]], values: dict[str, Any]) -> list[PointsEntry]:
    """Model instances of ledger rows (pk, user_id) just inserted with `values`, for the events
    and the caller, built the way the ORM builds rows it reads (`Model.from_db`): a tenth of
    the cost of `PointsEntry(**values)` per row, which counts at 10,000 rows a job."""
    names = [f.attname for f in PointsEntry._meta.concrete_fields]
    known = {
        **values,
        "content_type_id": getattr(values["content_type"], "pk", None),
        "actor_id": getattr(values["actor"], "pk", None),
        "impersonator_id": getattr(values["impersonator"], "pk", None),
        "award_key": None,
    }
    template = [known.get(name) for name in names]
    at_pk, at_user = names.index("id"), names.index("user_id")
    entries = []
    for pk, user_id in pairs:
        row = template.copy()
        row[at_pk], row[at_user] = pk, user_id
        entries.append(PointsEntry.from_db(connection.alias, names, row))
    return entries


def _entries_append(*, user_ids: Sequence[int], values: dict[str, Any]) -> list[PointsEntry]:
    """The same ledger row for each of `user_ids` (distinct), in their order. PostgreSQL: one
    INSERT ... SELECT FROM unnest(ids) with the shared values as parameters, so nothing is
    built per row but the ids; elsewhere `bulk_create`."""
    if not user_ids:
        return []
    names = ", ".join(connection.ops.quote_name(column) for column in _ENTRY_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {_table(PointsEntry)} ({names})
            SELECT t.user_id, %s, %s, %s::timestamptz, %s, %s::integer, %s::bigint, %s,
                %s::bigint, %s::bigint, %s::timestamptz
            FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(user_id, n)
            ORDER BY t.n
            RETURNING id, user_id
            """,  # noqa: S608 - table names from the models, values as parameters
            [*_entry_row(values), list(user_ids)],
        )
        ids = {user_id: pk for pk, user_id in cursor.fetchall()}
    return _entries_built(((ids[user_id], user_id) for user_id in user_ids), values)


def _after_insert(entries: Sequence[PointsEntry], *, actor: User | None) -> None:
    """For ledger rows just inserted: balances, period summaries and one event per entry."""
    _apply_deltas([(entry.user_id, entry.amount, entry.awarded_at) for entry in entries])
    shared: dict[tuple[Any, ...], dict[str, Any]] = {}  # a bulk award: one details for all

    def details(entry: PointsEntry) -> dict[str, Any]:
        key = (entry.amount, entry.reason, entry.source, entry.awarded_at, entry.content_label)
        if key not in shared:
            shared[key] = _entry_details(entry)
        return shared[key]

    for sign, kind in ((1, EventKind.POINTS_AWARDED), (-1, EventKind.POINTS_DEDUCTED)):
        chosen = [entry for entry in entries if (entry.amount > 0) == (sign > 0)]
        by_manual: dict[bool, list[PointsEntry]] = defaultdict(list)
        for entry in chosen:
            by_manual[entry.source == PointsEntry.Source.MANUAL].append(entry)
        for manual, group in by_manual.items():
            event_record_bulk(
                kind=kind,
                actor=actor,
                manual=manual,
                specs=[
                    EventSpec(subject=entry.user_id, target=entry, details=details(entry))
                    for entry in group
                ],
            )


def _insert_skipping_conflicts(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: str,
    returning: str,
) -> list[tuple[Any, ...]]:
    """INSERT ... ON CONFLICT <conflict> DO NOTHING RETURNING <returning>: the rows this
    transaction really added. A concurrent transaction inserting the same key makes this one
    wait and then skip the row, instead of failing the whole transaction on the unique
    constraint (PostgreSQL and SQLite >= 3.35 both speak this)."""
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    added: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            batch = rows[start : start + 1000]
            values = ", ".join("(" + ", ".join(["%s"] * len(columns)) + ")" for _ in batch)
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {values} "  # noqa: S608 - names from models
                f"ON CONFLICT {conflict} DO NOTHING RETURNING {returning}",
                [value for row in batch for value in row],
            )
            added.extend(cursor.fetchall())
    return added


# --- points ---------------------------------------------------------------------------------


@transaction.atomic
def points_award(
    *,
    user: User,
    amount: int,
    reason: str,
    actor: User | None,
    awarded_at: datetime | None = None,
    source: str = PointsEntry.Source.MANUAL,
    content: models.Model | None = None,
) -> PointsEntry:
    """Add `amount` points to the user's ledger and balance. Three statements and the event:
    the ledger row (refused while gamification is off), the event, then the balance and the
    week/month rows in one statement, last, so that the balance row is locked only from there
    to the commit and awards to one busy user queue for the shortest time."""
    values = _entry_values(
        amount=points_validate_amount(amount),
        reason=points_validate_reason(reason),
        awarded_at=points_validate_date(awarded_at),
        source=source,
        actor=actor,
        content=content,
    )
    entry = _entry_append(user_id=user.pk, values=values)
    event_record(
        kind=EventKind.POINTS_AWARDED,
        actor=actor,
        subject=user,
        target=entry,
        details=_entry_details(entry),
        manual=source == PointsEntry.Source.MANUAL,
    )
    _apply_deltas([(user.pk, entry.amount, entry.awarded_at)])
    return entry


def _lock_balances(user_ids: Iterable[int]) -> dict[int, int]:
    """Lock the balance rows (creating missing ones), in pk order; returns {user_id: points}.
    Hold the lock until the transaction ends."""
    from users.models import User

    ids = sorted(set(user_ids))
    active = dict(User.objects.filter(pk__in=ids).values_list("pk", "is_active"))
    PointsBalance.objects.bulk_create(
        [PointsBalance(user_id=pk, is_active=active.get(pk, True)) for pk in ids],
        ignore_conflicts=True,
    )
    return dict(
        PointsBalance.objects.select_for_update()
        .filter(user_id__in=ids)
        .order_by("pk")
        .values_list("user_id", "points")
    )


@transaction.atomic
def points_deduct(
    *,
    user: User,
    amount: int,
    reason: str,
    actor: User | None,
    awarded_at: datetime | None = None,
    source: str = PointsEntry.Source.MANUAL,
    content: models.Model | None = None,
) -> PointsEntry:
    """Remove `amount` points; refused when the user has fewer than that. The same three
    statements as an award; the last checks and changes the balance (see `_balance_take`)."""
    amount = points_validate_amount(amount)
    values = _entry_values(
        amount=-amount,
        reason=points_validate_reason(reason),
        awarded_at=points_validate_date(awarded_at),
        source=source,
        actor=actor,
        content=content,
    )
    entry = _entry_append(user_id=user.pk, values=values)
    event_record(
        kind=EventKind.POINTS_DEDUCTED,
        actor=actor,
        subject=user,
        target=entry,
        details=_entry_details(entry),
        manual=source == PointsEntry.Source.MANUAL,
    )
    # Refused: raise, and the transaction takes the ledger row and the event back with it.
    if not _balance_take(user_id=user.pk, amount=amount, awarded_at=entry.awarded_at):
        balance = PointsBalance.objects.filter(user_id=user.pk).values_list("points", flat=True)
        raise ValidationError(
            f"{user} has {balance.first() or 0:,} points; you cannot remove {amount:,}.",
            code="insufficient",
        )
    return entry


@transaction.atomic
def points_award_bulk(
    *,
    user_ids: Sequence[int],
    amount: int,
    reason: str,
    actor: User | None,
    awarded_at: datetime | None = None,
    source: str = PointsEntry.Source.MANUAL,
    content: models.Model | None = None,
) -> list[PointsEntry]:
    """The same award to many users with set-based writes (one chunk of a bulk job): one
    statement for the ledger rows, one for the balances and period rows, then the events."""
    gamification_require_enabled()
    values = _entry_values(
        amount=points_validate_amount(amount),
        reason=points_validate_reason(reason),
        awarded_at=points_validate_date(awarded_at),
        source=source,
        actor=actor,
        content=content,
    )
    entries = _entries_append(user_ids=list(dict.fromkeys(user_ids)), values=values)
    _after_insert(entries, actor=actor)
    return entries


@dataclass
class DeductOutcome:
    entries: list[PointsEntry] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


@transaction.atomic
def points_deduct_bulk(
    *,
    user_ids: Sequence[int],
    amount: int,
    reason: str,
    actor: User | None,
    awarded_at: datetime | None = None,
) -> DeductOutcome:
    """Remove points from many users; those with fewer points than `amount` are refused."""
    gamification_require_enabled()
    amount = points_validate_amount(amount)
    values = _entry_values(
        amount=-amount,
        reason=points_validate_reason(reason),
        awarded_at=points_validate_date(awarded_at),
        source=PointsEntry.Source.MANUAL,
        actor=actor,
        content=None,
    )
    balances = _lock_balances(user_ids)
    outcome = DeductOutcome()
    allowed = []
    for user_id in dict.fromkeys(user_ids):
        balance = balances.get(user_id, 0)
        if amount > balance:
            outcome.refused[user_id] = f"Has {balance:,} points; cannot remove {amount:,}."
        else:
            allowed.append(user_id)
    outcome.entries = _entries_append(user_ids=allowed, values=values)
    _after_insert(outcome.entries, actor=actor)
    return outcome


@dataclass(frozen=True)
class AutoAward:
    """An automatic award that happens once per user and `award_key`."""

    user_id: int
    amount: int
    reason: str
    source: str
    award_key: str
    content_type_id: int | None = None
    content_id: int | None = None
    content_label: str = ""


def points_award_once(awards: Sequence[AutoAward], *, at: datetime | None = None) -> int:
    """Apply automatic awards, skipping every (user, award_key) already in the ledger (also one
    a concurrent transaction is adding); returns how many were added. Set-based: one
    INSERT ... ON CONFLICT DO NOTHING per 1,000 awards. Call in the transaction of the event
    that caused them (subscribers do)."""
    wanted = {(a.user_id, a.award_key): a for a in awards if a.amount > 0}
    if not wanted:
        return 0
    moment = at or timezone.now()
    impersonator = current_impersonator()
    impersonator_id = impersonator.pk if impersonator is not None else None
    adapt = connection.ops.adapt_datetimefield_value
    awarded_at, created_at = adapt(moment), adapt(timezone.now())
    # The ledger's columns with the award key in place of the actor (automatic awards have none).
    columns = [*_ENTRY_COLUMNS[:8], "award_key", "impersonator_id", "created_at"]
    rows = [
        (
            a.user_id,
            a.amount,
            a.reason[:255],
            awarded_at,
            a.source,
            a.content_type_id,
            a.content_id,
            a.content_label[:255],
            a.award_key,
            impersonator_id,
            created_at,
        )
        for a in sorted(wanted.values(), key=lambda a: (a.user_id, a.award_key))
    ]
    added = _insert_skipping_conflicts(
        PointsEntry,
        columns,
        rows,
        conflict="(user_id, award_key) WHERE award_key IS NOT NULL",
        returning="id, user_id, award_key",
    )
    entries = []
    for pk, user_id, award_key in added:
        a = wanted[(user_id, award_key)]
        entries.append(
            PointsEntry(
                pk=pk,
                user_id=user_id,
                amount=a.amount,
                reason=a.reason[:255],
                awarded_at=moment,
                source=a.source,
                award_key=award_key,
                content_type_id=a.content_type_id,
                content_id=a.content_id,
                content_label=a.content_label[:255],
                impersonator_id=impersonator_id,
            )
        )
    if entries:
        _after_insert(entries, actor=None)
    return len(entries)


@dataclass
class LedgerCheck:
    users_checked: int = 0
    mismatches: list[tuple[int, int, int]] = field(default_factory=list)  # user, balance, ledger
    periods_fixed: int = 0
    activity_fixed: int = 0
    repaired: bool = False


def _balances_against_ledger() -> list[tuple[int, int, int]]:
    """(user_id, balance, ledger sum) for every user with either, from ONE statement, so the
    two sides come from the same snapshot even while points are being awarded."""
    balances = connection.ops.quote_name(PointsBalance._meta.db_table)
    entries = connection.ops.quote_name(PointsEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT user_id, SUM(balance), SUM(ledger) FROM (
                SELECT user_id, points AS balance, 0 AS ledger FROM {balances}
                UNION ALL
                SELECT user_id, 0 AS balance, amount AS ledger FROM {entries}
            ) AS both_sides
            GROUP BY user_id
            """  # noqa: S608 - table names from the models
        )
        return [
            (int(user), int(balance), int(ledger)) for user, balance, ledger in cursor.fetchall()
        ]


def _expected_periods() -> dict[tuple[int, str, date], int]:
    """The week and month summaries the ledger implies, in the organisation's time zone."""
    expected: dict[tuple[int, str, date], int] = defaultdict(int)
    entries = connection.ops.quote_name(PointsEntry._meta.db_table)
    with connection.cursor() as cursor:
        for kind in (PeriodPoints.Period.WEEK, PeriodPoints.Period.MONTH):
            cursor.execute(
                f"""
                SELECT user_id, date_trunc(%s, awarded_at AT TIME ZONE %s)::date, SUM(amount)
                FROM {entries} GROUP BY 1, 2
                """,  # noqa: S608
                [str(kind), settings.TIME_ZONE],
            )
            for user_id, starts_on, total in cursor.fetchall():
                expected[(user_id, str(kind), starts_on)] += int(total)
    return expected


@transaction.atomic
def points_check(*, repair: bool = False) -> LedgerCheck:
    """Compare every balance with the sum of its ledger. With `repair`, set the balances (and
    rebuild the period summaries and the disabled flags) from the ledger, holding off every
    writer of points until it commits, so nothing awarded meanwhile is miscounted."""
    from users.models import User

    if repair:
        tables = ", ".join(
            connection.ops.quote_name(model._meta.db_table)
            for model in (PointsEntry, PointsBalance, PeriodPoints)
        )
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
    rows = _balances_against_ledger()
    report = LedgerCheck(users_checked=len(rows))
    report.mismatches = [(u, balance, ledger) for u, balance, ledger in rows if balance != ledger]
    if not repair:
        return report
    active = dict(User.objects.values_list("pk", "is_active"))
    PointsBalance.objects.bulk_create(
        [
            PointsBalance(user_id=pk, is_active=active.get(pk, True))
            for pk, _, _ in report.mismatches
        ],
        ignore_conflicts=True,
    )
    for user_id, _, expected in report.mismatches:
        PointsBalance.objects.filter(user_id=user_id).update(points=expected)
    report.activity_fixed += PointsBalance.objects.filter(
        user_id__in=[pk for pk, on in active.items() if not on], is_active=True
    ).update(is_active=False)
    report.activity_fixed += PointsBalance.objects.filter(
        user_id__in=[pk for pk, on in active.items() if on], is_active=False
    ).update(is_active=True)
    expected_periods = _expected_periods()
    current = {
        (user_id, period, starts_on): (pk, points)
        for pk, user_id, period, starts_on, points in PeriodPoints.objects.values_list(
            "pk", "user_id", "period", "starts_on", "points"
        ).iterator(chunk_size=10000)
    }
    for key, (pk, points) in current.items():
        if expected_periods.get(key, 0) != points:
            PeriodPoints.objects.filter(pk=pk).update(points=expected_periods.get(key, 0))
            report.periods_fixed += 1
    missing = [key for key in expected_periods if key not in current]
    PeriodPoints.objects.bulk_create(
        [
            PeriodPoints(
                user_id=user_id,
                period=period,
                starts_on=starts_on,
                points=expected_periods[(user_id, period, starts_on)],
                is_active=active.get(user_id, True),
            )
            for (user_id, period, starts_on) in missing
        ],
        batch_size=5000,
    )
    report.periods_fixed += len(missing)
    report.repaired = True
    return report


def points_sync_active(*, user_ids: Sequence[int]) -> None:
    """Mirror the users' `is_active` onto their balance and period rows (leaderboards)."""
    from users.models import User

    for is_active in (True, False):
        ids = list(User.objects.filter(pk__in=user_ids, is_active=is_active).values_list("pk"))
        flat = [pk for (pk,) in ids]
        if flat:
            PointsBalance.objects.filter(user_id__in=flat).update(is_active=is_active)
            PeriodPoints.objects.filter(user_id__in=flat).update(is_active=is_active)


# --- settings and overrides ------------------------------------------------------------------


@transaction.atomic
def gamification_settings_update(*, actor: User, **changes: Any) -> GamificationSettings:
    config = GamificationSettings.objects.select_for_update().get(pk=GamificationSettings.load().pk)
    changed = {}
    for name, value in changes.items():
        if getattr(config, name) != value:
            changed[name] = {"from": getattr(config, name), "to": value}
            setattr(config, name, value)
    config.full_clean()
    config.save()
    if changed:
        event_record(
            kind=EventKind.GAMIFICATION_SETTINGS_CHANGED,
            actor=actor,
            subject=None,
            target=config,
            details={"changed": changed},
            manual=True,
        )
    return config


@transaction.atomic
def course_points_set(*, course: Course, points: int | None, actor: User) -> None:
    """Custom points for passing `course` (None: back to the default)."""
    if points is None:
        CoursePoints.objects.filter(course=course).delete()
    else:
        CoursePoints.objects.update_or_create(course=course, defaults={"points": points})
    event_record(
        kind=EventKind.GAMIFICATION_SETTINGS_CHANGED,
        actor=actor,
        subject=None,
        target=course,
        details={"course_points": points},
        manual=True,
    )


@transaction.atomic
def activity_points_set(*, activity: Activity, points: int | None, actor: User) -> None:
    """Points for completing `activity` (None: none)."""
    if points is None:
        ActivityPoints.objects.filter(activity=activity).delete()
    else:
        ActivityPoints.objects.update_or_create(activity=activity, defaults={"points": points})
    event_record(
        kind=EventKind.GAMIFICATION_SETTINGS_CHANGED,
        actor=actor,
        subject=None,
        target=activity,
        details={"activity_points": points},
        manual=True,
    )


# --- badges ---------------------------------------------------------------------------------


def _badge_set_image(badge: Badge, upload: UploadedFile) -> None:
    normalised = image_validate_and_normalise(
        upload,
        max_bytes=2 * 1024 * 1024,
        max_pixels=16_000_000,
        max_side=BADGE_IMAGE_SIDE,
        square=True,
    )
    content = normalised.read()
    normalised.seek(0)
    badge.image.save(normalised.name or "badge.png", normalised, save=False)
    small = image_resized(content, side=BADGE_IMAGE_SMALL_SIDE)
    badge.image_small.save((badge.image.name or "badge.png").rsplit("/", 1)[-1], small, save=False)


def _badge_validate_rule(rule: str, threshold: int) -> None:
    if rule not in RULES:
        raise ValidationError({"rule": "Choose one of the listed rules."})
    if threshold < 1:
        raise ValidationError({"threshold": "The threshold must be at least 1."})


@transaction.atomic
def badge_create(
    *,
    actor: User,
    name: str,
    category: str,
    rule: str = "manual",
    threshold: int = 1,
    description: str = "",
    points: int = 0,
    is_active: bool = True,
    image: UploadedFile | None = None,
) -> Badge:
    """A new badge. Nobody gets it until an event crosses its threshold, or an admin applies
    the rule retroactively (see `badge_rule_apply`)."""
    _badge_validate_rule(rule, threshold)
    badge = Badge(
        name=name.strip(),
        category=category,
        rule=rule,
        threshold=threshold,
        description=description.strip(),
        points=points,
        is_active=is_active,
    )
    if image is not None:
        _badge_set_image(badge, image)  # raises ValidationError before anything is saved
    badge.full_clean()
    badge.save()
    event_record(
        kind=EventKind.GAMIFICATION_SETTINGS_CHANGED,
        actor=actor,
        subject=None,
        target=badge,
        details={"badge_created": badge.name, "rule": rule, "threshold": threshold},
        manual=True,
    )
    return badge


@transaction.atomic
def badge_update(
    *, badge: Badge, actor: User, image: UploadedFile | None = None, **changes: Any
) -> Badge:
    """Change a badge. Nobody loses it: a stricter rule only applies to future awards."""
    badge = Badge.objects.select_for_update().get(pk=badge.pk)
    for name, value in changes.items():
        setattr(badge, name, value)
    _badge_validate_rule(badge.rule, badge.threshold)
    if image is not None:
        _badge_set_image(badge, image)
    badge.full_clean()
    badge.save()
    event_record(
        kind=EventKind.GAMIFICATION_SETTINGS_CHANGED,
        actor=actor,
        subject=None,
        target=badge,
        details={"badge_updated": badge.name, "fields": sorted(changes)},
        manual=True,
    )
    return badge


def _badge_points(badge: Badge, user_ids: Iterable[int], at: datetime) -> None:
    if badge.points:
        content_type = ContentType.objects.get_for_model(Badge)
        points_award_once(
            [
                AutoAward(
                    user_id=user_id,
                    amount=badge.points,
                    reason=f"Badge: {badge.name}",
                    source=PointsEntry.Source.BADGE,
                    award_key=f"badge:{badge.pk}",
                    content_type_id=content_type.pk,
                    content_id=badge.pk,
                    content_label=badge.name,
                )
                for user_id in user_ids
            ],
            at=at,
        )


def badges_award_by_rule(*, badge: Badge, user_ids: Iterable[int]) -> list[int]:
    """Give `badge` to those of `user_ids` who have not had it (held or revoked); returns who
    got it. Idempotent and safe under concurrency: the (user, badge) unique constraint with
    ON CONFLICT DO NOTHING makes a replay, or a race with another transaction, a no-op."""
    ids = set(user_ids)
    candidates = ids - set(
        UserBadge.objects.filter(badge=badge, user_id__in=ids).values_list("user_id", flat=True)
    )
    if not candidates:
        return []
    now = timezone.now()
    moment = connection.ops.adapt_datetimefield_value(now)
    added = _insert_skipping_conflicts(
        UserBadge,
        [
            "user_id",
            "badge_id",
            "awarded_at",
            "source",
            "quantity",
            "reason",
            "content_label",
            "revoked_reason",
        ],
        [
            (user_id, badge.pk, moment, UserBadge.Source.RULE.value, 1, "", "", "")
            for user_id in sorted(candidates)
        ],
        conflict="(user_id, badge_id)",
        returning="user_id",
    )
    winners = sorted(user_id for (user_id,) in added)
    if not winners:
        return []
    event_record_bulk(
        kind=EventKind.BADGE_EARNED,
        actor=None,
        specs=[
            EventSpec(
                subject=user_id, target=badge, details={"badge": badge.name, "rule": badge.rule}
            )
            for user_id in winners
        ],
    )
    _badge_points(badge, winners, now)
    return winners


def badges_evaluate(*, kind: str, user_ids: Iterable[int], since: datetime | None = None) -> int:
    """The rules engine: for every active badge whose rule counts `kind`, award it to those of
    `user_ids` whose count has reached the threshold. A few queries per badge, none per user."""
    rules = {rule.key: rule for rule in rules_for_kind(kind)}
    if not rules:
        return 0
    users = set(user_ids)
    awarded = 0
    for badge in Badge.objects.filter(is_active=True, rule__in=list(rules)).order_by("pk"):
        rule = rules[badge.rule]
        holders = set(
            UserBadge.objects.filter(badge=badge, user_id__in=users).values_list(
                "user_id", flat=True
            )
        )
        pending = users - holders
        if not pending:
            continue
        window = since - timedelta(days=badge.threshold + 1) if rule.streak and since else None
        counts = rule_counts(rule, pending, since=window)
        reached = [user_id for user_id in pending if counts.get(user_id, 0) >= badge.threshold]
        awarded += len(badges_award_by_rule(badge=badge, user_ids=reached))
    return awarded


@transaction.atomic
def badge_grant(
    *,
    user: User,
    badge: Badge,
    actor: User,
    reason: str,
    content: models.Model | str | None = None,
    quantity: int = 1,
) -> UserBadge:
    """An admin gives a badge by hand: a new one, a revoked one back, or `quantity` more of one
    the user holds (shown as "x3"). The badge's points are given once, with the first award."""
    gamification_require_enabled()
    reason = points_validate_reason(reason)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= 100:
        raise ValidationError("The quantity must be a whole number from 1 to 100.", code="quantity")
    existing = UserBadge.objects.select_for_update().filter(user=user, badge=badge).first()
    now = timezone.now()
    content_label = str(content)[:255] if content is not None else ""
    changes: dict[str, Any] = {
        "source": UserBadge.Source.MANUAL,
        "reason": reason,
        "content_label": content_label,
        "awarded_by": actor,
    }
    if existing is not None and not existing.is_revoked:
        UserBadge.objects.filter(pk=existing.pk).update(
            quantity=F("quantity") + quantity, **changes
        )
    elif existing is not None:
        UserBadge.objects.filter(pk=existing.pk).update(
            revoked_at=None, revoked_reason="", awarded_at=now, quantity=quantity, **changes
        )
    else:
        try:
            with transaction.atomic():  # a savepoint: another admin may be granting it right now
                existing = UserBadge.objects.create(
                    user=user, badge=badge, awarded_at=now, quantity=quantity, **changes
                )
        except IntegrityError:
            existing = UserBadge.objects.select_for_update().get(user=user, badge=badge)
            UserBadge.objects.filter(pk=existing.pk).update(
                quantity=F("quantity") + quantity, revoked_at=None, revoked_reason="", **changes
            )
    existing.refresh_from_db()
    event_record(
        kind=EventKind.BADGE_GRANTED,
        actor=actor,
        subject=user,
        target=badge,
        details={
            "badge": badge.name,
            "reason": reason,
            "content": content_label,
            "quantity": quantity,
            "held": existing.quantity,
        },
        manual=True,
    )
    _badge_points(badge, [user.pk], now)
    return existing


@transaction.atomic
def badge_grant_bulk(
    *, user_ids: Sequence[int], badge: Badge, actor: User, reason: str
) -> list[int]:
    """Grant a badge to many users; those who already hold it are left as they are."""
    gamification_require_enabled()
    reason = points_validate_reason(reason)
    ids = list(dict.fromkeys(user_ids))
    rows = dict(
        UserBadge.objects.select_for_update()
        .filter(badge=badge, user_id__in=ids)
        .order_by("pk")
        .values_list("user_id", "revoked_at")
    )
    now = timezone.now()
    revoked = [user_id for user_id, revoked_at in rows.items() if revoked_at is not None]
    new = [user_id for user_id in ids if user_id not in rows]
    UserBadge.objects.filter(badge=badge, user_id__in=revoked).update(
        revoked_at=None,
        revoked_reason="",
        awarded_at=now,
        source=UserBadge.Source.MANUAL,
        reason=reason,
        awarded_by=actor,
    )
    UserBadge.objects.bulk_create(
        [
            UserBadge(
                user_id=user_id,
                badge=badge,
                awarded_at=now,
                source=UserBadge.Source.MANUAL,
                reason=reason,
                awarded_by=actor,
            )
            for user_id in new
        ]
    )
    granted = sorted(revoked + new)
    event_record_bulk(
        kind=EventKind.BADGE_GRANTED,
        actor=actor,
        manual=True,
        specs=[
            EventSpec(
                subject=user_id, target=badge, details={"badge": badge.name, "reason": reason}
            )
            for user_id in granted
        ],
    )
    _badge_points(badge, granted, now)
    return granted


@transaction.atomic
def badge_revoke(*, user: User, badge: Badge, actor: User, reason: str) -> UserBadge:
    """Take a badge away (the row stays, marked revoked, so a rule does not give it back)."""
    reason = points_validate_reason(reason)
    held = (
        UserBadge.objects.select_for_update()
        .filter(user=user, badge=badge, revoked_at__isnull=True)
        .first()
    )
    if held is None:
        raise ValidationError(f"{user} does not hold the badge “{badge.name}”.", code="not_held")
    UserBadge.objects.filter(pk=held.pk).update(revoked_at=timezone.now(), revoked_reason=reason)
    held.refresh_from_db()
    event_record(
        kind=EventKind.BADGE_REVOKED,
        actor=actor,
        subject=user,
        target=badge,
        details={"badge": badge.name, "reason": reason},
        manual=True,
    )
    return held


def badge_rule_candidates(*, badge: Badge) -> list[int]:
    """Active users who have never had `badge` and whose recorded history reaches its rule."""
    from users.models import User

    rule = RULES.get(badge.rule)
    if rule is None or not rule.kinds:
        return []
    counts = rule_counts(rule, None)
    reached = {user_id for user_id, n in counts.items() if n >= badge.threshold}
    if not reached:
        return []
    had = set(UserBadge.objects.filter(badge=badge).values_list("user_id", flat=True))
    active = set(
        User.objects.filter(pk__in=reached - had, is_active=True).values_list("pk", flat=True)
    )
    return sorted(active)


def badge_rule_apply(*, badge: Badge, actor: User) -> BulkResult:
    """Apply the badge's rule to the recorded history, as a background job."""
    gamification_require_enabled()
    return bulk_run(
        kind="achievements.badge_apply",
        label=f"Apply the rule of the badge “{badge.name}”",
        item_ids=badge_rule_candidates(badge=badge),
        actor=actor,
        params={"badge_id": badge.pk},
        force_background=True,
    )


# --- activity events reported by other systems -----------------------------------------------


@transaction.atomic
def community_event_record(
    *,
    kind: str,
    user: User,
    actor: User | None = None,
    target: models.Model | None = None,
    details: dict[str, Any] | None = None,
) -> Any:
    """A community system (forum, feed) reports that `user` published a post, commented, or
    received a reaction. Recorded as an event; the badge rules react to it."""
    if kind not in COMMUNITY_KINDS:
        raise ValidationError(f"Unknown community event {kind!r}.", code="kind")
    return event_record(
        kind=kind, actor=actor or user, subject=user, target=target, details=details or {}
    )


@transaction.atomic
def content_points_update(
    *,
    course: Course,
    course_points: int | None,
    activity_points: dict[int, int | None],
    actor: User,
) -> int:
    """Set a course's custom points and its activities' points in one go (None: the default for
    the course, no points for an activity). Only what changed is written; returns how many."""
    changed = 0
    current = CoursePoints.objects.filter(course=course).values_list("points", flat=True).first()
    if current != course_points:
        course_points_set(course=course, points=course_points, actor=actor)
        changed += 1
    from progress.models import Activity

    activities = {
        a.pk: a for a in Activity.objects.filter(module__course=course, pk__in=activity_points)
    }
    existing = dict(
        ActivityPoints.objects.filter(activity_id__in=list(activities)).values_list(
            "activity_id", "points"
        )
    )
    for activity_id, points in activity_points.items():
        if activity_id in activities and existing.get(activity_id) != points:
            activity_points_set(activity=activities[activity_id], points=points, actor=actor)
            changed += 1
    return changed
