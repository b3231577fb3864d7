"""Template helpers for the users pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.html import format_html, format_html_join

from users.roles import ROLE_RANK

register = template.Library()


@register.simple_tag(takes_context=True)
def optional_include(context: template.Context, template_name: str) -> str:
    """`{% optional_include "achievements/_achievements_card.html" %}`: render the template
    with the current context when it exists, nothing when another app has not built it yet."""
    try:
        included = get_template(template_name)
    except TemplateDoesNotExist:
        return ""
    return included.render(dict(context.flatten()), context.get("request"))  # type: ignore[arg-type]


@register.filter
def role_names(user: Any) -> list[str]:
    """The user's roles, highest first, from the prefetched `groups`."""
    names = [group.name for group in user.groups.all() if group.name in ROLE_RANK]
    return sorted(names, key=lambda name: -ROLE_RANK[name])  # type: ignore[index]


def _value(value: Any) -> str:
    if value in (None, "", [], {}):
        return "(empty)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(empty)"
    return str(value)


@register.filter
def event_details(details: dict[str, Any]) -> str:
    """An event's details as readable HTML: "Phone: 555 → 556" for changes, else key: value."""
    if not details:
        return ""
    rows: list[tuple[str, str, str]] = []
    changes = details.get("changes")
    if isinstance(changes, dict):
        for field, pair in changes.items():
            old, new = pair if isinstance(pair, list) and len(pair) == 2 else ("", pair)
            label = field.removeprefix("custom:").replace("_", " ").capitalize()
            rows.append((label, _value(old), _value(new)))
    items = format_html_join(
        "",
        '<li><span class="text-secondary">{}:</span> <del class="text-secondary">{}</del> '
        '<i class="bi bi-arrow-right"></i> <strong>{}</strong></li>',
        rows,
    )
    others = format_html_join(
        "",
        '<li><span class="text-secondary">{}:</span> {}</li>',
        (
            (key.replace("_", " ").capitalize(), _value(value))
            for key, value in details.items()
            if key != "changes"
        ),
    )
    return format_html('<ul class="list-unstyled small mb-0">{}{}</ul>', items, others)


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)
