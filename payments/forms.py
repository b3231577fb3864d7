"""The Payments tab's forms and the report's filter. Amounts are typed as decimals ("12.50")
and handed to the services as integer minor units; every action form carries a one-time
request token so a double submit is recorded once."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import timezone

from payments.models import Product, SeatLicence, Transaction

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
MAX_AMOUNT = Decimal("10000000")  # ten million in the major unit: far above any LMS price


def new_request_token() -> str:
    return secrets.token_urlsafe(24)


def to_minor_units(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def _bounded_date(value: date | None) -> date | None:
    if value is not None and not (EARLIEST <= value <= LATEST):
        raise forms.ValidationError(
            f"Enter a date between {EARLIEST:%b %-d, %Y} and {LATEST:%b %-d, %Y}."
        )
    return value


class AmountField(forms.DecimalField):
    """A positive amount with at most two decimals, returned in minor units (cents)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0.01"))
        kwargs.setdefault("max_value", MAX_AMOUNT)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        cleaned = super().clean(value)
        if cleaned is None:
            return None
        try:
            return to_minor_units(Decimal(cleaned))
        except InvalidOperation:
            raise forms.ValidationError("Enter an amount such as 49.90.") from None


class _TokenForm(forms.Form):
    request_token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("request_token", new_request_token())


class OfflinePaymentForm(_TokenForm):
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(is_active=True).order_by("name"),
        empty_label="Choose a product…",
    )
    amount = AmountField(
        required=False,
        label="Amount",
        help_text="Leave empty for the product's price, in the product's currency.",
    )
    method = forms.ChoiceField(
        choices=[
            (Transaction.Method.INVOICE, "Invoice"),
            (Transaction.Method.BANK_TRANSFER, "Bank transfer"),
            (Transaction.Method.OTHER, "Other"),
        ],
        label="Paid by",
    )
    reference = forms.CharField(
        max_length=100, required=False, label="Invoice or transfer reference"
    )
    paid_on = forms.DateField(
        required=False, label="Paid on", widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(max_length=255, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        product: Any = self.fields["product"]
        product.label_from_instance = lambda p: f"{p.name} · {p.price_display}"

    def clean_paid_on(self) -> date | None:
        value = _bounded_date(self.cleaned_data.get("paid_on"))
        if value is not None and value > timezone.localdate():
            raise forms.ValidationError("The payment date cannot be in the future.")
        return value

    def paid_at(self) -> datetime | None:
        value = self.cleaned_data.get("paid_on")
        if value is None or value == timezone.localdate():
            return None
        return timezone.make_aware(datetime.combine(value, time(12, 0)))


class RefundForm(_TokenForm):
    amount = AmountField(label="Refund amount")
    end_access = forms.BooleanField(
        required=False,
        label="End the access this purchase gave",
        help_text="Without this, the learner keeps the course, plan or subscription.",
    )
    note = forms.CharField(max_length=255, required=False)


class SubscriptionCancelForm(forms.Form):
    when = forms.ChoiceField(
        choices=[("period_end", "At the end of the period"), ("now", "Now (access ends now)")]
    )


class SeatAssignForm(forms.Form):
    """Choices built from the licences the selector found (no query of its own)."""

    licence = forms.TypedChoiceField(coerce=int, label="Licence", empty_value=None)

    def __init__(self, *args: Any, licences: list[SeatLicence] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.licences = {licence.pk: licence for licence in licences or []}
        field: Any = self.fields["licence"]
        field.choices = [("", "Choose a licence…")] + [
            (
                licence.pk,
                f"{licence.product.name} · {licence.organisation or licence.buyer} "
                f"({licence.seats_free} of {licence.seats_total} seats free)",
            )
            for licence in self.licences.values()
        ]

    def clean_licence(self) -> SeatLicence:
        pk = self.cleaned_data.get("licence")
        if pk not in self.licences:
            raise forms.ValidationError("Choose a licence with a free seat.")
        return self.licences[pk]


class PeriodForm(forms.Form):
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_date_from(self) -> date | None:
        return _bounded_date(self.cleaned_data.get("date_from"))

    def clean_date_to(self) -> date | None:
        return _bounded_date(self.cleaned_data.get("date_to"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data
