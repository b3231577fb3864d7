"""PDF receipts (WeasyPrint), as certificates are rendered (certifications/certificates.py):
HTML from a template with plain values, no resource but inline `data:` ones."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import get_template
from django.utils import timezone

from payments.models import Transaction, format_money


def _url_fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, timeout=2)


def receipt_number(transaction: Transaction) -> str:
    prefix = "R" if transaction.kind == Transaction.Kind.PAYMENT else "CN"
    return f"{prefix}-{transaction.occurred_at:%Y}-{transaction.pk:06d}"


def receipt_context(transaction: Transaction) -> dict[str, Any]:
    user = transaction.user
    order = transaction.order
    lines = list(order.lines.all()) if order is not None else []
    return {
        "organisation_name": settings.MERIT_ORGANISATION_NAME,
        "number": receipt_number(transaction),
        "is_refund": transaction.kind == Transaction.Kind.REFUND,
        "learner_name": (user.get_full_name() or user.username) if user else "",
        "learner_email": user.email if user else "",
        "occurred_at": transaction.occurred_at,
        "order_number": order.pk if order else None,
        "lines": [
            {
                "name": line.product.name,
                "quantity": line.quantity,
                "amount": format_money(line.amount, order.currency if order else ""),
            }
            for line in lines
        ],
        "amount": transaction.amount_display,
        "method": transaction.get_method_display(),
        "reference": transaction.provider_reference,
        "refund_of": receipt_number(transaction.refund_of) if transaction.refund_of else "",
        "generated_at": timezone.now(),
    }


def receipt_html(transaction: Transaction) -> str:
    return get_template("payments/receipt_pdf.html").render(receipt_context(transaction))


def receipt_pdf(transaction: Transaction) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=receipt_html(transaction), url_fetcher=_url_fetcher()).write_pdf()
    return pdf


def receipt_filename(transaction: Transaction) -> str:
    return f"receipt-{receipt_number(transaction)}.pdf"
