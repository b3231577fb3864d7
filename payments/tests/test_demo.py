from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from lms.models import Event
from payments.models import Order, SeatLicence, Subscription, Transaction
from progress.models import AccessSource, Enrollment

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return (
        Order.objects.count(),
        Transaction.objects.count(),
        Subscription.objects.count(),
        SeatLicence.objects.get().seats_used,
        Event.objects.count(),
    )


def test_the_demo_has_purchases_a_subscription_and_seats_and_runs_twice_the_same() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    subscription = Subscription.objects.get(user__username="anna")
    assert subscription.is_live
    assert Transaction.objects.filter(kind=Transaction.Kind.REFUND, user__username="anna").exists()
    licence = SeatLicence.objects.get()
    assert (licence.organisation.name, licence.seats_used) == ("Sales Department", 2)  # type: ignore[union-attr]
    assert (
        Enrollment.objects.get(user__username="mark", course__slug="car-sale-dialog").source
        == AccessSource.SEAT
    )
    assert (
        Enrollment.objects.get(user__username="agata", course__slug="negotiation-skills").source
        == AccessSource.PURCHASE
    )
    before = _counts()
    call_command("seed_demo", stdout=io.StringIO())
    assert _counts() == before
