"""Gamification: settings, the append-only points ledger with the balance kept beside it,
per-period summaries for the period leaderboards, badges and who holds them.

Balances and period summaries are never computed by summing the ledger at read time: the
services change them with single `UPDATE ... SET points = points + n` statements in the same
transaction that appends the ledger entry (`manage.py check_points` proves they agree)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from lms.models import TimeStampedModel

MAX_POINTS_PER_ENTRY = 100_000


class GamificationSettings(TimeStampedModel):
    """The organisation's gamification settings: one row, pk=1 (see `load`)."""

    class CardPosition(models.TextChoices):
        SIDE = "side", "Side"
        MAIN = "main", "Main"
        HEADER = "header", "Header"

    enabled = models.BooleanField(
        default=True, help_text="Off: no points, badges or leaderboards anywhere."
    )
    card_visible = models.BooleanField(
        "Show the achievements card on learner profiles", default=True
    )
    card_position = models.CharField(
        max_length=8, choices=CardPosition.choices, default=CardPosition.SIDE
    )
    card_badge_count = models.PositiveSmallIntegerField(
        "Badges shown on the card before “view all”", default=6
    )
    module_points = models.PositiveIntegerField("Default points for passing a module", default=10)
    course_points = models.PositiveIntegerField("Default points for passing a course", default=50)

    class Meta:
        verbose_name = "gamification settings"
        verbose_name_plural = "gamification settings"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="gamification_settings_singleton"),
            models.CheckConstraint(
                condition=Q(card_badge_count__gte=1) & Q(card_badge_count__lte=50),
                name="gamification_card_badge_count_range",
            ),
        ]

    def __str__(self) -> str:
        return "Gamification settings"

    @classmethod
    def load(cls) -> GamificationSettings:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class CoursePoints(TimeStampedModel):
    """Points for passing this course, instead of the default."""

    course = models.OneToOneField(
        "progress.Course", on_delete=models.CASCADE, related_name="points_override"
    )
    points = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.course}: {self.points} points"


class ActivityPoints(TimeStampedModel):
    """Points for completing this content item (activity). Activities without a row give none."""

    activity = models.OneToOneField(
        "progress.Activity", on_delete=models.CASCADE, related_name="points_override"
    )
    points = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.activity}: {self.points} points"


class PointsEntry(models.Model):
    """One line of the ledger. Append-only: a correction is a new entry with the opposite sign.
    `award_key` ("module:12", "course:3", "badge:7") makes automatic awards happen once per user
    whatever happens later (replayed events, a reset course completed again)."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Manual"
        ACTIVITY = "activity", "Activity"
        MODULE = "module", "Module"
        COURSE = "course", "Course"
        BADGE = "badge", "Badge"
        IMPORT = "import", "Import"
        API = "api", "API"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="points_entries"
    )
    amount = models.IntegerField()
    reason = models.CharField(max_length=255)
    awarded_at = models.DateTimeField(help_text="The date the points count for.")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    content_id = models.BigIntegerField(null=True, blank=True)
    content_label = models.CharField(max_length=255, blank=True)
    award_key = models.CharField(max_length=64, null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    impersonator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-awarded_at", "-id"]
        verbose_name_plural = "points entries"
        indexes = [
            models.Index(fields=["user", "-awarded_at", "-id"], name="points_entry_user_time"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "award_key"],
                condition=Q(award_key__isnull=False),
                name="points_entry_award_once",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="points_entry_amount_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} to {self.user_id}: {self.reason}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("The points ledger is append-only: add a correcting entry instead.")
        super().save(*args, **kwargs)


class PointsBalance(models.Model):
    """The user's points total, kept in step with the ledger. `is_active` mirrors the user's so
    the leaderboard rank is one indexed count (disabled users are left out)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="points_balance",
    )
    points = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            # rank: count of active rows with more points; top N: the same index in order
            models.Index(fields=["is_active", "-points", "user"], name="points_balance_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.points}"


class PeriodPoints(models.Model):
    """Points a user earned in one week or month (by the ledger's `awarded_at`, in the
    organisation's time zone). Changed in the transaction that appends the ledger entry."""

    class Period(models.TextChoices):
        WEEK = "week", "This week"
        MONTH = "month", "This month"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=8, choices=Period.choices)
    starts_on = models.DateField()
    points = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "period", "starts_on"], name="period_points_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["period", "starts_on", "is_active", "-points", "user"],
                name="period_points_rank",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.period} {self.starts_on}: {self.points}"


class Badge(TimeStampedModel):
    class Category(models.TextChoices):
        PROFILE = "profile", "Profile"
        COURSES = "courses", "Courses"
        COMMUNITY = "community", "Community"
        ENGAGEMENT = "engagement", "Engagement"

    name = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=500, blank=True)
    category = models.CharField(max_length=16, choices=Category.choices)
    image = models.ImageField(upload_to="badges/", blank=True)
    image_small = models.ImageField(upload_to="badges/small/", blank=True)
    points = models.PositiveIntegerField(default=0, help_text="Points the badge gives.")
    is_active = models.BooleanField(default=True)
    rule = models.CharField(max_length=32, default="manual")
    threshold = models.PositiveIntegerField(default=1)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["category", "position", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(threshold__gte=1), name="badge_threshold_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def rule_label(self) -> str:
        from achievements.rules import RULES

        rule = RULES.get(self.rule)
        return rule.describe(self.threshold) if rule else self.rule


class UserBadge(models.Model):
    """A badge a user holds (or held: `revoked_at`). One row per user and badge, so a rule
    awards each badge once; a revoked badge is not given back by a rule, only by hand."""

    class Source(models.TextChoices):
        RULE = "rule", "Earned"
        MANUAL = "manual", "Granted"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="user_badges"
    )
    badge = models.ForeignKey(Badge, on_delete=models.CASCADE, related_name="holders")
    awarded_at = models.DateTimeField()
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.RULE)
    quantity = models.PositiveSmallIntegerField(
        default=1, help_text="Rules award a badge once; an admin may grant more of it by hand."
    )
    reason = models.CharField(max_length=255, blank=True)
    content_label = models.CharField(max_length=255, blank=True)
    awarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-awarded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "badge"], name="user_badge_once"),
        ]

    def __str__(self) -> str:
        return f"{self.badge} for {self.user_id}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
