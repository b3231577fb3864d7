"""Django admin: products are edited here (the catalogue); orders, transactions, subscriptions,
licences, cards and webhook events are read-only, because every change to them goes through
payments/services.py, which records its event and lets access follow."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from payments.models import (
    CardOnFile,
    Order,
    Product,
    SeatLicence,
    Subscription,
    Transaction,
    WebhookEvent,
)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "price_amount", "currency", "access_days", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "slug", "provider_price_id"]
    filter_horizontal = ["catalogue"]
    raw_id_fields = ["course", "plan"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["pk", "user", "status", "total_amount", "currency", "paid_at"]
    list_filter = ["status", "provider"]


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "user", "amount", "currency", "method", "status", "occurred_at"]
    list_filter = ["kind", "status", "provider", "method"]
    search_fields = ["provider_reference", "user__username"]


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["pk", "user", "product", "status", "current_period_end"]
    list_filter = ["status", "provider"]


@admin.register(SeatLicence)
class SeatLicenceAdmin(ReadOnlyAdmin):
    list_display = ["pk", "product", "organisation", "buyer", "seats_used", "seats_total"]


@admin.register(CardOnFile)
class CardOnFileAdmin(ReadOnlyAdmin):
    list_display = ["user", "brand", "last4", "exp_month", "exp_year"]


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "event_type", "outcome", "received_at"]
    list_filter = ["provider", "event_type", "outcome"]
