"""Issue 12's Payments path in Chromium: an admin records an offline payment and a refund on
Anna's Payments tab, the Access tab says the course came from the purchase, and Anna sees the
purchase and opens her PDF receipt on her own page."""

from __future__ import annotations

from typing import Any

import pytest

from payments.models import Transaction
from payments.tests.factories import course_product
from progress.models import AccessSource, Enrollment
from progress.tests.factories import CourseFactory
from tests.e2e.conftest import SCREENSHOTS, log_in, screenshot
from users.models import User

pytestmark = pytest.mark.e2e


def test_admin_records_a_payment_and_a_refund_and_the_learner_sees_the_receipt(
    page: Any, browser: Any, live_server: Any, admin_user: User, learner_user: User
) -> None:
    product = course_product(
        course=CourseFactory(title="Negotiation Skills"), name="Negotiation Skills", price=14900
    )
    log_in(page, "admin")
    page.goto(f"/users/{learner_user.pk}/")
    page.click(".merit-record-tabs >> text=Payments")
    page.wait_for_selector("[data-testid=offline-payment-form]")
    page.select_option("select[name=product]", str(product.pk))
    page.select_option("select[name=method]", "bank_transfer")
    page.fill("input[name=reference]", "BT-2026-0042")
    screenshot(page, "payments-record-offline-payment")
    page.click("[data-testid=record-payment]")
    page.wait_for_selector("text=Payment of EUR 149.00")
    payment = Transaction.objects.get()
    enrollment = Enrollment.objects.get(user=learner_user, course=product.course)
    assert enrollment.source == AccessSource.PURCHASE

    page.click("[data-testid=refunds] summary")
    form = page.locator(f"[data-testid=refund-form-{payment.pk}]")
    form.locator("input[name$=amount]").fill("200")
    form.locator("[data-testid=record-refund]").click()
    page.wait_for_selector("text=more than what is left to refund")
    screenshot(page, "payments-refund-refused")
    form = page.locator(f"[data-testid=refund-form-{payment.pk}]")
    form.locator("input[name$=amount]").fill("49.00")
    form.locator("input[name$=note]").fill("Goodwill")
    form.locator("[data-testid=record-refund]").click()
    page.wait_for_selector("text=Refund of EUR 49.00 recorded.")
    assert page.locator("[data-testid=net-EUR]").inner_text() == "EUR 100.00"
    screenshot(page, "payments-user-tab")

    page.click(".merit-record-tabs >> text=Access")
    page.wait_for_selector("[data-testid=course-access]")
    assert "A purchase" in page.locator("[data-testid=access-source]").first.inner_text()
    screenshot(page, "payments-access-source")

    learner_context = browser.new_context(
        viewport={"width": 1360, "height": 900}, base_url=live_server.url
    )
    learner_page = learner_context.new_page()
    log_in(learner_page, "anna")
    learner_page.goto("/profile/")
    learner_page.click(
        "[data-testid=profile-purchases] >> text=Purchases, subscriptions and receipts"
    )
    learner_page.wait_for_selector("[data-testid=receipts]")
    assert "Negotiation Skills" in learner_page.inner_text("[data-testid=orders]")
    screenshot(learner_page, "payments-learner-purchases")
    receipt = learner_page.locator("[data-testid=receipt-payment] [data-testid=receipt-link]")
    url = receipt.get_attribute("href")
    response = learner_page.request.get(url)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / "payments-receipt.pdf").write_bytes(response.body())
    other = learner_page.request.get(f"/payments/mine/receipts/{payment.pk + 1000}/")
    assert other.status == 404
    learner_context.close()
