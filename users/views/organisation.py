"""Super-admin pages for the organisation: departments, groups and custom user fields."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import FormView

from lms.event_kinds import CUSTOM_FIELD_KINDS, DEPARTMENT_KINDS, GROUP_KINDS
from lms.selectors import events_of_kinds
from lms.views import AdminRequiredMixin
from users.forms import CustomFieldForm, DepartmentForm, UserGroupForm
from users.models import CustomField, Department, User, UserGroup
from users.roles import is_super_admin
from users.selectors import departments_tree, user_groups_with_counts
from users.services import (
    custom_field_delete,
    custom_field_save,
    department_create,
    department_delete,
    department_update,
    user_group_create,
    user_group_delete,
    user_group_update,
)


class SuperAdminRequiredMixin(AdminRequiredMixin):
    def test_func(self) -> bool:
        user: User = self.request.user  # type: ignore[assignment]
        return bool(user.is_active and is_super_admin(user))


def _apply_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


class DepartmentListView(SuperAdminRequiredMixin, FormView):  # type: ignore[type-arg]
    """The tree, and a form to add a department."""

    template_name = "users/department_list.html"
    form_class = DepartmentForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "submit_label": "Add department"}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["departments"] = departments_tree()
        context["events"] = events_of_kinds(kinds=DEPARTMENT_KINDS)
        return context

    def form_valid(self, form: DepartmentForm) -> HttpResponse:
        try:
            department = department_create(
                name=form.cleaned_data["name"],
                parent=form.cleaned_data["parent"],
                actor=self.request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            _apply_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Department “{department.name}” was created.")
        return HttpResponseRedirect(reverse("users:department_list"))

    def form_invalid(self, form: DepartmentForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class DepartmentEditView(SuperAdminRequiredMixin, FormView):  # type: ignore[type-arg]
    """Rename a department or move it under another parent."""

    template_name = "users/department_edit.html"
    form_class = DepartmentForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.department = get_object_or_404(Department, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "submit_label": "Save"}

    def get_initial(self) -> dict[str, Any]:
        return {"name": self.department.name, "parent": self.department.parent}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "department": self.department}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "delete" in request.POST:
            try:
                department_delete(department=self.department, actor=request.user)  # type: ignore[arg-type]
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                return HttpResponseRedirect(request.path)
            messages.success(request, f"Department “{self.department.name}” was deleted.")
            return HttpResponseRedirect(reverse("users:department_list"))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: DepartmentForm) -> HttpResponse:
        try:
            department_update(
                department=self.department,
                name=form.cleaned_data["name"],
                parent=form.cleaned_data["parent"],
                actor=self.request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            _apply_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, "The department was saved.")
        return HttpResponseRedirect(reverse("users:department_list"))

    def form_invalid(self, form: DepartmentForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class UserGroupListView(SuperAdminRequiredMixin, FormView):  # type: ignore[type-arg]
    template_name = "users/group_list.html"
    form_class = UserGroupForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "groups": user_groups_with_counts(),
            "events": events_of_kinds(kinds=GROUP_KINDS),
        }

    def form_valid(self, form: UserGroupForm) -> HttpResponse:
        try:
            group = user_group_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                actor=self.request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            _apply_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Group “{group.name}” was created.")
        return HttpResponseRedirect(reverse("users:group_list"))

    def form_invalid(self, form: UserGroupForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class UserGroupEditView(SuperAdminRequiredMixin, FormView):  # type: ignore[type-arg]
    """Rename a group, change its description, or delete it."""

    template_name = "users/group_edit.html"
    form_class = UserGroupForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.group = get_object_or_404(UserGroup, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "submit_label": "Save"}

    def get_initial(self) -> dict[str, Any]:
        return {"name": self.group.name, "description": self.group.description}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "group": self.group}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "delete" in request.POST:
            members = user_group_delete(group=self.group, actor=request.user)  # type: ignore[arg-type]
            messages.success(
                request,
                f"Group “{self.group.name}” was deleted; its {members} member(s) were kept.",
            )
            return HttpResponseRedirect(reverse("users:group_list"))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: UserGroupForm) -> HttpResponse:
        try:
            user_group_update(
                group=self.group,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                actor=self.request.user,  # type: ignore[arg-type]
            )
        except ValidationError as error:
            _apply_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, "The group was saved.")
        return HttpResponseRedirect(reverse("users:group_list"))

    def form_invalid(self, form: UserGroupForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class CustomFieldListView(SuperAdminRequiredMixin, FormView):  # type: ignore[type-arg]
    template_name = "users/customfield_list.html"
    form_class = CustomFieldForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "submit_label": "Add field"}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {
            **super().get_context_data(**kwargs),
            "fields": CustomField.objects.all(),
            "events": events_of_kinds(kinds=CUSTOM_FIELD_KINDS),
        }

    def form_valid(self, form: CustomFieldForm) -> HttpResponse:
        try:
            field = custom_field_save(
                actor=self.request.user,  # type: ignore[arg-type]
                label=form.cleaned_data["label"],
                kind=form.cleaned_data["kind"],
                choices=form.choice_list(),
                required=form.cleaned_data["required"],
                position=form.cleaned_data["position"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, f"Custom field “{field.label}” was added.")
        return HttpResponseRedirect(reverse("users:customfield_list"))

    def form_invalid(self, form: CustomFieldForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class CustomFieldEditView(SuperAdminRequiredMixin, FormView):  # type: ignore[type-arg]
    template_name = "users/customfield_edit.html"
    form_class = CustomFieldForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.field = get_object_or_404(CustomField, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        return {
            "label": self.field.label,
            "kind": self.field.kind,
            "choices": "\n".join(self.field.choices),
            "required": self.field.required,
            "position": self.field.position,
        }

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "field": self.field}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "delete" in request.POST:
            custom_field_delete(actor=request.user, field=self.field)  # type: ignore[arg-type]
            messages.success(request, f"Custom field “{self.field.label}” was removed.")
            return HttpResponseRedirect(reverse("users:customfield_list"))
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: CustomFieldForm) -> HttpResponse:
        try:
            custom_field_save(
                actor=self.request.user,  # type: ignore[arg-type]
                field=self.field,
                label=form.cleaned_data["label"],
                kind=form.cleaned_data["kind"],
                choices=form.choice_list(),
                required=form.cleaned_data["required"],
                position=form.cleaned_data["position"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
            return self.form_invalid(form)
        messages.success(self.request, "The custom field was saved.")
        return HttpResponseRedirect(reverse("users:customfield_list"))

    def form_invalid(self, form: CustomFieldForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)
