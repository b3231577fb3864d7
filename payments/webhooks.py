"""Stripe's webhook events, applied through the services.

`stripe_event_apply` records the event id first (unique per provider), in the same transaction
as what the event changes: a retried delivery finds its id and changes nothing, and a failure
rolls the id back with the change, so Stripe's retry is applied then. An event about a
customer, product or subscription Merit does not know is recorded as such and logged, and
answered 200 like the others (Stripe would otherwise retry it for days to no avail)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction

from payments import services
from payments.models import Product, Provider, ProviderCustomer, Subscription, Transaction
from users.models import User

logger = logging.getLogger(__name__)

HANDLED_TYPES = (
    "checkout.session.completed",
    "invoice.paid",
    "invoice.payment_failed",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "charge.refunded",
    "payment_method.attached",
)


class WebhookUnknown(Exception):
    """The event names something Merit does not know (customer, product, subscription)."""


def _ts(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _id(value: Any) -> str:
    """A Stripe reference that may come as an id or as the expanded object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def _user_for_customer(customer: str, fallback_user_id: Any = None) -> User:
    link = ProviderCustomer.objects.filter(provider=Provider.STRIPE, reference=customer).first()
    if link is not None:
        return link.user
    if fallback_user_id and str(fallback_user_id).isdigit():
        user = User.objects.filter(pk=int(fallback_user_id)).first()
        if user is not None:
            if customer:
                services.provider_customer_link(
                    user=user, provider=Provider.STRIPE, reference=customer
                )
            return user
    raise WebhookUnknown(f"unknown customer {customer or '(none)'}")


def _product(*, price_id: str = "", slug: str = "") -> Product:
    product = None
    if price_id:
        product = Product.objects.filter(provider_price_id=price_id).first()
    if product is None and slug:
        product = Product.objects.filter(slug=slug).first()
    if product is None:
        raise WebhookUnknown(f"unknown product (price {price_id or '-'}, slug {slug or '-'})")
    return product


def _invoice_line(invoice: dict[str, Any]) -> dict[str, Any]:
    lines = (invoice.get("lines") or {}).get("data") or []
    return lines[0] if lines else {}


def _line_price(line: dict[str, Any]) -> str:
    """The price id of an invoice line (older API versions: `price`; newer: `pricing`)."""
    price = line.get("price")
    if price:
        return _id(price)
    details = (line.get("pricing") or {}).get("price_details") or {}
    return _id(details.get("price"))


def _invoice_subscription(invoice: dict[str, Any]) -> str:
    if invoice.get("subscription"):
        return _id(invoice["subscription"])
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return _id(details.get("subscription"))


def _subscription_period(obj: dict[str, Any]) -> tuple[datetime, datetime] | None:
    start, end = obj.get("current_period_start"), obj.get("current_period_end")
    if not (start and end):
        items = (obj.get("items") or {}).get("data") or []
        if items:
            start, end = items[0].get("current_period_start"), items[0].get("current_period_end")
    if start and end and int(end) > int(start):
        return _ts(start), _ts(end)  # type: ignore[return-value]
    return None


STRIPE_STATUS = {
    "active": Subscription.Status.ACTIVE,
    "trialing": Subscription.Status.ACTIVE,
    "past_due": Subscription.Status.PAST_DUE,
    "unpaid": Subscription.Status.PAST_DUE,
    "incomplete": Subscription.Status.PAST_DUE,
    "paused": Subscription.Status.PAST_DUE,
    "canceled": Subscription.Status.ENDED,
    "incomplete_expired": Subscription.Status.ENDED,
}


# --- one function per event type -----------------------------------------------------------


