"""The offline provider: invoices and bank transfers recorded by an admin. Money moves outside
Merit, so there is nothing to call: a cancellation or refund is only recorded, and the "hosted
page" of a card setup is Merit's own return page (no card is collected; development and tests
turn it on with MERIT_PAYMENTS_CARD_PROVIDER=manual)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from payments.providers.base import HostedPage, WebhookSignatureError

if TYPE_CHECKING:
    from users.models import User


class ManualProvider:
    name = "manual"

    def customer_create(self, *, user: User) -> str:
        return f"manual-{user.pk}"

    def card_setup_page(
        self, *, user: User, customer_reference: str, success_url: str, cancel_url: str
    ) -> HostedPage:
        reference = f"manual-setup-{secrets.token_urlsafe(12)}"
        separator = "&" if "?" in success_url else "?"
        return HostedPage(url=f"{success_url}{separator}setup={reference}", reference=reference)

    def webhook_event(self, *, payload: bytes, signature: str) -> dict[str, Any]:
        raise WebhookSignatureError("The offline provider sends no webhooks.")

    def subscription_cancel(self, *, reference: str, at_period_end: bool) -> None:
        return None

    def refund_create(
        self, *, payment_reference: str, amount: int, currency: str, merit_refund_id: int
    ) -> str:
        return ""
