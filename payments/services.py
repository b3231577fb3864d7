"""Writes about payments. Each public service is one transaction, records its event and lets
access follow (payments/access.py).

Concurrency: every service that touches a learner's payments first locks that learner's row
(`_lock_user`, `FOR NO KEY UPDATE`, so nothing else that merely references the user waits),
then the rows it changes (a payment, a licence) in that order, so two writers never deadlock
and a double submit or two admins at once run one after the other. Idempotency: admin forms
carry a one-time `request_token` (unique on the transaction or licence it creates); provider
events carry the provider's ids (unique per provider); cancelling what has ended, or taking
back a seat already taken back, changes nothing."""

from __future__ import annotations

import calendar
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from lms.event_kinds import EventKind
from lms.events import event_record
from payments.access import access_sync
from payments.models import (
    CURRENCY_CODE,
    CardOnFile,
    Order,
    OrderLine,
    Product,
    Provider,
    ProviderCustomer,
    SeatAssignment,
    SeatLicence,
    Subscription,
    Transaction,
    format_money,
)
from payments.providers import HostedPage, PaymentProvider

if TYPE_CHECKING:
    from progress.models import Course, LearningPlan
    from users.models import Department, User

logger = logging.getLogger(__name__)

OFFLINE_METHODS = (
    Transaction.Method.INVOICE,
    Transaction.Method.BANK_TRANSFER,
    Transaction.Method.OTHER,
)


class PaymentError(Exception):
    """A request the rules refuse; the message is shown to the person who asked."""


def _lock_user(user_id: int | None) -> None:
    """The learner's payments lock. Call first inside the service's transaction."""
    from users.models import User

    if user_id is not None:
        list(User.objects.select_for_update(no_key=True).filter(pk=user_id).values_list("pk"))


def _by(actor: User | None) -> User | None:
    return actor if actor is not None and actor.pk else None


def _check_money(amount: int, currency: str) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise PaymentError("Amounts are whole numbers of the currency's smallest unit.")
    if amount <= 0:
        raise PaymentError("Enter an amount above zero.")
    if not re.fullmatch(CURRENCY_CODE, currency or ""):
        raise PaymentError(f"“{currency}” is not a currency code (three capital letters).")


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, or the month's last day when it is shorter (Jan 31 + 1 is
    Feb 28/29)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def product_period_end(product: Product, start: datetime) -> datetime:
    return add_months(start, 12 if product.interval == Product.Interval.YEAR else 1)


# --- the catalogue ----------------------------------------------------------------------------


@transaction.atomic
def product_create(
    *,
    name: str,
    slug: str,
    kind: str,
    price_amount: int,
    currency: str,
    course: Course | None = None,
    plan: LearningPlan | None = None,
    catalogue: list[Course] | None = None,
    access_days: int | None = None,
    interval: str = "",
    provider_price_id: str = "",
) -> Product:
    if price_amount < 0:
        raise PaymentError("A price cannot be negative.")
    if not re.fullmatch(CURRENCY_CODE, currency):
        raise PaymentError(f"“{currency}” is not a currency code (three capital letters).")
    if Product.objects.filter(slug=slug).exists():
        raise PaymentError(f"A product “{slug}” already exists.")
    product = Product.objects.create(
        name=name,
        slug=slug,
        kind=kind,
        price_amount=price_amount,
        currency=currency,
        course=course,
        plan=plan,
        access_days=access_days,
        interval=interval,
        provider_price_id=provider_price_id,
    )
    if catalogue:
        product.catalogue.set(catalogue)
    return product


# --- payments -----------------------------------------------------------------------------------


@dataclass
class PaymentRecorded:
    transaction: Transaction
    order: Order | None
    subscription: Subscription | None
    created: bool


