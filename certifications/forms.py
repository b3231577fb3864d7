"""Forms validate input and carry their crispy FormHelper; the work is in services."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Field, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from certifications.certificates import CertificateRenderError, design_check
from certifications.models import Certification, CertificationAward
from progress.models import Course, ExternalTraining, LearningPlan
from users.models import Department, User, UserGroup
from users.selectors import departments_visible_to, user_selection_ids, users_visible_to

Association = CertificationAward.Association
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CertificationForm(forms.ModelForm):
    always_valid = forms.BooleanField(required=False, label="Always valid (never expires)")

    class Meta:
        model = Certification
        fields = [
            "title",
            "description",
            "validity_days",
            "always_valid",
            "renewal_window_days",
            "courses",
            "learning_plans",
            "external_trainings",
            "design_html",
        ]
        labels = {
            "validity_days": "Valid for (days)",
            "renewal_window_days": "Renewal window (days before expiry)",
            "courses": "Courses that award it on completion",
            "learning_plans": "Learning plans that award it on completion",
            "external_trainings": "External training activities that award it",
            "design_html": "Custom certificate design",
        }
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "design_html": forms.Textarea(attrs={"rows": 6, "class": "font-monospace"}),
            "courses": forms.SelectMultiple(attrs={"size": 6}),
            "learning_plans": forms.SelectMultiple(attrs={"size": 4}),
            "external_trainings": forms.SelectMultiple(attrs={"size": 4}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["courses"].queryset = Course.objects.order_by("title")  # type: ignore[attr-defined]
        self.fields["learning_plans"].queryset = LearningPlan.objects.order_by("title")  # type: ignore[attr-defined]
        self.fields["external_trainings"].queryset = ExternalTraining.objects.order_by("title")  # type: ignore[attr-defined]
        if self.instance.pk and self.instance.validity_days is None:
            self.initial["always_valid"] = True
        self.helper = FormHelper()
        self.helper.layout = Layout(
            "title",
            "description",
            Div(
                Div("validity_days", css_class="col-md-4"),
                Div(Field("always_valid"), css_class="col-md-4 pt-md-4"),
                Div("renewal_window_days", css_class="col-md-4"),
                css_class="row",
            ),
            Div(
                Div("courses", css_class="col-md-4"),
                Div("learning_plans", css_class="col-md-4"),
                Div("external_trainings", css_class="col-md-4"),
                css_class="row",
            ),
            "design_html",
            Submit("save", "Save certification"),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("always_valid"):
            data["validity_days"] = None
        elif not data.get("validity_days"):
            self.add_error("validity_days", "Give the number of days, or choose “Always valid”.")
        try:
            design_check(data.get("design_html") or "")
        except CertificateRenderError as exc:
            self.add_error("design_html", str(exc))
        return data


def _parse_logins(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()]


class AwardSelectionForm(forms.Form):
    """Step 1 of Award Users: which certification, and users, groups and branches. Users
    picked in the users list come as `user_ids`, or over 100 as the token of their
    `UserSelection` (`selection`), which step 2 reads again like a group."""

    certification = forms.ModelChoiceField(queryset=Certification.objects.none())
    user_ids = forms.TypedMultipleChoiceField(
        required=False, coerce=int, widget=forms.MultipleHiddenInput
    )
    selection = forms.CharField(required=False, widget=forms.HiddenInput)
    logins = forms.CharField(
        required=False,
        label="Users",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "anna, earl@example.com"}),
        help_text="Usernames or emails, separated by commas or new lines.",
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=UserGroup.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 5}),
    )
    departments = forms.ModelMultipleChoiceField(
        queryset=Department.objects.none(),
        required=False,
        label="Branches (with their sub-branches)",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["certification"].queryset = Certification.objects.order_by("title")  # type: ignore[attr-defined]
        self.fields["groups"].queryset = UserGroup.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["departments"].queryset = departments_visible_to(actor).order_by("path")  # type: ignore[attr-defined]
        self.fields["departments"].label_from_instance = (  # type: ignore[attr-defined]
            lambda d: "\u2003" * d.depth + d.name  # indent by depth
        )
        choices = self.data.getlist("user_ids") if hasattr(self.data, "getlist") else []
        choices = [*choices, *self.initial.get("user_ids", [])]
        self.fields["user_ids"].choices = [(c, c) for c in choices]  # type: ignore[attr-defined]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "certification",
            "user_ids",
            "selection",
            "logins",
            Div(
                Div("groups", css_class="col-md-6"),
                Div("departments", css_class="col-md-6"),
                css_class="row",
            ),
        )

    def clean_user_ids(self) -> list[int]:
        ids = [int(pk) for pk in self.cleaned_data.get("user_ids") or []]
        visible = set(users_visible_to(self.actor).filter(pk__in=ids).values_list("pk", flat=True))
        unknown = [pk for pk in ids if pk not in visible]
        if unknown:
            raise ValidationError(
                "Some selected users do not exist or are outside your departments."
            )
        return ids

    def clean_selection(self) -> str:
        """The token of the actor's own selection; someone else's, an unknown or an expired
        one selects nobody (so an otherwise empty form asks for users, as usual)."""
        token = self.cleaned_data.get("selection") or ""
        return token if user_selection_ids(actor=self.actor, token=token) else ""

    def clean_logins(self) -> list[int]:
        logins = _parse_logins(self.cleaned_data.get("logins") or "")
        if not logins:
            return []
        lowered = sorted({login.lower() for login in logins})
        found = (
            users_visible_to(self.actor)
            .annotate(username_lower=Lower("username"), email_lower=Lower("email"))
            .filter(Q(username_lower__in=lowered) | Q(email_lower__in=lowered))
            .values_list("pk", "username_lower", "email_lower")
        )
        ids, known = [], set()
        for pk, username, email in found:
            ids.append(pk)
            known.update({username, email})
        missing = sorted(set(lowered) - known)
        if missing:
            raise ValidationError(f"Unknown users: {', '.join(missing)}.")
        return ids

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and not (
            data.get("user_ids")
            or data.get("selection")
            or data.get("logins")
            or data.get("groups")
            or data.get("departments")
        ):
            raise ValidationError("Choose at least one user, group or branch.")
        return data

    def wizard_selection(self) -> dict[str, Any]:
        """What step 2 reads from the session. A selection from the users list stays a token
        (step 2 reads its ids again): thousands of ids would ride in every request's session."""
        data = self.cleaned_data
        return {
            "certification_id": data["certification"].pk,
            "user_ids": sorted({*data["user_ids"], *data["logins"]}),
            "selection": data["selection"],
            "group_ids": [g.pk for g in data["groups"]],
            "department_ids": [d.pk for d in data["departments"]],
        }


