"""Calls to a provider's servers after the change that needs them has committed: a refund an
admin recorded of a card payment, a cancellation of a provider's subscription. Safe to run
twice: the provider gets an idempotency key (the refund's id) and a refund already sent (its
provider id kept) is not sent again."""

from __future__ import annotations

import logging

from celery import shared_task

from payments.models import Subscription, Transaction
from payments.providers import ProviderError, provider_get

logger = logging.getLogger(__name__)


@shared_task(
    name="payments.refund_send",
    acks_late=True,
    autoretry_for=(ProviderError,),
    retry_backoff=True,
    max_retries=5,
)
def refund_send(refund_id: int) -> None:
    refund = Transaction.objects.select_related("refund_of").filter(pk=refund_id).first()
    if refund is None or refund.provider_reference or refund.refund_of is None:
        return
    payment = refund.refund_of
    reference = provider_get(refund.provider).refund_create(
        payment_reference=payment.provider_reference,
        amount=refund.amount,
        currency=refund.currency,
        merit_refund_id=refund.pk,
    )
    if reference:
        Transaction.objects.filter(pk=refund.pk, provider_reference="").update(
            provider_reference=reference
        )


@shared_task(
    name="payments.subscription_cancel_send",
    acks_late=True,
    autoretry_for=(ProviderError,),
    retry_backoff=True,
    max_retries=5,
)
def subscription_cancel_send(subscription_id: int, at_period_end: bool) -> None:
    subscription = Subscription.objects.filter(pk=subscription_id).first()
    if subscription is None or not subscription.provider_reference:
        return
    provider_get(subscription.provider).subscription_cancel(
        reference=subscription.provider_reference, at_period_end=at_period_end
    )


@shared_task(name="payments.subscriptions_lapse", acks_late=True)
def subscriptions_lapse_task() -> int:
    from payments.services import subscriptions_lapse

    return subscriptions_lapse()
