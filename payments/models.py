"""What a learner bought and what it gives them.

Money is an integer amount in the currency's minor unit (cents) with its ISO 4217 code, never
a float. The database guards what must always hold (amounts never negative, refunds never more
than their payment, seats used never more than seats bought, a currency code of three capital
letters), and unique constraints make a retried request or a replayed provider event a no-op:
the services in payments/services.py are the only writers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from lms.models import TimeStampedModel

CURRENCY_CODE = r"^[A-Z]{3}$"


def format_money(amount: int, currency: str) -> str:
    """ "EUR 12.50" from (1250, "EUR"). Two decimals: the currencies Merit sells in."""
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(int(amount)), 100)
    return f"{currency} {sign}{whole:,}.{cents:02d}"


class Provider(models.TextChoices):
    MANUAL = "manual", "Offline"
    STRIPE = "stripe", "Stripe"


class Product(TimeStampedModel):
    """Something for sale: one course, one learning plan, or a subscription that opens a
    catalogue of courses for a period. `access_days` bounds the access a purchase gives (none:
    no end); a subscription's access ends with its period instead."""

    class Kind(models.TextChoices):
        COURSE = "course", "Course"
        PLAN = "plan", "Learning plan"
        SUBSCRIPTION = "subscription", "Subscription"

    class Interval(models.TextChoices):
        MONTH = "month", "Monthly"
        YEAR = "year", "Yearly"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    course = models.ForeignKey(
        "progress.Course", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    plan = models.ForeignKey(
        "progress.LearningPlan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    catalogue = models.ManyToManyField("progress.Course", blank=True, related_name="+")
    price_amount = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="EUR")
    access_days = models.PositiveIntegerField(null=True, blank=True)
    interval = models.CharField(max_length=8, choices=Interval.choices, blank=True)
    # Stripe's Price id: how a webhook names what was bought.
    provider_price_id = models.CharField(max_length=255, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(price_amount__gte=0), name="product_price_gte_0"),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_CODE), name="product_currency_iso"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="course", course__isnull=False, plan__isnull=True)
                    | Q(kind="plan", plan__isnull=False, course__isnull=True)
                    | Q(kind="subscription", course__isnull=True, plan__isnull=True)
                    & ~Q(interval="")
                ),
                name="product_kind_target",
            ),
            models.UniqueConstraint(
                fields=["provider_price_id"],
                condition=~Q(provider_price_id=""),
                name="product_provider_price_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def price_display(self) -> str:
        return format_money(self.price_amount, self.currency)


class ProviderCustomer(models.Model):
    """A learner as a payment provider knows them (Stripe's `cus_...`): how a webhook finds
    whose payment it is."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payment_customers"
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    reference = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "reference"], name="provider_customer_reference_unique"
            ),
            models.UniqueConstraint(fields=["provider", "user"], name="provider_customer_user"),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.reference}"


class Order(TimeStampedModel):
    """One purchase by (and for) a learner, or a manager's bulk purchase of seats. Paid when
    its payment is recorded; the access it gives follows it (payments/access.py)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting payment"
        PAID = "paid", "Paid"
        REFUNDED = "refunded", "Refunded"
        CANCELLED = "cancelled", "Cancelled"

    # None for a client organisation's seat purchase recorded without a buyer.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_orders",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # False for a bulk purchase of seats: its buyer gets no access, the seat holders do.
    grants_access = models.BooleanField(default=True)
    subscription = models.ForeignKey(
        "Subscription", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    currency = models.CharField(max_length=3)
    total_amount = models.BigIntegerField()
    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.MANUAL)
    provider_reference = models.CharField(max_length=255, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # A refund whose admin chose to end the access ends it for the whole order.
    access_ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="order_total_gte_0"),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_CODE), name="order_currency_iso"
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="order_provider_reference_unique",
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="order_user_time")]

    def __str__(self) -> str:
        return f"Order #{self.pk}"

    @property
    def total_display(self) -> str:
        return format_money(self.total_amount, self.currency)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    unit_amount = models.BigIntegerField()
    amount = models.BigIntegerField()

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_gte_1"),
            models.CheckConstraint(condition=Q(unit_amount__gte=0), name="order_line_unit_gte_0"),
            models.CheckConstraint(
                condition=Q(amount=F("unit_amount") * F("quantity")), name="order_line_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of product {self.product_id} in order {self.order_id}"


class Transaction(models.Model):
    """Money that moved (or failed to): a payment into an order, or a refund of a payment.
    `refunded_amount` on a payment is the sum of its refunds, kept by the refund service under
    a row lock; the CHECK makes a refund beyond the payment impossible even for a writer that
    forgot the lock."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"

    class Method(models.TextChoices):
        CARD = "card", "Card"
        INVOICE = "invoice", "Invoice"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    # None for a failed attempt that paid no order (a failed subscription invoice).
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payment_transactions",
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=16, choices=Method.choices)
    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.MANUAL)
    provider_reference = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUCCEEDED)
    occurred_at = models.DateTimeField(default=timezone.now)
    refund_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    refunded_amount = models.BigIntegerField(default=0)
    note = models.CharField(max_length=255, blank=True)
    # The admin form's one-time token: a double submit finds its first transaction.
    request_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transaction_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(currency__regex=CURRENCY_CODE), name="transaction_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("amount")),
                name="transaction_refunds_within_payment",
            ),
            models.CheckConstraint(
                condition=Q(kind="payment", refund_of__isnull=True)
                | Q(kind="refund", refund_of__isnull=False, refunded_amount=0),
                name="transaction_refund_has_payment",
            ),
            models.UniqueConstraint(
                fields=["provider", "kind", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="transaction_provider_reference_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-occurred_at"], name="transaction_user_time"),
            models.Index(fields=["occurred_at"], name="transaction_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {format_money(self.amount, self.currency)}"

    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.currency)

    @property
    def refundable_amount(self) -> int:
        return self.amount - self.refunded_amount if self.kind == self.Kind.PAYMENT else 0

    @property
    def refundable_display(self) -> str:
        return format_money(self.refundable_amount, self.currency)


class Subscription(TimeStampedModel):
    """A learner's subscription to a catalogue. Access to its courses lasts until
    `current_period_end`; renewing moves the period, cancelling now ends the access now,
    cancelling at period end lets it run out."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Payment overdue"
        CANCELLED = "cancelled", "Cancelled"
        ENDED = "ended", "Ended"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscriptions"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    cancel_at_period_end = models.BooleanField(default=False)
    ended_at = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=16, choices=Provider.choices, default=Provider.MANUAL)
    provider_reference = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-current_period_end", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(current_period_end__gt=F("current_period_start")),
                name="subscription_period_order",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_reference"],
                condition=~Q(provider_reference=""),
                name="subscription_provider_reference_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} for {self.user}"

    @property
    def is_live(self) -> bool:
        return self.status in (self.Status.ACTIVE, self.Status.PAST_DUE)


