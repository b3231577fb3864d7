"""Thin views: the Payments tab of the user record and its actions (each one service call),
the learner's own purchases and receipts, the Stripe webhook, the report and the export."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from lms.csv_safety import csv_render
from payments import selectors
from payments.forms import (
    OfflinePaymentForm,
    PeriodForm,
    RefundForm,
    SeatAssignForm,
    SubscriptionCancelForm,
)
from payments.models import SeatAssignment, Subscription, Transaction, format_money
from payments.permissions import can_change_user_payments, can_see_payments_report
from payments.providers import (
    ProviderError,
    WebhookSignatureError,
    card_provider,
    provider_get,
    stripe_enabled,
)
from payments.receipts import receipt_filename, receipt_pdf
from payments.services import (
    PaymentError,
    card_setup_start,
    payment_record_offline,
    payment_refund,
    seat_assign,
    seat_release,
    subscription_cancel,
)
from payments.webhooks import stripe_event_apply
from users.models import User
from users.views.mixins import UserRecordMixin

logger = logging.getLogger(__name__)


# --- the Payments tab of the user record --------------------------------------------------------


class UserPaymentsView(UserRecordMixin, TemplateView):
    """Card on file, subscriptions, seats, purchases and every transaction with totals per
    currency; the action forms for admins who may change payments (customer service reads)."""

    record_tab = "payments"
    template_name = "payments/user_tab.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        actor: User = self.request.user  # type: ignore[assignment]
        data = selectors.user_payments(user=self.subject)
        can_change = can_change_user_payments(actor, self.subject)
        context["payments"] = data
        context["can_change"] = can_change
        if can_change:
            context.setdefault("payment_form", OfflinePaymentForm())
            licences = selectors.licences_assignable(actor=actor, user=self.subject)
            context.setdefault("seat_form", SeatAssignForm(licences=licences))
            bound: RefundForm | None = kwargs.get("refund_form")
            context["refund_rows"] = [
                (
                    t,
                    bound
                    if bound is not None and bound.prefix == f"r{t.pk}"
                    else RefundForm(prefix=f"r{t.pk}"),
                )
                for t in data.transactions
                if t.kind == Transaction.Kind.PAYMENT and t.refundable_amount > 0
            ]
            context["cancel_form"] = SubscriptionCancelForm()
        return context

    def _refuse_unless_allowed(self) -> None:
        if not can_change_user_payments(self.request.user, self.subject):  # type: ignore[arg-type]
            raise PermissionDenied(
                "Only a super admin, or a department admin for their own users, may change "
                "payments."
            )

    def _back(self) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("payments:user_tab", args=[self.subject.pk]))


class UserPaymentRecordView(UserPaymentsView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self._refuse_unless_allowed()
        form = OfflinePaymentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = payment_record_offline(
                    user=self.subject,
                    product=data["product"],
                    actor=request.user,  # type: ignore[arg-type]
                    method=data["method"],
                    amount=data["amount"],
                    reference=data["reference"],
                    note=data["note"],
                    paid_at=form.paid_at(),
                    request_token=data["request_token"],
                )
            except PaymentError as exc:
                form.add_error(None, str(exc))
            else:
                payment = result.transaction
                if result.created:
                    messages.success(
                        request,
                        f"Payment of {payment.amount_display} for “{data['product']}” recorded.",
                    )
                else:
                    messages.info(request, "This payment was already recorded.")
                return self._back()
        return self.render_to_response(self.get_context_data(payment_form=form), status=400)


class UserRefundView(UserPaymentsView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self._refuse_unless_allowed()
        payment = get_object_or_404(
            Transaction, pk=kwargs["pk"], user=self.subject, kind=Transaction.Kind.PAYMENT
        )
        form = RefundForm(request.POST, prefix=f"r{payment.pk}")
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = payment_refund(
                    payment=payment,
                    amount=data["amount"],
                    actor=request.user,  # type: ignore[arg-type]
                    end_access=data["end_access"],
                    note=data["note"],
                    request_token=data["request_token"],
                )
            except PaymentError as exc:
                form.add_error("amount", str(exc))
            else:
                if result.created:
                    ended = " The access it gave has ended." if data["end_access"] else ""
                    messages.success(
                        request, f"Refund of {result.refund.amount_display} recorded.{ended}"
                    )
                else:
                    messages.info(request, "This refund was already recorded.")
                return self._back()
        messages.error(request, "The refund was not recorded: see the message under it.")
        return self.render_to_response(self.get_context_data(refund_form=form), status=400)


class UserSubscriptionCancelView(UserPaymentsView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self._refuse_unless_allowed()
        subscription = get_object_or_404(Subscription, pk=kwargs["pk"], user=self.subject)
        form = SubscriptionCancelForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose when the subscription ends.")
            return self._back()
        at_period_end = form.cleaned_data["when"] == "period_end"
        changed = subscription_cancel(
            subscription=subscription,
            actor=request.user,  # type: ignore[arg-type]
            at_period_end=at_period_end,
        )
        if not changed:
            messages.info(
                request, "Nothing changed: the subscription had already ended or was set to."
            )
        elif at_period_end:
            messages.success(
                request,
                f"The subscription ends on {subscription.current_period_end:%b %-d, %Y}, "
                "at the end of its period.",
            )
        else:
            messages.success(request, "The subscription is cancelled; its access has ended.")
        return self._back()


class UserSeatAssignView(UserPaymentsView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self._refuse_unless_allowed()
        actor: User = request.user  # type: ignore[assignment]
        form = SeatAssignForm(
            request.POST, licences=selectors.licences_assignable(actor=actor, user=self.subject)
        )
        if form.is_valid():
            licence = form.cleaned_data["licence"]
            try:
                _, created = seat_assign(licence=licence, user=self.subject, actor=actor)
            except PaymentError as exc:
                form.add_error("licence", str(exc))
            else:
                if created:
                    messages.success(request, f"{self.subject} has a seat of “{licence.product}”.")
                else:
                    messages.info(request, "This learner already holds a seat of that licence.")
                return self._back()
        return self.render_to_response(self.get_context_data(seat_form=form), status=400)


class UserSeatReleaseView(UserPaymentsView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self._refuse_unless_allowed()
        assignment = get_object_or_404(SeatAssignment, pk=kwargs["pk"], user=self.subject)
        if seat_release(assignment=assignment, actor=request.user):  # type: ignore[arg-type]
            messages.success(request, "The seat is taken back; its access has ended.")
        else:
            messages.info(request, "This seat had already been taken back.")
        return self._back()


class UserReceiptView(UserRecordMixin, View):
    """An admin downloads the receipt of one of the user's transactions."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        transaction = selectors.learner_receipt(user=self.subject, pk=kwargs["pk"])
        if transaction is None:
            raise Http404("No such receipt.")
        return _pdf_response(transaction)


