"""Stripe, through the official `stripe` library. On only when MERIT_STRIPE_SECRET_KEY is set;
webhooks are verified with MERIT_STRIPE_WEBHOOK_SECRET (`stripe.Webhook.construct_event`).
Merit never sees a card number: cards are entered on Stripe's hosted Checkout page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import stripe

from payments.providers.base import HostedPage, ProviderError, WebhookSignatureError

if TYPE_CHECKING:
    from users.models import User


class StripeProvider:
    name = "stripe"

    def __init__(self, *, secret_key: str, webhook_secret: str) -> None:
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret

    def _client(self) -> stripe.StripeClient:
        if not self.secret_key:
            raise ProviderError("Stripe is not configured (MERIT_STRIPE_SECRET_KEY).")
        return stripe.StripeClient(self.secret_key, max_network_retries=2)

    def customer_create(self, *, user: User) -> str:
        try:
            customer = self._client().v1.customers.create(
                params={
                    "email": user.email,
                    "name": user.get_full_name() or user.username,
                    "metadata": {"merit_user_id": str(user.pk)},
                },
                options={"idempotency_key": f"merit-customer-{user.pk}"},
            )
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe refused to create the customer: {exc}") from exc
        return str(customer.id)

    def card_setup_page(
        self, *, user: User, customer_reference: str, success_url: str, cancel_url: str
    ) -> HostedPage:
        try:
            session = self._client().v1.checkout.sessions.create(
                params={  # type: ignore[arg-type]  # a TypedDict; its literals are checked by Stripe
                    "mode": "setup",
                    "customer": customer_reference,
                    "payment_method_types": ["card"],
                    "client_reference_id": str(user.pk),
                    "metadata": {"merit_user_id": str(user.pk)},
                    "success_url": success_url,
                    "cancel_url": cancel_url,
                }
            )
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe could not open the card page: {exc}") from exc
        if not session.url:
            raise ProviderError("Stripe returned no page to open.")
        return HostedPage(url=str(session.url), reference=str(session.id))

    def webhook_event(self, *, payload: bytes, signature: str) -> dict[str, Any]:
        if not self.webhook_secret:
            raise WebhookSignatureError("MERIT_STRIPE_WEBHOOK_SECRET is not set.")
        try:
            event = stripe.Webhook.construct_event(payload, signature, self.webhook_secret)
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise WebhookSignatureError(str(exc)) from exc
        data: dict[str, Any] = event.to_dict()
        return data

    def subscription_cancel(self, *, reference: str, at_period_end: bool) -> None:
        client = self._client()
        try:
            if at_period_end:
                client.v1.subscriptions.update(reference, params={"cancel_at_period_end": True})
            else:
                client.v1.subscriptions.cancel(reference)
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe could not cancel the subscription: {exc}") from exc

    def refund_create(
        self, *, payment_reference: str, amount: int, currency: str, merit_refund_id: int
    ) -> str:
        key = "payment_intent" if payment_reference.startswith("pi_") else "charge"
        try:
            refund = self._client().v1.refunds.create(
                params={  # type: ignore[arg-type]  # a TypedDict; its literals are checked by Stripe
                    key: payment_reference,
                    "amount": amount,
                    "metadata": {"merit_refund_id": str(merit_refund_id)},
                },
                options={"idempotency_key": f"merit-refund-{merit_refund_id}"},
            )
        except stripe.StripeError as exc:
            raise ProviderError(f"Stripe refused the refund: {exc}") from exc
        return str(refund.id)
