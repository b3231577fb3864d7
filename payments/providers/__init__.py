"""Payment providers: the offline (manual) one is always there; Stripe when its secret key is
set. Settings are read on each call, never at import time."""

from __future__ import annotations

from django.conf import settings

from payments.providers.base import (
    HostedPage,
    PaymentProvider,
    ProviderError,
    WebhookSignatureError,
)
from payments.providers.manual import ManualProvider
from payments.providers.stripe import StripeProvider

__all__ = [
    "HostedPage",
    "ManualProvider",
    "PaymentProvider",
    "ProviderError",
    "StripeProvider",
    "WebhookSignatureError",
    "card_provider",
    "provider_get",
    "stripe_enabled",
]


def stripe_enabled() -> bool:
    return bool(getattr(settings, "MERIT_STRIPE_SECRET_KEY", ""))


def provider_get(name: str) -> PaymentProvider:
    if name == "stripe":
        return StripeProvider(
            secret_key=getattr(settings, "MERIT_STRIPE_SECRET_KEY", ""),
            webhook_secret=getattr(settings, "MERIT_STRIPE_WEBHOOK_SECRET", ""),
        )
    if name == "manual":
        return ManualProvider()
    raise ProviderError(f"Unknown payment provider “{name}”.")


def card_provider() -> PaymentProvider | None:
    """The provider whose hosted page saves a learner's card, or None (no "Add a card"
    button): MERIT_PAYMENTS_CARD_PROVIDER when set ("stripe" or "manual"), else Stripe when
    its secret key is set."""
    name = getattr(settings, "MERIT_PAYMENTS_CARD_PROVIDER", "") or (
        "stripe" if stripe_enabled() else ""
    )
    if not name:
        return None
    if name == "stripe" and not stripe_enabled():
        return None
    return provider_get(name)
