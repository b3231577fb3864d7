from __future__ import annotations

from typing import Any

import factory

from progress.models import Activity, Course, Enrollment, ExternalTraining, LearningPlan, Module


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    title = factory.Sequence(lambda n: f"Course {n}")
    slug = factory.Sequence(lambda n: f"course-{n}")


class ModuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Module

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Module {n}")
    position = factory.Sequence(lambda n: n)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    module = factory.SubFactory(ModuleFactory)
    title = factory.Sequence(lambda n: f"Activity {n}")
    kind = Activity.Kind.LESSON
    position = factory.Sequence(lambda n: n)


class ExternalTrainingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExternalTraining

    title = factory.Sequence(lambda n: f"Workshop {n}")


class LearningPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LearningPlan

    title = factory.Sequence(lambda n: f"Plan {n}")


EXAM_CONTENT = {
    "questions": [
        {"id": "q1", "text": "One?", "choices": ["a", "b"], "answer": 0},
        {"id": "q2", "text": "Two?", "choices": ["a", "b"], "answer": 1},
    ]
}


def course_with(
    *kinds: str, modules: int = 1, **course_kwargs: Any
) -> tuple[Course, list[Activity]]:
    """A course whose activities (of `kinds`, in order) are spread over `modules` modules."""
    course = CourseFactory(**course_kwargs)
    mods = [ModuleFactory(course=course, position=n) for n in range(modules)]
    activities = []
    for n, kind in enumerate(kinds):
        extra: dict[str, Any] = {}
        if kind == Activity.Kind.EXAM:
            extra = {"content": EXAM_CONTENT, "pass_mark": 50, "attempt_limit": 2}
        activities.append(ActivityFactory(module=mods[n % modules], kind=kind, position=n, **extra))
    return course, activities


def enroll(user: Any, course: Course, **kwargs: Any) -> Enrollment:
    return Enrollment.objects.create(user=user, course=course, **kwargs)