# --- the learner's own pages --------------------------------------------------------------------


def _pdf_response(transaction: Transaction) -> HttpResponse:
    response = HttpResponse(receipt_pdf(transaction), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{receipt_filename(transaction)}"'
    return response


class MyPaymentsView(LoginRequiredMixin, TemplateView):
    template_name = "payments/my_payments.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user: User = self.request.user  # type: ignore[assignment]
        context["payments"] = selectors.user_payments(user=user)
        context["can_add_card"] = card_provider() is not None
        return context


class MyReceiptView(LoginRequiredMixin, View):
    """A learner's own receipt (anyone else's is a 404: a learner cannot learn it exists)."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        transaction = selectors.learner_receipt(user=request.user, pk=pk)  # type: ignore[arg-type]
        if transaction is None:
            raise Http404("No such receipt.")
        return _pdf_response(transaction)


class CardSetupStartView(LoginRequiredMixin, View):
    """ "Add a card": off to the provider's hosted page (Stripe Checkout in setup mode)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        provider = card_provider()
        if provider is None:
            raise Http404("Cards are not taken here.")
        back = request.build_absolute_uri(reverse("payments:mine"))
        try:
            page = card_setup_start(
                user=request.user,  # type: ignore[arg-type]
                provider=provider,
                success_url=request.build_absolute_uri(reverse("payments:card_setup_done")),
                cancel_url=back,
            )
        except ProviderError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(reverse("payments:mine"))
        return HttpResponseRedirect(page.url)


class CardSetupDoneView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        messages.success(
            request,
            "Thank you. Your card appears here as soon as the payment provider confirms it.",
        )
        return HttpResponseRedirect(reverse("payments:mine"))


# --- the provider's webhook ---------------------------------------------------------------------


@method_decorator(csrf_exempt, name="dispatch")
class StripeWebhookView(View):
    """Stripe's events: the signature is verified (400 and nothing changed when it is not),
    each event id is applied once, and an event about something unknown is logged and
    answered 200 so that Stripe does not retry it forever."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest) -> HttpResponse:
        if not stripe_enabled():
            return HttpResponse("Stripe is not configured here.", status=400)
        try:
            event = provider_get("stripe").webhook_event(
                payload=request.body, signature=request.headers.get("Stripe-Signature", "")
            )
        except WebhookSignatureError as exc:
            logger.warning("Stripe webhook refused: %s", exc)
            return HttpResponse("Invalid signature.", status=400)
        outcome = stripe_event_apply(event)
        return JsonResponse({"received": True, "outcome": outcome})


# --- the report and the export ------------------------------------------------------------------


class ReportAccessMixin(LoginRequiredMixin, UserPassesTestMixin):
    request: HttpRequest

    def test_func(self) -> bool:
        return can_see_payments_report(self.request.user)  # type: ignore[arg-type]

    def handle_no_permission(self) -> HttpResponseRedirect:
        self.raise_exception = self.request.user.is_authenticated
        return super().handle_no_permission()


class PaymentsReportView(ReportAccessMixin, TemplateView):
    template_name = "payments/report.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = PeriodForm(self.request.GET or None)
        data = form.cleaned_data if form.is_valid() else {}
        rows, totals = selectors.revenue_by_product_month(
            actor=self.request.user,  # type: ignore[arg-type]
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
        context.update(form=form, rows=rows, totals=totals, query=self.request.GET.urlencode())
        return context


class TransactionsExportView(ReportAccessMixin, View):
    """Every transaction of the period the admin may see, as CSV (formula-safe cells)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        form = PeriodForm(request.GET or None)
        if request.GET and not form.is_valid():
            errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
            return HttpResponse(f"Bad period: {errors}", status=400, content_type="text/plain")
        data = form.cleaned_data if form.is_bound else {}
        rows = (
            (
                t.occurred_at.astimezone(timezone.get_current_timezone()).strftime(
                    "%Y-%m-%d %H:%M"
                ),
                t.pk,
                t.get_kind_display(),
                t.get_status_display(),
                t.user.username if t.user else "",
                (t.user.get_full_name() if t.user else "") or "",
                t.order_id or "",
                f"{t.amount // 100}.{t.amount % 100:02d}",
                t.currency,
                format_money(t.amount, t.currency),
                t.get_method_display(),
                t.get_provider_display(),
                t.provider_reference,
                t.refund_of_id or "",
                t.note,
            )
            for t in selectors.transactions_for_export(
                actor=request.user,  # type: ignore[arg-type]
                date_from=data.get("date_from"),
                date_to=data.get("date_to"),
            )
        )
        body = csv_render(
            [
                "Date",
                "Transaction",
                "Kind",
                "Status",
                "Username",
                "Name",
                "Order",
                "Amount",
                "Currency",
                "Amount (formatted)",
                "Method",
                "Provider",
                "Provider reference",
                "Refund of",
                "Note",
            ],
            rows,
        )
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="transactions.csv"'
        return response
