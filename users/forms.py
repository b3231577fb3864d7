"""Forms validate input and carry their crispy FormHelper; the work is done by services."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Field, Layout, Row, Submit
from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.contrib.auth.password_validation import password_validators_help_text_html

from users.models import CustomField, Department, User, UserGroup
from users.roles import Role
from users.selectors import STATUS_CHOICES, USER_SORTS


def _department_label(department: Department) -> str:
    return f"{'— ' * department.depth}{department.name}"


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _department_label(obj)


class DepartmentMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return _department_label(obj)


class UserFilterForm(forms.Form):
    """The users list's search and filters (GET)."""

    q = forms.CharField(required=False, label="Search")
    department = DepartmentChoiceField(
        queryset=Department.objects.none(), required=False, empty_label="All departments"
    )
    group = forms.ModelChoiceField(
        queryset=UserGroup.objects.none(), required=False, empty_label="All groups"
    )
    role = forms.ChoiceField(choices=[("", "All roles"), *Role.choices], required=False)
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False, initial="active")
    sort = forms.ChoiceField(choices=[(key, key) for key in USER_SORTS], required=False)

    def __init__(self, *args: Any, departments: Any, groups: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]
        self.fields["group"].queryset = groups  # type: ignore[attr-defined]
        self.fields["q"].widget.attrs.update(
            {"placeholder": "Search name, username or email", "type": "search"}
        )
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class UserDetailsForm(forms.Form):
    """The Details tab: info, departments, groups and the admin-defined custom fields."""

    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(max_length=254)
    username = forms.CharField(max_length=150)
    phone = forms.CharField(max_length=40, required=False)
    address = forms.CharField(max_length=255, required=False)
    departments = DepartmentMultipleChoiceField(
        queryset=Department.objects.none(), required=False, widget=forms.SelectMultiple
    )
    user_groups = forms.ModelMultipleChoiceField(
        queryset=UserGroup.objects.none(),
        required=False,
        label="Groups",
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(
        self,
        *args: Any,
        subject: User,
        departments: Any,
        custom_fields: list[CustomField],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.subject = subject
        self.custom_field_defs = custom_fields
        self.fields["departments"].queryset = departments  # type: ignore[attr-defined]
        self.fields["departments"].widget.attrs["size"] = 6
        self.fields["user_groups"].queryset = UserGroup.objects.all()  # type: ignore[attr-defined]
        if not UserGroup.objects.exists():
            self.fields["user_groups"].help_text = "No groups yet. A super admin creates them."
        custom_names = []
        for field in custom_fields:
            name = f"cf_{field.key}"
            custom_names.append(name)
            self.fields[name] = _custom_form_field(field)
            if not self.is_bound:
                self.initial[name] = subject.custom_fields.get(field.key)
        self.helper = FormHelper()
        self.helper.form_id = "details-form"
        self.helper.layout = Layout(
            Row(Column("first_name"), Column("last_name")),
            Row(Column("email"), Column("username")),
            Row(Column("phone"), Column("address")),
            Row(Column("departments"), Column("user_groups")),
            *(
                [HTML('<h2 class="h6 mt-2 mb-3 text-secondary">Custom fields</h2>')]
                if custom_names
                else []
            ),
            Row(*[Column(Field(name), css_class="col-md-6") for name in custom_names]),
            Submit("save", "Save changes", css_class="btn btn-primary"),
        )

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip()
        taken = User.objects.filter(email__iexact=email).exclude(pk=self.subject.pk)
        if taken.exists():
            raise forms.ValidationError("Another user already has this email address.")
        return email

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"].strip()
        taken = User.objects.filter(username__iexact=username).exclude(pk=self.subject.pk)
        if taken.exists():
            raise forms.ValidationError("Another user already has this username.")
        return username

    def custom_values(self) -> dict[str, Any]:
        return {f.key: self.cleaned_data.get(f"cf_{f.key}") for f in self.custom_field_defs}


def _custom_form_field(field: CustomField) -> forms.Field:
    common: dict[str, Any] = {"label": field.label, "required": field.required}
    if field.kind == CustomField.Kind.NUMBER:
        return forms.DecimalField(**common)
    if field.kind == CustomField.Kind.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if field.kind == CustomField.Kind.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *[(c, c) for c in field.choices]], **common)
    return forms.CharField(max_length=255, **common)


class UserAddForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(max_length=254)
    username = forms.CharField(max_length=150)
    departments = DepartmentMultipleChoiceField(queryset=Department.objects.none(), required=False)
    user_groups = forms.ModelMultipleChoiceField(
        queryset=UserGroup.objects.none(),
        required=False,
        label="Groups",
        widget=forms.CheckboxSelectMultiple,
    )
    roles = forms.MultipleChoiceField(
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=[Role.LEARNER],
        required=False,
    )
    send_invite = forms.BooleanField(
        required=False, initial=True, label="Email an invitation to set a password"
    )

    def __init__(self, *args: Any, departments: Any, may_give_roles: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = departments  # type: ignore[attr-defined]
        self.fields["departments"].widget.attrs["size"] = 6
        self.fields["user_groups"].queryset = UserGroup.objects.all()  # type: ignore[attr-defined]
        if not may_give_roles:
            del self.fields["roles"]
        self.helper = FormHelper()
        self.helper.form_id = "user-add-form"
        self.helper.layout = Layout(
            Row(Column("first_name"), Column("last_name")),
            Row(Column("email"), Column("username")),
            Row(Column("departments"), Column("user_groups")),
            *(["roles"] if may_give_roles else []),
            "send_invite",
            Submit("save", "Add user"),
        )

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("Another user already has this email address.")
        return email

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("Another user already has this username.")
        return username


class AdminSetPasswordForm(forms.Form):
    new_password = forms.CharField(
        label="New password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_id = "password-form"
        self.helper.form_action = action  # its own view, not the Details save of the page
        self.helper.add_input(Submit("set_password", "Set password"))


class RoleForm(forms.Form):
    roles = forms.MultipleChoiceField(
        choices=Role.choices, widget=forms.CheckboxSelectMultiple, label="Roles"
    )

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_id = "role-form"
        self.helper.form_action = action  # its own view, not the Details save of the page
        self.helper.add_input(Submit("change_role", "Change role"))


class InviteAcceptForm(SetPasswordForm):  # type: ignore[type-arg]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Set my password", css_class="btn-primary w-100"))


class BulkConfirmForm(forms.Form):
    """Confirms a bulk action on the users picked on the list."""

    user_ids = forms.CharField(widget=forms.HiddenInput)
    action = forms.ChoiceField(
        choices=[("disable", "Disable"), ("enable", "Enable"), ("add_to_group", "Add to group")],
        widget=forms.HiddenInput,
    )
    group = forms.ModelChoiceField(
        queryset=UserGroup.objects.none(), required=False, empty_label="Choose a group"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = UserGroup.objects.all()  # type: ignore[attr-defined]
        self.helper = FormHelper()
        self.helper.add_input(Submit("confirm", "Confirm", css_class="btn-primary"))

    def clean_user_ids(self) -> list[int]:
        raw = self.cleaned_data["user_ids"]
        try:
            return [int(pk) for pk in raw.split(",") if pk.strip()]
        except ValueError:
            raise forms.ValidationError("The selection is invalid.") from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == "add_to_group" and not data.get("group"):
            self.add_error("group", "Pick the group to add the users to.")
        return data


class ProfileForm(forms.Form):
    bio = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        required=False,
        max_length=2000,
        help_text="A few lines about you, shown on your profile.",
    )
    avatar = forms.FileField(
        required=False,
        label="Profile picture",
        help_text="JPEG, PNG, GIF or WebP, at most 5 MB. It is cropped to a square.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )
    remove_avatar = forms.BooleanField(required=False, label="Remove my picture")
    website = forms.URLField(required=False, assume_scheme="https")
    linkedin = forms.URLField(required=False, label="LinkedIn", assume_scheme="https")
    twitter = forms.URLField(required=False, label="X / Twitter", assume_scheme="https")
    facebook = forms.URLField(required=False, assume_scheme="https")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_id = "profile-form"
        self.helper.attrs = {"enctype": "multipart/form-data"}
        self.helper.layout = Layout(
            "bio",
            Row(Column("avatar"), Column(Div("remove_avatar", css_class="pt-md-4"))),
            HTML('<h2 class="h6 mt-2 mb-3 text-secondary">Social links</h2>'),
            Row(Column("website"), Column("linkedin")),
            Row(Column("twitter"), Column("facebook")),
            Submit("save", "Save profile", css_class="btn btn-primary"),
        )


class DepartmentForm(forms.Form):
    name = forms.CharField(max_length=120)
    parent = DepartmentChoiceField(
        queryset=Department.objects.none(), required=False, empty_label="(top level)"
    )

    def __init__(self, *args: Any, submit_label: str = "Save", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Department.objects.order_by("path")  # type: ignore[attr-defined]
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", submit_label, css_class="btn-primary"))


class UserGroupForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, submit_label: str = "Create group", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", submit_label, css_class="btn-primary"))


class CustomFieldForm(forms.Form):
    label = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=CustomField.Kind.choices, label="Type")
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For a choice field: one choice per line.",
    )
    required = forms.BooleanField(required=False)
    position = forms.IntegerField(min_value=0, initial=0)

    def __init__(self, *args: Any, submit_label: str = "Save", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("save", submit_label, css_class="btn-primary"))

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["choices"].splitlines() if line.strip()]


class TwoFactorCodeForm(forms.Form):
    """One code: the 6 digits of an authenticator app, or a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
