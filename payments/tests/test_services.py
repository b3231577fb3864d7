from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from lms.context import acting_impersonator
from lms.event_kinds import EventKind
from lms.models import Event
from payments.forms import new_request_token
from payments.models import Order, SeatAssignment, SeatLicence, Subscription, Transaction
from payments.services import (
    PaymentError,
    add_months,
    card_on_file_save,
    payment_refund,
    seat_assign,
    seat_release,
    subscription_cancel,
    subscriptions_lapse,
)
from payments.tests.factories import (
    course_product,
    licence,
    pay,
    plan_product,
    subscription_product,
)
from progress.models import AccessSource, Enrollment, LearningPlanCourse, PlanEnrollment
from progress.services import enrollment_create
from progress.tests.factories import CourseFactory, LearningPlanFactory
from users.models import Department, User
from users.tests.factories import learner

pytestmark = pytest.mark.django_db


def _enrollment(user: User, course: Any) -> Enrollment:
    return Enrollment.objects.get(user=user, course=course)


# --- offline payments ---------------------------------------------------------------------


def test_offline_payment_grants_the_course_until_the_products_access_ends(
    admin_user: User, learner_user: User
) -> None:
    product = course_product(access_days=30)
    result = pay(learner_user, product, admin_user, reference="INV-1")
    assert result.created and result.order is not None
    assert result.order.status == Order.Status.PAID
    enrollment = _enrollment(learner_user, product.course)
    assert enrollment.source == AccessSource.PURCHASE
    assert f"Order #{result.order.pk}" in enrollment.source_label
    assert result.order.paid_at is not None
    assert enrollment.expires_at == result.order.paid_at + timedelta(days=30)
    event = Event.objects.get(kind=EventKind.PAYMENT_RECORDED)
    assert (event.actor, event.subject, event.is_manual) == (admin_user, learner_user, True)
    assert event.details["amount"] == "EUR 49.00"


def test_an_offline_payment_submitted_twice_is_recorded_once(
    admin_user: User, learner_user: User
) -> None:
    product = course_product()
    token = new_request_token()
    first = pay(learner_user, product, admin_user, request_token=token)
    second = pay(learner_user, product, admin_user, request_token=token)
    assert first.created and not second.created
    assert second.transaction.pk == first.transaction.pk
    assert Transaction.objects.count() == 1
    assert Order.objects.count() == 1
    assert Event.objects.filter(kind=EventKind.PAYMENT_RECORDED).count() == 1


def test_an_invoice_number_already_recorded_is_refused(
    admin_user: User, learner_user: User
) -> None:
    product = course_product()
    pay(learner_user, product, admin_user, reference="INV-7")
    with pytest.raises(PaymentError, match="INV-7"):
        pay(learner_user, product, admin_user, reference="INV-7")
    assert Transaction.objects.count() == 1


def test_an_admins_longer_access_stands_when_a_shorter_purchase_arrives(
    admin_user: User, learner_user: User
) -> None:
    product = course_product(access_days=10)
    enrollment_create(user=learner_user, course=product.course, actor=admin_user)
    pay(learner_user, product, admin_user)
    enrollment = _enrollment(learner_user, product.course)
    assert (enrollment.source, enrollment.expires_at) == (AccessSource.ADMIN, None)


def test_a_plan_purchase_opens_the_plan_and_its_courses(
    admin_user: User, learner_user: User
) -> None:
    plan = LearningPlanFactory()
    courses = [CourseFactory(), CourseFactory()]
    for i, course in enumerate(courses):
        LearningPlanCourse.objects.create(plan=plan, course=course, position=i)
    pay(learner_user, plan_product(plan=plan), admin_user)
    assert PlanEnrollment.objects.get(user=learner_user, plan=plan).source == AccessSource.PURCHASE
    assert set(Enrollment.objects.filter(user=learner_user).values_list("course_id", "source")) == {
        (c.pk, AccessSource.PURCHASE) for c in courses
    }


# --- refunds --------------------------------------------------------------------------------


