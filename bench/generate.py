"""Build a large, reproducible organisation for the benchmarks (see bench/README.md).

    .venv/bin/python -m bench.generate --users 100000 --ledger 1000000 --seed 2026

Everything is written with PostgreSQL `COPY` (psycopg's `cursor.copy()`). Primary keys are
allocated up front, so memberships and ledger rows can point at users without reading them
back. The same seed gives the same people, departments, memberships and history (names,
usernames, e-mails, who is where); only primary keys and creation times differ between
databases.

Data for the other apps (courses, progress, ledger, badges, certification awards) is generated
only for the models that exist, so the command works while the apps are being built."""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

if __name__ == "__main__":  # run as a script: Django is set up before the models are imported
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings.local")
    import django

    django.setup()

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.utils import timezone

from users.models import Department, User, UserGroup
from users.roles import Role

LOAD_PASSWORD = "merit-load-2026"  # noqa: S105 - a published benchmark password, not a secret
USERNAME_PREFIX = "load"
BENCH_ADMIN_USERNAME = "bench-admin"

FIRST_NAMES = [
    "Anna",
    "Agata",
    "Earl",
    "Harry",
    "Julie",
    "Lisa",
    "Mark",
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Ava",
    "Ethan",
    "Mia",
    "Lucas",
    "Sophia",
    "Mason",
    "Amelia",
    "Logan",
    "Isla",
    "James",
    "Grace",
    "Oliver",
    "Chloe",
    "Jacob",
    "Ella",
    "Leo",
    "Ruby",
    "Adam",
    "Zoe",
    "Daniel",
    "Lily",
    "Samuel",
    "Hannah",
    "Henry",
    "Nora",
    "Owen",
    "Alice",
    "Jack",
    "Clara",
    "Ryan",
    "Eva",
    "Thomas",
    "Maya",
    "Peter",
    "Ida",
    "Simon",
    "Sara",
]
# About a third of the surnames contain "smi": scenario 4 searches for "smi" and needs
# page 400 (10,000 matches) inside one department subtree at 100,000 users.
SMI_SURNAMES = [
    "Smith",
    "Smithson",
    "Smithers",
    "Goldsmith",
    "Nesmith",
    "Smiley",
    "Smirnov",
    "Smits",
]
OTHER_SURNAMES = [
    "Brown",
    "Miller",
    "Evans",
    "Gibson",
    "Langdon",
    "Spencer",
    "Johnson",
    "Williams",
    "Jones",
    "Garcia",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
    "Campbell",
    "Mitchell",
    "Roberts",
    "Carter",
    "Phillips",
    "Turner",
    "Parker",
    "Collins",
    "Edwards",
    "Stewart",
]
SMI_SHARE = 0.36
# Root, five divisions (weights: the first one, "Sales", holds 60% of the people), six teams
# per division and three squads per team: 126 departments. People belong to one squad.
DIVISIONS: tuple[tuple[str, float], ...] = (
    ("Sales", 0.60),
    ("Support", 0.12),
    ("Engineering", 0.12),
    ("Finance", 0.08),
    ("People", 0.08),
)
TEAMS_PER_DIVISION = 6
SQUADS_PER_TEAM = 3
GROUP_COUNT = 40
COURSE_COUNT = 200
MODULES_PER_COURSE = 4
ACTIVITIES_PER_MODULE = 5
LEDGER_DAYS = 730


@dataclass
class Plan:
    """What was generated: counts per table and the ids the benchmarks need."""

    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


class GenerateError(Exception):
    """The generator was asked for something it cannot do; nothing was written."""


# --- bulk writing -------------------------------------------------------------------------


def ids_allocate(model: type[models.Model], count: int) -> range:
    """Reserve `count` primary keys after the current maximum. The caller inserts them
    explicitly; `sequence_sync` moves the sequence past them afterwards."""
    table = model._meta.db_table
    pk_column = model._meta.pk.column
    with connection.cursor() as cursor:
        # names come from the model's own metadata, never from input
        cursor.execute(f"SELECT COALESCE(MAX({pk_column}), 0) FROM {table}")
        start = int(cursor.fetchone()[0]) + 1
    return range(start, start + count)


