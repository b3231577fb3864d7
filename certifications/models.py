"""Certifications: definitions, the awards users hold (current and history), renewal
reminders already sent, and CSV imports waiting for an admin to apply them."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from lms.models import BackgroundJob, TimeStampedModel


def verification_code_new() -> str:
    """128 random bits, URL-safe: unguessable, so the public page can be found only by code."""
    return secrets.token_urlsafe(16)


class Certification(TimeStampedModel):
    title = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    validity_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="How long an award is valid. Leave empty for always valid.",
    )
    renewal_window_days = models.PositiveIntegerField(
        default=30, help_text="Days before expiry when renewal opens and reminders go out."
    )
    courses = models.ManyToManyField("progress.Course", blank=True, related_name="certifications")
    learning_plans = models.ManyToManyField(
        "progress.LearningPlan", blank=True, related_name="certifications"
    )
    external_trainings = models.ManyToManyField(
        "progress.ExternalTraining", blank=True, related_name="certifications"
    )
    design_html = models.TextField(
        blank=True,
        help_text="A custom certificate design (HTML and CSS, Django template syntax). "
        "Leave empty for the default design.",
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("certifications:awarded", args=[self.pk])

    @property
    def is_always_valid(self) -> bool:
        return self.validity_days is None

    def default_expiry(self, issued_on: date) -> date | None:
        if self.validity_days is None:
            return None
        return issued_on + timedelta(days=self.validity_days)


class CertificationAward(TimeStampedModel):
    """One award of a certification to a user. At most one per (user, certification) is
    current; a renewal or an unassign ends it (`is_current=False`, `ended_reason`) and keeps
    it as history, so a verification code printed on an old certificate still answers."""

    class Association(models.TextChoices):
        MANUAL = "manual", "Manually awarded"
        COMPLETION = "completion", "Course/learning plan completion"
        EXTERNAL = "external", "External training activity"

    class EndReason(models.TextChoices):
        RENEWED = "renewed", "Renewed"
        UNASSIGNED = "unassigned", "Unassigned"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRING = "expiring", "Expiring"
        EXPIRED = "expired", "Expired"
        ALWAYS_VALID = "always_valid", "Always valid"

    # Every index is paid on each insert of a bulk award (a row per person), so there are only
    # the ones a query uses: (certification, is_current) leads with certification, the code's
    # unique constraint has no LIKE twin, and who awarded it or for which activity is never
    # searched.
    certification = models.ForeignKey(
        Certification, on_delete=models.CASCADE, related_name="awards", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certification_awards"
    )
    issued_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True, help_text="Empty: always valid.")
    association = models.CharField(
        max_length=16, choices=Association.choices, default=Association.MANUAL
    )
    external_training = models.ForeignKey(
        "progress.ExternalTraining",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    code = models.CharField(max_length=32, default=verification_code_new)
    is_current = models.BooleanField(default=True)
    ended_reason = models.CharField(max_length=16, choices=EndReason.choices, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    expired_marked_at = models.DateTimeField(null=True, blank=True)
    awarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # What produced this award ("job:12", "event:345", "import:6", "batch:<uuid>"): a replay of
    # the same job, event or import finds its own award and skips instead of renewing it.
    source_key = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "certification"],
                condition=Q(is_current=True),
                name="certification_award_one_current",
            ),
            models.UniqueConstraint(fields=["code"], name="certification_award_code_unique"),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gte=models.F("issued_on")),
                name="certification_award_expiry_after_issue",
            ),
        ]
        indexes = [
            models.Index(fields=["certification", "is_current"], name="cert_award_cert_current"),
            # a user's current awards use the partial unique index (user, certification)
            models.Index(
                fields=["expires_on"],
                condition=Q(is_current=True),
                name="cert_award_current_expiry",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.certification.title}"

    def get_absolute_url(self) -> str:
        return reverse("certifications:verify", args=[self.code])

    @property
    def status(self) -> str:
        return award_status(self, today=timezone.localdate())

    def get_status_display(self) -> str:
        return self.Status(self.status).label

    @property
    def days_left(self) -> int | None:
        if self.expires_on is None:
            return None
        return (self.expires_on - timezone.localdate()).days

    @property
    def days_left_to_renew(self) -> int | None:
        """Days until the renewal window opens (0 once it is open), None when always valid."""
        if self.expires_on is None:
            return None
        opens = self.expires_on - timedelta(days=self.certification.renewal_window_days)
        return max(0, (opens - timezone.localdate()).days)


def award_status(award: CertificationAward, *, today: date) -> str:
    if award.expires_on is None:
        return CertificationAward.Status.ALWAYS_VALID
    if award.expires_on < today:
        return CertificationAward.Status.EXPIRED
    window = award.certification.renewal_window_days
    if award.expires_on - timedelta(days=window) <= today:
        return CertificationAward.Status.EXPIRING
    return CertificationAward.Status.ACTIVE


class CertificationReminder(models.Model):
    """A reminder email already sent, one per award per stage: the unique constraint is what
    makes running the daily task twice send nothing twice."""

    class Stage(models.TextChoices):
        RENEWAL = "renewal", "Renewal window opened"
        EXPIRED = "expired", "Expired"

    award = models.ForeignKey(
        CertificationAward, on_delete=models.CASCADE, related_name="reminders"
    )
    stage = models.CharField(max_length=16, choices=Stage.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["award", "stage"], name="certification_reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.award_id} {self.stage}"


class CertificationImport(TimeStampedModel):
    """An uploaded CSV, checked and waiting to be applied. `rows` holds every parsed row with
    its errors, so the preview and the error report need no second parse."""

    class Status(models.TextChoices):
        PREVIEW = "preview", "Ready to apply"
        APPLYING = "applying", "Applying"
        APPLIED = "applied", "Applied"

    certification = models.ForeignKey(
        Certification, on_delete=models.CASCADE, related_name="imports"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    file_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PREVIEW)
    # [{"row": 2, "user": "anna", "issued_on": "2026-01-01", "expires_on": "", "association":
    #   "manual", "activity": "", "user_id": 7, "training_id": null, "errors": []}, ...]
    rows = models.JSONField(default=list, blank=True)
    total_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    job = models.ForeignKey(BackgroundJob, null=True, blank=True, on_delete=models.SET_NULL)
    summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name or 'CSV import'} ({self.certification})"

    @property
    def valid_rows(self) -> int:
        return self.total_rows - self.error_rows