class SeatLicence(TimeStampedModel):
    """A bulk purchase of `seats_total` seats of a course or plan product, by a manager or for
    a client organisation (a department). Each assigned seat gives one learner the product's
    access until `access_ends_at` (none: no end); taking it back ends that access and frees the
    seat. `seats_used` is kept by the seat services under a lock and checked by the database."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="licences")
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="licences"
    )
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        "users.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    seats_total = models.PositiveIntegerField()
    seats_used = models.PositiveIntegerField(default=0)
    access_ends_at = models.DateTimeField(null=True, blank=True)
    request_token = models.CharField(max_length=64, null=True, blank=True, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(seats_total__gte=1), name="licence_seats_gte_1"),
            models.CheckConstraint(
                condition=Q(seats_used__gte=0, seats_used__lte=F("seats_total")),
                name="licence_seats_used_within_total",
            ),
            models.CheckConstraint(
                condition=Q(buyer__isnull=False) | Q(organisation__isnull=False),
                name="licence_has_owner",
            ),
        ]

    def __str__(self) -> str:
        owner = self.organisation or self.buyer
        return f"{self.seats_total} seats of {self.product} ({owner})"

    @property
    def seats_free(self) -> int:
        return self.seats_total - self.seats_used


class SeatAssignment(models.Model):
    """One learner holds one seat of a licence until it is taken back (`released_at`). A
    learner holds at most one live seat of a licence (the partial unique constraint)."""

    licence = models.ForeignKey(SeatLicence, on_delete=models.PROTECT, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="seat_assignments"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-assigned_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["licence", "user"],
                condition=Q(released_at__isnull=True),
                name="seat_one_live_per_learner",
            ),
        ]

    def __str__(self) -> str:
        return f"Seat of {self.licence_id} for {self.user_id}"


class CardOnFile(models.Model):
    """What the provider tells us about the learner's saved card: brand, last four digits and
    expiry. Merit never sees a card number; there is no field that could hold one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="card_on_file"
    )
    brand = models.CharField(max_length=32)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    provider = models.CharField(max_length=16, choices=Provider.choices)
    provider_reference = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(last4__regex=r"^[0-9]{4}$"), name="card_last4"),
            models.CheckConstraint(
                condition=Q(exp_month__gte=1, exp_month__lte=12), name="card_exp_month"
            ),
            models.CheckConstraint(
                condition=Q(exp_year__gte=2000, exp_year__lte=2200), name="card_exp_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4}"


class WebhookEvent(models.Model):
    """A provider event already handled: its id is recorded once (unique), in the same
    transaction as what it changed, so a retried delivery changes nothing."""

    provider = models.CharField(max_length=16, choices=Provider.choices)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    outcome = models.CharField(max_length=32)
    message = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="webhook_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"
