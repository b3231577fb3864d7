from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lms.event_kinds import EventKind
from lms.models import Event
from payments.forms import new_request_token
from payments.models import Provider, ProviderCustomer, SeatAssignment, Subscription, Transaction
from payments.services import payment_refund, seat_assign
from payments.tests.factories import course_product, licence, pay, subscription_product
from progress.models import Enrollment
from progress.tests.factories import CourseFactory
from users.models import Department, User
from users.tests.factories import learner

pytestmark = pytest.mark.django_db


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _tab(user: User) -> str:
    return reverse("payments:user_tab", args=[user.pk])


# --- who may open the tab ---------------------------------------------------------------------


def test_anonymous_visitors_go_to_the_login_page(learner_user: User) -> None:
    response = _client(None).get(_tab(learner_user))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_learner_cannot_open_anyones_payments_tab(learner_user: User, outsider: User) -> None:
    assert _client(learner_user).get(_tab(outsider)).status_code == 403
    assert _client(learner_user).get(_tab(learner_user)).status_code == 403


@pytest.mark.parametrize("who", ["admin_user", "support_user", "sales_admin"])
def test_admins_in_scope_see_the_tab_in_the_record(
    who: str, request: pytest.FixtureRequest, learner_user: User
) -> None:
    viewer = request.getfixturevalue(who)
    response = _client(viewer).get(_tab(learner_user))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-current="page">Payments</a>' in html
    assert f'href="/learning/users/{learner_user.pk}/access/"' in html


def test_a_department_admin_cannot_see_a_user_outside_their_subtree(
    sales_admin: User, outsider: User
) -> None:
    assert _client(sales_admin).get(_tab(outsider)).status_code == 404


