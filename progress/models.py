"""The catalog: courses made of modules made of activities; learning plans (ordered courses);
external training activities. Enrollments and progress records are added beside these."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

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


# --- access and progress --------------------------------------------------------------------


class AccessSource(models.TextChoices):
    """Where a learner's access came from (shown on the Access tab). Payments grant and end
    the purchase, subscription and seat kinds; an admin's own grant is never ended by them."""

    ADMIN = "admin", "An admin"
    PURCHASE = "purchase", "A purchase"
    SUBSCRIPTION = "subscription", "A subscription"
    SEAT = "seat", "A seat"


class Enrollment(TimeStampedModel):
    """A learner's access to a course. Drip-feed days count from `enrolled_at`; after
    `expires_at` the course is closed in the player (progress is kept)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="enrollments")
    enrolled_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, choices=AccessSource.choices, default="admin")
    source_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["course__title", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course"], name="enrollment_user_course_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.course_id}"

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())


class PlanEnrollment(TimeStampedModel):
    """Access to a learning plan (enrolling in a plan also enrolls in each of its courses)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plan_enrollments"
    )
    plan = models.ForeignKey(LearningPlan, on_delete=models.CASCADE, related_name="enrollments")
    enrolled_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, choices=AccessSource.choices, default="admin")
    source_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["plan__title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "plan"], name="plan_enrollment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in plan {self.plan_id}"


class ActivityCompletion(models.Model):
    """One learner completed one activity, once (the unique constraint makes a replay or a race
    a no-op). `is_manual`/`completed_by` say an admin marked it complete."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="completions")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    completed_at = models.DateTimeField(default=timezone.now)
    is_manual = models.BooleanField(default=False)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "activity"], name="activity_completion_unique"),
        ]
        indexes = [models.Index(fields=["user", "course"], name="completion_user_course")]

    def __str__(self) -> str:
        return f"{self.user_id} completed activity {self.activity_id}"


class ModuleCompletion(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    module = models.ForeignKey(Module, on_delete=models.CASCADE, related_name="completions")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    completed_at = models.DateTimeField(default=timezone.now)
    is_manual = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "module"], name="module_completion_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} completed module {self.module_id}"


class CourseCompletion(models.Model):
    """The course is complete for the learner: published once (unique), removed by a reset."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="completions")
    completed_at = models.DateTimeField(default=timezone.now)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    is_manual = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "course"], name="course_completion_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} completed course {self.course_id}"


class PlanCompletion(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey(LearningPlan, on_delete=models.CASCADE, related_name="completions")
    completed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "plan"], name="plan_completion_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} completed plan {self.plan_id}"


class ActivityTime(models.Model):
    """Time a learner spent in an activity (seconds), recorded by the player."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    seconds = models.PositiveIntegerField(default=0)
    first_opened_at = models.DateTimeField(default=timezone.now)
    last_opened_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "activity"], name="activity_time_unique"),
        ]
        indexes = [models.Index(fields=["user", "course"], name="activity_time_user_course")]

    def __str__(self) -> str:
        return f"{self.user_id} spent {self.seconds}s in {self.activity_id}"


class ExamAttempt(models.Model):
    """One submitted exam. A forgiven attempt no longer counts against the attempt limit."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attempts")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField()
    passed = models.BooleanField()
    answers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    forgiven_at = models.DateTimeField(null=True, blank=True)
    forgiven_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "activity"], name="attempt_user_activity")]

    def __str__(self) -> str:
        return f"{self.user_id} scored {self.score} on {self.activity_id}"


class ExternalTrainingRecord(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    training = models.ForeignKey(ExternalTraining, on_delete=models.CASCADE, related_name="records")
    completed_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-completed_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "training", "completed_on"], name="external_record_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} did {self.training_id} on {self.completed_on}"
