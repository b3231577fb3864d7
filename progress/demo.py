"""Demo catalog and learners at various stages (`manage.py seed_demo` calls `seed_demo`).
Idempotent: the catalog is looked up by slug/title, and a learner's progress in a course is
only seeded when they have none there yet."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from progress.models import (
    Activity,
    ActivityCompletion,
    ActivityTime,
    Course,
    Enrollment,
    ExamAttempt,
    ExternalTraining,
    ExternalTrainingRecord,
    LearningPlan,
    LearningPlanCourse,
    Module,
    PlanEnrollment,
)
from progress.services import (
    activity_complete,
    activity_time_record,
    enrollment_create,
    exam_submit,
    external_training_record,
    plan_enrollment_create,
    progress_mark_complete,
)
from users.models import User

L, V, F, E, A, C = (
    Activity.Kind.LESSON,
    Activity.Kind.VIDEO,
    Activity.Kind.FORM,
    Activity.Kind.EXAM,
    Activity.Kind.ASSIGNMENT,
    Activity.Kind.CERTIFICATE,
)


def _exam(*questions: tuple[str, list[str], int]) -> dict[str, Any]:
    return {
        "questions": [
            {"id": f"q{n + 1}", "text": text, "choices": choices, "answer": answer}
            for n, (text, choices, answer) in enumerate(questions)
        ]
    }


CAR_SALE_EXAM = _exam(
    (
        "What should the first minute of a showroom conversation focus on?",
        ["The customer's needs", "Financing options", "The price list"],
        0,
    ),
    (
        "A customer says the price is too high. What do you do first?",
        ["Offer a discount at once", "Ask what they compare it with", "End the conversation"],
        1,
    ),
    (
        "When do you propose a test drive?",
        ["Never", "After you understand what they need", "Before greeting them"],
        1,
    ),
    (
        "Which question is open?",
        ["Do you like red?", "Is this your first car?", "What will you use the car for?"],
        2,
    ),
)
CARE_EXAM = _exam(
    (
        "A caller is angry. Your first step is to…",
        ["Listen and acknowledge", "Transfer them", "Quote the policy"],
        0,
    ),
    ("Good ticket notes are…", ["Short and vague", "Clear and complete", "Optional"], 1),
    (
        "When you cannot solve it at once you…",
        ["Promise a time and call back", "Hang up", "Guess"],
        0,
    ),
)
NEGOTIATION_EXAM = _exam(
    (
        "BATNA stands for…",
        [
            "Best alternative to a negotiated agreement",
            "Basic agreement terms",
            "Buyer's annual target",
        ],
        0,
    ),
    (
        "Anchoring means…",
        ["Refusing to move", "Setting the first reference number", "Ending a deal"],
        1,
    ),
)

CATALOG: list[dict[str, Any]] = [
    {
        "slug": "car-sale-dialog",
        "title": "Car Sale Dialog",
        "description": "From greeting to handshake: needs analysis, objections and closing in the showroom.",
        "modules": [
            (
                "Opening the conversation",
                [
                    ("Welcome and first impression", L, {}),
                    ("Showroom greeting (video)", V, {"video_url": "https://example.com/greeting"}),
                ],
            ),
            (
                "Needs and objections",
                [
                    ("Asking open questions", L, {}),
                    ("Handling price objections", L, {}),
                    ("Your showroom habits (survey)", F, {}),
                ],
            ),
            (
                "Closing",
                [
                    ("Role-play: closing a sale", A, {}),
                    ("Final exam", E, {"exam": CAR_SALE_EXAM, "pass_mark": 75, "attempt_limit": 3}),
                    ("Certificate of completion", C, {}),
                ],
            ),
        ],
    },
    {
        "slug": "customer-care-essentials",
        "title": "Customer Care Essentials",
        "description": "Listening, de-escalation and clear follow-up for every customer contact.",
        "modules": [
            (
                "Listening",
                [
                    ("Active listening", L, {}),
                    ("Calming an angry caller (video)", V, {}),
                ],
            ),
            (
                "Follow-up",
                [
                    ("Writing useful ticket notes", L, {}),
                    ("Care quiz", E, {"exam": CARE_EXAM, "pass_mark": 60, "attempt_limit": 2}),
                    ("Feedback on this course", F, {"optional": True}),
                ],
            ),
        ],
    },
    {
        "slug": "onboarding-at-my-company",
        "title": "Onboarding at My Company",
        "description": "Your first weeks: who we are, how we work, and the tools you will use.",
        "modules": [
            (
                "Welcome",
                [
                    ("Our story and values", L, {}),
                    ("A message from the CEO (video)", V, {}),
                ],
            ),
            (
                "How we work",
                [
                    ("Tools and accounts", L, {}),
                    ("Your first-week checklist", A, {}),
                    ("Security refresher (opens after a week)", L, {"drip_days": 7}),
                ],
            ),
        ],
    },
    {
        "slug": "negotiation-skills",
        "title": "Negotiation Skills",
        "description": "Preparation, anchoring and trading concessions. Open after Car Sale Dialog.",
        "sequential": True,
        "prerequisites": ["car-sale-dialog"],
        "modules": [
            (
                "Preparation",
                [
                    ("Know your alternatives", L, {}),
                    ("Setting the anchor", L, {}),
                ],
            ),
            (
                "At the table",
                [
                    ("Trading concessions (video)", V, {}),
                    (
                        "Negotiation exam",
                        E,
                        {"exam": NEGOTIATION_EXAM, "pass_mark": 50, "attempt_limit": 0},
                    ),
                ],
            ),
        ],
    },
]


def _catalog() -> dict[str, Course]:
    courses: dict[str, Course] = {}
    for spec in CATALOG:
        course, _ = Course.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "title": spec["title"],
                "description": spec["description"],
                "sequential": spec.get("sequential", False),
            },
        )
        courses[spec["slug"]] = course
        for m_pos, (m_title, activities) in enumerate(spec["modules"]):
            module, _ = Module.objects.get_or_create(
                course=course, title=m_title, defaults={"position": m_pos}
            )
            for a_pos, (a_title, kind, extra) in enumerate(activities):
                exam = extra.get("exam")
                body = f"{a_title}.\n\nRead the material, try the exercises, then mark this activity complete."
                Activity.objects.get_or_create(
                    module=module,
                    title=a_title,
                    defaults={
                        "kind": kind,
                        "position": a_pos,
                        "is_required": not extra.get("optional", False),
                        "drip_days": extra.get("drip_days", 0),
                        "pass_mark": extra.get("pass_mark", 0),
                        "attempt_limit": extra.get("attempt_limit", 0),
                        "content": exam or {"body": body, "video_url": extra.get("video_url", "")},
                    },
                )
    for spec in CATALOG:
        for slug in spec.get("prerequisites", []):
            courses[spec["slug"]].prerequisites.add(courses[slug])
    plan, _ = LearningPlan.objects.get_or_create(
        title="Sales Starter Path",
        defaults={"description": "Onboarding, then the showroom dialog, then negotiation."},
    )
    for position, slug in enumerate(
        ["onboarding-at-my-company", "car-sale-dialog", "negotiation-skills"]
    ):
        LearningPlanCourse.objects.get_or_create(
            plan=plan, course=courses[slug], defaults={"position": position}
        )
    ExternalTraining.objects.get_or_create(
        title="Forklift safety workshop",
        defaults={"provider": "SafeWork Academy", "description": "A one-day practical workshop."},
    )
    return courses


def _untouched(user: User, course: Course) -> bool:
    return not (
        ActivityCompletion.objects.filter(user=user, course=course).exists()
        or ActivityTime.objects.filter(user=user, course=course).exists()
        or ExamAttempt.objects.filter(user=user, course=course).exists()
    )


def _enroll(user: User, course: Course, actor: User | None, **kwargs: Any) -> None:
    if not Enrollment.objects.filter(user=user, course=course).exists():
        enrollment_create(user=user, course=course, actor=actor, **kwargs)


def _study(user: User, course: Course, *, upto: int | None = None, exam_right: bool = True) -> None:
    """The learner works through the course in order: time spent, lessons, exams."""
    if not _untouched(user, course):
        return
    activities = list(
        Activity.objects.filter(module__course=course).order_by("module__position", "position")
    )
    for n, activity in enumerate(activities[:upto]):
        if activity.drip_days:
            continue
        seconds = 180 + 97 * n
        if activity.kind == Activity.Kind.EXAM:
            answers = {
                q["id"]: str(q["answer"] if exam_right else (q["answer"] + 1) % len(q["choices"]))
                for q in activity.content["questions"]
            }
            exam_submit(user=user, activity=activity, answers=answers, seconds=seconds)
            if not exam_right:
                break
        else:
            activity_time_record(user=user, activity=activity, seconds=seconds)
            activity_complete(user=user, activity=activity)


def seed_demo(*, stdout: Any) -> None:
    courses = _catalog()
    people = {
        u.username: u
        for u in User.objects.filter(
            username__in=[
                "admin",
                "anna",
                "agata",
                "earl",
                "harry",
                "julie",
                "lisa",
                "mark",
            ]
        )
    }
    admin = people.get("admin")
    car, care = courses["car-sale-dialog"], courses["customer-care-essentials"]
    onboarding, negotiation = courses["onboarding-at-my-company"], courses["negotiation-skills"]
    if anna := people.get("anna"):
        for course in (car, care, negotiation):
            _enroll(anna, course, admin)
        _study(anna, car)
        _study(anna, care, upto=2)
    if agata := people.get("agata"):
        _enroll(agata, car, admin)
        _study(agata, car, upto=7, exam_right=False)
    if earl := people.get("earl"):
        _enroll(earl, onboarding, admin)
        _enroll(earl, care, admin)
        if _untouched(earl, onboarding):
            progress_mark_complete(users=[earl], course=onboarding, actor=admin)
    if harry := people.get("harry"):
        _enroll(harry, care, admin)
        _study(harry, care)
    if julie := people.get("julie"):
        _enroll(julie, onboarding, admin)
        _study(julie, onboarding, upto=3)
        training = ExternalTraining.objects.get(title="Forklift safety workshop")
        if not ExternalTrainingRecord.objects.filter(user=julie, training=training).exists():
            external_training_record(
                user=julie,
                training=training,
                completed_on=timezone.localdate() - timedelta(days=30),
                actor=admin,
            )
    if lisa := people.get("lisa"):
        plan = LearningPlan.objects.get(title="Sales Starter Path")
        if not PlanEnrollment.objects.filter(user=lisa, plan=plan).exists():
            plan_enrollment_create(user=lisa, plan=plan, actor=admin)
        for course in (onboarding, car, negotiation):
            if _untouched(lisa, course):
                progress_mark_complete(users=[lisa], course=course, actor=admin)
    if mark := people.get("mark"):
        _enroll(mark, car, admin, expires_at=timezone.now() - timedelta(days=3))
    others = (
        User.objects.filter(groups__name="Learner", is_active=True)
        .exclude(username__in=list(people))
        .order_by("pk")[:24]
    )
    for n, user in enumerate(others):
        _enroll(user, onboarding, admin)
        if n % 3 == 0:
            _study(user, onboarding, upto=1 + n % 4)
    stdout.write(
        f"progress: {Course.objects.count()} courses, {Enrollment.objects.count()} enrollments, "
        f"{ActivityCompletion.objects.count()} completed activities"
    )
