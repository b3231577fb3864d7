"""Reads about payments. Query shape lives here: the Payments tab and the report run a fixed
number of queries whatever the number of rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from payments.models import (
    CardOnFile,
    Order,
    OrderLine,
    SeatAssignment,
    SeatLicence,
    Subscription,
    Transaction,
    format_money,
)
from users.roles import Role, user_admin_role

if TYPE_CHECKING:
    from users.models import User


@dataclass
class CurrencyTotal:
    currency: str
    paid: int = 0
    refunded: int = 0

    @property
    def net(self) -> int:
        return self.paid - self.refunded

    @property
    def paid_display(self) -> str:
        return format_money(self.paid, self.currency)

    @property
    def refunded_display(self) -> str:
        return format_money(self.refunded, self.currency)

    @property
    def net_display(self) -> str:
        return format_money(self.net, self.currency)


@dataclass
class UserPayments:
    card: CardOnFile | None
    subscriptions: list[Subscription]
    orders: list[Order]
    transactions: list[Transaction]
    totals: list[CurrencyTotal]
    seats: list[SeatAssignment] = field(default_factory=list)


def _totals(transactions: list[Transaction]) -> list[CurrencyTotal]:
    totals: dict[str, CurrencyTotal] = {}
    for t in transactions:
        if t.status != Transaction.Status.SUCCEEDED:
            continue
        total = totals.setdefault(t.currency, CurrencyTotal(t.currency))
        if t.kind == Transaction.Kind.PAYMENT:
            total.paid += t.amount
        else:
            total.refunded += t.amount
    return [totals[c] for c in sorted(totals)]


def user_payments(*, user: User) -> UserPayments:
    """Everything the Payments tab and the learner's own page show: six queries."""
    lines = OrderLine.objects.select_related("product")
    orders = list(
        Order.objects.filter(user=user)
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("-created_at", "-id")
    )
    transactions = list(
        Transaction.objects.filter(user=user)
        .select_related("order")
        .order_by("-occurred_at", "-id")
    )
    return UserPayments(
        card=CardOnFile.objects.filter(user=user).first(),
        subscriptions=list(
            Subscription.objects.filter(user=user)
            .select_related("product")
            .order_by("-current_period_end", "-id")
        ),
        orders=orders,
        transactions=transactions,
        totals=_totals(transactions),
        seats=list(
            SeatAssignment.objects.filter(user=user)
            .select_related("licence__product", "licence__organisation")
            .order_by("released_at", "-assigned_at", "-id")
        ),
    )


def licences_visible_to(actor: User) -> QuerySet[SeatLicence]:
    """Licences an admin may give seats from: all for a super admin; for a department admin
    those of an organisation in their subtree or bought by a user they manage."""
    from users.selectors import departments_visible_to, users_visible_to

    licences = SeatLicence.objects.select_related("product", "organisation", "buyer")
    role = user_admin_role(actor)
    if role == Role.SUPER_ADMIN:
        return licences
    if role == Role.DEPARTMENT_ADMIN:
        return licences.filter(
            Q(organisation__in=departments_visible_to(actor)) | Q(buyer__in=users_visible_to(actor))
        )
    return licences.none()


def licences_assignable(*, actor: User, user: User) -> list[SeatLicence]:
    """Licences with a free seat the admin may give this learner (one query for the
    licences, one for the learner's departments)."""
    now = timezone.now()
    paths = [d.path for d in user.departments.all()]
    held = SeatAssignment.objects.filter(user=user, released_at__isnull=True).values("licence_id")
    candidates = (
        licences_visible_to(actor)
        .filter(seats_used__lt=F("seats_total"))
        .filter(Q(access_ends_at__isnull=True) | Q(access_ends_at__gt=now))
        .exclude(pk__in=held)
        .order_by("product__name", "pk")
    )
    return [
        licence
        for licence in candidates
        if licence.organisation is None
        or any(path.startswith(licence.organisation.path) for path in paths)
    ]


def learner_receipt(*, user: User, pk: int) -> Transaction | None:
    return (
        Transaction.objects.filter(user=user, pk=pk, status=Transaction.Status.SUCCEEDED)
        .select_related("order", "refund_of", "user")
        .prefetch_related(
            Prefetch("order__lines", queryset=OrderLine.objects.select_related("product"))
        )
        .first()
    )


# --- the report and the export -------------------------------------------------------------


def _period(date_from: date | None, date_to: date | None) -> Q:
    tz = timezone.get_current_timezone()
    condition = Q()
    if date_from:
        condition &= Q(occurred_at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to:
        end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz)
        condition &= Q(occurred_at__lt=end)
    return condition


def transactions_visible_to(actor: User) -> QuerySet[Transaction]:
    """All transactions for a super admin; those of the users in their subtree for a
    department admin; none otherwise."""
    from users.selectors import users_visible_to

    role = user_admin_role(actor)
    if role == Role.SUPER_ADMIN:
        return Transaction.objects.all()
    if role == Role.DEPARTMENT_ADMIN:
        return Transaction.objects.filter(user__in=users_visible_to(actor))
    return Transaction.objects.none()


def transactions_for_export(
    *, actor: User, date_from: date | None, date_to: date | None
) -> QuerySet[Transaction]:
    return (
        transactions_visible_to(actor)
        .filter(_period(date_from, date_to))
        .select_related("user", "order", "refund_of")
        .order_by("occurred_at", "id")
    )


@dataclass
class RevenueRow:
    month: date
    product: str
    currency: str
    payments: int
    paid: int
    refunded: int

    @property
    def net(self) -> int:
        return self.paid - self.refunded

    @property
    def paid_display(self) -> str:
        return format_money(self.paid, self.currency)

    @property
    def refunded_display(self) -> str:
        return format_money(self.refunded, self.currency)

    @property
    def net_display(self) -> str:
        return format_money(self.net, self.currency)


def revenue_by_product_month(
    *, actor: User, date_from: date | None, date_to: date | None
) -> tuple[list[RevenueRow], list[CurrencyTotal]]:
    """Revenue by month, product and currency (succeeded payments less refunds, refunds in
    the month they were made), within what the admin may see: one aggregate query. Every
    order has one line, so a transaction's product is its order's line's product."""
    rows = (
        transactions_visible_to(actor)
        .filter(_period(date_from, date_to), status=Transaction.Status.SUCCEEDED)
        .exclude(order__isnull=True)
        .annotate(month=TruncMonth("occurred_at"))
        .values("month", "order__lines__product__name", "currency")
        .annotate(
            payments=Count("pk", filter=Q(kind=Transaction.Kind.PAYMENT)),
            paid=Sum("amount", filter=Q(kind=Transaction.Kind.PAYMENT), default=0),
            refunded=Sum("amount", filter=Q(kind=Transaction.Kind.REFUND), default=0),
        )
        .order_by("-month", "order__lines__product__name", "currency")
    )
    result = [
        RevenueRow(
            month=row["month"].date() if isinstance(row["month"], datetime) else row["month"],
            product=row["order__lines__product__name"] or "(no product)",
            currency=row["currency"],
            payments=row["payments"],
            paid=row["paid"],
            refunded=row["refunded"],
        )
        for row in rows
    ]
    totals: dict[str, CurrencyTotal] = defaultdict(lambda: CurrencyTotal(""))
    for row in result:
        total = totals[row.currency]
        total.currency = row.currency
        total.paid += row.paid
        total.refunded += row.refunded
    return result, [totals[c] for c in sorted(totals)]