class AwardTermsForm(forms.Form):
    """Step 2 of Award Users (and the user record's "issue by hand"): dates and association."""

    issued_on = forms.DateField(label="Issue date", widget=DATE_WIDGET)
    expires_on = forms.DateField(
        label="Expiration date",
        required=False,
        widget=DATE_WIDGET,
        help_text="Empty: the certification's validity from the issue date.",
    )
    always_valid = forms.BooleanField(required=False, label="Always valid")
    association = forms.ChoiceField(label="Association type", choices=Association.choices)
    external_training = forms.ModelChoiceField(
        queryset=ExternalTraining.objects.none(),
        required=False,
        label="External training activity",
    )

    def __init__(self, *args: Any, submit_label: str = "Confirm", **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("issued_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["external_training"].queryset = ExternalTraining.objects.order_by("title")  # type: ignore[attr-defined]
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Div(
                Div("issued_on", css_class="col-md-4"),
                Div("expires_on", css_class="col-md-4"),
                Div(Field("always_valid"), css_class="col-md-4 pt-md-4"),
                css_class="row",
            ),
            Div(
                Div("association", css_class="col-md-6"),
                Div("external_training", css_class="col-md-6"),
                css_class="row",
            ),
            Submit("confirm", submit_label),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        issued, expires = data.get("issued_on"), data.get("expires_on")
        if data.get("always_valid"):
            data["expires_on"] = None
        elif issued and expires and expires < issued:
            self.add_error("expires_on", "The expiration date cannot be before the issue date.")
        if data.get("association") == Association.EXTERNAL and not data.get("external_training"):
            self.add_error("external_training", "Choose the external training activity.")
        return data


class IssueByHandForm(AwardTermsForm):
    certification = forms.ModelChoiceField(queryset=Certification.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, submit_label="Issue certificate", **kwargs)
        self.fields["certification"].queryset = Certification.objects.order_by("title")  # type: ignore[attr-defined]
        # a narrow side card: one field per line
        self.helper.layout = Layout(
            "certification",
            Div(
                Div("issued_on", css_class="col-6"),
                Div("expires_on", css_class="col-6"),
                css_class="row",
            ),
            Field("always_valid"),
            "association",
            "external_training",
            Submit("confirm", "Issue certificate"),
        )


class AwardEditForm(AwardTermsForm):
    def __init__(self, *args: Any, award: CertificationAward, **kwargs: Any) -> None:
        kwargs["initial"] = {
            "issued_on": award.issued_on,
            "expires_on": award.expires_on,
            "always_valid": award.expires_on is None,
            "association": award.association,
            "external_training": award.external_training,
        }
        super().__init__(*args, submit_label="Save changes", **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("always_valid") and not data.get("expires_on") and not self.errors:
            self.add_error("expires_on", "Give an expiration date or choose “Always valid”.")
        return data


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: username or email, issue date (YYYY-MM-DD), expiration date "
        "(YYYY-MM-DD, “always”, or empty for the certification's validity), association type "
        "(manual, completion, external), external activity. A header row is optional.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.layout = Layout("file", Submit("upload", "Check file"))
