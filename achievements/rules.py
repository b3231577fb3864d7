"""Badge rules: which recorded events a badge counts, and how far each user has got.

Counts are read from the event log (the history), grouped by user in one query per rule, so
the engine is the same for a live event, a replayed one and a retroactive run, and a replayed
event cannot count twice for the "distinct" rules."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count

from lms.event_kinds import EventKind
from lms.models import Event

LEARNING_KINDS = (
    str(EventKind.ACTIVITY_COMPLETED),
    str(EventKind.MODULE_COMPLETED),
    str(EventKind.COURSE_COMPLETED),
)


@dataclass(frozen=True)
class Rule:
    key: str
    label: str
    unit: str  # "comments", shown as "3 / 10 comments"
    kinds: tuple[str, ...] = ()
    activity_kind: str | None = None
    distinct_target: bool = False
    streak: bool = False

    def describe(self, threshold: int) -> str:
        if not self.kinds or (self.unit == "times" and threshold == 1):
            return self.label
        return f"{self.label} ({threshold} {self.unit})"


RULES: dict[str, Rule] = {
    rule.key: rule
    for rule in [
        Rule("avatar_added", "Profile picture added", "times", (EventKind.PROFILE_AVATAR_ADDED,)),
        Rule("bio_completed", "Bio completed", "times", (EventKind.PROFILE_BIO_COMPLETED,)),
        Rule(
            "social_links_added",
            "Social links added",
            "times",
            (EventKind.PROFILE_SOCIAL_LINKS_ADDED,),
        ),
        Rule(
            "lesson_completed",
            "Lessons completed",
            "lessons",
            (EventKind.ACTIVITY_COMPLETED,),
            activity_kind="lesson",
            distinct_target=True,
        ),
        Rule(
            "module_completed",
            "Modules completed",
            "modules",
            (EventKind.MODULE_COMPLETED,),
            distinct_target=True,
        ),
        Rule(
            "course_completed",
            "Courses completed",
            "courses",
            (EventKind.COURSE_COMPLETED,),
            distinct_target=True,
        ),
        Rule("learning_streak", "Learning streak", "days", LEARNING_KINDS, streak=True),
        Rule("post_published", "Posts published", "posts", (EventKind.COMMUNITY_POST_PUBLISHED,)),
        Rule(
            "comment_posted", "Comments posted", "comments", (EventKind.COMMUNITY_COMMENT_POSTED,)
        ),
        Rule(
            "reaction_received",
            "Reactions received",
            "reactions",
            (EventKind.COMMUNITY_REACTION_RECEIVED,),
        ),
        Rule("manual", "Granted by an admin only", ""),
    ]
}
RULE_CHOICES = [(rule.key, rule.label) for rule in RULES.values()]


def rules_for_kind(kind: str) -> list[Rule]:
    return [rule for rule in RULES.values() if kind in rule.kinds]


def org_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_date(moment: datetime) -> date:
    return moment.astimezone(org_zone()).date()


def longest_streak(days: Iterable[date]) -> int:
    """The longest run of consecutive days."""
    best = run = 0
    previous: date | None = None
    for day in sorted(set(days)):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    return best


def rule_counts(
    rule: Rule, user_ids: Iterable[int] | None, *, since: datetime | None = None
) -> dict[int, int]:
    """How far each user has got on `rule` ({user_id: count}; users with nothing are absent).
    `user_ids=None` means everyone (a dry run). One query."""
    if not rule.kinds:
        return {}
    events = Event.objects.filter(kind__in=[str(kind) for kind in rule.kinds])
    if user_ids is not None:
        events = events.filter(subject_id__in=list(user_ids))
    else:
        events = events.filter(subject__isnull=False)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if rule.activity_kind:
        events = events.filter(details__activity_kind=rule.activity_kind)
    if rule.streak:
        days: dict[int, set[date]] = defaultdict(set)
        for subject_id, created_at in events.values_list("subject_id", "created_at").iterator(
            chunk_size=5000
        ):
            days[subject_id].add(local_date(created_at))
        return {subject_id: longest_streak(user_days) for subject_id, user_days in days.items()}
    counter = (
        Count("target_id", distinct=True) if rule.distinct_target else Count("id", distinct=False)
    )
    rows = events.order_by().values("subject_id").annotate(n=counter).values_list("subject_id", "n")
    return dict(rows)