def _subscription_extend(
    *,
    user: User,
    product: Product,
    provider: str,
    reference: str,
    period: tuple[datetime, datetime] | None,
    actor: User | None,
    at: datetime,
) -> Subscription:
    """Start the learner's subscription to `product`, or renew the live one: for one more
    interval after its current end (offline), or to the provider's period."""
    live = Subscription.objects.select_for_update(of=("self",)).filter(
        user=user,
        product=product,
        provider=provider,
        status__in=[Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE],
    )
    if reference:
        existing = (
            Subscription.objects.select_for_update(of=("self",))
            .filter(provider=provider, provider_reference=reference)
            .first()
        )
    else:
        existing = live.order_by("-current_period_end", "pk").first()
    if period is None:
        start = max(at, existing.current_period_end) if existing and existing.is_live else at
        period = (start, product_period_end(product, start))
    start, end = period
    if existing is not None:
        before = existing.current_period_end
        if not existing.is_live or start > existing.current_period_end:
            existing.current_period_start = start
        if not existing.is_live:
            existing.ended_at = None
            existing.cancel_at_period_end = False
        existing.current_period_end = max(end, existing.current_period_end)
        existing.status = Subscription.Status.ACTIVE
        existing.save()
        event_record(
            kind=EventKind.SUBSCRIPTION_RENEWED,
            actor=actor,
            subject=user,
            target=existing,
            details={
                "product": product.name,
                "period_end_before": before.isoformat(),
                "period_end": existing.current_period_end.isoformat(),
            },
            manual=actor is not None,
        )
        return existing
    subscription = Subscription.objects.create(
        user=user,
        product=product,
        status=Subscription.Status.ACTIVE,
        current_period_start=start,
        current_period_end=end,
        provider=provider,
        provider_reference=reference,
    )
    event_record(
        kind=EventKind.SUBSCRIPTION_STARTED,
        actor=actor,
        subject=user,
        target=subscription,
        details={
            "product": product.name,
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
        },
        manual=actor is not None,
    )
    return subscription


def _payment_apply(
    *,
    user: User,
    product: Product,
    amount: int,
    currency: str,
    method: str,
    provider: str,
    reference: str,
    order_reference: str,
    actor: User | None,
    note: str,
    request_token: str | None,
    paid_at: datetime | None,
    subscription_reference: str = "",
    period: tuple[datetime, datetime] | None = None,
) -> PaymentRecorded:
    """A succeeded payment for one product: the order, its line, the transaction, the
    subscription period it pays, the event, and the access. Call holding the user's lock."""
    now = paid_at or timezone.now()
    subscription = None
    if product.kind == Product.Kind.SUBSCRIPTION:
        subscription = _subscription_extend(
            user=user,
            product=product,
            provider=provider,
            reference=subscription_reference,
            period=period,
            actor=actor,
            at=now,
        )
    order = Order.objects.create(
        user=user,
        status=Order.Status.PAID,
        currency=currency,
        total_amount=amount,
        provider=provider,
        provider_reference=order_reference,
        paid_at=now,
        created_by=_by(actor),
        subscription=subscription,
    )
    OrderLine.objects.create(
        order=order, product=product, quantity=1, unit_amount=amount, amount=amount
    )
    payment = Transaction.objects.create(
        kind=Transaction.Kind.PAYMENT,
        order=order,
        user=user,
        amount=amount,
        currency=currency,
        method=method,
        provider=provider,
        provider_reference=reference,
        occurred_at=now,
        note=note[:255],
        request_token=request_token,
        recorded_by=_by(actor),
    )
    event_record(
        kind=EventKind.PAYMENT_RECORDED,
        actor=actor,
        subject=user,
        target=order,
        details={
            "product": product.name,
            "amount": format_money(amount, currency),
            "method": payment.get_method_display(),
            "provider": provider,
            "reference": reference,
            "transaction_id": payment.pk,
        },
        manual=actor is not None,
    )
    access_sync(user=user, products=[product], actor=actor)
    return PaymentRecorded(payment, order, subscription, created=True)