def _checkout_completed(session: dict[str, Any]) -> str:
    metadata = session.get("metadata") or {}
    user = _user_for_customer(
        _id(session.get("customer")),
        session.get("client_reference_id") or metadata.get("merit_user_id"),
    )
    mode = session.get("mode")
    if mode == "setup":
        setup_intent = session.get("setup_intent")
        method = setup_intent.get("payment_method") if isinstance(setup_intent, dict) else None
        if isinstance(method, dict) and method.get("card"):
            _card_save(user, method)
            return "applied"
        return "applied: customer linked, card comes with payment_method.attached"
    if mode == "subscription":
        return "applied: customer linked, the subscription comes with invoice.paid"
    if session.get("payment_status") != "paid":
        return "ignored: not paid"
    product = _product(
        price_id=metadata.get("merit_price", ""), slug=metadata.get("merit_product", "")
    )
    reference = _id(session.get("payment_intent")) or _id(session.get("id"))
    services.payment_record_provider(
        user=user,
        product=product,
        provider=Provider.STRIPE,
        amount=int(session.get("amount_total") or 0),
        currency=str(session.get("currency") or product.currency).upper(),
        reference=reference,
        order_reference=_id(session.get("id")),
        paid_at=_ts(session.get("created")),
    )
    return "applied"


def _invoice_paid(invoice: dict[str, Any]) -> str:
    user = _user_for_customer(_id(invoice.get("customer")))
    line = _invoice_line(invoice)
    metadata = invoice.get("metadata") or {}
    product = _product(price_id=_line_price(line), slug=metadata.get("merit_product", ""))
    period = None
    line_period = line.get("period") or {}
    start, end = line_period.get("start"), line_period.get("end")
    if start and end and int(end) > int(start):
        period = (_ts(start), _ts(end))
    amount = int(invoice.get("amount_paid") or 0)
    if amount <= 0:
        return "ignored: nothing paid"
    services.payment_record_provider(
        user=user,
        product=product,
        provider=Provider.STRIPE,
        amount=amount,
        currency=str(invoice.get("currency") or product.currency).upper(),
        reference=_id(invoice.get("payment_intent")) or _id(invoice.get("charge")) or invoice["id"],
        order_reference=str(invoice["id"]),
        subscription_reference=_invoice_subscription(invoice),
        period=period,  # type: ignore[arg-type]
        paid_at=_ts((invoice.get("status_transitions") or {}).get("paid_at"))
        or _ts(invoice.get("created")),
    )
    return "applied"


def _invoice_failed(invoice: dict[str, Any]) -> str:
    user = _user_for_customer(_id(invoice.get("customer")))
    reference = _invoice_subscription(invoice)
    subscription = (
        Subscription.objects.filter(provider=Provider.STRIPE, provider_reference=reference).first()
        if reference
        else None
    )
    services.payment_failed_record(
        user=user,
        provider=Provider.STRIPE,
        amount=int(invoice.get("amount_due") or 0),
        currency=str(invoice.get("currency") or "eur").upper(),
        reference=f"failed:{invoice['id']}:{invoice.get('attempt_count') or 1}",
        subscription=subscription,
        message="The card payment of the invoice failed.",
    )
    return "applied"


def _subscription_changed(obj: dict[str, Any], *, deleted: bool) -> str:
    subscription = Subscription.objects.filter(
        provider=Provider.STRIPE, provider_reference=_id(obj.get("id"))
    ).first()
    if subscription is None:
        raise WebhookUnknown(f"unknown subscription {obj.get('id')}")
    status = Subscription.Status.ENDED if deleted else STRIPE_STATUS.get(str(obj.get("status")))
    if status is None:
        return f"ignored: status {obj.get('status')}"
    changed = services.subscription_provider_update(
        subscription=subscription,
        status=status,
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        period=_subscription_period(obj),
        ended_at=_ts(obj.get("ended_at")) or _ts(obj.get("canceled_at")),
    )
    return "applied" if changed else "applied: nothing changed"


