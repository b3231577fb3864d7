"""What every app shares: a timestamped base model, the append-only event log and the
background-job row that bulk work reports its progress on."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Event(models.Model):
    """One change to the system: who did it (actor), as whom (the impersonator is the real
    person when an admin is logged in as someone else), to whom (subject), what (kind and
    target), the details, whether an admin did it by hand, and when. Never updated or deleted:
    reports and badge rules read this history.

    The foreign keys have no database constraint (`db_constraint=False`): a bulk job writes
    hundreds of thousands of events, and checking each of their three references at commit
    cost more than writing them. Events are only written by `lms.events` with ids it has just
    read, and deleting a user still cascades (Django's collector does it). For the same
    reason no single-column index repeats the leading column of a composite one."""

    kind = models.CharField(max_length=64)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    impersonator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        db_constraint=False,
        db_index=False,  # the (subject, -created_at) index serves it
    )
    target_type = models.ForeignKey(
        ContentType,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        db_index=False,  # the (target_type, target_id) index serves it
    )
    target_id = models.BigIntegerField(null=True, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    details = models.JSONField(default=dict, blank=True)
    is_manual = models.BooleanField(default=False)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["subject", "-created_at"], name="event_subject_time"),
            models.Index(fields=["kind", "-created_at"], name="event_kind_time"),
            models.Index(fields=["target_type", "target_id"], name="event_target"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.subject_id} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.pop("_allow_update", False):
            raise ValueError("Events are append-only: record a new event instead of editing one.")
        super().save(*args, **kwargs)


class BackgroundJob(models.Model):
    """Bulk work over many items (usually users), run by Celery in chunks (`BackgroundJobChunk`).
    `cursor` is how many of `item_ids` are done; each chunk's work, its "finished" mark and the
    cursor move commit together, so a job that is run twice, or resumed after its worker died,
    never does an item twice."""

    class Status(models.TextChoices):
        PENDING = "pending", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Finished"
        PARTIAL = "partial", "Finished with errors"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=64)
    label = models.CharField(max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    impersonator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    params = models.JSONField(default=dict, blank=True)
    item_ids = models.JSONField(default=list, blank=True)
    total = models.PositiveIntegerField(default=0)
    cursor = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    last_error = models.TextField(blank=True)
    result_file = models.FileField(upload_to="jobs/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="job_status_heartbeat")]

    def __str__(self) -> str:
        return f"{self.label} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("lms:job_detail", args=[self.pk])

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.is_finished else 0
        return min(100, round(100 * self.cursor / self.total))

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.PARTIAL, self.Status.FAILED}


class BackgroundJobChunk(models.Model):
    """One slice of a job's items. Each chunk is its own unit of work (and, for jobs whose items
    are independent, its own Celery task, so that every worker process takes a share and a
    worker that grew is recycled between chunks). The row is locked while the chunk runs and
    marked finished in the same commit as the chunk's writes."""

    job = models.ForeignKey(BackgroundJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    item_ids = models.JSONField(default=list)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # By the column, not `job`: ordering by the relation would join the job (and sort by
        # its ordering), and `select_for_update()` would then lock the job row as well.
        ordering = ["job_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="job_chunk_unique"),
        ]

    def __str__(self) -> str:
        return f"Chunk {self.index} of job {self.job_id}"
