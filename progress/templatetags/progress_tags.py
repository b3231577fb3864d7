from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def duration(seconds: int | None) -> str:
    """1 h 5 min, 12 min, 40 s, or — for nothing recorded."""
    total = int(seconds or 0)
    if total <= 0:
        return "—"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


KIND_ICONS = {
    "lesson": "bi-file-earmark-text",
    "video": "bi-play-btn",
    "form": "bi-ui-checks",
    "exam": "bi-patch-question",
    "assignment": "bi-pencil-square",
    "certificate": "bi-award",
}


@register.filter
def kind_icon(kind: str) -> str:
    return KIND_ICONS.get(kind, "bi-file-earmark")


@register.filter
def event_label(kind: str) -> str:
    """The human label of an event kind ("Course completed")."""
    from lms.event_kinds import EventKind

    try:
        return str(EventKind(kind).label)
    except ValueError:
        return kind
