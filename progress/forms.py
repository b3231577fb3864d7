from __future__ import annotations

from datetime import datetime, time
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils import timezone

from progress.models import Activity, Course, ExternalTraining, LearningPlan

SCOPE_ENTIRE = "entire"
SCOPE_ACTIVITIES = "activities"


def _end_of_day(value: Any) -> datetime | None:
    if not value:
        return None
    return timezone.make_aware(datetime.combine(value, time(23, 59)))


class CoursePickForm(forms.Form):
    """Step one of "Update progress" / "Reset progress": which course (sent as GET)."""

    course = forms.ModelChoiceField(queryset=Course.objects.all(), empty_label="Choose a course…")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class ProgressChangeForm(forms.Form):
    """Step two: the entire course or chosen activities (and, to mark complete, the options)."""

    scope = forms.ChoiceField(
        choices=[
            (SCOPE_ENTIRE, "The entire course"),
            (SCOPE_ACTIVITIES, "Chosen activities"),
        ],
        widget=forms.RadioSelect,
        initial=SCOPE_ENTIRE,
        label="What",
    )
    activities = forms.ModelMultipleChoiceField(
        queryset=Activity.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        error_messages={"invalid_choice": "Activity %(value)s is not part of this course."},
    )
    send_email = forms.BooleanField(
        required=False,
        label="Send a completion email",
        help_text="Learners whose course becomes complete get an email.",
    )
    enroll_missing = forms.BooleanField(
        required=False,
        label="Enroll users who are not enrolled",
        help_text="Without this, users not enrolled in the course are refused and left unchanged.",
    )

    def __init__(self, *args: Any, course: Course, mode: str = "complete", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.course = course
        queryset = (
            Activity.objects.filter(module__course=course)
            .select_related("module")
            .order_by("module__position", "module_id", "position", "id")
        )
        activities: Any = self.fields["activities"]
        activities.queryset = queryset
        activities.label_from_instance = lambda a: (
            f"{a.module.title} · {a.title} ({a.get_kind_display()})"
        )
        if mode == "reset":
            del self.fields["send_email"]
            del self.fields["enroll_missing"]
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("scope") == SCOPE_ACTIVITIES and not data.get("activities"):
            raise forms.ValidationError("Choose at least one activity, or the entire course.")
        return data

    @property
    def chosen_activities(self) -> list[Activity] | None:
        if self.cleaned_data.get("scope") == SCOPE_ENTIRE:
            return None
        return list(self.cleaned_data["activities"])


class AccessAddForm(forms.Form):
    course = forms.ModelChoiceField(queryset=Course.objects.all(), required=False)
    plan = forms.ModelChoiceField(
        queryset=LearningPlan.objects.all(), required=False, label="or a learning plan"
    )
    expires_on = forms.DateField(
        required=False,
        label="Access until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty for access without an end date.",
    )
    mark_complete = forms.BooleanField(
        required=False,
        label="Also mark the entire course complete",
        help_text="For training done before the learner joined Merit.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Add access"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("course")) == bool(data.get("plan")):
            raise forms.ValidationError("Choose either a course or a learning plan.")
        expires_on = data.get("expires_on")
        if expires_on and expires_on < timezone.localdate():
            self.add_error("expires_on", "The access end date cannot be in the past.")
        data["expires_at"] = _end_of_day(expires_on)
        return data


class ExpiryForm(forms.Form):
    expires_on = forms.DateField(
        required=False, label="Access until", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["expires_at"] = _end_of_day(data.get("expires_on"))
        return data


class ExternalTrainingForm(forms.Form):
    training = forms.ModelChoiceField(queryset=ExternalTraining.objects.all())
    completed_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Record training", css_class="btn-outline-primary"))