@transaction.atomic
def payment_record_offline(
    *,
    user: User,
    product: Product,
    actor: User,
    method: str,
    request_token: str,
    amount: int | None = None,
    reference: str = "",
    note: str = "",
    paid_at: datetime | None = None,
) -> PaymentRecorded:
    """An admin records an invoice or bank transfer the learner paid: the order is paid and
    the product's access given (a subscription starts, or runs one more period). Submitting
    the same form twice (same `request_token`) records it once; an invoice number already
    recorded is refused."""
    if not request_token:
        raise PaymentError("The form has expired: open the Payments tab again.")
    _lock_user(user.pk)
    existing = (
        Transaction.objects.filter(request_token=request_token)
        .select_related("order__subscription")
        .first()
    )
    if existing is not None:
        order = existing.order
        return PaymentRecorded(existing, order, order.subscription if order else None, False)
    if method not in OFFLINE_METHODS:
        raise PaymentError("Choose how it was paid: invoice, bank transfer or other.")
    if not product.is_active:
        raise PaymentError(f"“{product}” is no longer sold.")
    amount = product.price_amount if amount is None else amount
    _check_money(amount, product.currency)
    reference = reference.strip()
    if (
        reference
        and Transaction.objects.filter(
            provider=Provider.MANUAL, kind=Transaction.Kind.PAYMENT, provider_reference=reference
        ).exists()
    ):
        raise PaymentError(f"A payment with the reference “{reference}” is already recorded.")
    if paid_at is not None and paid_at > timezone.now():
        raise PaymentError("The payment date cannot be in the future.")
    return _payment_apply(
        user=user,
        product=product,
        amount=amount,
        currency=product.currency,
        method=method,
        provider=Provider.MANUAL,
        reference=reference,
        order_reference="",
        actor=actor,
        note=note,
        request_token=request_token,
        paid_at=paid_at,
    )


@transaction.atomic
def payment_record_provider(
    *,
    user: User,
    product: Product,
    provider: str,
    amount: int,
    currency: str,
    reference: str,
    order_reference: str = "",
    subscription_reference: str = "",
    period: tuple[datetime, datetime] | None = None,
    paid_at: datetime | None = None,
) -> PaymentRecorded:
    """A payment a provider reports (a webhook): recorded once per provider reference."""
    _lock_user(user.pk)
    existing = (
        Transaction.objects.filter(
            provider=provider, kind=Transaction.Kind.PAYMENT, provider_reference=reference
        )
        .select_related("order__subscription")
        .first()
    )
    if existing is not None:
        order = existing.order
        return PaymentRecorded(existing, order, order.subscription if order else None, False)
    _check_money(amount, currency)
    return _payment_apply(
        user=user,
        product=product,
        amount=amount,
        currency=currency,
        method=Transaction.Method.CARD,
        provider=provider,
        reference=reference,
        order_reference=order_reference,
        actor=None,
        note="",
        request_token=None,
        paid_at=paid_at,
        subscription_reference=subscription_reference,
        period=period,
    )


@transaction.atomic
def payment_failed_record(
    *,
    user: User,
    provider: str,
    amount: int,
    currency: str,
    reference: str,
    subscription: Subscription | None,
    message: str = "",
) -> Transaction | None:
    """A provider reports a failed payment (a subscription's invoice): recorded once, and the
    subscription is marked overdue (its access runs to the period's end)."""
    _lock_user(user.pk)
    if Transaction.objects.filter(
        provider=provider, kind=Transaction.Kind.PAYMENT, provider_reference=reference
    ).exists():
        return None
    failed = Transaction.objects.create(
        kind=Transaction.Kind.PAYMENT,
        user=user,
        amount=max(amount, 1),
        currency=currency,
        method=Transaction.Method.CARD,
        provider=provider,
        provider_reference=reference,
        status=Transaction.Status.FAILED,
        note=message[:255],
    )
    if subscription is not None and subscription.status == Subscription.Status.ACTIVE:
        Subscription.objects.filter(pk=subscription.pk).update(
            status=Subscription.Status.PAST_DUE, updated_at=timezone.now()
        )
    event_record(
        kind=EventKind.PAYMENT_FAILED,
        actor=None,
        subject=user,
        target=subscription,
        details={
            "amount": format_money(failed.amount, currency),
            "reference": reference,
            "message": message[:255],
        },
    )
    return failed


# --- refunds ------------------------------------------------------------------------------------


@dataclass
class RefundRecorded:
    refund: Transaction
    created: bool


def _order_products(order: Order | None) -> list[Product]:
    if order is None:
        return []
    return [line.product for line in order.lines.select_related("product")]


def _subscription_end(
    *, subscription: Subscription, actor: User | None, at: datetime, kind: EventKind
) -> None:
    subscription.status = (
        Subscription.Status.CANCELLED
        if kind == EventKind.SUBSCRIPTION_CANCELLED
        else Subscription.Status.ENDED
    )
    subscription.ended_at = at
    subscription.save(update_fields=["status", "ended_at", "updated_at"])
    event_record(
        kind=kind,
        actor=actor,
        subject=subscription.user_id,
        target=subscription,
        details={"product": subscription.product.name, "ended_at": at.isoformat()},
        manual=actor is not None,
    )


