"""The learner's purchases card on their profile (users/profile_edit.html includes it)."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Count, Q

from payments.models import Order, Subscription

register = template.Library()


@register.simple_tag(takes_context=True)
def my_purchases_summary(context: template.Context) -> dict[str, int] | None:
    """How many purchases and live subscriptions the signed-in user has (two counts), or None
    when they have bought nothing (the card is not shown)."""
    request: Any = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    orders = Order.objects.filter(user=user).aggregate(n=Count("pk"))["n"]
    live = Subscription.objects.filter(user=user).aggregate(
        n=Count(
            "pk",
            filter=Q(status__in=[Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE]),
        )
    )["n"]
    if not orders and not live:
        return None
    return {"orders": orders, "live_subscriptions": live}
