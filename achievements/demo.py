"""Demo data: badges in all four categories (with drawn medal images), Anna Smith's 200 points
for the best business proposal, some earned and some locked badges, and a spread of points
across the demo learners. Every badge a demo learner holds is one its rule gives for what the
demo records through the services (a picture, a bio, a post, course completions), never
handed out by itself. Idempotent: running it twice changes nothing."""

from __future__ import annotations

import io
import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image, ImageDraw, ImageFont

from achievements.models import Badge, PointsEntry
from achievements.services import (
    COMMUNITY_KINDS,
    AutoAward,
    badge_create,
    community_event_record,
    points_award,
    points_award_once,
)
from lms.event_kinds import EventKind
from lms.models import Event
from users.models import User
from users.services import profile_update

ANNA_REASON = "The best business proposal in the group"
ANNA_BIO = (
    "Account manager in Active Sales since 2022. I look after our retail customers and run "
    "the Friday proposal clinic: bring a draft, leave with a better one."
)

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


def avatar_png(initials: str, colour: str, size: int = 256) -> bytes:
    """A profile picture: the person's initials on a coloured square."""
    image = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size * 0.42)
    draw.text((size / 2, size / 2), initials, fill="white", font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _avatar_upload(user: User, colour: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        f"{user.username}.png", avatar_png(user.initials, colour), content_type="image/png"
    )


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
        # Her picture and bio through the profile service, whose events earn "Say cheese" and
        # "Storyteller" by their rules (as her post above earned "First post").
        if not anna.avatar and not anna.bio:
            profile_update(
                user=anna,
                bio=ANNA_BIO,
                social_links={},
                avatar=_avatar_upload(anna, "#0ea5e9"),
            )

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
    # Some learners add a picture, some publish a post: the badges follow from their rules.
    # (Course badges come from the progress demo's completions.)
    for index, user in enumerate(User.objects.filter(pk__in=learners[:30]).order_by("pk")):
        if index % 4 == 0 and not user.avatar:
            profile_update(
                user=user,
                bio=user.bio,
                social_links=user.social_links,
                avatar=_avatar_upload(user, DEMO_BADGES[index % len(DEMO_BADGES)][5]),
            )
        elif (
            index % 4 == 3
            and not Event.objects.filter(
                subject=user, kind=EventKind.COMMUNITY_POST_PUBLISHED
            ).exists()
        ):
            community_event_record(kind=EventKind.COMMUNITY_POST_PUBLISHED, user=user)
    stdout.write(f"achievements: points for {added} learners, Anna Smith's 200 points")
