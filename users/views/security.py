"""Account security actions: log out everywhere (a user's own, or an admin's on a user's
record) and two-factor authentication (set-up, recovery codes, the login step)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views import View

from users.models import User
from users.permissions import can_edit_user
from users.services import user_sessions_end
from users.views.mixins import UserRecordMixin


class MySessionsEndView(LoginRequiredMixin, View):
    """ "Log out everywhere" from the user's own profile: every session of theirs ends, this one
    included (a stolen session cookie is void from now on)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
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
            return MySessionsEndView.as_view()(request)
        user_sessions_end(user=self.subject, actor=actor)
        messages.success(request, f"{self.subject} was logged out on every device.")
        return HttpResponseRedirect(reverse("users:detail", args=[self.subject.pk]))
