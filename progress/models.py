"""The catalog: courses made of modules made of activities; learning plans (ordered courses);
external training activities. Enrollments and progress records are added beside these."""

from __future__ import annotations

from django.db import models
from django.urls import reverse

from lms.models import TimeStampedModel


class Course(TimeStampedModel):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    is_published = models.BooleanField(default=True)
    sequential = models.BooleanField(
        default=False, help_text="Activities open one after another, in order."
    )
    prerequisites = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="required_for"
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("progress:course_detail", args=[self.pk])


class Module(TimeStampedModel):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="modules")
    title = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["course", "position", "id"]

    def __str__(self) -> str:
        return self.title


class Activity(TimeStampedModel):
    class Kind(models.TextChoices):
        LESSON = "lesson", "Lesson"
        VIDEO = "video", "Video"
        FORM = "form", "Form (survey)"
        EXAM = "exam", "Exam"
        ASSIGNMENT = "assignment", "Assignment"
        CERTIFICATE = "certificate", "Certificate"

    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="activities")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.LESSON)
    position = models.PositiveSmallIntegerField(default=0)
    is_required = models.BooleanField(default=True)
    drip_days = models.PositiveSmallIntegerField(
        default=0, help_text="Opens this many days after enrollment."
    )
    pass_mark = models.PositiveSmallIntegerField(default=0, help_text="Exams: percent to pass.")
    attempt_limit = models.PositiveSmallIntegerField(default=0, help_text="Exams: 0 is unlimited.")
    content = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["module", "position", "id"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return self.title


class LearningPlan(TimeStampedModel):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    courses = models.ManyToManyField(Course, through="LearningPlanCourse", related_name="plans")

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class LearningPlanCourse(models.Model):
    plan = models.ForeignKey(LearningPlan, on_delete=models.CASCADE, related_name="plan_courses")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "course"], name="plan_course_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} / {self.course}"


class ExternalTraining(TimeStampedModel):
    """Training done outside Merit (a workshop, a vendor course) that can award certifications."""

    title = models.CharField(max_length=200)
    provider = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
