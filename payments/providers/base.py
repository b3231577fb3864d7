"""What Merit asks of a payment provider. Everything that talks to a provider's servers goes
through this interface, so the services, views and tests never care which provider it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from users.models import User


class ProviderError(Exception):
    """The provider refused or could not be reached; the message is shown to the person."""


class WebhookSignatureError(Exception):
    """A webhook whose signature does not verify: answered 400, nothing is changed."""


@dataclass(frozen=True)
class HostedPage:
    """Where to send the learner (the provider's hosted page) and the provider's id for it."""

    url: str
    reference: str


class PaymentProvider(Protocol):
    name: str

    def customer_create(self, *, user: User) -> str:
        """Create the learner as a customer of the provider; returns the provider's id."""
        ...

    def card_setup_page(
        self, *, user: User, customer_reference: str, success_url: str, cancel_url: str
    ) -> HostedPage:
        """A hosted page where the learner saves a card (Stripe Checkout in setup mode)."""
        ...

    def webhook_event(self, *, payload: bytes, signature: str) -> dict[str, Any]:
        """Verify a webhook delivery and return the event as plain data, or raise
        WebhookSignatureError."""
        ...

    def subscription_cancel(self, *, reference: str, at_period_end: bool) -> None:
        """Cancel the provider's subscription (now, or when its period ends)."""
        ...

    def refund_create(
        self, *, payment_reference: str, amount: int, currency: str, merit_refund_id: int
    ) -> str:
        """Refund part or all of a payment at the provider; returns the refund's id."""
        ...