def sequence_sync(model: type[models.Model]) -> None:
    table = model._meta.db_table
    pk_column = model._meta.pk.column
    highest = f"SELECT COALESCE(MAX({pk_column}), 0) FROM {table}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, %s), GREATEST(({highest}), 1))",
            [table, pk_column],
        )


def _column_plan(
    model: type[models.Model], given: Sequence[str]
) -> tuple[list[str], list[Callable[[Any], Any] | None], list[Any]]:
    """Columns to write (given attnames, then every other concrete field with its default),
    a converter per given column, and the default value per extra column."""
    from psycopg.types.json import Jsonb

    now = timezone.now()
    fields = {f.attname: f for f in model._meta.concrete_fields}
    columns: list[str] = [str(fields[name].column) for name in given]
    converters: list[Callable[[Any], Any] | None] = []
    for name in given:
        is_json = isinstance(fields[name], models.JSONField)
        converters.append(Jsonb if is_json else None)
    extra_values: list[Any] = []
    for name, model_field in fields.items():
        if name in given or model_field.primary_key or model_field.generated:
            continue
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            value: Any = now
        elif model_field.has_default():
            value = model_field.get_default()
        elif model_field.null:
            value = None
        elif model_field.empty_strings_allowed:
            value = ""
        else:
            raise GenerateError(f"{model.__name__}.{name} has no default: add it to the generator.")
        if isinstance(model_field, models.JSONField):
            value = Jsonb(value)
        columns.append(str(model_field.column))
        extra_values.append(value)
    return columns, converters, extra_values


