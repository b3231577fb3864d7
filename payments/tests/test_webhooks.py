"""The Stripe endpoint with Stripe-format payloads signed with a test secret, exactly as Stripe
signs them: nothing here talks to Stripe."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client, override_settings

from lms.event_kinds import EventKind
from lms.models import Event
from payments.models import (
    CardOnFile,
    Order,
    Product,
    Provider,
    ProviderCustomer,
    Subscription,
    Transaction,
    WebhookEvent,
)
from payments.services import provider_customer_link
from payments.tests.factories import (
    WEBHOOK_SECRET,
    course_product,
    stripe_event,
    stripe_signature,
    subscription_product,
)
from progress.models import AccessSource, Enrollment
from progress.tests.factories import CourseFactory
from users.models import User

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("_stripe_on"),
]
URL = "/payments/webhooks/stripe/"
NOW = int(time.time())


@pytest.fixture
def _stripe_on() -> Any:
    with override_settings(
        MERIT_STRIPE_SECRET_KEY="sk_test_not_used", MERIT_STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET
    ):
        yield


@pytest.fixture
def customer(learner_user: User) -> User:
    provider_customer_link(user=learner_user, provider=Provider.STRIPE, reference="cus_anna")
    return learner_user


def _post(payload: str, signature: str | None = None) -> Any:
    return Client().post(
        URL,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature if signature is not None else stripe_signature(payload),
    )


def _checkout(product: Product, **extra: Any) -> dict[str, Any]:
    return {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "customer": "cus_anna",
        "amount_total": product.price_amount,
        "currency": product.currency.lower(),
        "payment_intent": "pi_test_1",
        "created": NOW,
        "metadata": {"merit_product": product.slug},
        **extra,
    }


def _invoice(price_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "in_test_1",
        "object": "invoice",
        "customer": "cus_anna",
        "subscription": "sub_test_1",
        "amount_paid": 1900,
        "amount_due": 1900,
        "currency": "eur",
        "payment_intent": "pi_inv_1",
        "created": NOW,
        "lines": {
            "object": "list",
            "data": [
                {
                    "price": {"id": price_id},
                    "period": {"start": NOW - 60, "end": NOW + 30 * 86400},
                }
            ],
        },
        **extra,
    }


def test_the_endpoint_is_post_only_and_needs_no_csrf_token(customer: User) -> None:
    assert Client().get(URL).status_code == 405
    product = course_product()
    payload = stripe_event("checkout.session.completed", _checkout(product))
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        URL,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(payload),
    )
    assert response.status_code == 200


def test_a_paid_checkout_records_the_payment_and_grants_the_course(customer: User) -> None:
    product = course_product(access_days=90)
    response = _post(stripe_event("checkout.session.completed", _checkout(product)))
    assert response.status_code == 200 and response.json()["outcome"] == "applied"
    payment = Transaction.objects.get()
    assert (payment.provider, payment.provider_reference, payment.amount) == (
        Provider.STRIPE,
        "pi_test_1",
        product.price_amount,
    )
    enrollment = Enrollment.objects.get(user=customer, course=product.course)
    assert enrollment.source == AccessSource.PURCHASE and enrollment.expires_at is not None
    event = Event.objects.get(kind=EventKind.PAYMENT_RECORDED)
    assert event.actor is None and not event.is_manual


def test_a_bad_signature_is_400_and_changes_nothing(customer: User) -> None:
    product = course_product()
    payload = stripe_event("checkout.session.completed", _checkout(product))
    wrong = stripe_signature(payload, secret="whsec_someone_else")
    assert _post(payload, signature=wrong).status_code == 400
    assert _post(payload, signature="").status_code == 400
    assert _post(payload, signature="t=1,v1=abc").status_code == 400
    tampered = payload.replace(str(product.price_amount), "1")
    assert _post(tampered, signature=stripe_signature(payload)).status_code == 400
    old = stripe_signature(payload, timestamp=NOW - 3600)
    assert _post(payload, signature=old).status_code == 400
    assert not Transaction.objects.exists() and not WebhookEvent.objects.exists()
    assert not Enrollment.objects.exists()


def test_without_stripe_configured_the_endpoint_refuses(customer: User) -> None:
    payload = stripe_event("checkout.session.completed", _checkout(course_product()))
    with override_settings(MERIT_STRIPE_SECRET_KEY=""):
        assert _post(payload).status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_replayed_event_changes_nothing(customer: User) -> None:
    product = course_product()
    payload = stripe_event("checkout.session.completed", _checkout(product), event_id="evt_once")
    assert _post(payload).json()["outcome"] == "applied"
    again = _post(payload)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert Transaction.objects.count() == 1 and Order.objects.count() == 1
    assert WebhookEvent.objects.get().event_id == "evt_once"


def test_the_same_payment_in_a_new_event_is_recorded_once(customer: User) -> None:
    product = course_product()
    _post(stripe_event("checkout.session.completed", _checkout(product)))
    _post(stripe_event("checkout.session.completed", _checkout(product)))
    assert Transaction.objects.count() == 1
    assert WebhookEvent.objects.count() == 2


def test_an_unknown_product_is_logged_and_answered_200(
    customer: User, caplog: pytest.LogCaptureFixture
) -> None:
    product = course_product()
    session = _checkout(product, metadata={"merit_product": "no-such-product"})
    response = _post(stripe_event("checkout.session.completed", session))
    assert response.status_code == 200 and response.json()["outcome"].startswith("unknown")
    assert "unknown product" in caplog.text
    assert not Transaction.objects.exists()
    assert WebhookEvent.objects.get().outcome == "unknown"


def test_an_unknown_customer_is_logged_and_answered_200(learner_user: User) -> None:
    product = course_product()
    response = _post(stripe_event("checkout.session.completed", _checkout(product)))
    assert response.status_code == 200 and "unknown customer" in response.json()["outcome"]
    assert not Transaction.objects.exists()


def test_a_checkout_names_its_learner_by_client_reference(learner_user: User) -> None:
    product = course_product()
    session = _checkout(product, client_reference_id=str(learner_user.pk), customer="cus_new")
    assert _post(stripe_event("checkout.session.completed", session)).json()["outcome"] == "applied"
    assert ProviderCustomer.objects.get(reference="cus_new").user == learner_user


def test_an_unhandled_event_type_is_recorded_and_ignored(customer: User) -> None:
    response = _post(stripe_event("customer.created", {"id": "cus_x"}))
    assert response.status_code == 200 and response.json()["outcome"].startswith("ignored")


def _subscribed(customer: User) -> tuple[Subscription, Any]:
    course = CourseFactory()
    subscription_product(courses=[course], provider_price_id="price_monthly")
    assert _post(stripe_event("invoice.paid", _invoice("price_monthly"))).status_code == 200
    return Subscription.objects.get(), course


def test_a_paid_invoice_starts_the_subscription_for_the_invoices_period(customer: User) -> None:
    subscription, course = _subscribed(customer)
    assert (subscription.provider_reference, subscription.status) == ("sub_test_1", "active")
    assert int(subscription.current_period_end.timestamp()) == NOW + 30 * 86400
    enrollment = Enrollment.objects.get(user=customer, course=course)
    assert enrollment.source == AccessSource.SUBSCRIPTION
    assert enrollment.expires_at == subscription.current_period_end


def test_the_next_paid_invoice_renews_the_period(customer: User) -> None:
    subscription, course = _subscribed(customer)
    renewal = _invoice(
        "price_monthly",
        id="in_test_2",
        payment_intent="pi_inv_2",
        lines={
            "data": [
                {
                    "price": {"id": "price_monthly"},
                    "period": {"start": NOW + 30 * 86400, "end": NOW + 60 * 86400},
                }
            ]
        },
    )
    _post(stripe_event("invoice.paid", renewal))
    subscription.refresh_from_db()
    assert int(subscription.current_period_end.timestamp()) == NOW + 60 * 86400
    assert Enrollment.objects.get(user=customer, course=course).expires_at == (
        subscription.current_period_end
    )
    assert Subscription.objects.count() == 1 and Transaction.objects.count() == 2


def test_a_failed_invoice_marks_the_subscription_overdue(customer: User) -> None:
    subscription, _ = _subscribed(customer)
    failed = _invoice("price_monthly", id="in_test_3", attempt_count=1)
    _post(stripe_event("invoice.payment_failed", failed))
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PAST_DUE
    assert Transaction.objects.filter(status=Transaction.Status.FAILED).count() == 1
    assert Event.objects.filter(kind=EventKind.PAYMENT_FAILED).count() == 1


def test_a_subscription_set_to_cancel_then_deleted_ends_its_access(customer: User) -> None:
    subscription, course = _subscribed(customer)
    updated = {
        "id": "sub_test_1",
        "object": "subscription",
        "status": "active",
        "cancel_at_period_end": True,
        "current_period_start": NOW - 60,
        "current_period_end": NOW + 30 * 86400,
    }
    _post(stripe_event("customer.subscription.updated", updated))
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end and subscription.is_live
    deleted = {**updated, "status": "canceled", "ended_at": NOW}
    _post(stripe_event("customer.subscription.deleted", deleted))
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ENDED
    assert Enrollment.objects.get(user=customer, course=course).is_expired()


def test_an_update_for_an_unknown_subscription_is_answered_200(customer: User) -> None:
    response = _post(
        stripe_event("customer.subscription.updated", {"id": "sub_nope", "status": "active"})
    )
    assert response.status_code == 200 and "unknown subscription" in response.json()["outcome"]


def test_a_refunded_charge_records_each_refund_once(customer: User) -> None:
    product = course_product(price=5000)
    _post(stripe_event("checkout.session.completed", _checkout(product)))
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": "pi_test_1",
        "amount_refunded": 2000,
        "refunds": {
            "data": [{"id": "re_1", "amount": 2000, "status": "succeeded", "created": NOW}]
        },
    }
    _post(stripe_event("charge.refunded", charge))
    charge_again = {
        **charge,
        "amount_refunded": 5000,
        "refunds": {
            "data": [
                {"id": "re_1", "amount": 2000, "status": "succeeded", "created": NOW},
                {"id": "re_2", "amount": 3000, "status": "succeeded", "created": NOW + 1},
            ]
        },
    }
    _post(stripe_event("charge.refunded", charge_again))
    payment = Transaction.objects.get(kind=Transaction.Kind.PAYMENT)
    assert payment.refunded_amount == 5000
    assert set(
        Transaction.objects.filter(kind=Transaction.Kind.REFUND).values_list(
            "provider_reference", flat=True
        )
    ) == {"re_1", "re_2"}
    # All of it refunded at Stripe: the access ends.
    assert Enrollment.objects.get(user=customer, course=product.course).is_expired()


def test_a_refund_merit_sent_to_stripe_is_not_counted_twice(customer: User) -> None:
    from payments.services import payment_refund

    product = course_product(price=5000)
    _post(stripe_event("checkout.session.completed", _checkout(product)))
    payment = Transaction.objects.get()
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=False):
        refund = payment_refund(payment=payment, amount=1000, actor=None, end_access=False).refund
    charge = {
        "id": "ch_1",
        "payment_intent": "pi_test_1",
        "amount_refunded": 1000,
        "refunds": {
            "data": [
                {
                    "id": "re_from_merit",
                    "amount": 1000,
                    "status": "succeeded",
                    "metadata": {"merit_refund_id": str(refund.pk)},
                }
            ]
        },
    }
    _post(stripe_event("charge.refunded", charge))
    payment.refresh_from_db()
    assert payment.refunded_amount == 1000
    refund.refresh_from_db()
    assert refund.provider_reference == "re_from_merit"


def test_an_attached_card_is_kept_without_its_number(customer: User) -> None:
    method = {
        "id": "pm_1",
        "object": "payment_method",
        "type": "card",
        "customer": "cus_anna",
        "card": {"brand": "visa", "last4": "4242", "exp_month": 4, "exp_year": 2031},
    }
    _post(stripe_event("payment_method.attached", method))
    card = CardOnFile.objects.get(user=customer)
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("visa", "4242", 4, 2031)
