from __future__ import annotations

import io
from typing import Any

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from achievements.models import Badge
from lms.event_kinds import EventKind
from lms.events import event_record
from lms.models import Event
from progress.models import Activity, Course, Module
from users.models import User


class BadgeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Badge

    name = factory.Sequence(lambda n: f"Badge {n}")
    category = Badge.Category.COMMUNITY
    rule = "comment_posted"
    threshold = 3
    points = 0


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


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    module = factory.SubFactory(ModuleFactory)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    kind = Activity.Kind.LESSON


def png_upload(name: str = "badge.png", size: tuple[int, int] = (400, 300)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, "#4f46e5").save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def module_completed(user: User, module: Module, **kwargs: Any) -> Event:
    """What the progress app records when a learner passes a module."""
    return event_record(
        kind=EventKind.MODULE_COMPLETED,
        actor=user,
        subject=user,
        target=module,
        details={"course_id": module.course_id},
        **kwargs,
    )


def course_completed(user: User, course: Course, **kwargs: Any) -> Event:
    return event_record(
        kind=EventKind.COURSE_COMPLETED,
        actor=user,
        subject=user,
        target=course,
        details={"course_id": course.pk},
        **kwargs,
    )


def activity_completed(user: User, activity: Activity, **kwargs: Any) -> Event:
    return event_record(
        kind=EventKind.ACTIVITY_COMPLETED,
        actor=user,
        subject=user,
        target=activity,
        details={
            "course_id": activity.module.course_id,
            "module_id": activity.module_id,
            "activity_kind": activity.kind,
            "score": None,
        },
        **kwargs,
    )
