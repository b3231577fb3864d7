from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse


class DisabledUserLogoutMiddleware:
    """A user disabled while logged in is logged out on their next request (their sessions are
    also deleted when they are disabled; this covers a session created in between)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_active:
            logout(request)
        return self.get_response(request)


class SessionIdleTimeoutMiddleware:
    """Ends a session that saw no request for longer than its idle timeout: admins'
    (settings.MERIT_SESSION_IDLE_HOURS_ADMIN, an impersonating admin's included) and learners'
    (MERIT_SESSION_IDLE_HOURS_LEARNER) apart. The last request's time is written at most once a
    minute, so a busy admin does not cost a session write per request. The session (row and
    cookie) is kept a little longer than the timeout (`GRACE`), so that the request that comes
    too late still finds it and can say why the person was logged out."""

    SESSION_KEY = "merit_last_seen"
    WRITE_EVERY = 60  # seconds
    GRACE = 600  # seconds

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            timeout = idle_timeout_seconds(request)
            now = int(time.time())
            last_seen = request.session.get(self.SESSION_KEY)
            if isinstance(last_seen, int) and now - last_seen > timeout:
                logout(request)
                hours = timeout / 3600
                messages.info(
                    request,
                    f"You were logged out after {hours:g} hours without activity. "
                    "Log in again to go on.",
                )
            elif not isinstance(last_seen, int) or now - last_seen >= self.WRITE_EVERY:
                request.session[self.SESSION_KEY] = now
                request.session.set_expiry(timeout + self.GRACE)
        return self.get_response(request)


def session_activity_start(*, request: HttpRequest | None, user: Any, **_: Any) -> None:
    """A login is activity: the idle clock and the session's expiry start with it (so the
    first request after logging in need not write the session again)."""
    if request is None or not hasattr(request, "session"):
        return
    request.user = user
    request.session[SessionIdleTimeoutMiddleware.SESSION_KEY] = int(time.time())
    request.session.set_expiry(idle_timeout_seconds(request) + SessionIdleTimeoutMiddleware.GRACE)


def idle_timeout_seconds(request: HttpRequest) -> int:
    from django.conf import settings

    from users.roles import user_admin_role

    admin = bool(request.session.get("hijack_history")) or (
        user_admin_role(request.user) is not None  # type: ignore[arg-type]
    )
    hours = (
        settings.MERIT_SESSION_IDLE_HOURS_ADMIN
        if admin
        else settings.MERIT_SESSION_IDLE_HOURS_LEARNER
    )
    return int(hours * 3600)


class TwoFactorRequiredMiddleware:
    """Someone whose role requires two-factor authentication (settings.MERIT_REQUIRE_2FA_FOR)
    and whose session has not passed a second factor goes nowhere but the set-up page (no
    device yet) or the code step (a device, not yet used in this session), and log out. An
    impersonated session is the impersonator's, who could only start it verified."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings
        from django.shortcuts import redirect
        from django.urls import reverse

        from users.two_factor import two_factor_enabled, two_factor_required, two_factor_verified

        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and settings.MERIT_REQUIRE_2FA_FOR
            and not request.session.get("hijack_history")
            and two_factor_required(user)
            and not two_factor_verified(user)
        ):
            open_paths = {reverse("users:two_factor"), reverse("two_factor_verify")}
            open_paths.add(reverse("logout"))
            media = "/" + settings.MEDIA_URL.lstrip("/")
            if request.path not in open_paths and not request.path.startswith(media):
                if two_factor_enabled(user):
                    return redirect("two_factor_verify")
                if request.method == "GET":
                    messages.warning(
                        request,
                        "Your role requires two-factor authentication: set it up to go on.",
                    )
                return redirect("users:two_factor")
        return self.get_response(request)
