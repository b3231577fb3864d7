"""Products, payments and licences for tests, made through the services where one exists."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import stripe

from payments.forms import new_request_token
from payments.models import Product, SeatLicence, Transaction
from payments.services import PaymentRecorded, payment_record_offline, product_create
from progress.models import Course, LearningPlan
from progress.tests.factories import CourseFactory
from users.models import Department, User

_n = itertools.count(1)
WEBHOOK_SECRET = "whsec_test_merit_payments"


def course_product(
    *, course: Course | None = None, price: int = 4900, currency: str = "EUR", **kwargs: Any
) -> Product:
    n = next(_n)
    course = course or CourseFactory(title=f"Paid course {n}")
    return product_create(
        name=kwargs.pop("name", f"{course.title} (purchase)"),
        slug=f"course-product-{n}",
        kind=Product.Kind.COURSE,
        price_amount=price,
        currency=currency,
        course=course,
        **kwargs,
    )


def plan_product(*, plan: LearningPlan, price: int = 9900, **kwargs: Any) -> Product:
    return product_create(
        name=f"{plan.title} (purchase)",
        slug=f"plan-product-{next(_n)}",
        kind=Product.Kind.PLAN,
        price_amount=price,
        currency="EUR",
        plan=plan,
        **kwargs,
    )


def subscription_product(
    *, courses: list[Course], price: int = 1900, interval: str = "month", **kwargs: Any
) -> Product:
    return product_create(
        name=kwargs.pop("name", f"All access {next(_n)}"),
        slug=f"subscription-{next(_n)}",
        kind=Product.Kind.SUBSCRIPTION,
        price_amount=price,
        currency="EUR",
        interval=interval,
        catalogue=courses,
        **kwargs,
    )


def pay(user: User, product: Product, actor: User, **kwargs: Any) -> PaymentRecorded:
    kwargs.setdefault("method", Transaction.Method.INVOICE)
    kwargs.setdefault("request_token", new_request_token())
    return payment_record_offline(user=user, product=product, actor=actor, **kwargs)


def licence(
    product: Product,
    *,
    seats: int = 2,
    actor: User | None = None,
    buyer: User | None = None,
    organisation: Department | None = None,
    **kwargs: Any,
) -> SeatLicence:
    from payments.services import seat_licence_create

    created, _ = seat_licence_create(
        product=product,
        seats=seats,
        actor=actor,
        buyer=buyer,
        organisation=organisation,
        request_token=new_request_token(),
        **kwargs,
    )
    return created


# --- Stripe-format webhook deliveries, signed as Stripe signs them -----------------------


def stripe_event(event_type: str, obj: dict[str, Any], *, event_id: str | None = None) -> str:
    return json.dumps(
        {
            "id": event_id or f"evt_test_{next(_n)}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": obj},
        }
    )


def stripe_signature(
    payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> str:
    """`t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<payload>">`, through the library's own helper."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
