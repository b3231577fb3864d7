"""The admin's users list and its bulk action bar."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views import View
from django.views.generic import FormView, ListView

from lms.jobs import bulk_run
from lms.views import AdminRequiredMixin
from users.bulk_actions import BULK_ACTIONS
from users.forms import BulkConfirmForm, UserAddForm, UserFilterForm
from users.models import User
from users.permissions import can_change_roles
from users.roles import Role, is_super_admin
from users.selectors import (
    departments_visible_to,
    user_groups_all,
    user_list,
    user_list_page,
    users_visible_to,
)
from users.services import user_add, user_selection_create

OWN_BULK_ACTIONS = {
    "disable": "Disable",
    "enable": "Enable",
    "add_to_group": "Add to group",
}


def _bulk_actions_available() -> list[dict[str, str]]:
    """The other apps' bulk actions whose URL exists (see users/bulk_actions.py)."""
    actions = []
    for label, url_name, icon in BULK_ACTIONS:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        actions.append({"label": label, "url": url, "icon": icon, "key": url_name})
    return actions


def _filter_form(request: HttpRequest, data: Any) -> UserFilterForm:
    actor: User = request.user  # type: ignore[assignment]
    return UserFilterForm(
        data, departments=departments_visible_to(actor).order_by("path"), groups=user_groups_all()
    )


def _choice_list(field: Any) -> list[tuple[Any, str]]:
    """A filter field's choices as a list, for users/_filter_select.html (which renders them
    in one loop, not an option template each). Through iter(): list() would first ask a
    ModelChoiceIterator for its len(), which is a COUNT query."""
    return list(iter(field.choices))


def _filtered_users(request: HttpRequest, form: UserFilterForm) -> QuerySet[User]:
    actor: User = request.user  # type: ignore[assignment]
    data = form.cleaned_data if form.is_valid() else {}
    return user_list(
        actor=actor,
        search=data.get("q") or "",
        department=data.get("department"),
        group=data.get("group"),
        role=data.get("role") or "",
        status=data.get("status") or "active",
        sort=data.get("sort") or "name",
    )


class UserListPaginator(Paginator):
    """Pages `user_list()` without a separate COUNT(*): the page's query counts the matches
    too (see `user_list_page`), so a page costs one scan of the matching users, not two. Only an
    empty result, a page past the end and `page=last` (which needs the count first) run a
    plain count."""

    def page(self, number: Any) -> Page:
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        rows, total = user_list_page(
            users=self.object_list,  # type: ignore[arg-type]
            offset=(number - 1) * self.per_page,
            limit=self.per_page,
        )
        if total is not None:
            self.__dict__["count"] = total  # Paginator.count is a cached_property
        number = self.validate_number(number)
        return Page(rows, number, self)


class UserListView(AdminRequiredMixin, ListView):  # type: ignore[type-arg]
    template_name = "users/user_list.html"
    context_object_name = "users"
    paginate_by = 25
    page_sizes = (25, 50, 100)
    paginator_class = UserListPaginator

    def get_paginate_by(self, queryset: Any) -> int:
        try:
            size = int(self.request.GET.get("per_page", self.paginate_by))
        except ValueError:
            size = self.paginate_by
        return size if size in self.page_sizes else self.paginate_by

    def get_queryset(self) -> QuerySet[User]:
        self.filter_form = _filter_form(self.request, self.request.GET or None)
        return _filtered_users(self.request, self.filter_form)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        params = self.request.GET.copy()
        params.pop("page", None)
        sort_params = params.copy()
        sort_params.pop("sort", None)
        current_sort = params.get("sort", "name")
        columns = []
        for key, label in (
            ("name", "Name"),
            ("department", "Department"),
            ("role", "Role"),
            ("last_login", "Last login"),
        ):
            next_sort = f"-{key}" if current_sort == key else key
            sort_params["sort"] = next_sort
            columns.append(
                {
                    "key": key,
                    "label": label,
                    "url": f"?{sort_params.urlencode()}",
                    "active": current_sort.lstrip("-") == key,
                    "descending": current_sort.startswith("-"),
                }
            )
        filter_params = params.copy()
        filter_params.pop("sort", None)
        status = params.get("status", "active")
        disabled_params = params.copy()
        disabled_params["status"] = "active" if status == "disabled" else "disabled"
        size_params = params.copy()
        per_page_links = []
        for size in self.page_sizes:
            size_params["per_page"] = str(size)
            per_page_links.append(
                {
                    "size": size,
                    "url": f"?{size_params.urlencode()}",
                    "active": size == self.get_paginate_by(None),
                }
            )
        context.update(
            {
                "per_page_links": per_page_links,
                "filter_form": self.filter_form,
                "department_choices": _choice_list(self.filter_form.fields["department"]),
                "group_choices": _choice_list(self.filter_form.fields["group"]),
                "query_string": params.urlencode(),
                "filter_params": [(k, v) for k, values in params.lists() for v in values],
                "columns": columns,
                "viewing_disabled": status == "disabled",
                "toggle_disabled_url": f"?{disabled_params.urlencode()}",
                "has_filters": any(params.get(k) for k in ("q", "department", "group", "role")),
                "app_bulk_actions": _bulk_actions_available(),
                "is_super_admin": is_super_admin(self.request.user),  # type: ignore[arg-type]
                "threshold": settings.MERIT_BULK_JOB_THRESHOLD,
            }
        )
        return context