def _charge_refunded(charge: dict[str, Any]) -> str:
    references = [r for r in (_id(charge.get("payment_intent")), _id(charge.get("id"))) if r] + [
        _id(charge.get("invoice"))
    ] * bool(charge.get("invoice"))
    payment = Transaction.objects.filter(
        provider=Provider.STRIPE, kind=Transaction.Kind.PAYMENT, provider_reference__in=references
    ).first()
    if payment is None:
        raise WebhookUnknown(f"unknown payment {', '.join(references) or '(none)'}")
    refunds = (charge.get("refunds") or {}).get("data") or []
    if not refunds:
        # Without the list, the total refunded tells what is new.
        new = int(charge.get("amount_refunded") or 0) - payment.refunded_amount
        refunds = (
            [{"id": f"{charge.get('id')}:{charge.get('amount_refunded')}", "amount": new}]
            if new > 0
            else []
        )
    applied = 0
    for refund in sorted(refunds, key=lambda r: int(r.get("created") or 0)):
        if refund.get("status") not in (None, "succeeded", "pending"):
            continue
        merit_id = (refund.get("metadata") or {}).get("merit_refund_id")
        if merit_id and str(merit_id).isdigit():
            # Recorded here first by an admin and sent to Stripe: keep Stripe's id, once.
            Transaction.objects.filter(
                pk=int(merit_id), kind=Transaction.Kind.REFUND, provider_reference=""
            ).update(provider_reference=str(refund["id"]))
            continue
        amount = int(refund.get("amount") or 0)
        if amount <= 0:
            continue
        payment.refresh_from_db()
        result = services.payment_refund(
            payment=payment,
            amount=amount,
            actor=None,
            # A refund made in Stripe's dashboard ends the access when it refunds everything.
            end_access=payment.refunded_amount + amount >= payment.amount,
            provider_reference=str(refund["id"]),
            refunded_at=_ts(refund.get("created")),
        )
        applied += int(result.created)
    return "applied" if applied else "applied: nothing new"


def _card_save(user: User, method: dict[str, Any]) -> None:
    card = method.get("card") or {}
    services.card_on_file_save(
        user=user,
        brand=str(card.get("brand") or "card"),
        last4=str(card.get("last4") or ""),
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
        provider=Provider.STRIPE,
        reference=_id(method.get("id")),
    )


def _payment_method_attached(method: dict[str, Any]) -> str:
    if method.get("type") not in (None, "card") or not method.get("card"):
        return "ignored: not a card"
    _card_save(_user_for_customer(_id(method.get("customer"))), method)
    return "applied"


HANDLERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "checkout.session.completed": _checkout_completed,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "customer.subscription.updated": lambda o: _subscription_changed(o, deleted=False),
    "customer.subscription.deleted": lambda o: _subscription_changed(o, deleted=True),
    "charge.refunded": _charge_refunded,
    "payment_method.attached": _payment_method_attached,
}


@transaction.atomic
def stripe_event_apply(event: dict[str, Any]) -> str:
    """Apply one verified Stripe event once; returns what happened ("duplicate", "applied",
    "unknown: ...", "ignored: ...")."""
    from payments.models import WebhookEvent

    event_id = str(event.get("id") or "")
    event_type = str(event.get("type") or "")
    if not event_id:
        return "ignored: no event id"
    try:
        with transaction.atomic():
            record = WebhookEvent.objects.create(
                provider=Provider.STRIPE, event_id=event_id, event_type=event_type, outcome="..."
            )
    except IntegrityError:
        return "duplicate"
    handler = HANDLERS.get(event_type)
    obj = (event.get("data") or {}).get("object") or {}
    if handler is None:
        outcome = f"ignored: {event_type} is not handled"
    else:
        try:
            with transaction.atomic():
                outcome = handler(obj)
        except WebhookUnknown as exc:
            logger.warning("Stripe event %s (%s) not applied: %s", event_id, event_type, exc)
            outcome = f"unknown: {exc}"
        except services.PaymentError as exc:
            logger.warning("Stripe event %s (%s) refused: %s", event_id, event_type, exc)
            outcome = f"refused: {exc}"
    record.outcome = outcome.split(":", 1)[0][:32]
    record.message = outcome[:500]
    record.save(update_fields=["outcome", "message"])
    return outcome
