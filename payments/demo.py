"""Demo products, purchases, a subscription and a seat licence (`manage.py seed_demo`), all
through the services. Idempotent: products are looked up by slug, and each payment and licence
carries a fixed request token, so a second run finds them and changes nothing."""

from __future__ import annotations

from typing import Any

from payments.models import CardOnFile, Product, SeatLicence, Transaction
from payments.services import (
    card_on_file_save,
    payment_record_offline,
    payment_refund,
    product_create,
    seat_assign,
    seat_licence_create,
)
from progress.models import Course, LearningPlan
from users.models import Department, User


def _product(slug: str, **fields: Any) -> Product:
    return Product.objects.filter(slug=slug).first() or product_create(slug=slug, **fields)


def _token(name: str) -> str:
    """The fixed request token of one demo payment: a second run finds it."""
    return f"demo-{name}"


def seed_demo(*, stdout: Any) -> None:
    courses = {c.slug: c for c in Course.objects.all()}
    plan = LearningPlan.objects.filter(title="Sales Starter Path").first()
    people = {
        u.username: u
        for u in User.objects.filter(username__in=["admin", "anna", "agata", "julie", "mark"])
    }
    admin = people.get("admin")
    if admin is None or "negotiation-skills" not in courses or plan is None:
        stdout.write("payments: no demo catalogue or admin, skipped")
        return
    negotiation = _product(
        "negotiation-skills-12-months",
        name="Negotiation Skills (12 months)",
        kind=Product.Kind.COURSE,
        course=courses["negotiation-skills"],
        price_amount=14900,
        currency="EUR",
        access_days=365,
    )
    starter = _product(
        "sales-starter-path",
        name="Sales Starter Path",
        kind=Product.Kind.PLAN,
        plan=plan,
        price_amount=24900,
        currency="EUR",
    )
    all_access = _product(
        "all-access-monthly",
        name="All-access (monthly)",
        kind=Product.Kind.SUBSCRIPTION,
        interval=Product.Interval.MONTH,
        price_amount=2900,
        currency="EUR",
        catalogue=[courses[s] for s in ("customer-care-essentials", "onboarding-at-my-company")],
    )
    car_seat = _product(
        "car-sale-dialog-seat",
        name="Car Sale Dialog (team seat)",
        kind=Product.Kind.COURSE,
        course=courses["car-sale-dialog"],
        price_amount=9900,
        currency="EUR",
        access_days=180,
    )
    if agata := people.get("agata"):
        payment_record_offline(
            user=agata,
            product=negotiation,
            actor=admin,
            method=Transaction.Method.INVOICE,
            reference="INV-2026-001",
            request_token=_token("agata-negotiation"),
        )
    if anna := people.get("anna"):
        payment_record_offline(
            user=anna,
            product=all_access,
            actor=admin,
            method=Transaction.Method.BANK_TRANSFER,
            reference="BT-88412",
            request_token=_token("anna-all-access"),
        )
        starter_paid = payment_record_offline(
            user=anna,
            product=starter,
            actor=admin,
            method=Transaction.Method.INVOICE,
            reference="INV-2026-002",
            request_token=_token("anna-starter"),
        )
        payment_refund(
            payment=starter_paid.transaction,
            amount=5000,
            actor=admin,
            end_access=False,
            note="Goodwill: late start",
            request_token=_token("anna-starter-refund"),
        )
        if not CardOnFile.objects.filter(user=anna).exists():
            card_on_file_save(
                user=anna,
                brand="visa",
                last4="4242",
                exp_month=4,
                exp_year=2031,
                provider="stripe",
                reference="pm_demo_anna",
            )
    sales = Department.objects.filter(name="Sales Department").first()
    if sales is not None:
        licence, _ = seat_licence_create(
            product=car_seat,
            seats=10,
            actor=admin,
            organisation=sales,
            reference="PO-5531",
            request_token=_token("sales-car-seats"),
        )
        for username in ("julie", "mark"):
            if person := people.get(username):
                seat_assign(licence=licence, user=person, actor=admin)
    stdout.write(
        f"payments: {Product.objects.count()} products, {Transaction.objects.count()} "
        f"transactions, {SeatLicence.objects.count()} seat licences"
    )