@transaction.atomic
def payment_refund(
    *,
    payment: Transaction,
    amount: int,
    actor: User | None,
    end_access: bool,
    request_token: str | None = None,
    note: str = "",
    provider_reference: str = "",
    refunded_at: datetime | None = None,
) -> RefundRecorded:
    """Refund part or all of a payment. Never more than what is left to refund: the payment
    row is locked, so two refunds at once are checked one after the other (and the database
    CHECK holds the line regardless). With `end_access`, the order's access ends now (a
    subscription it paid is cancelled now). A refund of a provider's payment that an admin
    records here is sent to the provider after commit (payments.tasks)."""
    _lock_user(payment.user_id)
    payment = (
        Transaction.objects.select_for_update(of=("self",))
        .select_related("order")
        .get(pk=payment.pk)
    )
    if request_token:
        existing = Transaction.objects.filter(request_token=request_token).first()
        if existing is not None:
            return RefundRecorded(existing, created=False)
    if provider_reference:
        existing = Transaction.objects.filter(
            provider=payment.provider,
            kind=Transaction.Kind.REFUND,
            provider_reference=provider_reference,
        ).first()
        if existing is not None:
            return RefundRecorded(existing, created=False)
    if payment.kind != Transaction.Kind.PAYMENT or payment.status != Transaction.Status.SUCCEEDED:
        raise PaymentError("Only a succeeded payment can be refunded.")
    _check_money(amount, payment.currency)
    left = payment.amount - payment.refunded_amount
    if amount > left:
        raise PaymentError(
            f"A refund of {format_money(amount, payment.currency)} is more than what is left "
            f"to refund of this payment ({format_money(left, payment.currency)})."
        )
    now = refunded_at or timezone.now()
    refund = Transaction.objects.create(
        kind=Transaction.Kind.REFUND,
        refund_of=payment,
        order=payment.order,
        user_id=payment.user_id,
        amount=amount,
        currency=payment.currency,
        method=payment.method,
        provider=payment.provider,
        provider_reference=provider_reference,
        occurred_at=now,
        note=note[:255],
        request_token=request_token,
        recorded_by=_by(actor),
    )
    Transaction.objects.filter(pk=payment.pk).update(refunded_amount=F("refunded_amount") + amount)
    order = payment.order
    products = _order_products(order)
    if order is not None:
        fields = []
        if (
            amount == left
            and not order.transactions.filter(
                kind=Transaction.Kind.PAYMENT,
                status=Transaction.Status.SUCCEEDED,
                refunded_amount__lt=F("amount"),
            ).exists()
        ):
            order.status = Order.Status.REFUNDED
            fields.append("status")
        if end_access and order.access_ended_at is None:
            order.access_ended_at = now
            fields.append("access_ended_at")
        if fields:
            order.save(update_fields=[*fields, "updated_at"])
        if end_access and order.subscription_id:
            subscription = Subscription.objects.select_for_update(of=("self",)).get(
                pk=order.subscription_id
            )
            if subscription.is_live:
                _subscription_end(
                    subscription=subscription,
                    actor=actor,
                    at=now,
                    kind=EventKind.SUBSCRIPTION_CANCELLED,
                )
                _provider_cancel_on_commit(subscription, at_period_end=False)
    event_record(
        kind=EventKind.PAYMENT_REFUNDED,
        actor=actor,
        subject=payment.user_id,
        target=order,
        details={
            "amount": format_money(amount, payment.currency),
            "payment_id": payment.pk,
            "refund_id": refund.pk,
            "left_to_refund": format_money(left - amount, payment.currency),
            "access_ended": bool(end_access),
            "reference": provider_reference,
        },
        manual=actor is not None,
    )
    if payment.user_id is not None and products:
        access_sync(user=payment.user, products=products, actor=actor, at=now)  # type: ignore[arg-type]
    if payment.provider != Provider.MANUAL and not provider_reference:
        from payments.tasks import refund_send

        refund_id = refund.pk
        transaction.on_commit(lambda: refund_send.delay(refund_id))
    return RefundRecorded(refund, created=True)


# --- subscriptions ------------------------------------------------------------------------------


