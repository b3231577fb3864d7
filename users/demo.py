"""Demo organisation and people for `manage.py seed_demo` (idempotent: what exists is kept)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from users.models import CustomField, Department, User, UserGroup
from users.roles import Role
from users.services import department_create, roles_ensure, user_create

DEMO_PASSWORD = "merit-demo-2026"  # noqa: S105 - the documented demo login

# username, first, last, department key, roles
NAMED_PEOPLE: list[tuple[str, str, str, str, list[str]]] = [
    ("admin", "Olivia", "Carter", "root", [Role.SUPER_ADMIN, Role.LEARNER]),
    ("salesadmin", "Samuel", "Reed", "sales", [Role.DEPARTMENT_ADMIN, Role.LEARNER]),
    ("support", "Priya", "Nair", "care", [Role.CUSTOMER_SERVICE]),
    ("anna", "Anna", "Smith", "active_sales", [Role.LEARNER]),
    ("agata", "Agata", "Brown", "sales", [Role.LEARNER]),
    ("earl", "Earl", "Miller", "care", [Role.LEARNER]),
    ("harry", "Harry", "Evans", "hr", [Role.LEARNER]),
    ("julie", "Julie", "Gibson", "active_sales", [Role.LEARNER]),
    ("lisa", "Lisa", "Langdon", "hr", [Role.LEARNER]),
    ("mark", "Mark", "Spencer", "sales", [Role.LEARNER]),
]
FIRST_NAMES = [
    "Aaron", "Bella", "Caleb", "Daisy", "Ethan", "Fiona", "George", "Hannah", "Isaac", "Jasmine",
    "Kevin", "Laura", "Mason", "Nora", "Oscar", "Paula", "Quentin", "Rachel", "Simon", "Tara",
    "Umar", "Vera", "Wesley", "Xenia", "Yusuf", "Zoe", "Adam", "Beth", "Connor", "Diana",
    "Elliot", "Freya", "Gavin", "Holly", "Ivan", "Jade", "Kyle", "Leah", "Miles", "Naomi",
    "Owen", "Piper", "Ryan", "Sophie", "Tom", "Uma", "Victor", "Wendy", "Yara", "Zach",
    "Alice", "Ben", "Chloe", "Dylan", "Emma", "Felix", "Grace", "Henry", "Iris",
]  # fmt: skip
LAST_NAMES = [
    "Walker", "Hughes", "Foster", "Price", "Bennett", "Wood", "Barnes", "Ross", "Henderson",
    "Coleman", "Jenkins", "Perry", "Powell", "Long", "Patterson", "Flores", "Washington",
    "Butler", "Simmons", "Bryant", "Alexander", "Russell", "Griffin", "Diaz", "Hayes", "Myers",
    "Ford", "Hamilton", "Graham", "Sullivan", "Wallace", "Woods", "Cole", "West", "Jordan",
    "Owens", "Reynolds", "Fisher", "Ellis", "Harrison", "Gibbs", "Mason", "Marshall", "Ortiz",
    "Gomez", "Murray", "Freeman", "Wells", "Webb", "Simpson", "Stevens", "Tucker", "Porter",
    "Hunter", "Hicks", "Crawford", "Henry", "Boyd", "Mendoza",
]  # fmt: skip
TOTAL_PEOPLE = 69
DISABLED = 4
# A branch big enough that its bulk actions (award points or a certification to the whole
# branch) run as background jobs with a progress bar: over MERIT_BULK_JOB_THRESHOLD (100).
FIELD_SALES_PEOPLE = 150
GROUPS = [
    ("Sales Team", "Everyone who sells."),
    ("New Hires", "Joined in the last three months."),
    ("Mentors", "Colleagues who coach new hires."),
]


def _organisation() -> dict[str, Department]:
    root = Department.objects.filter(parent=None, name="My Company").first()
    root = root or department_create(name="My Company")

    def child(name: str, parent: Department) -> Department:
        found = Department.objects.filter(parent=parent, name=name).first()
        return found or department_create(name=name, parent=parent)

    sales = child("Sales Department", root)
    return {
        "root": root,
        "hr": child("Human Resource", root),
        "care": child("Customer Care", root),
        "sales": sales,
        "active_sales": child("Active Sales", sales),
        "field_sales": child("Field Sales", sales),
    }


def _custom_fields() -> tuple[CustomField, CustomField]:
    employee_id, _ = CustomField.objects.get_or_create(
        key="employee_id", defaults={"label": "Employee ID", "kind": "text", "position": 0}
    )
    start_date, _ = CustomField.objects.get_or_create(
        key="start_date", defaults={"label": "Start date", "kind": "date", "position": 1}
    )
    return employee_id, start_date


def _field_sales() -> list[tuple[str, str, str, str, list[str]]]:
    """The Field Sales branch's learners (always the same)."""
    people: list[tuple[str, str, str, str, list[str]]] = []
    for index in range(FIELD_SALES_PEOPLE):
        first = FIRST_NAMES[(index * 5 + 2) % len(FIRST_NAMES)]
        last = LAST_NAMES[(index * 11 + 3) % len(LAST_NAMES)]
        username = f"{first[0]}{last}{index + 1:03d}".lower()
        people.append((username, first, last, "field_sales", [Role.LEARNER]))
    return people


