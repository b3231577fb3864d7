"""A user's own profile page, and the page an invitation link opens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.views.generic import FormView

from users.forms import InviteAcceptForm, ProfileForm
from users.models import User
from users.services import SOCIAL_KEYS, profile_update, user_invite_accept
from users.two_factor import two_factor_status


class ProfileView(LoginRequiredMixin, FormView):  # type: ignore[type-arg]
    template_name = "users/profile_edit.html"
    form_class = ProfileForm

    def get_initial(self) -> dict[str, Any]:
        user: User = self.request.user  # type: ignore[assignment]
        return {"bio": user.bio, **{k: user.social_links.get(k, "") for k in SOCIAL_KEYS}}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user: User = self.request.user  # type: ignore[assignment]
        context["person"] = user
        context["two_factor"] = two_factor_status(user)
        context["social_links"] = [
            (key, label, user.social_links.get(key))
            for key, label in (
                ("website", "Website"),
                ("linkedin", "LinkedIn"),
                ("twitter", "X / Twitter"),
                ("facebook", "Facebook"),
            )
            if user.social_links.get(key)
        ]
        return context

    def form_valid(self, form: ProfileForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            kinds = profile_update(
                user=self.request.user,  # type: ignore[arg-type]
                bio=data["bio"],
                social_links={k: data[k] for k in SOCIAL_KEYS},
                avatar=data.get("avatar") or None,
                remove_avatar=bool(data.get("remove_avatar")),
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        if kinds:
            messages.success(self.request, "Your profile was saved.")
        else:
            messages.info(self.request, "Nothing changed.")
        return HttpResponseRedirect(reverse("users:profile"))

    def form_invalid(self, form: ProfileForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class InviteAcceptView(FormView):  # type: ignore[type-arg]
    """The one-time link from an invitation: set a password, then log in."""

    template_name = "users/invite_accept.html"
    form_class = InviteAcceptForm
    invited: User | None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.invited = None
        try:
            pk = int(force_str(urlsafe_base64_decode(kwargs["uidb64"])))
            user = User.objects.get(pk=pk, is_active=True)
        except (TypeError, ValueError, OverflowError, User.DoesNotExist):
            user = None
        if user is not None and default_token_generator.check_token(user, kwargs["token"]):
            self.invited = user
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.invited or User()
        return kwargs

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.invited is None:
            return self.render_to_response({"invalid_link": True}, status=400)
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if self.invited is None:
            return self.render_to_response({"invalid_link": True}, status=400)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: InviteAcceptForm) -> HttpResponse:
        assert self.invited is not None
        try:
            user_invite_accept(user=self.invited, password=form.cleaned_data["new_password1"])
        except ValidationError as error:
            form.add_error("new_password2", error.messages)
            return self.form_invalid(form)
        messages.success(self.request, "Your password is set. Log in to continue.")
        return HttpResponseRedirect(reverse("login"))

    def form_invalid(self, form: InviteAcceptForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)