def _provider_cancel_on_commit(subscription: Subscription, *, at_period_end: bool) -> None:
    if subscription.provider == Provider.MANUAL or not subscription.provider_reference:
        return
    from payments.tasks import subscription_cancel_send

    pk = subscription.pk
    transaction.on_commit(lambda: subscription_cancel_send.delay(pk, at_period_end))


@transaction.atomic
def subscription_cancel(
    *, subscription: Subscription, actor: User | None, at_period_end: bool
) -> bool:
    """Cancel now (the access ends now) or at the period's end (the access runs out then).
    Returns False when there was nothing to do (already ended, or already set to end)."""
    _lock_user(subscription.user_id)
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("product", "user")
        .get(pk=subscription.pk)
    )
    if not subscription.is_live:
        return False
    if at_period_end:
        if subscription.cancel_at_period_end:
            return False
        subscription.cancel_at_period_end = True
        subscription.save(update_fields=["cancel_at_period_end", "updated_at"])
        event_record(
            kind=EventKind.SUBSCRIPTION_CANCEL_SCHEDULED,
            actor=actor,
            subject=subscription.user_id,
            target=subscription,
            details={
                "product": subscription.product.name,
                "period_end": subscription.current_period_end.isoformat(),
            },
            manual=actor is not None,
        )
    else:
        now = timezone.now()
        _subscription_end(
            subscription=subscription, actor=actor, at=now, kind=EventKind.SUBSCRIPTION_CANCELLED
        )
        access_sync(user=subscription.user, products=[subscription.product], actor=actor, at=now)
    _provider_cancel_on_commit(subscription, at_period_end=at_period_end)
    return True


@transaction.atomic
def subscription_provider_update(
    *,
    subscription: Subscription,
    status: str,
    cancel_at_period_end: bool,
    period: tuple[datetime, datetime] | None,
    ended_at: datetime | None = None,
) -> bool:
    """The provider says how a subscription stands now (Stripe's customer.subscription.updated
    and .deleted). An ended subscription's access ends when it ended (at the latest, the
    period's end). Returns whether anything changed."""
    _lock_user(subscription.user_id)
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("product", "user")
        .get(pk=subscription.pk)
    )
    if not subscription.is_live:
        return False  # an ended subscription does not come back: a renewal starts a new one
    if status == Subscription.Status.ENDED:
        at = min(ended_at or timezone.now(), subscription.current_period_end)
        _subscription_end(
            subscription=subscription, actor=None, at=at, kind=EventKind.SUBSCRIPTION_ENDED
        )
        access_sync(user=subscription.user, products=[subscription.product], actor=None, at=at)
        return True
    changes: dict[str, Any] = {}
    if status != subscription.status:
        changes["status"] = [subscription.status, status]
        subscription.status = status
    if cancel_at_period_end != subscription.cancel_at_period_end:
        changes["cancel_at_period_end"] = [subscription.cancel_at_period_end, cancel_at_period_end]
        subscription.cancel_at_period_end = cancel_at_period_end
    if period is not None and period != (
        subscription.current_period_start,
        subscription.current_period_end,
    ):
        changes["period_end"] = [
            subscription.current_period_end.isoformat(),
            period[1].isoformat(),
        ]
        subscription.current_period_start, subscription.current_period_end = period
    if not changes:
        return False
    subscription.save()
    event_record(
        kind=EventKind.SUBSCRIPTION_UPDATED,
        actor=None,
        subject=subscription.user_id,
        target=subscription,
        details={"product": subscription.product.name, "changes": changes},
    )
    access_sync(user=subscription.user, products=[subscription.product], actor=None)
    return True


