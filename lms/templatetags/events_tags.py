"""Template helpers for showing events (the users' Events tab, the organisation pages)."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from lms.event_kinds import EventKind

register = template.Library()

_KIND_LABELS: dict[str, str] = {str(value): str(label) for value, label in EventKind.choices}


@register.filter
def event_kind_label(kind: str) -> str:
    """The readable name of an event kind ("Department created"); the kind itself for one
    this version no longer lists (the log is kept forever)."""
    return _KIND_LABELS.get(kind, kind)


@register.simple_tag
def done_by(actor: Any, impersonator: Any = None, nobody: str = "System") -> str:
    """Who did something, the same way on every page: "Ada Admin" or, when Ada was logged in
    as Anna (the event's actor is then Anna, its impersonator Ada), "Ada Admin, as Anna
    Smith": the person first, then whose account they used. `nobody` when no one did it."""
    if impersonator is None:
        return str(actor) if actor is not None else nobody
    if actor is None:
        return str(impersonator)
    return format_html(
        '<span data-testid="done-by" title="{} was logged in as {}">{}, '
        '<span class="text-secondary">as {}</span></span>',
        impersonator,
        actor,
        impersonator,
        actor,
    )