def test_a_partial_refund_keeps_the_access_when_the_admin_says_so(
    admin_user: User, learner_user: User
) -> None:
    product = course_product(price=5000)
    payment = pay(learner_user, product, admin_user).transaction
    result = payment_refund(payment=payment, amount=2000, actor=admin_user, end_access=False)
    payment.refresh_from_db()
    assert result.refund.amount == 2000 and payment.refunded_amount == 2000
    assert payment.order is not None and payment.order.status == Order.Status.PAID
    assert _enrollment(learner_user, product.course).expires_at is None
    event = Event.objects.get(kind=EventKind.PAYMENT_REFUNDED)
    assert event.details["left_to_refund"] == "EUR 30.00"


def test_a_refund_that_ends_the_access_ends_it_now(admin_user: User, learner_user: User) -> None:
    product = course_product(price=5000)
    payment = pay(learner_user, product, admin_user).transaction
    payment_refund(payment=payment, amount=5000, actor=admin_user, end_access=True)
    enrollment = _enrollment(learner_user, product.course)
    assert enrollment.expires_at is not None and enrollment.expires_at <= timezone.now()
    assert Order.objects.get().status == Order.Status.REFUNDED
    change = Event.objects.get(kind=EventKind.ACCESS_CHANGED)
    assert change.is_manual and change.actor == admin_user


def test_a_refund_larger_than_what_is_left_is_refused_and_changes_nothing(
    admin_user: User, learner_user: User
) -> None:
    payment = pay(learner_user, course_product(price=5000), admin_user).transaction
    payment_refund(payment=payment, amount=4000, actor=admin_user, end_access=False)
    with pytest.raises(PaymentError, match=r"more than what is left to refund.*EUR 10\.00"):
        payment_refund(payment=payment, amount=1001, actor=admin_user, end_access=True)
    payment.refresh_from_db()
    assert payment.refunded_amount == 4000
    assert Transaction.objects.filter(kind=Transaction.Kind.REFUND).count() == 1
    assert Order.objects.get().access_ended_at is None


def test_a_refund_submitted_twice_is_recorded_once(admin_user: User, learner_user: User) -> None:
    payment = pay(learner_user, course_product(price=5000), admin_user).transaction
    token = new_request_token()
    payment_refund(
        payment=payment, amount=1000, actor=admin_user, end_access=False, request_token=token
    )
    again = payment_refund(
        payment=payment, amount=1000, actor=admin_user, end_access=False, request_token=token
    )
    assert not again.created
    payment.refresh_from_db()
    assert payment.refunded_amount == 1000


def test_the_database_refuses_refunds_beyond_the_payment(
    admin_user: User, learner_user: User
) -> None:
    payment = pay(learner_user, course_product(price=5000), admin_user).transaction
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.filter(pk=payment.pk).update(refunded_amount=5001)


def test_the_database_refuses_a_bad_currency_and_negative_amounts(
    admin_user: User, learner_user: User
) -> None:
    payment = pay(learner_user, course_product(), admin_user).transaction
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.filter(pk=payment.pk).update(currency="eur")
    with pytest.raises(IntegrityError), transaction.atomic():
        Transaction.objects.filter(pk=payment.pk).update(amount=-1)


def _run_twice_at_once(work: Callable[[], Any]) -> list[Any]:
    """Run `work` in two threads with their own connections, released together."""
    barrier = threading.Barrier(2)
    results: list[Any] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(work())
        except Exception as exc:  # noqa: BLE001  (the test reads what each thread raised)
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    close_old_connections()
    return results


@pytest.mark.django_db(transaction=True)
def test_two_refunds_at_once_never_exceed_the_payment(admin_user: User, learner_user: User) -> None:
    payment = pay(learner_user, course_product(price=5000), admin_user).transaction
    results = _run_twice_at_once(
        lambda: payment_refund(
            payment=payment,
            amount=3000,
            actor=admin_user,
            end_access=False,
            request_token=new_request_token(),
        )
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], PaymentError), results
    payment.refresh_from_db()
    assert payment.refunded_amount == 3000
    assert Transaction.objects.filter(kind=Transaction.Kind.REFUND).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_same_payment_form_posted_twice_at_once_is_recorded_once(
    admin_user: User, learner_user: User
) -> None:
    product = course_product()
    token = new_request_token()
    results = _run_twice_at_once(
        lambda: pay(learner_user, product, admin_user, request_token=token)
    )
    assert sorted(r.created for r in results) == [False, True], results
    assert Transaction.objects.count() == 1
    assert Enrollment.objects.filter(user=learner_user).count() == 1