@transaction.atomic
def subscriptions_lapse(*, now: datetime | None = None) -> int:
    """Mark as ended the live subscriptions whose period is over (an offline one nobody
    renewed, or one set to end at its period's end); their access already ran out with the
    period. Safe to run twice (the daily beat task)."""
    now = now or timezone.now()
    ids = list(
        Subscription.objects.filter(
            status__in=[Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE],
            current_period_end__lte=now,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    ended = 0
    for pk in ids:
        subscription = (
            Subscription.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("product", "user")
            .filter(pk=pk, current_period_end__lte=now)
            .first()
        )
        if subscription is None or not subscription.is_live:
            continue
        if subscription.provider != Provider.MANUAL and not subscription.cancel_at_period_end:
            continue  # the provider renews it or tells us it ended
        _subscription_end(
            subscription=subscription,
            actor=None,
            at=subscription.current_period_end,
            kind=EventKind.SUBSCRIPTION_ENDED,
        )
        access_sync(
            user=subscription.user,
            products=[subscription.product],
            actor=None,
            at=subscription.current_period_end,
        )
        ended += 1
    return ended


# --- seat licences ------------------------------------------------------------------------------


@transaction.atomic
def seat_licence_create(
    *,
    product: Product,
    seats: int,
    actor: User | None,
    request_token: str,
    buyer: User | None = None,
    organisation: Department | None = None,
    unit_amount: int | None = None,
    method: str = Transaction.Method.INVOICE,
    reference: str = "",
    access_ends_at: datetime | None = None,
) -> tuple[SeatLicence, bool]:
    """A manager or client organisation buys `seats` seats of a course or plan: the order (it
    gives its buyer no access), its payment, and the licence whose seats are then assigned."""
    if product.kind not in (Product.Kind.COURSE, Product.Kind.PLAN):
        raise PaymentError("Seats are sold for a course or a learning plan.")
    if buyer is None and organisation is None:
        raise PaymentError("Say who bought the seats: a manager or an organisation.")
    if not isinstance(seats, int) or seats < 1:
        raise PaymentError("A licence has at least one seat.")
    _lock_user(buyer.pk if buyer else None)
    existing = SeatLicence.objects.filter(request_token=request_token).first()
    if existing is not None:
        return existing, False
    unit = product.price_amount if unit_amount is None else unit_amount
    if unit < 0:
        raise PaymentError("A price cannot be negative.")
    now = timezone.now()
    order = Order.objects.create(
        user=buyer,
        status=Order.Status.PAID,
        grants_access=False,
        currency=product.currency,
        total_amount=unit * seats,
        provider=Provider.MANUAL,
        paid_at=now,
        created_by=_by(actor),
    )
    OrderLine.objects.create(
        order=order, product=product, quantity=seats, unit_amount=unit, amount=unit * seats
    )
    if unit * seats > 0:
        Transaction.objects.create(
            kind=Transaction.Kind.PAYMENT,
            order=order,
            user=buyer,
            amount=unit * seats,
            currency=product.currency,
            method=method,
            provider=Provider.MANUAL,
            provider_reference=reference,
            occurred_at=now,
            recorded_by=_by(actor),
        )
    licence = SeatLicence.objects.create(
        product=product,
        order=order,
        buyer=buyer,
        organisation=organisation,
        seats_total=seats,
        access_ends_at=access_ends_at,
        request_token=request_token,
    )
    event_record(
        kind=EventKind.SEAT_LICENCE_CREATED,
        actor=actor,
        subject=buyer,
        target=licence,
        details={
            "product": product.name,
            "seats": seats,
            "organisation": organisation.name if organisation else "",
            "amount": format_money(unit * seats, product.currency),
        },
        manual=actor is not None,
    )
    return licence, True


@transaction.atomic
def seat_assign(
    *, licence: SeatLicence, user: User, actor: User | None
) -> tuple[SeatAssignment, bool]:
    """Give the learner a seat of the licence (and so the product's access). A learner who
    already holds one keeps it (nothing changes); a full licence is refused."""
    from users.selectors import users_in_departments

    _lock_user(user.pk)
    licence = (
        SeatLicence.objects.select_for_update(of=("self",))
        .select_related("product", "organisation")
        .get(pk=licence.pk)
    )
    existing = SeatAssignment.objects.filter(
        licence=licence, user=user, released_at__isnull=True
    ).first()
    if existing is not None:
        return existing, False
    if licence.access_ends_at is not None and licence.access_ends_at <= timezone.now():
        raise PaymentError("This licence's access has ended: its seats can no longer be given.")
    if (
        licence.organisation is not None
        and not users_in_departments([licence.organisation]).filter(pk=user.pk).exists()
    ):
        raise PaymentError(
            f"The seats of this licence are for {licence.organisation}; {user} is not part of it."
        )
    if licence.seats_used >= licence.seats_total:
        raise PaymentError(f"All {licence.seats_total} seats of this licence are taken.")
    assignment = SeatAssignment.objects.create(licence=licence, user=user, assigned_by=_by(actor))
    SeatLicence.objects.filter(pk=licence.pk).update(
        seats_used=F("seats_used") + 1, updated_at=timezone.now()
    )
    event_record(
        kind=EventKind.SEAT_ASSIGNED,
        actor=actor,
        subject=user,
        target=licence,
        details={"product": licence.product.name, "licence_id": licence.pk},
        manual=actor is not None,
    )
    access_sync(user=user, products=[licence.product], actor=actor)
    return assignment, True


@transaction.atomic
def seat_release(*, assignment: SeatAssignment, actor: User | None) -> bool:
    """Take a seat back: the learner's access from it ends now and the seat is free again.
    Returns False when it had already been taken back."""
    _lock_user(assignment.user_id)
    licence = (
        SeatLicence.objects.select_for_update(of=("self",))
        .select_related("product")
        .get(pk=assignment.licence_id)
    )
    assignment = (
        SeatAssignment.objects.select_for_update(of=("self",))
        .select_related("user")
        .get(pk=assignment.pk)
    )
    if assignment.released_at is not None:
        return False
    now = timezone.now()
    assignment.released_at = now
    assignment.released_by = _by(actor)
    assignment.save(update_fields=["released_at", "released_by"])
    SeatLicence.objects.filter(pk=licence.pk).update(seats_used=F("seats_used") - 1, updated_at=now)
    event_record(
        kind=EventKind.SEAT_RELEASED,
        actor=actor,
        subject=assignment.user_id,
        target=licence,
        details={"product": licence.product.name, "licence_id": licence.pk},
        manual=actor is not None,
    )
    access_sync(user=assignment.user, products=[licence.product], actor=actor, at=now)
    return True


# --- cards and provider customers ---------------------------------------------------------------


@transaction.atomic
def card_on_file_save(
    *,
    user: User,
    brand: str,
    last4: str,
    exp_month: int,
    exp_year: int,
    provider: str,
    reference: str = "",
    actor: User | None = None,
) -> bool:
    """Keep what the provider says of the learner's card: brand, last 4 digits and expiry,
    never more. Returns False when nothing changed."""
    if not re.fullmatch(r"[0-9]{4}", last4 or ""):
        raise PaymentError("A card is kept by its last four digits only.")
    if not (1 <= int(exp_month) <= 12) or not (2000 <= int(exp_year) <= 2200):
        raise PaymentError("The card's expiry is not a valid month and year.")
    _lock_user(user.pk)
    values = {
        "brand": (brand or "card")[:32],
        "last4": last4,
        "exp_month": int(exp_month),
        "exp_year": int(exp_year),
        "provider": provider,
        "provider_reference": reference[:255],
    }
    card = CardOnFile.objects.filter(user=user).first()
    if card is not None and all(getattr(card, k) == v for k, v in values.items()):
        return False
    CardOnFile.objects.update_or_create(user=user, defaults=values)
    event_record(
        kind=EventKind.PAYMENT_CARD_SAVED,
        actor=actor,
        subject=user,
        target=None,
        details={
            "card": f"{values['brand']} •••• {last4}",
            "expires": f"{int(exp_month):02d}/{exp_year}",
        },
        manual=actor is not None and actor.pk != user.pk,
    )
    return True


@transaction.atomic
def provider_customer_link(*, user: User, provider: str, reference: str) -> ProviderCustomer:
    """Remember the provider's id for the learner (idempotent)."""
    customer, _ = ProviderCustomer.objects.get_or_create(
        provider=provider, user=user, defaults={"reference": reference}
    )
    return customer


def card_setup_start(
    *, user: User, provider: PaymentProvider, success_url: str, cancel_url: str
) -> HostedPage:
    """Open the provider's hosted page where the learner saves a card. Talks to the provider,
    so it holds no transaction while it waits: the customer id is kept in its own small
    transaction (a second click reuses it)."""
    customer = ProviderCustomer.objects.filter(user=user, provider=provider.name).first()
    if customer is None:
        customer = provider_customer_link(
            user=user, provider=provider.name, reference=provider.customer_create(user=user)
        )
    return provider.card_setup_page(
        user=user,
        customer_reference=customer.reference,
        success_url=success_url,
        cancel_url=cancel_url,
    )