def rows_insert(
    model: type[models.Model], attnames: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert rows (tuples in `attnames` order) into `model`'s table with COPY. Fields not named
    get their default."""
    columns, converters, extra = _column_plan(model, attnames)
    written = 0
    column_sql = ", ".join(f'"{name}"' for name in columns)
    plain = all(conv is None for conv in converters)
    extra_tuple = tuple(extra)
    with (
        connection.cursor() as cursor,
        cursor.copy(f'COPY "{model._meta.db_table}" ({column_sql}) FROM STDIN') as copy,
    ):
        for row in rows:
            if plain:
                copy.write_row(tuple(row) + extra_tuple)
            else:
                copy.write_row(
                    tuple(
                        value if conv is None else conv(value)
                        for conv, value in zip(converters, row, strict=True)
                    )
                    + extra_tuple
                )
            written += 1
    return written


def _optional_model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _has_fields(model: type[models.Model] | None, *names: str) -> bool:
    if model is None:
        return False
    attnames = {f.attname for f in model._meta.concrete_fields} | {
        f.name for f in model._meta.concrete_fields
    }
    return all(name in attnames for name in names)


# --- the organisation ---------------------------------------------------------------------


def departments_generate(rng: random.Random) -> tuple[list[int], list[float], Department]:
    """The department tree; returns the squad ids, their weights, and the root."""
    root, _ = Department.objects.get_or_create(name="Load Company", parent=None)
    root.path, root.depth = f"/{root.pk}/", 0
    root.save(update_fields=["path", "depth"])
    squads: list[int] = []
    weights: list[float] = []
    for division_name, division_weight in DIVISIONS:
        division = _department_child(root, division_name)
        for team_number in range(1, TEAMS_PER_DIVISION + 1):
            team = _department_child(division, f"{division_name} team {team_number}")
            for squad_number in range(1, SQUADS_PER_TEAM + 1):
                squad = _department_child(team, f"{team.name} squad {squad_number}")
                squads.append(squad.pk)
                weights.append(division_weight / (TEAMS_PER_DIVISION * SQUADS_PER_TEAM))
    return squads, weights, root


def _department_child(parent: Department, name: str) -> Department:
    child, _ = Department.objects.get_or_create(name=name, parent=parent)
    child.path, child.depth = f"{parent.path}{child.pk}/", parent.depth + 1
    child.save(update_fields=["path", "depth"])
    return child


def users_generate(
    rng: random.Random, count: int, squads: list[int], weights: list[float], plan: Plan
) -> range:
    if User.objects.filter(username__startswith=f"{USERNAME_PREFIX}-").exists():
        raise GenerateError(
            "Load users already exist in this database: generate into a fresh database "
            "(the benchmark harness creates one)."
        )
    password = make_password(LOAD_PASSWORD, salt="merit-load")
    now = timezone.now()
    ids = ids_allocate(User, count)
    squad_of: list[int] = rng.choices(squads, weights=weights, k=count)
    people = []
    for _ in range(count):
        first = rng.choice(FIRST_NAMES)
        last = rng.choice(SMI_SURNAMES) if rng.random() < SMI_SHARE else rng.choice(OTHER_SURNAMES)
        joined = now - timedelta(days=rng.randrange(LEDGER_DAYS + 30))
        people.append((first, last, joined))
    rows = (
        (
            ids[number],
            password,
            f"{USERNAME_PREFIX}-{number:07d}",
            first,
            last,
            f"{first.lower()}.{last.lower()}.{number}@load.example.com",
            True,
            joined,
            joined,
        )
        for number, (first, last, joined) in enumerate(people)
    )
    fields = ["id", "password", "username", "first_name", "last_name", "email"]
    fields += ["is_active", "date_joined", "joined_at"]
    plan.counts["users"] = rows_insert(User, fields, rows)
    sequence_sync(User)
    membership = User.departments.through
    plan.counts["department_memberships"] = rows_insert(
        membership,
        ("user_id", "department_id"),
        ((ids[number], squad_of[number]) for number in range(count)),
    )
    sequence_sync(membership)
    learner = Group.objects.get(name=Role.LEARNER)
    roles = User.groups.through
    plan.counts["role_memberships"] = rows_insert(
        roles, ("user_id", "group_id"), ((pk, learner.pk) for pk in ids)
    )
    sequence_sync(roles)
    return ids


def groups_generate(rng: random.Random, user_ids: range, plan: Plan) -> None:
    groups = [
        UserGroup.objects.get_or_create(name=f"Load group {number:02d}")[0]
        for number in range(1, GROUP_COUNT + 1)
    ]
    through = User.user_groups.through
    rows = []
    for pk in user_ids:
        for group in rng.sample(groups, k=rng.choice((0, 1, 1, 2))):
            rows.append((pk, group.pk))
    plan.counts["user_groups"] = len(groups)
    plan.counts["group_memberships"] = rows_insert(through, ("user_id", "usergroup_id"), rows)
    sequence_sync(through)


def bench_admin_ensure() -> User:
    admin = User.objects.filter(username=BENCH_ADMIN_USERNAME).first()
    if admin is None:
        admin = User.objects.create(
            username=BENCH_ADMIN_USERNAME,
            email="bench-admin@load.example.com",
            first_name="Bench",
            last_name="Admin",
            password=make_password(LOAD_PASSWORD, salt="merit-load"),
        )
    admin.groups.set(Group.objects.filter(name__in=[Role.SUPER_ADMIN, Role.LEARNER]))
    return admin


# --- the other apps (only what exists) ----------------------------------------------------


def courses_generate(rng: random.Random, plan: Plan) -> list[int]:
    course_model = _optional_model("progress.Course")
    module_model = _optional_model("progress.Module")
    activity_model = _optional_model("progress.Activity")
    if course_model is None or module_model is None or activity_model is None:
        return []
    course_ids = ids_allocate(course_model, COURSE_COUNT)
    rows_insert(
        course_model,
        ("id", "title", "slug", "is_published"),
        (
            (pk, f"Load course {n + 1:03d}", f"load-course-{n + 1:03d}", True)
            for n, pk in enumerate(course_ids)
        ),
    )
    sequence_sync(course_model)
    module_ids = ids_allocate(module_model, COURSE_COUNT * MODULES_PER_COURSE)
    module_rows = []
    for n, course_pk in enumerate(course_ids):
        for position in range(MODULES_PER_COURSE):
            pk = module_ids[n * MODULES_PER_COURSE + position]
            module_rows.append((pk, course_pk, f"Module {position + 1}", position))
    rows_insert(module_model, ("id", "course_id", "title", "position"), module_rows)
    sequence_sync(module_model)
    activity_rows = []
    for module_pk in module_ids:
        for position in range(ACTIVITIES_PER_MODULE):
            activity_rows.append((module_pk, f"Lesson {position + 1}", "lesson", position))
    rows_insert(activity_model, ("module_id", "title", "kind", "position"), activity_rows)
    sequence_sync(activity_model)
    plan.counts["courses"] = len(course_ids)
    plan.counts["activities"] = len(activity_rows)
    return list(course_ids)


HEAVY_USERNAME = "bench-heavy"
HEAVY_LEDGER = 10_000
BADGE_COUNT = 12
CERTIFICATION_COUNT = 8


def heavy_user_create(squads: list[int], plan: Plan) -> int:
    """Scenario 5's learner: 10,000 ledger entries and an enrollment in every course."""
    heavy = User.objects.create(
        username=HEAVY_USERNAME,
        email="heavy@load.example.com",
        first_name="Hilda",
        last_name="Heavy",
        password=make_password(LOAD_PASSWORD, salt="merit-load"),
    )
    heavy.departments.set([squads[0]])
    heavy.groups.set(Group.objects.filter(name=Role.LEARNER))
    return int(heavy.pk)


def ledger_generate(
    rng: random.Random, user_ids: range, heavy_id: int, count: int, plan: Plan
) -> None:
    """`count` ledger entries spread over the last two years (plus the heavy user's 10,000),
    with the balances and week/month summaries that the achievements services keep beside it:
    the same numbers `points_check` would compute."""
    entry_model = _optional_model("achievements.PointsEntry")
    balance_model = _optional_model("achievements.PointsBalance")
    period_model = _optional_model("achievements.PeriodPoints")
    if not (
        _has_fields(entry_model, "user_id", "amount", "reason", "awarded_at", "source")
        and _has_fields(balance_model, "user_id", "points", "is_active")
        and _has_fields(period_model, "user_id", "period", "starts_on", "points", "is_active")
    ):
        return
    assert entry_model is not None and balance_model is not None and period_model is not None
    from achievements.services import period_starts

    settings_model = _optional_model("achievements.GamificationSettings")
    if settings_model is not None:
        settings_model._default_manager.get_or_create(pk=1)
    now = timezone.now()
    amounts = (5, 10, 10, 10, 20, 25, 50, 100, 200)
    owners = [user_ids[rng.randrange(len(user_ids))] for _ in range(count)]
    owners += [heavy_id] * HEAVY_LEDGER
    balances: dict[int, int] = {}
    periods: dict[tuple[int, str, Any], int] = {}
    day_starts: dict[Any, dict[str, Any]] = {}
    entries = []
    for owner in owners:
        amount = rng.choice(amounts)
        if balances.get(owner, 0) >= 50 and rng.random() < 0.03:
            amount = -rng.choice((5, 10, 25))
        awarded_at = now - timedelta(seconds=rng.randrange(LEDGER_DAYS * 86_400))
        balances[owner] = balances.get(owner, 0) + amount
        hour_key = awarded_at.replace(minute=0, second=0, microsecond=0)
        starts = day_starts.get(hour_key)
        if starts is None:
            starts = day_starts[hour_key] = period_starts(awarded_at)
        for period, starts_on in starts.items():
            key = (owner, str(period), starts_on)
            periods[key] = periods.get(key, 0) + amount
        entries.append((owner, amount, "Load history", awarded_at, "import"))
    plan.counts["ledger_entries"] = rows_insert(
        entry_model, ["user_id", "amount", "reason", "awarded_at", "source"], entries
    )
    sequence_sync(entry_model)
    rows_insert(
        balance_model,
        ["user_id", "points", "is_active"],
        ((owner, total, True) for owner, total in sorted(balances.items())),
    )
    plan.counts["balances"] = len(balances)
    plan.counts["period_summaries"] = rows_insert(
        period_model,
        ["user_id", "period", "starts_on", "points", "is_active"],
        (
            (owner, period, starts_on, total, True)
            for (owner, period, starts_on), total in periods.items()
        ),
    )
    sequence_sync(period_model)


def badges_generate(rng: random.Random, user_ids: range, plan: Plan) -> None:
    badge_model = _optional_model("achievements.Badge")
    held_model = _optional_model("achievements.UserBadge")
    if not _has_fields(badge_model, "name", "category") or not _has_fields(
        held_model, "user_id", "badge_id", "awarded_at", "source"
    ):
        return
    assert badge_model is not None and held_model is not None
    categories = ("profile", "courses", "community", "engagement")
    badges = [
        badge_model._default_manager.get_or_create(
            name=f"Load badge {number:02d}",
            defaults={"category": categories[number % 4], "rule": "manual", "points": 10},
        )[0]
        for number in range(1, BADGE_COUNT + 1)
    ]
    now = timezone.now()
    rows = []
    for pk in user_ids:
        if rng.random() < 0.2:
            for badge in rng.sample(badges, k=rng.randint(1, 3)):
                at = now - timedelta(seconds=rng.randrange(LEDGER_DAYS * 86_400))
                rows.append((pk, badge.pk, at, "manual"))
    plan.counts["badges"] = len(badges)
    plan.counts["badges_held"] = rows_insert(
        held_model, ["user_id", "badge_id", "awarded_at", "source"], rows
    )
    sequence_sync(held_model)


def certifications_generate(rng: random.Random, user_ids: range, plan: Plan) -> None:
    cert_model = _optional_model("certifications.Certification")
    award_model = _optional_model("certifications.CertificationAward")
    if not _has_fields(cert_model, "title", "validity_days") or not _has_fields(
        award_model, "certification_id", "user_id", "issued_on", "expires_on", "code", "is_current"
    ):
        return
    assert cert_model is not None and award_model is not None
    certifications = [
        cert_model._default_manager.get_or_create(
            title=f"Load certification {number}",
            defaults={"validity_days": None if number % 3 == 0 else 365},
        )[0]
        for number in range(1, CERTIFICATION_COUNT + 1)
    ]
    today = timezone.localdate()
    rows = []
    for pk in user_ids:
        if rng.random() < 0.3:
            for certification in rng.sample(certifications, k=rng.randint(1, 2)):
                issued = today - timedelta(days=rng.randrange(LEDGER_DAYS))
                validity = getattr(certification, "validity_days", None)
                expires = None if validity is None else issued + timedelta(days=validity)
                code = f"{rng.getrandbits(128):032x}"
                rows.append((certification.pk, pk, issued, expires, code, True, "manual"))
    plan.counts["certifications"] = len(certifications)
    plan.counts["certification_awards"] = rows_insert(
        award_model,
        [
            *("certification_id", "user_id", "issued_on", "expires_on"),
            *("code", "is_current", "association"),
        ],
        rows,
    )
    sequence_sync(award_model)


def progress_generate(
    rng: random.Random, user_ids: range, heavy_id: int, course_ids: list[int], plan: Plan
) -> None:
    """Enrollments (one to three courses each; the heavy user in all of them) and progress:
    about a third of the enrollments have completed activities, some the whole course."""
    enrollment_model = _optional_model("progress.Enrollment")
    done_model = _optional_model("progress.ActivityCompletion")
    course_done_model = _optional_model("progress.CourseCompletion")
    activity_model = _optional_model("progress.Activity")
    if (
        not course_ids
        or activity_model is None
        or not _has_fields(enrollment_model, "user_id", "course_id", "enrolled_at")
        or not _has_fields(done_model, "user_id", "activity_id", "course_id", "completed_at")
        or not _has_fields(course_done_model, "user_id", "course_id", "completed_at")
    ):
        return
    assert enrollment_model is not None and done_model is not None
    assert course_done_model is not None
    activities: dict[int, list[int]] = {}
    for activity_pk, course_pk in (
        activity_model._default_manager.filter(module__course_id__in=course_ids)
        .order_by("module__position", "position", "pk")
        .values_list("pk", "module__course_id")
    ):
        activities.setdefault(course_pk, []).append(activity_pk)
    now = timezone.now()
    enrollments: list[tuple[int, int, Any]] = []
    completions: list[tuple[int, int, int, Any]] = []
    courses_done: list[tuple[int, int, Any]] = []
    people = [(pk, rng.sample(course_ids, k=rng.randint(1, 3))) for pk in user_ids]
    people.append((heavy_id, list(course_ids)))
    for pk, picked in people:
        for course_pk in picked:
            enrolled = now - timedelta(days=rng.randrange(LEDGER_DAYS))
            enrollments.append((pk, course_pk, enrolled))
            if rng.random() < 0.33:
                steps = activities.get(course_pk, [])
                done = rng.randint(1, len(steps)) if steps else 0
                at = enrolled + timedelta(hours=rng.randrange(1, 500))
                completions.extend((pk, a, course_pk, at) for a in steps[:done])
                if steps and done == len(steps):
                    courses_done.append((pk, course_pk, at))
    plan.counts["enrollments"] = rows_insert(
        enrollment_model, ["user_id", "course_id", "enrolled_at"], enrollments
    )
    sequence_sync(enrollment_model)
    plan.counts["activity_completions"] = rows_insert(
        done_model, ["user_id", "activity_id", "course_id", "completed_at"], completions
    )
    sequence_sync(done_model)
    plan.counts["course_completions"] = rows_insert(
        course_done_model, ["user_id", "course_id", "completed_at"], courses_done
    )
    sequence_sync(course_done_model)


def generate(*, users: int, ledger: int, seed: int, stdout: Any = None) -> Plan:
    from users.services import roles_ensure

    if users < 1 or ledger < 0:
        raise GenerateError("--users must be at least 1 and --ledger at least 0.")

    plan = Plan()
    rng = random.Random(seed)

    def step(name: str, started: float) -> None:
        plan.timings[name] = round(time.perf_counter() - started, 2)
        if stdout is not None:
            stdout.write(f"  {name}: {plan.timings[name]:.1f} s\n")

    with transaction.atomic():
        roles_ensure()
        started = time.perf_counter()
        squads, weights, root = departments_generate(rng)
        plan.counts["departments"] = Department.objects.filter(path__startswith=root.path).count()
        bench_admin_ensure()
        step("departments", started)
        started = time.perf_counter()
        user_ids = users_generate(rng, users, squads, weights, plan)
        step("users", started)
        started = time.perf_counter()
        groups_generate(rng, user_ids, plan)
        step("groups", started)
        heavy_id = heavy_user_create(squads, plan)
        started = time.perf_counter()
        course_ids = courses_generate(rng, plan)
        progress_generate(rng, user_ids, heavy_id, course_ids, plan)
        step("courses and progress", started)
        started = time.perf_counter()
        ledger_generate(rng, user_ids, heavy_id, ledger, plan)
        step("ledger", started)
        started = time.perf_counter()
        badges_generate(rng, user_ids, plan)
        certifications_generate(rng, user_ids, plan)
        step("badges and certifications", started)
    # Bulk-loaded tables have no visibility map yet, so index-only scans (the leaderboard
    # counts) would visit the heap: VACUUM as autovacuum soon would, unless inside a
    # transaction (tests), where only ANALYZE is allowed.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
    return plan


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--ledger", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    options = parser.parse_args(argv)
    started = time.perf_counter()
    plan = generate(
        users=options.users, ledger=options.ledger, seed=options.seed, stdout=sys.stdout
    )
    elapsed = time.perf_counter() - started
    summary = ", ".join(f"{name} {count:,}" for name, count in plan.counts.items())
    print(f"Generated in {elapsed:.1f} s: {summary}")


if __name__ == "__main__":
    main()