# --- subscriptions ----------------------------------------------------------------------------


def test_an_offline_subscription_payment_opens_the_catalogue_for_a_period_and_renews(
    admin_user: User, learner_user: User
) -> None:
    courses = [CourseFactory(), CourseFactory()]
    product = subscription_product(courses=courses)
    first = pay(learner_user, product, admin_user)
    subscription = first.subscription
    assert subscription is not None and subscription.status == Subscription.Status.ACTIVE
    assert subscription.current_period_end == add_months(subscription.current_period_start, 1)
    for course in courses:
        enrollment = _enrollment(learner_user, course)
        assert enrollment.source == AccessSource.SUBSCRIPTION
        assert enrollment.expires_at == subscription.current_period_end
    first_end = subscription.current_period_end
    second = pay(learner_user, product, admin_user)
    assert second.subscription is not None and second.subscription.pk == subscription.pk
    subscription.refresh_from_db()
    assert subscription.current_period_end == add_months(first_end, 1)
    assert _enrollment(learner_user, courses[0]).expires_at == subscription.current_period_end
    assert Event.objects.filter(kind=EventKind.SUBSCRIPTION_RENEWED).count() == 1


def test_cancelling_at_period_end_keeps_the_access_until_then(
    admin_user: User, learner_user: User
) -> None:
    course = CourseFactory()
    subscription = pay(
        learner_user, subscription_product(courses=[course]), admin_user
    ).subscription
    assert subscription is not None
    assert subscription_cancel(subscription=subscription, actor=admin_user, at_period_end=True)
    assert not subscription_cancel(subscription=subscription, actor=admin_user, at_period_end=True)
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end and subscription.is_live
    assert _enrollment(learner_user, course).expires_at == subscription.current_period_end
    assert Event.objects.filter(kind=EventKind.SUBSCRIPTION_CANCEL_SCHEDULED).count() == 1


def test_cancelling_now_ends_the_access_now(admin_user: User, learner_user: User) -> None:
    course = CourseFactory()
    subscription = pay(
        learner_user, subscription_product(courses=[course]), admin_user
    ).subscription
    assert subscription is not None
    with acting_impersonator(admin_user):
        assert subscription_cancel(
            subscription=subscription, actor=learner_user, at_period_end=False
        )
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELLED
    assert _enrollment(learner_user, course).is_expired()
    event = Event.objects.get(kind=EventKind.SUBSCRIPTION_CANCELLED)
    assert (event.actor, event.impersonator) == (learner_user, admin_user)
    assert not subscription_cancel(subscription=subscription, actor=admin_user, at_period_end=False)


def test_a_lapsed_subscription_is_marked_ended_once(admin_user: User, learner_user: User) -> None:
    course = CourseFactory()
    subscription = pay(
        learner_user, subscription_product(courses=[course]), admin_user
    ).subscription
    assert subscription is not None
    later = subscription.current_period_end + timedelta(minutes=1)
    assert subscriptions_lapse(now=later) == 1
    assert subscriptions_lapse(now=later) == 0
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ENDED
    assert Event.objects.filter(kind=EventKind.SUBSCRIPTION_ENDED, is_manual=False).count() == 1


def test_a_refund_that_ends_a_subscriptions_access_cancels_it(
    admin_user: User, learner_user: User
) -> None:
    course = CourseFactory()
    result = pay(learner_user, subscription_product(courses=[course]), admin_user)
    payment_refund(payment=result.transaction, amount=1900, actor=admin_user, end_access=True)
    assert result.subscription is not None
    result.subscription.refresh_from_db()
    assert result.subscription.status == Subscription.Status.CANCELLED
    assert _enrollment(learner_user, course).is_expired()


