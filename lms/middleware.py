from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse

from lms.context import acting_impersonator


class RequestActorMiddleware:
    """Makes the real person behind an impersonated session known to the event log.

    django-hijack keeps the hijacker's primary key first in `hijack_history`."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        impersonator = None
        history = request.session.get("hijack_history") if hasattr(request, "session") else None
        if history:
            impersonator = get_user_model().objects.filter(pk=history[0]).first()
        request.impersonator = impersonator  # type: ignore[attr-defined]
        with acting_impersonator(impersonator):
            return self.get_response(request)


class PermissionsPolicyMiddleware:
    """Sends `Permissions-Policy` (settings.MERIT_PERMISSIONS_POLICY) on every response: Merit
    uses no camera, microphone, location, payment or USB, so no page of it (or anything
    injected into one) may ask the browser for them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        response = self.get_response(request)
        policy = settings.MERIT_PERMISSIONS_POLICY
        if policy:
            response.headers.setdefault("Permissions-Policy", policy)
        return response
