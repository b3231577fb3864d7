"""Demo data: badges in all four categories (with drawn medal images), Anna Smith's 200 points
for the best business proposal, some earned and some locked badges, and a spread of points
across the demo learners. Idempotent: running it twice changes nothing."""

from __future__ import annotations

import io
import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image, ImageDraw

from achievements.models import Badge, PointsEntry, UserBadge
from achievements.services import (
    COMMUNITY_KINDS,
    AutoAward,
    badge_create,
    badges_award_by_rule,
    community_event_record,
    points_award,
    points_award_once,
)
from lms.event_kinds import EventKind
from lms.models import Event
from users.models import User

ANNA_REASON = "The best business proposal in the group"

# name, category, rule, threshold, points, colour, description
DEMO_BADGES: list[tuple[str, str, str, int, int, str, str]] = [
    ("Say cheese", "profile", "avatar_added", 1, 5, "#0ea5e9", "Added a profile picture."),
    ("Storyteller", "profile", "bio_completed", 1, 5, "#6366f1", "Completed the bio."),
    ("Connected", "profile", "social_links_added", 1, 5, "#14b8a6", "Added social links."),
    ("First steps", "courses", "lesson_completed", 1, 10, "#22c55e", "Completed a first lesson."),
    ("Module master", "courses", "module_completed", 1, 10, "#16a34a", "Passed a module."),
    ("Graduate", "courses", "course_completed", 1, 25, "#f59e0b", "Passed a course."),
    ("First post", "community", "post_published", 1, 5, "#ec4899", "Published a first post."),
    ("Conversationalist", "community", "comment_posted", 10, 15, "#d946ef", "Posted 10 comments."),
    (
        "Crowd favourite",
        "community",
        "reaction_received",
        50,
        25,
        "#f43f5e",
        "Received 50 reactions.",
    ),
    ("On a roll", "engagement", "learning_streak", 7, 30, "#f97316", "Learned 7 days in a row."),
    ("Team spirit", "engagement", "manual", 1, 20, "#8b5cf6", "Granted for helping others."),
]


def medal_png(colour: str, letter: str, size: int = 256) -> bytes:
    """A simple medal: a ribbon, a coloured disc with a rim and a star, and the letter."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    s = size / 256
    draw.polygon(
        [(80 * s, 0), (124 * s, 0), (140 * s, 110 * s), (100 * s, 110 * s)], fill="#1e3a8a"
    )
    draw.polygon(
        [(132 * s, 0), (176 * s, 0), (156 * s, 110 * s), (116 * s, 110 * s)], fill="#b91c1c"
    )
    centre, radius = (128 * s, 150 * s), 96 * s
    draw.ellipse(
        [centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius],
        fill="#fcd34d",
    )
    inner = radius * 0.84
    draw.ellipse(
        [centre[0] - inner, centre[1] - inner, centre[0] + inner, centre[1] + inner], fill=colour
    )
    points = []
    for i in range(10):
        r = inner * (0.62 if i % 2 == 0 else 0.27)
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((centre[0] + r * math.cos(angle), centre[1] + r * math.sin(angle)))
    draw.polygon(points, fill=(255, 255, 255, 235))
    draw.text((centre[0] - 4 * s, centre[1] - 6 * s), letter, fill=colour)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


@transaction.atomic
def seed_demo(*, stdout: Any) -> None:
    admin = _user("admin")
    badges: dict[str, Badge] = {}
    created = 0
    for position, (name, category, rule, threshold, points, colour, description) in enumerate(
        DEMO_BADGES
    ):
        badge = Badge.objects.filter(name=name).first()
        if badge is None:
            upload = SimpleUploadedFile(
                f"{rule}.png", medal_png(colour, name[:1]), content_type="image/png"
            )
            badge = badge_create(
                actor=admin,  # type: ignore[arg-type]
                name=name,
                category=category,
                rule=rule,
                threshold=threshold,
                description=description,
                points=points,
                image=upload,
            )
            Badge.objects.filter(pk=badge.pk).update(position=position)
            created += 1
        badges[rule] = badge
    stdout.write(f"achievements: {created} badges created ({len(badges)} in all)")

    anna = _user("anna")
    if anna is not None:
        zone = ZoneInfo(settings.TIME_ZONE)
        when = datetime(2022, 1, 20, 10, 12, tzinfo=zone)
        if not PointsEntry.objects.filter(user=anna, reason=ANNA_REASON).exists():
            points_award(user=anna, amount=200, reason=ANNA_REASON, actor=admin, awarded_at=when)
        # Activity for progress on locked badges: 3 of 10 comments, 12 of 50 reactions.
        history = Event.objects.filter(subject=anna, kind__in=COMMUNITY_KINDS)
        if not history.exists():
            community_event_record(kind=EventKind.COMMUNITY_POST_PUBLISHED, user=anna)
            for _ in range(3):
                community_event_record(kind=EventKind.COMMUNITY_COMMENT_POSTED, user=anna)
            for _ in range(12):
                community_event_record(kind=EventKind.COMMUNITY_REACTION_RECEIVED, user=anna)
        for rule in ("avatar_added", "bio_completed", "post_published"):
            if rule in badges:
                badges_award_by_rule(badge=badges[rule], user_ids=[anna.pk])

    # A spread of points across the demo learners (once: keyed "demo:spread").
    learners = list(
        User.objects.filter(is_active=True)
        .exclude(username__in=["admin", "salesadmin", "support"])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    awards = [
        AutoAward(
            user_id=pk,
            amount=15 + (pk * 37) % 280,
            reason="Welcome bonus and early activity",
            source=PointsEntry.Source.IMPORT,
            award_key="demo:spread",
        )
        for pk in learners
    ]
    added = points_award_once(awards)
    for index, pk in enumerate(learners[:30]):
        rule = ["avatar_added", "lesson_completed", "module_completed", "post_published"][index % 4]
        if rule in badges and not UserBadge.objects.filter(user_id=pk, badge=badges[rule]).exists():
            badges_award_by_rule(badge=badges[rule], user_ids=[pk])
    stdout.write(f"achievements: points for {added} learners, Anna Smith's 200 points")