# --- seats ------------------------------------------------------------------------------------


def test_a_seat_gives_the_access_and_taking_it_back_ends_it(
    admin_user: User, learner_user: User, org: dict[str, Department]
) -> None:
    product = course_product()
    seats = licence(product, seats=2, actor=admin_user, organisation=org["sales"])
    assignment, created = seat_assign(licence=seats, user=learner_user, actor=admin_user)
    assert created
    enrollment = _enrollment(learner_user, product.course)
    assert enrollment.source == AccessSource.SEAT and "Sales Department" in enrollment.source_label
    again, created_again = seat_assign(licence=seats, user=learner_user, actor=admin_user)
    assert not created_again and again.pk == assignment.pk
    assert SeatLicence.objects.get().seats_used == 1
    assert seat_release(assignment=assignment, actor=admin_user)
    assert not seat_release(assignment=assignment, actor=admin_user)
    assert SeatLicence.objects.get().seats_used == 0
    assert _enrollment(learner_user, product.course).is_expired()
    assert Event.objects.filter(kind=EventKind.SEAT_ASSIGNED).count() == 1
    assert Event.objects.filter(kind=EventKind.SEAT_RELEASED).count() == 1


def test_a_full_licence_is_refused(admin_user: User, org: dict[str, Department]) -> None:
    seats = licence(course_product(), seats=1, actor=admin_user, buyer=admin_user)
    seat_assign(licence=seats, user=learner(), actor=admin_user)
    with pytest.raises(PaymentError, match="All 1 seats"):
        seat_assign(licence=seats, user=learner(), actor=admin_user)
    assert SeatAssignment.objects.count() == 1


def test_an_organisations_seats_are_for_its_members_only(
    admin_user: User, outsider: User, org: dict[str, Department]
) -> None:
    seats = licence(course_product(), actor=admin_user, organisation=org["sales"])
    with pytest.raises(PaymentError, match="not part of it"):
        seat_assign(licence=seats, user=outsider, actor=admin_user)


def test_a_seat_purchase_gives_its_buyer_no_access(admin_user: User, sales_admin: User) -> None:
    product = course_product()
    licence(product, seats=5, actor=admin_user, buyer=sales_admin)
    assert not Enrollment.objects.filter(user=sales_admin).exists()
    assert Order.objects.get().total_amount == 5 * product.price_amount


@pytest.mark.django_db(transaction=True)
def test_two_learners_taking_the_last_seat_at_once_get_one_seat(admin_user: User) -> None:
    seats = licence(course_product(), seats=1, actor=admin_user, buyer=admin_user)
    people = iter([learner(), learner()])
    lock = threading.Lock()

    def take() -> Any:
        with lock:
            person = next(people)
        return seat_assign(licence=seats, user=person, actor=admin_user)

    results = _run_twice_at_once(take)
    assert sum(isinstance(r, PaymentError) for r in results) == 1, results
    assert SeatLicence.objects.get().seats_used == 1
    assert SeatAssignment.objects.count() == 1


def test_the_database_refuses_more_seats_used_than_bought(admin_user: User) -> None:
    seats = licence(course_product(), seats=1, actor=admin_user, buyer=admin_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        SeatLicence.objects.filter(pk=seats.pk).update(seats_used=2)


# --- cards ------------------------------------------------------------------------------------


def test_a_card_is_kept_by_brand_last_four_and_expiry_only(learner_user: User) -> None:
    assert card_on_file_save(
        user=learner_user, brand="visa", last4="4242", exp_month=4, exp_year=2031, provider="stripe"
    )
    assert not card_on_file_save(
        user=learner_user, brand="visa", last4="4242", exp_month=4, exp_year=2031, provider="stripe"
    )
    with pytest.raises(PaymentError):
        card_on_file_save(
            user=learner_user,
            brand="visa",
            last4="4242424242424242",
            exp_month=4,
            exp_year=2031,
            provider="stripe",
        )
    assert Event.objects.filter(kind=EventKind.PAYMENT_CARD_SAVED).count() == 1
