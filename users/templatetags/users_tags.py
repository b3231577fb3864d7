"""Template helpers for the users pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

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


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)
