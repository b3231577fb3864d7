"""The learner's achievements card, for pages of other apps (the profile page includes
templates/achievements/_achievements_card.html)."""

from __future__ import annotations

from typing import Any

from django import template

from achievements import selectors
from achievements.models import GamificationSettings

register = template.Library()


@register.simple_tag
def achievements_card(owner: Any, slot: str = "") -> dict[str, Any] | None:
    """What the card shows for `owner`, or None when it must not render: gamification off, the
    card hidden, or the page asks for another position (`slot` = side/main/header)."""
    if owner is None or not getattr(owner, "pk", None):
        return None
    config = GamificationSettings.load()
    if not config.enabled or not config.card_visible:
        return None
    if slot and slot != config.card_position:
        return None
    held = list(selectors.badges_held(user=owner)[: config.card_badge_count + 1])
    standing = selectors.leaderboard_standing(user=owner)
    return {
        "owner": owner,
        "position": config.card_position,
        "badges": held[: config.card_badge_count],
        "more": len(held) > config.card_badge_count,
        "standing": standing,
    }
