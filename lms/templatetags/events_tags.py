"""Template helpers for showing events (the users' Events tab, the organisation pages)."""

from __future__ import annotations

from django import template

from lms.event_kinds import EventKind

register = template.Library()

_KIND_LABELS: dict[str, str] = {str(value): str(label) for value, label in EventKind.choices}


@register.filter
def event_kind_label(kind: str) -> str:
    """The readable name of an event kind ("Department created"); the kind itself for one
    this version no longer lists (the log is kept forever)."""
    return _KIND_LABELS.get(kind, kind)