class UserAddView(AdminRequiredMixin, FormView):  # type: ignore[type-arg]
    template_name = "users/user_add.html"
    form_class = UserAddForm

    def get_form_kwargs(self) -> dict[str, Any]:
        actor: User = self.request.user  # type: ignore[assignment]
        return {
            **super().get_form_kwargs(),
            "departments": departments_visible_to(actor).order_by("path"),
            "may_give_roles": can_change_roles(actor),
        }

    def form_valid(self, form: UserAddForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            user = user_add(
                actor=self.request.user,  # type: ignore[arg-type]
                username=data["username"],
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                departments=data["departments"],
                user_groups=data["user_groups"],
                roles=data.get("roles") or [Role.LEARNER],
                send_invite=data["send_invite"],
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return self.form_invalid(form)
        text = f"{user} was added."
        if data["send_invite"]:
            text += f" An invitation was sent to {user.email}."
        messages.success(self.request, text)
        return HttpResponseRedirect(reverse("users:detail", args=[user.pk]))

    def form_invalid(self, form: UserAddForm) -> HttpResponse:
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class UserBulkView(AdminRequiredMixin, View):
    """The bulk bar submits here by GET: the picked users (or every user matching the list's
    filters). Other apps' actions are forwarded to their page with repeated `user_ids`; our own
    actions show a confirmation page, whose POST runs them inline or as a background job.

    Over `forward_ids_at_most` users (a whole page of 100 is still readable), the users are
    kept on the server as a `UserSelection` and forwarded as `?selection=<token>`: thousands
    of `user_ids` exceed what Django accepts in one request (DATA_UPLOAD_MAX_NUMBER_FIELDS)
    and the length of a redirect. The app's page reads either with `selected_user_ids`."""

    forward_ids_at_most = 100

    def get(self, request: HttpRequest) -> HttpResponse:
        actor: User = request.user  # type: ignore[assignment]
        action = request.GET.get("action", "")
        if request.GET.get("all_matching"):
            filters = _filter_form(request, request.GET)
            ids = list(_filtered_users(request, filters).values_list("pk", flat=True))
        else:
            raw = request.GET.getlist("user_ids")
            try:
                wanted = [int(pk) for pk in raw]
            except ValueError:
                wanted = []
            ids = list(
                users_visible_to(actor)
                .filter(pk__in=wanted)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
        back = reverse("users:list")
        if not ids:
            messages.warning(request, "Select at least one user first.")
            return HttpResponseRedirect(back)
        for app_action in _bulk_actions_available():
            if app_action["key"] == action:
                if len(ids) > self.forward_ids_at_most:
                    selection = user_selection_create(actor=actor, user_ids=ids)
                    query = urlencode({"selection": selection.token})
                else:
                    query = urlencode([("user_ids", pk) for pk in ids])
                return HttpResponseRedirect(f"{app_action['url']}?{query}")
        if action not in OWN_BULK_ACTIONS:
            messages.error(request, "Unknown bulk action.")
            return HttpResponseRedirect(back)
        form = BulkConfirmForm(
            initial={"user_ids": ",".join(str(pk) for pk in ids), "action": action}
        )
        return self._render(request, form, action, ids)

    def post(self, request: HttpRequest) -> HttpResponse:
        actor: User = request.user  # type: ignore[assignment]
        form = BulkConfirmForm(request.POST)
        if not form.is_valid():
            action = request.POST.get("action", "")
            if action not in OWN_BULK_ACTIONS:
                messages.error(request, "Unknown bulk action.")
                return HttpResponseRedirect(reverse("users:list"))
            ids = form.cleaned_data.get("user_ids") or []
            return self._render(request, form, action, ids, status=400)
        action = form.cleaned_data["action"]
        ids = form.cleaned_data["user_ids"]
        if action in ("disable", "enable"):
            is_active = action == "enable"
            result = bulk_run(
                kind="users.set_active",
                label=f"{OWN_BULK_ACTIONS[action]} {len(ids)} users",
                item_ids=ids,
                actor=actor,
                params={"is_active": is_active},
            )
            verb = "enabled" if is_active else "disabled"
            count_key = "changed"
        else:
            group = form.cleaned_data["group"]
            result = bulk_run(
                kind="users.add_to_group",
                label=f"Add {len(ids)} users to {group.name}",
                item_ids=ids,
                actor=actor,
                params={"group_id": group.pk},
            )
            verb = f"added to {group.name}"
            count_key = "added"
        if result.is_background:
            assert result.job is not None
            messages.info(request, f"{len(ids)} users are being processed in the background.")
            return HttpResponseRedirect(result.job.get_absolute_url())
        outcome = result.outcome
        assert outcome is not None
        text = f"{outcome.counts[count_key]} users {verb}."
        if outcome.errors:
            text += f" {len(outcome.errors)} skipped: {outcome.errors[0][1]}"
            messages.warning(request, text)
        else:
            messages.success(request, text)
        return HttpResponseRedirect(reverse("users:list"))

    def _render(
        self,
        request: HttpRequest,
        form: BulkConfirmForm,
        action: str,
        ids: list[int],
        status: int = 200,
    ) -> HttpResponse:
        actor: User = request.user  # type: ignore[assignment]
        if action != "add_to_group":
            form.fields["group"].widget = form.fields["group"].hidden_widget()
        preview = list(users_visible_to(actor).filter(pk__in=ids).order_by("last_name")[:10])
        return render(
            request,
            "users/user_bulk_confirm.html",
            {
                "form": form,
                "action": action,
                "action_label": OWN_BULK_ACTIONS[action],
                "count": len(ids),
                "preview": preview,
                "background": len(ids) > settings.MERIT_BULK_JOB_THRESHOLD,
            },
            status=status,
        )