def _people() -> list[tuple[str, str, str, str, list[str]]]:
    """The 69 demo people of the original departments: the named ones, then generated ones
    (always the same)."""
    people = list(NAMED_PEOPLE)
    departments = ["hr", "care", "sales", "active_sales", "care", "active_sales"]
    for index in range(TOTAL_PEOPLE - len(NAMED_PEOPLE)):
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index * 7) % len(LAST_NAMES)]
        username = f"{first}.{last}".lower()
        people.append(
            (username, first, last, departments[index % len(departments)], [Role.LEARNER])
        )
    return people


@transaction.atomic
def seed_demo(*, stdout: Any) -> None:
    roles_ensure()
    org = _organisation()
    employee_id, start_date = _custom_fields()
    groups = {
        name: UserGroup.objects.get_or_create(name=name, defaults={"description": text})[0]
        for name, text in GROUPS
    }
    rng = random.Random(2026)
    password_hash = make_password(DEMO_PASSWORD)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    created = 0
    people = _people()
    field_sales = _field_sales()
    for index, (username, first, last, department_key, roles) in enumerate(people + field_sales):
        # Draw the random values for every person, existing or not, so each run is the same.
        phone = f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        street = f"{rng.randint(1, 240)} {rng.choice(['Oak', 'Elm', 'Maple', 'Cedar', 'Pine'])} St"
        days_ago = rng.randint(0, 40)
        started = date(2020, 1, 6) + timedelta(days=rng.randint(0, 2000))
        if User.objects.filter(username=username).exists():
            continue
        department = org[department_key]
        user_groups = []
        if department_key in ("sales", "active_sales", "field_sales"):
            user_groups.append(groups["Sales Team"])
        if started > date(2025, 1, 1):
            user_groups.append(groups["New Hires"])
        if index % 9 == 4:
            user_groups.append(groups["Mentors"])
        is_active = not (len(people) - DISABLED <= index < len(people))
        user = user_create(
            username=username,
            email=(
                f"{username}@mycompany.example"
                if department_key == "field_sales"
                else f"{first}.{last}@mycompany.example".lower()
            ),
            first_name=first,
            last_name=last,
            roles=roles,
            departments=[department],
            user_groups=user_groups,
            is_active=is_active,
        )
        never_logged_in = index % 13 == 12
        joined = datetime.combine(started, datetime.min.time(), tzinfo=now.tzinfo)
        User.objects.filter(pk=user.pk).update(
            password=password_hash,
            phone=phone,
            address=f"{street}, Springfield",
            invited_at=joined - timedelta(days=2),
            joined_at=None if never_logged_in else joined,
            last_login=None if never_logged_in else now - timedelta(days=days_ago, hours=index),
            custom_fields={
                employee_id.key: f"MC-{1000 + index}",
                start_date.key: started.isoformat(),
            },
        )
        if username == "salesadmin":
            user.administered_departments.set([org["sales"]])
        created += 1
    stdout.write(
        f"users: {created} created, {User.objects.count()} in all, "
        f"{Department.objects.count()} departments, {UserGroup.objects.count()} groups"
    )
