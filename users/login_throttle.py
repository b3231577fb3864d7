"""Login throttling on django-axes (README "Security").

A lock is per (username, IP address): after `AXES_FAILURE_LIMIT` wrong passwords for one
account from one address, that address cannot log in to that account until the cool-off
(`AXES_COOLOFF_TIME`) has passed, even with the right password. The same account can still log
in from anywhere else, so an attacker who guesses an admin's username cannot lock the admin out
for good. An address that fails `MERIT_LOGIN_IP_FAILURE_LIMIT` times over any accounts (a
higher limit: an office behind one NAT mistypes too) is locked for every account. Unknown
usernames are counted and answered exactly like known ones, so a lock says nothing about
whether an account exists."""

from __future__ import annotations

import math
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with `MERIT_TRUSTED_PROXY_COUNT` proxies in front
    of Merit the address the outermost trusted proxy saw (that many entries from the right of
    X-Forwarded-For; anything further left is the client's to forge)."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    proxies = settings.MERIT_TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if part.strip()
    ]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]


def client_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The name typed at login, as the backend matches it (case-insensitively), so "Admin" and
    "ADMIN" count against one lock."""
    source: Any = credentials if credentials else request.POST
    return str(source.get("username") or "").strip().lower()


class MeritAxesHandler(AxesDatabaseHandler):
    """Axes' database handler with a second, higher limit per IP address over all usernames."""

    def is_locked(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        ip_address = getattr(request, "axes_ip_address", None) or client_ip(request)
        cool_off = get_cool_off(request)
        attempts = AccessAttempt.objects.filter(ip_address=ip_address)
        if cool_off is not None:
            attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
        failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
        return bool(failures >= settings.MERIT_LOGIN_IP_FAILURE_LIMIT)


class LoginThrottleBackend(AxesStandaloneBackend):
    """Axes' check before the password backends. An authentication without a request (a
    management command, a shell, the test client's `login()`) is not a login over HTTP and has
    no address to throttle: it is left to the next backend."""

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        super().authenticate(request, username=username, password=password, **kwargs)
        return None


def cool_off_minutes() -> int:
    cool_off = get_cool_off()
    return max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 0


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The login page again, with one clear message and 429 Too Many Requests; the same for a
    known and an unknown username."""
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    message = (
        "Too many failed logins. For your security, logging in to this account from here is "
        f"paused for {cool_off_minutes()} minutes. Try again later, or ask an administrator to "
        "reset your password."
    )
    return render(
        request,
        "registration/login.html",
        {"form": form, "lockout_message": message, "next": request.POST.get("next", "")},
        status=429,
    )
