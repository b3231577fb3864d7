"""Account security actions: log out everywhere (a user's own, or an admin's on a user's
record) and two-factor authentication (set-up, recovery codes, the login step)."""

from __future__ import annotations

import time
from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views import View
from django.views.generic import FormView
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from users.forms import TwoFactorCodeForm
from users.models import User
from users.permissions import can_edit_user
from users.services import user_sessions_end
from users.two_factor import (
    recovery_codes_left,
    totp_qr_data_uri,
    totp_secret_base32,
    two_factor_check,
    two_factor_disable,
    two_factor_enabled,
    two_factor_recovery_codes_create,
    two_factor_required,
    two_factor_setup_confirm,
    two_factor_setup_start,
    two_factor_verified,
    two_factor_wait_seconds,
)
from users.views.mixins import UserRecordMixin

# The login in progress between the password and the code: who, through which backend, where
# to go next, since when, and how many wrong codes so far.
PENDING_KEY = "merit_2fa_pending"
PENDING_SECONDS = 300
MAX_CODE_TRIES = 5


class MySessionsEndView(LoginRequiredMixin, View):
    """ "Log out everywhere" from the user's own profile: every session of theirs ends, this one
    included (a stolen session cookie is void from now on)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return _end_own_sessions(request)


def _end_own_sessions(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    user_sessions_end(user=user, actor=user)
    logout(request)
    messages.success(request, "You were logged out on every device. Log in again to go on.")
    return HttpResponseRedirect(reverse("login"))


class UserSessionsEndView(UserRecordMixin, View):
    """ "Log out everywhere" on a user's record: every session of that user ends."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor: User = request.user  # type: ignore[assignment]
        if not can_edit_user(actor, self.subject):
            raise PermissionDenied("This user has more rights than you.")
        if self.subject.pk == actor.pk:
            return _end_own_sessions(request)
        user_sessions_end(user=self.subject, actor=actor)
        messages.success(request, f"{self.subject} was logged out on every device.")
        return HttpResponseRedirect(reverse("users:detail", args=[self.subject.pk]))


class MeritLoginView(LoginView):
    """Django's login page; someone with two-factor authentication set up is not logged in yet
    after their password, but sent to the code step."""

    def form_valid(self, form: Any) -> HttpResponse:
        user: User = form.get_user()
        if not two_factor_enabled(user):
            return super().form_valid(form)
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {
            "user_id": user.pk,
            "backend": user.backend,  # type: ignore[attr-defined]
            "next": self.get_success_url(),
            "since": int(time.time()),
            "tries": 0,
        }
        return HttpResponseRedirect(reverse("two_factor_verify"))


class TwoFactorVerifyView(FormView):  # type: ignore[type-arg]
    """The code step: after the password at login, or later in a session that has no verified
    second factor yet and needs one (the set-up pages send people here)."""

    template_name = "registration/two_factor_verify.html"
    form_class = TwoFactorCodeForm
    person: User | None
    pending: dict[str, Any] | None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.pending = request.session.get(PENDING_KEY)
        self.person = None
        if self.pending and time.time() - self.pending["since"] <= PENDING_SECONDS:
            self.person = User.objects.filter(pk=self.pending["user_id"], is_active=True).first()
        elif request.user.is_authenticated:
            self.pending = None
            if two_factor_enabled(request.user) and not two_factor_verified(request.user):  # type: ignore[arg-type]
                self.person = request.user  # type: ignore[assignment]
            else:
                return HttpResponseRedirect(reverse("home"))
        if self.person is None:
            request.session.pop(PENDING_KEY, None)
            messages.info(request, "Log in again: the code step timed out.")
            return HttpResponseRedirect(reverse("login"))
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form: TwoFactorCodeForm) -> HttpResponse:
        assert self.person is not None
        wait = two_factor_wait_seconds(self.person)  # still waiting after an earlier wrong code
        device = two_factor_check(user=self.person, token=form.cleaned_data["code"])
        if device is None:
            if self.pending is not None:
                self.pending["tries"] += 1
                if self.pending["tries"] >= MAX_CODE_TRIES:
                    self.request.session.pop(PENDING_KEY, None)
                    messages.error(self.request, "Too many wrong codes. Log in again.")
                    return HttpResponseRedirect(reverse("login"))
                self.request.session[PENDING_KEY] = self.pending
            form.add_error(
                "code",
                f"Too many wrong codes: wait {wait} second{'s' if wait != 1 else ''} and try again."
                if wait
                else "That code is not right, or it was already used.",
            )
            return self.form_invalid(form)
        next_url = reverse("home")
        if self.pending is not None:
            self.request.session.pop(PENDING_KEY, None)
            next_url = self.pending["next"]
            # django-otp marks the session verified on login when the user carries the device.
            self.person.otp_device = device  # type: ignore[attr-defined]
            login(self.request, self.person, backend=self.pending["backend"])
        else:
            otp_login(self.request, device)
        if isinstance(device, StaticDevice):
            messages.warning(
                self.request,
                f"You used a recovery code; {recovery_codes_left(self.person)} are left. "
                "Make new ones from your profile when you run low.",
            )
        return HttpResponseRedirect(next_url)

    def form_invalid(self, form: TwoFactorCodeForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class TwoFactorManageView(LoginRequiredMixin, View):
    """The user's own two-factor page (from the profile): set up an authenticator app (QR code
    and key, confirmed by a code), then make new recovery codes or turn it off."""

    template_name = "users/two_factor.html"

    def _render(self, request: HttpRequest, status: int = 200, **context: Any) -> HttpResponse:
        user: User = request.user  # type: ignore[assignment]
        enabled = two_factor_enabled(user)
        context.setdefault("form", TwoFactorCodeForm())
        context.update(
            enabled=enabled,
            required=two_factor_required(user),
            codes_left=recovery_codes_left(user) if enabled else 0,
        )
        if not enabled:
            device = two_factor_setup_start(user=user)
            context.update(qr_code=totp_qr_data_uri(device), secret=totp_secret_base32(device))
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._render(request)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user: User = request.user  # type: ignore[assignment]
        form = TwoFactorCodeForm(request.POST)
        action = request.POST.get("action")
        if not form.is_valid():
            return self._render(request, status=400, form=form)
        code = form.cleaned_data["code"]
        try:
            if action == "confirm":
                device, codes = two_factor_setup_confirm(user=user, token=code)
                otp_login(request, device)  # this session has just shown the second factor
                return self._render(request, new_codes=codes, just_enabled=True)
            if action == "codes":
                codes = two_factor_recovery_codes_create(user=user, token=code)
                return self._render(request, new_codes=codes)
            if action == "disable":
                two_factor_disable(user=user, token=code)
                messages.success(request, "Two-factor authentication is off.")
                return HttpResponseRedirect(reverse("users:profile"))
        except ValidationError as error:
            form.add_error("code", error.messages)
            return self._render(request, status=400, form=form)
        form.add_error(None, "Choose what to do.")
        return self._render(request, status=400, form=form)
