from __future__ import annotations

import csv
import io
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

    def __init__(
        self,
        *args: Any,
        course: Course,
        mode: str = "complete",
        complete_for_all: set[int] | frozenset[int] = frozenset(),
        audience: str = "",
        **kwargs: Any,
    ) -> None:
        """`complete_for_all`: the activities every selected learner (`audience`, "all 3
        selected learners" or a name) has completed already; marking them would skip them,
        so the picker says so."""
        super().__init__(*args, **kwargs)
        self.course = course
        queryset = (
            Activity.objects.filter(module__course=course)
            .select_related("module")
            .order_by("module__position", "module_id", "position", "id")
        )
        activities: Any = self.fields["activities"]
        activities.queryset = queryset
        done = f" — already complete for {audience}" if mode == "complete" else ""
        activities.label_from_instance = lambda a: (
            f"{a.module.title} · {a.title} ({a.get_kind_display()})"
            + (done if a.pk in complete_for_all else "")
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
        self.helper.add_input(Submit("submit", "Record training"))


class EnrollForm(forms.Form):
    """Bulk enroll (from the users list) and CSV enroll: the entire course only."""

    course = forms.ModelChoiceField(queryset=Course.objects.all(), empty_label="Choose a course…")
    expires_on = forms.DateField(
        required=False,
        label="Access until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave empty for access without an end date.",
    )
    mark_complete = forms.BooleanField(
        required=False,
        label="Also mark the entire course complete",
        help_text="For training done elsewhere. Completions are labelled “Manually”.",
    )
    send_email = forms.BooleanField(
        required=False,
        label="Send a completion email",
        help_text="Only with “mark complete”: learners whose course becomes complete get an email.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        expires_on = data.get("expires_on")
        if expires_on and expires_on < timezone.localdate():
            self.add_error("expires_on", "The access end date cannot be in the past.")
        data["expires_at"] = _end_of_day(expires_on)
        return data


MAX_CSV_BYTES = 5 * 1024 * 1024


class CsvEnrollForm(EnrollForm):
    file = forms.FileField(
        label="CSV file",
        help_text="One user per row: a column named “email” or “username” (or a single column "
        "of either). Up to 5 MB.",
    )

    field_order = ["file", "course", "expires_on", "mark_complete", "send_email"]

    def clean_file(self) -> list[str]:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB.")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError("The file is not UTF-8 text.") from exc
        rows = [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
        if not rows:
            raise forms.ValidationError("The file is empty.")
        header = [c.strip().lower() for c in rows[0]]
        column = next((header.index(n) for n in ("email", "username") if n in header), None)
        if column is None:
            if len(header) != 1:
                raise forms.ValidationError("Name a column “email” or “username”.")
            column, body = 0, rows
        else:
            body = rows[1:]
        values = [row[column].strip() for row in body if len(row) > column and row[column].strip()]
        if not values:
            raise forms.ValidationError("The file lists no users.")
        return values
