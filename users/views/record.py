"""The admin's user record: the Details tab (and its actions) and the Events tab."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views import View
from django.views.generic import ListView, TemplateView

from lms.event_kinds import ORGANISATION_KINDS, EventKind
from lms.selectors import events_for_user, events_with_details
from users.forms import AdminSetPasswordForm, RoleForm, UserDetailsForm
from users.models import CustomField, User
from users.permissions import can_change_roles, can_edit_user, can_impersonate
from users.selectors import departments_visible_to
from users.services import (
    user_change_roles,
    user_invite_send,
    user_set_password,
    user_update,
    users_set_active,
)
from users.views.mixins import UserRecordMixin


def _add_service_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


class UserDetailView(UserRecordMixin, TemplateView):
    """Details tab: the info form (POST here) plus the password, role, status, invite and
    impersonate actions, which post to their own URLs."""

    template_name = "users/user_detail.html"
    record_tab = "details"

    def _details_form(self, data: Any = None) -> UserDetailsForm:
        actor: User = self.request.user  # type: ignore[assignment]
        subject = self.subject
        initial = {
            "first_name": subject.first_name,
            "last_name": subject.last_name,
            "email": subject.email,
            "username": subject.username,
            "phone": subject.phone,
            "address": subject.address,
            "departments": list(subject.departments.all()),
            "user_groups": list(subject.user_groups.all()),
        }
        return UserDetailsForm(
            data,
            initial=initial,
            subject=subject,
            departments=departments_visible_to(actor).order_by("path"),
            custom_fields=list(CustomField.objects.all()),
        )

    def _password_form(self, data: Any = None) -> AdminSetPasswordForm:
        return AdminSetPasswordForm(
            data, action=reverse("users:set_password", args=[self.subject.pk])
        )

    def _role_form(self, data: Any = None, **kwargs: Any) -> RoleForm:
        return RoleForm(data, action=reverse("users:change_role", args=[self.subject.pk]), **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        actor: User = self.request.user  # type: ignore[assignment]
        subject = self.subject
        context.setdefault("details_form", self._details_form())
        context.setdefault("password_form", self._password_form())
        if can_change_roles(actor):
            context.setdefault(
                "role_form",
                self._role_form(
                    initial={"roles": list(subject.groups.values_list("name", flat=True))}
                ),
            )
        context["can_impersonate"] = can_impersonate(hijacker=actor, hijacked=subject)
        context["is_self"] = actor.pk == subject.pk
        context["can_edit"] = can_edit_user(actor, subject)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor: User = request.user  # type: ignore[assignment]
        form = self._details_form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                changes = user_update(
                    user=self.subject,
                    actor=actor,
                    data={
                        k: data[k]
                        for k in form.fields
                        if not k.startswith("cf_") and k not in ("departments", "user_groups")
                    },
                    departments=_keep_out_of_scope_departments(self.subject, actor, data),
                    user_groups=data["user_groups"],
                    custom_fields=form.custom_values(),
                )
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                if changes:
                    messages.success(request, "The changes were saved.")
                else:
                    messages.info(request, "Nothing changed.")
                return HttpResponseRedirect(reverse("users:detail", args=[self.subject.pk]))
        return self.render_to_response(self.get_context_data(details_form=form), status=400)


def _keep_out_of_scope_departments(subject: User, actor: User, data: dict[str, Any]) -> list[Any]:
    """A department admin only sees their own subtree in the departments field; the user's
    other memberships (outside it) are kept, not silently removed."""
    visible = set(departments_visible_to(actor).values_list("pk", flat=True))
    kept = [d for d in subject.departments.all() if d.pk not in visible]
    return [*kept, *data["departments"]]


class UserSetPasswordView(UserDetailView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = self._password_form(request.POST)
        if form.is_valid():
            try:
                user_set_password(
                    user=self.subject,
                    actor=request.user,  # type: ignore[arg-type]
                    password=form.cleaned_data["new_password"],
                )
            except ValidationError as error:
                form.add_error("new_password", error.messages)
            else:
                if self.subject.pk == request.user.pk:
                    # Django's rule for one's own password: this session goes on, the others end.
                    update_session_auth_hash(request, self.subject)
                    messages.success(request, "The new password is set.")
                else:
                    messages.success(
                        request, f"The new password is set. {self.subject}'s sessions have ended."
                    )
                return HttpResponseRedirect(reverse("users:detail", args=[self.subject.pk]))
        return self.render_to_response(self.get_context_data(password_form=form), status=400)


class UserRoleView(UserDetailView):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor: User = request.user  # type: ignore[assignment]
        if not can_change_roles(actor):
            raise PermissionDenied("Only a super admin can change roles.")
        form = self._role_form(request.POST)
        if form.is_valid():
            try:
                user_change_roles(user=self.subject, actor=actor, roles=form.cleaned_data["roles"])
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                messages.success(request, "The role was changed.")
                return HttpResponseRedirect(reverse("users:detail", args=[self.subject.pk]))
        return self.render_to_response(self.get_context_data(role_form=form), status=400)


class UserSetActiveView(UserRecordMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        actor: User = request.user  # type: ignore[assignment]
        is_active = request.POST.get("is_active") == "1"
        if not can_edit_user(actor, self.subject):
            raise PermissionDenied("This user has more rights than you.")
        if self.subject.pk == actor.pk:
            messages.error(request, "You cannot disable or enable yourself.")
        else:
            changed = users_set_active(users=[self.subject], is_active=is_active, actor=actor)
            if changed:
                messages.success(
                    request,
                    f"{self.subject} is {'enabled' if is_active else 'disabled'}."
                    + ("" if is_active else " Their sessions have ended."),
                )
        return HttpResponseRedirect(reverse("users:detail", args=[self.subject.pk]))


class UserInviteView(UserRecordMixin, View):
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            user_invite_send(user=self.subject, actor=request.user)  # type: ignore[arg-type]
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"An invitation was sent to {self.subject.email}.")
        return HttpResponseRedirect(reverse("users:detail", args=[self.subject.pk]))


class EventFilterForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[
            ("", "All events"),
            *((k, label) for k, label in EventKind.choices if k not in ORGANISATION_KINDS),
        ],
        required=False,
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: date | None = data.get("date_from")
        end: date | None = data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data


class UserEventsView(UserRecordMixin, ListView):  # type: ignore[type-arg]
    template_name = "users/user_events.html"
    record_tab = "events"
    context_object_name = "events"
    paginate_by = 25

    def get_queryset(self) -> Any:
        self.filter_form = EventFilterForm(self.request.GET or None)
        data = self.filter_form.cleaned_data if self.filter_form.is_valid() else {}
        return events_for_user(
            subject=self.subject,
            kind=data.get("kind") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        params = self.request.GET.copy()
        params.pop("page", None)
        context["filter_form"] = self.filter_form
        context["query_string"] = params.urlencode()
        context["events"] = events_with_details(context["events"])
        return context
