"""Forms validate input and carry their crispy layout; the services do the work."""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from achievements.models import MAX_POINTS_PER_ENTRY, Badge, GamificationSettings
from achievements.rules import RULE_CHOICES
from achievements.services import points_validate_date

CARD_BADGE_COUNTS = [(3, "3"), (6, "6"), (10, "10")]


class PointsForm(forms.Form):
    """Award or remove points: date, points, reason (all required)."""

    awarded_at = forms.DateTimeField(
        label="Date",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%m/%d/%Y %I:%M %p", "%Y-%m-%d"],
    )
    amount = forms.IntegerField(
        label="Points",
        min_value=1,
        max_value=MAX_POINTS_PER_ENTRY,
        error_messages={"invalid": "Points must be a whole number."},
        widget=forms.NumberInput(attrs={"step": 1, "min": 1, "max": MAX_POINTS_PER_ENTRY}),
    )
    reason = forms.CharField(label="Reason", max_length=255, strip=True)

    def __init__(self, *args: Any, submit_label: str = "Award points", **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault(
            "awarded_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        )
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Div(
                Div(Field("awarded_at"), css_class="col-md-4"),
                Div(Field("amount"), css_class="col-md-3"),
                Div(Field("reason"), css_class="col-md-5"),
                css_class="row",
            ),
        )
        self.helper.add_input(Submit("submit", submit_label))

    def clean_awarded_at(self) -> Any:
        try:
            return points_validate_date(self.cleaned_data["awarded_at"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None


class GamificationSettingsForm(forms.ModelForm):
    card_badge_count = forms.TypedChoiceField(
        choices=CARD_BADGE_COUNTS, coerce=int, label="Badges on the card before “view all”"
    )

    class Meta:
        model = GamificationSettings
        fields = [
            "enabled",
            "card_visible",
            "card_position",
            "card_badge_count",
            "module_points",
            "course_points",
        ]
        labels = {"enabled": "Gamification is on for the whole organisation"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Save settings"))


class BadgeForm(forms.ModelForm):
    rule = forms.ChoiceField(choices=RULE_CHOICES, label="Rule: what earns it")
    image_upload = forms.FileField(
        label="Image", required=False, help_text="PNG, JPEG, GIF or WebP; cropped to a square."
    )

    class Meta:
        model = Badge
        fields = ["name", "description", "category", "rule", "threshold", "points", "is_active"]
        labels = {"threshold": "Threshold", "is_active": "Active"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "name",
            "description",
            Div(
                Div("category", css_class="col-md-4"),
                Div("rule", css_class="col-md-5"),
                Div("threshold", css_class="col-md-3"),
                css_class="row",
            ),
            Div(
                Div("points", css_class="col-md-4"),
                Div("image_upload", css_class="col-md-8"),
                css_class="row",
            ),
            "is_active",
        )


class BadgeGrantForm(forms.Form):
    badge = forms.ModelChoiceField(queryset=Badge.objects.filter(is_active=True), label="Award")
    quantity = forms.IntegerField(min_value=1, max_value=100, initial=1)
    content = forms.CharField(
        label="For (content, optional)", required=False, max_length=255, strip=True
    )
    reason = forms.CharField(max_length=255, strip=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.add_input(Submit("submit", "Grant badge"))


class BadgeRevokeForm(forms.Form):
    reason = forms.CharField(max_length=255, strip=True, label="Reason for revoking")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.form_show_labels = False
        self.helper.add_input(Submit("submit", "Revoke", css_class="btn-outline-danger btn-sm"))


class BulkPointsForm(PointsForm):
    direction = forms.ChoiceField(
        choices=[("award", "Award points"), ("remove", "Remove points")],
        widget=forms.RadioSelect,
        initial="award",
        label="Action",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, submit_label="Apply to the selected users", **kwargs)
        self.helper.layout.insert(0, "direction")


class BulkBadgeForm(forms.Form):
    badge = forms.ModelChoiceField(queryset=Badge.objects.filter(is_active=True))
    reason = forms.CharField(max_length=255, strip=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.add_input(Submit("submit", "Grant to the selected users"))


class LeaderboardFilterForm(forms.Form):
    period = forms.ChoiceField(
        choices=[("all", "All time"), ("month", "This month"), ("week", "This week")],
        required=False,
    )
    department: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="All departments"
    )
    group: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="All groups"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from users.models import Department, UserGroup

        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.all()  # type: ignore[attr-defined]
        self.fields["group"].queryset = UserGroup.objects.all()  # type: ignore[attr-defined]
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "row g-2 align-items-end"
        self.helper.layout = Layout(
            Div("period", css_class="col-md-3"),
            Div("department", css_class="col-md-4"),
            Div("group", css_class="col-md-3"),
            Div(
                HTML('<button type="submit" class="btn btn-outline-primary w-100">Show</button>'),
                css_class="col-md-2 mb-3",
            ),
        )


class ContentPointsForm(forms.Form):
    """Custom points for one course and for each of its content items (activities)."""

    course_points = forms.IntegerField(
        label="Points for passing this course",
        required=False,
        min_value=0,
        max_value=MAX_POINTS_PER_ENTRY,
        help_text="Leave empty to use the default.",
    )

    def __init__(self, *args: Any, course: Any, activities: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.activity_fields: list[tuple[str, Any]] = []
        for activity in activities:
            name = f"activity_{activity.pk}"
            self.fields[name] = forms.IntegerField(
                label=f"{activity.module.title} · {activity.title} ({activity.get_kind_display()})",
                required=False,
                min_value=0,
                max_value=MAX_POINTS_PER_ENTRY,
            )
            self.activity_fields.append((name, activity))
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Save points"))

    def activity_points(self) -> dict[int, int | None]:
        return {
            activity.pk: self.cleaned_data.get(name) or None
            for name, activity in self.activity_fields
        }