def test_customer_service_reads_but_cannot_change(
    support_user: User, admin_user: User, learner_user: User
) -> None:
    product = course_product()
    payment = pay(learner_user, product, admin_user).transaction
    client = _client(support_user)
    html = client.get(_tab(learner_user)).content.decode()
    assert "Record an offline payment" not in html and payment.amount_display in html
    posts = [
        (reverse("payments:user_record", args=[learner_user.pk]), {"product": product.pk}),
        (
            reverse("payments:user_refund", args=[learner_user.pk, payment.pk]),
            {f"r{payment.pk}-amount": "1"},
        ),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403
    assert Transaction.objects.count() == 1


# --- actions ----------------------------------------------------------------------------------


def _record(client: Client, subject: User, **data: object) -> object:
    fields = {"method": "invoice", "request_token": new_request_token(), **data}
    return client.post(reverse("payments:user_record", args=[subject.pk]), fields)


def test_a_super_admin_records_an_offline_payment_once_even_when_submitted_twice(
    admin_user: User, learner_user: User
) -> None:
    product = course_product(price=4900)
    client = _client(admin_user)
    token = new_request_token()
    first = _record(
        client, learner_user, product=product.pk, reference="INV-9", request_token=token
    )
    second = _record(
        client, learner_user, product=product.pk, reference="INV-9", request_token=token
    )
    assert first.status_code == second.status_code == 302  # type: ignore[attr-defined]
    assert Transaction.objects.get().amount == 4900
    assert Enrollment.objects.filter(user=learner_user, course=product.course).exists()
    page = client.get(_tab(learner_user)).content.decode()
    assert "already recorded" in page or "EUR 49.00" in page


def test_an_offline_payment_with_bad_input_is_refused_with_a_message(
    admin_user: User, learner_user: User
) -> None:
    product = course_product()
    client = _client(admin_user)
    for data in (
        {"product": product.pk, "amount": "-5"},
        {"product": product.pk, "amount": "12.345"},
        {"product": product.pk, "method": "card"},
        {"product": "9999"},
        {"product": product.pk, "paid_on": "2999-01-01"},
    ):
        response = _record(client, learner_user, **data)
        assert response.status_code == 400, data  # type: ignore[attr-defined]
    assert not Transaction.objects.exists()


def test_a_department_admin_records_for_their_users_only(
    sales_admin: User, learner_user: User, outsider: User
) -> None:
    product = course_product()
    client = _client(sales_admin)
    assert _record(client, learner_user, product=product.pk).status_code == 302  # type: ignore[attr-defined]
    assert _record(client, outsider, product=product.pk).status_code == 404  # type: ignore[attr-defined]
    assert Transaction.objects.get().user == learner_user


def test_a_department_admin_cannot_change_a_super_admins_payments(
    sales_admin: User, admin_user: User, org: dict[str, Department]
) -> None:
    admin_user.departments.set([org["sales"]])
    response = _record(_client(sales_admin), admin_user, product=course_product().pk)
    assert response.status_code == 403  # type: ignore[attr-defined]


def test_a_refund_larger_than_what_is_left_shows_a_clear_message(
    admin_user: User, learner_user: User
) -> None:
    payment = pay(learner_user, course_product(price=5000), admin_user).transaction
    url = reverse("payments:user_refund", args=[learner_user.pk, payment.pk])
    p = f"r{payment.pk}"
    response = _client(admin_user).post(
        url, {f"{p}-amount": "60.00", f"{p}-request_token": new_request_token()}
    )
    assert response.status_code == 400
    assert (
        "more than what is left to refund of this payment (EUR 50.00)" in response.content.decode()
    )
    assert not Transaction.objects.filter(kind=Transaction.Kind.REFUND).exists()


def test_a_refund_that_ends_access_is_recorded_and_ends_it(
    admin_user: User, learner_user: User
) -> None:
    product = course_product(price=5000)
    payment = pay(learner_user, product, admin_user).transaction
    p = f"r{payment.pk}"
    response = _client(admin_user).post(
        reverse("payments:user_refund", args=[learner_user.pk, payment.pk]),
        {f"{p}-amount": "50", f"{p}-end_access": "on", f"{p}-request_token": new_request_token()},
    )
    assert response.status_code == 302
    assert Enrollment.objects.get(user=learner_user, course=product.course).is_expired()


def test_an_admin_cancels_a_subscription_at_period_end_then_now(
    admin_user: User, learner_user: User
) -> None:
    subscription = pay(
        learner_user, subscription_product(courses=[CourseFactory()]), admin_user
    ).subscription
    assert subscription is not None
    url = reverse("payments:user_subscription_cancel", args=[learner_user.pk, subscription.pk])
    client = _client(admin_user)
    assert client.post(url, {"when": "period_end"}).status_code == 302
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end and subscription.is_live
    assert client.post(url, {"when": "now"}).status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CANCELLED


def test_an_admin_gives_a_seat_and_takes_it_back(
    admin_user: User, learner_user: User, org: dict[str, Department]
) -> None:
    product = course_product()
    seats = licence(product, seats=3, actor=admin_user, organisation=org["sales"])
    client = _client(admin_user)
    page = client.get(_tab(learner_user)).content.decode()
    assert "3 of 3 seats free" in page
    url = reverse("payments:user_seat_assign", args=[learner_user.pk])
    assert client.post(url, {"licence": seats.pk}).status_code == 302
    assignment = SeatAssignment.objects.get()
    assert Enrollment.objects.get(user=learner_user, course=product.course).source == "seat"
    release = reverse("payments:user_seat_release", args=[learner_user.pk, assignment.pk])
    assert client.post(release).status_code == 302
    assert client.post(release).status_code == 302  # twice: nothing more happens
    assert Event.objects.filter(kind=EventKind.SEAT_RELEASED).count() == 1


def test_a_department_admin_cannot_give_seats_of_another_organisations_licence(
    sales_admin: User, admin_user: User, learner_user: User, org: dict[str, Department]
) -> None:
    seats = licence(course_product(), actor=admin_user, organisation=org["hr"])
    response = _client(sales_admin).post(
        reverse("payments:user_seat_assign", args=[learner_user.pk]), {"licence": seats.pk}
    )
    assert response.status_code == 400
    assert not SeatAssignment.objects.exists()


def _fill(user: User, admin: User, n: int) -> None:
    sub = subscription_product(courses=[CourseFactory()])
    pay(user, sub, admin)
    for _ in range(n):
        payment = pay(user, course_product(), admin).transaction
        payment_refund(payment=payment, amount=100, actor=admin, end_access=False)
        seat_assign(
            licence=licence(course_product(), actor=admin, buyer=admin), user=user, actor=admin
        )


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_the_payments_tab_runs_the_same_queries_for_one_row_or_many(
    admin_user: User, learner_user: User, outsider: User
) -> None:
    _fill(learner_user, admin_user, 1)
    _fill(outsider, admin_user, 4)
    client = _client(admin_user)
    assert _queries(client, _tab(learner_user)) == _queries(client, _tab(outsider))


def test_the_learners_page_runs_the_same_queries_for_one_row_or_many(
    admin_user: User, learner_user: User, outsider: User
) -> None:
    _fill(learner_user, admin_user, 1)
    _fill(outsider, admin_user, 4)
    url = reverse("payments:mine")
    assert _queries(_client(learner_user), url) == _queries(_client(outsider), url)


# --- the learner's own ------------------------------------------------------------------------


def test_a_learner_sees_their_purchases_and_their_receipts_only(
    admin_user: User, learner_user: User, outsider: User
) -> None:
    mine = pay(learner_user, course_product(name="Negotiation basics"), admin_user).transaction
    theirs = pay(outsider, course_product(name="Secret course"), admin_user).transaction
    client = _client(learner_user)
    page = client.get(reverse("payments:mine")).content.decode()
    assert "Negotiation basics" in page and "Secret course" not in page
    receipt = client.get(reverse("payments:my_receipt", args=[mine.pk]))
    assert receipt.status_code == 200 and receipt["Content-Type"] == "application/pdf"
    assert receipt.content.startswith(b"%PDF")
    assert client.get(reverse("payments:my_receipt", args=[theirs.pk])).status_code == 404
    profile = client.get(reverse("users:profile")).content.decode()
    assert 'data-testid="profile-purchases"' in profile


def test_the_receipt_pdf_names_the_learner_the_product_and_the_amount(
    admin_user: User, learner_user: User
) -> None:
    from pypdf import PdfReader

    payment = pay(learner_user, course_product(name="Negotiation basics", price=4950), admin_user)
    response = _client(learner_user).get(
        reverse("payments:my_receipt", args=[payment.transaction.pk])
    )
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Anna Smith" in text and "Negotiation basics" in text and "EUR 49.50" in text


def test_add_a_card_is_shown_only_with_a_card_provider(learner_user: User) -> None:
    client = _client(learner_user)
    assert 'data-testid="add-card"' not in client.get(reverse("payments:mine")).content.decode()
    assert client.post(reverse("payments:card_setup")).status_code == 404
    with override_settings(MERIT_PAYMENTS_CARD_PROVIDER="manual"):
        assert 'data-testid="add-card"' in client.get(reverse("payments:mine")).content.decode()
        response = client.post(reverse("payments:card_setup"))
    assert response.status_code == 302
    assert response["Location"].startswith("http://testserver/payments/mine/card/done/?setup=")
    assert ProviderCustomer.objects.get(user=learner_user).provider == Provider.MANUAL


def test_stripe_turns_on_with_its_secret_key(learner_user: User) -> None:
    with override_settings(MERIT_STRIPE_SECRET_KEY="sk_test_x", MERIT_PAYMENTS_CARD_PROVIDER=""):
        page = _client(learner_user).get(reverse("payments:mine")).content.decode()
    assert 'data-testid="add-card"' in page


# --- the report and the export ----------------------------------------------------------------


def test_the_report_shows_revenue_by_product_and_month_per_currency(
    admin_user: User, learner_user: User
) -> None:
    eur = course_product(name="Course in euros", price=5000)
    usd = course_product(name="Course in dollars", price=3000, currency="USD")
    payment = pay(learner_user, eur, admin_user).transaction
    pay(learner_user, usd, admin_user)
    payment_refund(payment=payment, amount=1000, actor=admin_user, end_access=False)
    page = _client(admin_user).get(reverse("payments:report")).content.decode()
    assert "Course in euros" in page and "Course in dollars" in page
    assert "EUR 40.00" in page and "USD 30.00" in page


def test_the_report_is_scoped_to_what_a_department_admin_may_see(
    admin_user: User, sales_admin: User, learner_user: User, outsider: User
) -> None:
    pay(learner_user, course_product(name="Sales course"), admin_user)
    pay(outsider, course_product(name="HR course"), admin_user)
    page = _client(sales_admin).get(reverse("payments:report")).content.decode()
    assert "Sales course" in page and "HR course" not in page
    body = _client(sales_admin).get(reverse("payments:export")).content.decode()
    assert "anna" in body and "harry" not in body


@pytest.mark.parametrize("who", ["support_user", "learner_user"])
def test_customer_service_and_learners_get_no_report(
    who: str, request: pytest.FixtureRequest
) -> None:
    client = _client(request.getfixturevalue(who))
    assert client.get(reverse("payments:report")).status_code == 403
    assert client.get(reverse("payments:export")).status_code == 403


def test_the_export_is_formula_safe_and_bounded_by_the_period(
    admin_user: User, learner_user: User
) -> None:
    pay(learner_user, course_product(), admin_user, note="=HYPERLINK(evil)")
    client = _client(admin_user)
    body = client.get(reverse("payments:export")).content.decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][0] == "Date" and rows[1][-1] == "'=HYPERLINK(evil)"
    assert rows[1][7] == "49.00"
    empty = client.get(reverse("payments:export"), {"date_to": "2001-01-01"}).content.decode()
    assert len(list(csv.reader(io.StringIO(empty)))) == 1
    bad = client.get(
        reverse("payments:export"), {"date_from": "2020-02-02", "date_to": "2020-01-01"}
    )
    assert bad.status_code == 400


def test_the_report_query_count_does_not_grow_with_rows(
    admin_user: User, learner_user: User
) -> None:
    client = _client(admin_user)
    pay(learner_user, course_product(), admin_user)
    few = _queries(client, reverse("payments:report"))
    for _ in range(5):
        pay(learner(), course_product(), admin_user)
    assert _queries(client, reverse("payments:report")) == few
