"""Thin views: each validates a form, calls one service and redirects with a message."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, ListView, TemplateView

from lms.csv_safety import csv_render
from lms.jobs import bulk_run
from lms.views import AdminRequiredMixin
from progress import selectors
from progress.forms import (
    AccessAddForm,
    CoursePickForm,
    CsvEnrollForm,
    EnrollForm,
    ExpiryForm,
    ExternalTrainingForm,
    ProgressChangeForm,
)
from progress.models import Activity, Course, Enrollment, ExamAttempt, PlanEnrollment
from progress.services import (
    MarkCompleteResult,
    ProgressError,
    activity_complete,
    activity_time_record,
    enrollment_create,
    enrollment_delete,
    enrollment_set_expiry,
    exam_attempt_forgive,
    exam_questions,
    exam_submit,
    external_training_record,
    plan_enrollment_create,
    plan_enrollment_delete,
    plan_enrollment_set_expiry,
    progress_mark_complete,
    progress_reset,
)
from progress.summaries import mark_complete_message
from users.models import User
from users.selectors import selected_user_ids, users_resolve_selection
from users.views.mixins import UserRecordMixin, bulk_selection_source

# --- the catalog (admins) ----------------------------------------------------------------------


class CourseListView(AdminRequiredMixin, ListView):
    template_name = "progress/course_list.html"
    context_object_name = "courses"
    paginate_by = 50

    def get_queryset(self) -> Any:
        return selectors.courses_for_admin(actor=self.request.user)  # type: ignore[arg-type]


class CourseDetailView(AdminRequiredMixin, DetailView):
    template_name = "progress/course_detail.html"
    context_object_name = "course"

    def get_queryset(self) -> Any:
        return selectors.courses_for_admin(actor=self.request.user)  # type: ignore[arg-type]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["outline"] = selectors.course_outline(self.object)
        context["prerequisites"] = list(self.object.prerequisites.all())
        context["plans"] = list(self.object.plans.all())
        required = sum(1 for _, acts in context["outline"] for a in acts if a.is_required)
        learners = selectors.course_learners(course=self.object, actor=self.request.user)  # type: ignore[arg-type]
        page = Paginator(learners, 25).get_page(self.request.GET.get("page"))
        for enrollment in page:
            enrollment.percent = selectors.percent(enrollment.required_done, required)  # type: ignore[attr-defined]
        context.update({"learners_page": page, "page_obj": page})
        return context


# --- the user record tabs -------------------------------------------------------------------


class UserProgressView(UserRecordMixin, TemplateView):
    record_tab = "progress"
    template_name = "progress/user_progress.html"

    courses_per_page = 10  # each course lists all its activities, so a course is many rows

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        page = Paginator(
            selectors.user_enrollments(user=self.subject), self.courses_per_page
        ).get_page(self.request.GET.get("page"))
        context["courses"] = selectors.user_courses_progress(
            user=self.subject, enrollments=list(page)
        )
        context["page_obj"] = page
        return context


def _result_message(result: MarkCompleteResult, who: str) -> str:
    parts = [f"Marked {result.activities_completed} activities complete for {who}"]
    if result.activities_skipped:
        names = ", ".join(f"“{name}”" for name in sorted(result.skipped_by_activity))
        parts.append(f"skipped because already complete: {names}")
    if result.enrolled_users:
        parts.append(f"{len(result.enrolled_users)} enrolled")
    if result.course_completed_users:
        parts.append(f"the course is now complete for {len(result.course_completed_users)}")
    return ", ".join(parts) + "."


class _ProgressChangeMixin:
    """Shared by the single-user and the bulk forms: step one picks the course (GET), step two
    the entire course or chosen activities."""

    mode = "complete"
    request: HttpRequest

    def course_from_request(self) -> Course | None:
        raw = self.request.POST.get("course") or self.request.GET.get("course")
        if not raw or not str(raw).isdigit():
            return None
        return Course.objects.filter(pk=raw).first()

    def picker_audience(self) -> tuple[Any, int, str]:
        """Whom the form is for: (users as a queryset or ids, how many, how to name them)."""
        return [], 0, ""

    def change_form(self, course: Course, data: Any = None) -> ProgressChangeForm:
        complete: set[int] = set()
        audience = ""
        if self.mode == "complete":
            users, count, audience = self.picker_audience()
            complete = selectors.activities_complete_for_all(
                course=course, users=users, user_count=count
            )
        return ProgressChangeForm(
            data, course=course, mode=self.mode, complete_for_all=complete, audience=audience
        )

    def forms_context(self, form: ProgressChangeForm | None = None) -> dict[str, Any]:
        course = self.course_from_request()
        context: dict[str, Any] = {"mode": self.mode, "course": course}
        if course is None:
            context["pick_form"] = CoursePickForm()
        else:
            context["form"] = form or self.change_form(course)
        return context


class UserProgressChangeView(_ProgressChangeMixin, UserRecordMixin, TemplateView):
    record_tab = "progress"
    template_name = "progress/progress_change.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(self.forms_context(kwargs.get("form")))
        context["back_url"] = reverse("progress:user_progress", args=[self.subject.pk])
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        course = self.course_from_request()
        if course is None:
            messages.error(request, "Choose a course.")
            return HttpResponseRedirect(request.path)
        form = self.change_form(course, request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        name = self.subject.get_full_name() or self.subject.username
        try:
            if self.mode == "complete":
                result = progress_mark_complete(
                    users=[self.subject],
                    course=course,
                    activities=form.chosen_activities,
                    actor=request.user,  # type: ignore[arg-type]
                    send_email=form.cleaned_data["send_email"],
                    enroll_missing=form.cleaned_data["enroll_missing"],
                )
                if result.errors:
                    messages.error(
                        request,
                        f"{name} is not enrolled in “{course}”: nothing was changed. Tick "
                        "“Enroll users who are not enrolled” to enroll and complete.",
                    )
                    return self.render_to_response(self.get_context_data(form=form))
                messages.success(request, _result_message(result, name))
            else:
                reset = progress_reset(
                    users=[self.subject],
                    course=course,
                    activities=form.chosen_activities,
                    actor=request.user,  # type: ignore[arg-type]
                )
                if not reset.reset_users:
                    messages.error(
                        request, f"{name} has no progress to reset in “{course}”: nothing changed."
                    )
                    return self.render_to_response(self.get_context_data(form=form))
                messages.success(
                    request,
                    f"Progress in “{course}” was reset for {name} "
                    f"({reset.completions_removed} completions cleared).",
                )
        except ProgressError as exc:
            messages.error(request, str(exc))
            return self.render_to_response(self.get_context_data(form=form))
        return HttpResponseRedirect(reverse("progress:user_progress", args=[self.subject.pk]))

    def picker_audience(self) -> tuple[Any, int, str]:
        return [self.subject.pk], 1, self.subject.get_full_name() or self.subject.username


class UserProgressResetView(UserProgressChangeView):
    mode = "reset"


class BulkProgressView(_ProgressChangeMixin, AdminRequiredMixin, TemplateView):
    """From the users list: GET with repeated `user_ids` (or one `selection` token, over 100
    users) shows the form, POST does the work (inline up to the threshold, a background job
    above it)."""

    template_name = "progress/bulk_progress.html"

    def selected_users(self) -> Any:
        actor: User = self.request.user  # type: ignore[assignment]
        ids = selected_user_ids(actor=actor, source=bulk_selection_source(self.request))
        return users_resolve_selection(actor=actor, user_ids=ids)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        users = self.selected_users()
        context.update(self.forms_context(kwargs.get("form")))
        context["selection"] = bulk_selection_source(self.request).get("selection", "")
        context["user_ids"] = list(users.values_list("pk", flat=True))
        context["preview"] = list(users[:12])
        context["user_count"] = len(context["user_ids"])
        return context

    def picker_audience(self) -> tuple[Any, int, str]:
        users = self.selected_users()
        count = users.count()
        return users, count, "the selected learner" if count == 1 else f"all {count} selected"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.selected_users().exists():
            messages.error(request, "Select at least one user in the list first.")
            return HttpResponseRedirect(reverse("users:list"))
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        ids = list(self.selected_users().values_list("pk", flat=True))
        if not ids:
            messages.error(request, "Select at least one user in the list first.")
            return HttpResponseRedirect(reverse("users:list"))
        course = self.course_from_request()
        if course is None:
            messages.error(request, "Choose a course.")
            return HttpResponseRedirect(reverse("users:list"))
        form = self.change_form(course, request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        chosen = form.chosen_activities
        params: dict[str, Any] = {
            "course_id": course.pk,
            "activity_ids": None if chosen is None else [a.pk for a in chosen],
        }
        if self.mode == "complete":
            params["send_email"] = form.cleaned_data["send_email"]
            params["enroll_missing"] = form.cleaned_data["enroll_missing"]
            kind, verb = "progress.mark_complete", "Mark complete"
        else:
            kind, verb = "progress.reset", "Reset progress"
        result = bulk_run(
            kind=kind,
            label=f"{verb}: {course} for {len(ids)} users",
            item_ids=ids,
            actor=request.user,  # type: ignore[arg-type]
            params=params,
        )
        if result.is_background:
            assert result.job is not None
            messages.info(request, f"{verb} is running in the background for {len(ids)} users.")
            return HttpResponseRedirect(result.job.get_absolute_url())
        outcome = result.outcome
        assert outcome is not None
        level = messages.WARNING if outcome.errors else messages.SUCCESS
        if self.mode == "complete":
            text = mark_complete_message(
                course=course, counts=outcome.counts, errors=outcome.errors
            )
        else:
            summary = ", ".join(f"{n} {key}" for key, n in sorted(outcome.counts.items()) if n)
            text = f"{verb} for “{course}”: {summary or 'nothing to do'}."
            if outcome.errors:
                text += " " + "; ".join(sorted({msg for _, msg in outcome.errors}))
        messages.add_message(request, level, text)
        return HttpResponseRedirect(reverse("users:list"))


class BulkResetProgressView(BulkProgressView):
    mode = "reset"


def _enroll_run(request: HttpRequest, form: EnrollForm, ids: list[int]) -> HttpResponse:
    """Enroll (and optionally complete) `ids`: inline, or a background job over the threshold."""
    data = form.cleaned_data
    course = data["course"]
    expires_at = data["expires_at"]
    result = bulk_run(
        kind="progress.enroll",
        label=f"Enroll in {course}: {len(ids)} users",
        item_ids=ids,
        actor=request.user,  # type: ignore[arg-type]
        params={
            "course_id": course.pk,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "mark_complete": data["mark_complete"],
            "send_email": data["send_email"] and data["mark_complete"],
        },
    )
    if result.is_background:
        assert result.job is not None
        messages.info(request, f"Enrolling {len(ids)} users in the background.")
        return HttpResponseRedirect(result.job.get_absolute_url())
    assert result.outcome is not None
    summary = ", ".join(f"{n} {key}" for key, n in sorted(result.outcome.counts.items()) if n)
    messages.success(request, f"Enroll in “{course}”: {summary or 'nothing to do'}.")
    return HttpResponseRedirect(reverse("progress:course_detail", args=[course.pk]))


class BulkEnrollView(AdminRequiredMixin, TemplateView):
    """From the users list (GET with repeated `user_ids`, or one `selection` token over 100
    users): enroll in a course, optionally marking the entire course complete."""

    template_name = "progress/enroll.html"

    def selected_ids(self) -> list[int]:
        actor: User = self.request.user  # type: ignore[assignment]
        ids = selected_user_ids(actor=actor, source=bulk_selection_source(self.request))
        users = users_resolve_selection(actor=actor, user_ids=ids)
        return list(users.values_list("pk", flat=True))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        ids = self.selected_ids()
        context.update(
            {
                "form": kwargs.get("form") or EnrollForm(),
                "selection": bulk_selection_source(self.request).get("selection", ""),
                "user_ids": ids,
                "user_count": len(ids),
                "mode": "bulk",
            }
        )
        return context

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.selected_ids():
            messages.error(request, "Select at least one user in the list first.")
            return HttpResponseRedirect(reverse("users:list"))
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        ids = self.selected_ids()
        if not ids:
            messages.error(request, "Select at least one user in the list first.")
            return HttpResponseRedirect(reverse("users:list"))
        form = EnrollForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        return _enroll_run(request, form, ids)


class CsvEnrollView(AdminRequiredMixin, TemplateView):
    """Enroll the users listed in a CSV file (by email or username)."""

    template_name = "progress/enroll.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        initial = {"course": self.request.GET.get("course")}
        context["form"] = kwargs.get("form") or CsvEnrollForm(initial=initial)
        context["mode"] = "csv"
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = CsvEnrollForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        ids, unknown = selectors.users_from_identifiers(
            actor=request.user,  # type: ignore[arg-type]
            values=form.cleaned_data["file"],
        )
        if unknown:
            shown = ", ".join(unknown[:10]) + (" …" if len(unknown) > 10 else "")
            form.add_error(
                "file",
                f"{len(unknown)} row(s) match no user you manage: {shown}. Fix the file; "
                "nobody was enrolled.",
            )
            return self.render_to_response(self.get_context_data(form=form))
        return _enroll_run(request, form, ids)


class UserAccessView(UserRecordMixin, TemplateView):
    record_tab = "access"
    template_name = "progress/user_access.html"
    enrollments_per_page = 25  # two forms per course: a long list is slow to render

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        page = Paginator(
            selectors.enrollments_with_progress(user=self.subject), self.enrollments_per_page
        ).get_page(self.request.GET.get("page"))
        context["enrollments"] = list(page)
        context["page_obj"] = page
        context["plan_enrollments"] = list(selectors.plan_enrollments_for(user=self.subject))
        context["add_form"] = kwargs.get("add_form") or self.blank_add_form()
        context["expiry_form"] = ExpiryForm()
        return context

    def blank_add_form(self) -> AccessAddForm:
        """The "Add access" form offers only the courses the user is not enrolled in (the
        others would be refused, and each option of a select costs a template render, which
        adds up for a learner enrolled in most of a large catalog). A submitted form keeps
        every course, so a course enrolled in meanwhile gets the service's own message."""
        form = AccessAddForm()
        form.fields["course"].queryset = selectors.courses_not_enrolled(user=self.subject)  # type: ignore[attr-defined]
        return form

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = AccessAddForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(add_form=form))
        data = form.cleaned_data
        try:
            if data["course"]:
                enrollment_create(
                    user=self.subject,
                    course=data["course"],
                    actor=request.user,  # type: ignore[arg-type]
                    expires_at=data["expires_at"],
                    mark_complete=data["mark_complete"],
                )
                what = f"“{data['course']}”"
            else:
                plan_enrollment_create(
                    user=self.subject,
                    plan=data["plan"],
                    actor=request.user,  # type: ignore[arg-type]
                    expires_at=data["expires_at"],
                )
                what = f"the learning plan “{data['plan']}”"
        except ProgressError as exc:
            form.add_error(None, str(exc))
            return self.render_to_response(self.get_context_data(add_form=form))
        messages.success(request, f"Access to {what} added.")
        return HttpResponseRedirect(reverse("progress:user_access", args=[self.subject.pk]))


class UserAccessChangeView(UserRecordMixin, View):
    """POST: change the expiry of (action "expiry") or remove (action "remove") one course or
    plan enrollment of the user."""

    record_tab = "access"

    def post(self, request: HttpRequest, user_pk: int, kind: str, pk: int) -> HttpResponse:
        if kind not in ("course", "plan"):
            raise Http404
        model = Enrollment if kind == "course" else PlanEnrollment
        enrollment: Any = get_object_or_404(model, pk=pk, user=self.subject)
        actor: Any = request.user
        if request.POST.get("action") == "remove":
            if kind == "course":
                enrollment_delete(enrollment=enrollment, actor=actor)
            else:
                plan_enrollment_delete(enrollment=enrollment, actor=actor)
            messages.success(request, "Access removed. The learner's progress is kept.")
        else:
            form = ExpiryForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Enter a valid date.")
            else:
                setter = enrollment_set_expiry if kind == "course" else plan_enrollment_set_expiry
                setter(
                    enrollment=enrollment, expires_at=form.cleaned_data["expires_at"], actor=actor
                )
                messages.success(request, "Access end date saved.")
        return HttpResponseRedirect(reverse("progress:user_access", args=[self.subject.pk]))


class UserActivityView(UserRecordMixin, TemplateView):
    record_tab = "activity"
    template_name = "progress/user_activity.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["attempts"] = list(selectors.exam_attempts_for(user=self.subject)[:200])
        return context


class ExamAttemptForgiveView(UserRecordMixin, View):
    record_tab = "activity"

    def post(self, request: HttpRequest, user_pk: int, pk: int) -> HttpResponse:
        attempt = get_object_or_404(ExamAttempt, pk=pk, user=self.subject)
        try:
            exam_attempt_forgive(attempt=attempt, actor=request.user)  # type: ignore[arg-type]
        except ProgressError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Attempt forgiven: {self.subject} has one more attempt.")
        return HttpResponseRedirect(reverse("progress:user_activity", args=[self.subject.pk]))


class UserEngagementView(UserRecordMixin, TemplateView):
    record_tab = "engagement"
    template_name = "progress/user_engagement.html"
    enrollments_per_page = 25

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        page = Paginator(
            selectors.enrollments_with_progress(user=self.subject), self.enrollments_per_page
        ).get_page(self.request.GET.get("page"))
        enrollments = list(page)
        for e in enrollments:
            e.percent = selectors.percent(e.required_done, e.required_total)  # type: ignore[attr-defined]
        context["enrollments"] = enrollments
        context["page_obj"] = page
        context["total_seconds"] = selectors.enrolled_courses_seconds(user=self.subject)
        context["log"] = list(selectors.progress_events_for(user=self.subject))
        return context


def transcript_response(
    request: HttpRequest, user: Any, template: str, extra: dict[str, Any]
) -> HttpResponse:
    """The transcript as a page, a print view, a PDF or a CSV (?format=print|pdf|csv)."""
    transcript = selectors.transcript_for(user=user)
    certifications = [selectors.certification_label(a) for a in transcript.certifications]
    context = {"transcript": transcript, "certifications": certifications, **extra}
    fmt = request.GET.get("format", "")
    stamp = timezone.localdate().isoformat()
    filename = f"transcript-{user.username}-{stamp}"
    if fmt == "csv":
        rows: list[list[Any]] = [
            [
                "Course",
                c.course.title,
                c.completed_at.date().isoformat(),
                c.score if c.score is not None else "",
            ]
            for c in transcript.courses
        ]
        rows += [
            ["External training", r.training.title, r.completed_on.isoformat(), ""]
            for r in transcript.external
        ]
        rows += [
            [
                "Certification",
                title,
                awarded.date().isoformat() if hasattr(awarded, "date") else awarded or "",
                "",
            ]
            for title, awarded, _ in certifications
        ]
        if transcript.points is not None:
            rows.append(["Points", "Total points", "", transcript.points])
        response = HttpResponse(
            csv_render(["Type", "Title", "Completed", "Score"], rows), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response
    if fmt in ("print", "pdf"):
        html = render_to_string("progress/transcript_print.html", context, request=request)
        if fmt == "print":
            return HttpResponse(html)
        from weasyprint import HTML

        pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{filename}.pdf"'
        return response
    return HttpResponse(render_to_string(template, context, request=request))


class UserTranscriptView(UserRecordMixin, TemplateView):
    record_tab = "transcript"
    template_name = "progress/user_transcript.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        context = self.get_context_data(**kwargs)
        context["external_form"] = ExternalTrainingForm()
        context.pop("view", None)
        return transcript_response(request, self.subject, self.template_name, context)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = ExternalTrainingForm(request.POST)
        if form.is_valid():
            try:
                external_training_record(
                    user=self.subject,
                    training=form.cleaned_data["training"],
                    completed_on=form.cleaned_data["completed_on"],
                    actor=request.user,  # type: ignore[arg-type]
                )
            except ProgressError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"“{form.cleaned_data['training']}” recorded.")
        else:
            messages.error(request, "Choose a training and a valid date.")
        return HttpResponseRedirect(reverse("progress:user_transcript", args=[self.subject.pk]))


# --- the learner's side -----------------------------------------------------------------------


class MyCoursesView(LoginRequiredMixin, TemplateView):
    template_name = "progress/my_courses.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        enrollments = list(selectors.enrollments_with_progress(user=self.request.user))  # type: ignore[arg-type]
        now = timezone.now()
        for e in enrollments:
            e.percent = selectors.percent(e.required_done, e.required_total)  # type: ignore[attr-defined]
            e.expired = e.is_expired(now)  # type: ignore[attr-defined]
        context["enrollments"] = enrollments
        context["plans"] = selectors.learner_plans(user=self.request.user)  # type: ignore[arg-type]
        return context


class MyTranscriptView(LoginRequiredMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return transcript_response(request, request.user, "progress/my_transcript.html", {})


class PlayerCourseView(LoginRequiredMixin, TemplateView):
    template_name = "progress/player_course.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        course = get_object_or_404(Course, pk=kwargs["pk"])
        progress = selectors.course_progress(user=self.request.user, course=course)  # type: ignore[arg-type]
        if progress.enrollment is None:
            raise Http404
        context["progress"] = progress
        context["course"] = course
        return context


class PlayerActivityView(LoginRequiredMixin, TemplateView):
    """One activity in the player: a lesson (or video, form, assignment) to complete, or an exam
    to take. Locked activities show why."""

    template_name = "progress/player_activity.html"

    def setup_activity(
        self, pk: int
    ) -> tuple[Activity, selectors.CourseProgress, selectors.ActivityRow]:
        activity = get_object_or_404(Activity.objects.select_related("module__course"), pk=pk)
        progress = selectors.course_progress(user=self.request.user, course=activity.module.course)  # type: ignore[arg-type]
        if progress.enrollment is None:
            raise Http404
        row = next(r for r in progress.rows if r.activity.pk == activity.pk)
        return activity, progress, row

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        activity, progress, row = self.setup_activity(kwargs["pk"])
        rows = progress.rows
        index = next(i for i, r in enumerate(rows) if r.activity.pk == activity.pk)
        context.update(
            {
                "activity": activity,
                "course": activity.module.course,
                "progress": progress,
                "row": row,
                "questions": exam_questions(activity),
                "previous_row": rows[index - 1] if index > 0 else None,
                "next_row": rows[index + 1] if index + 1 < len(rows) else None,
                "last_attempt": ExamAttempt.objects.filter(
                    user=self.request.user,
                    activity=activity,  # type: ignore[misc]
                ).first(),
            }
        )
        return context

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        activity, _, _ = self.setup_activity(pk)
        user: Any = request.user
        seconds = _seconds(request)
        try:
            if activity.kind == Activity.Kind.EXAM:
                answers = {
                    key.removeprefix("q_"): str(value)
                    for key, value in request.POST.items()
                    if key.startswith("q_")
                }
                attempt = exam_submit(
                    user=user, activity=activity, answers=answers, seconds=seconds
                )
                if attempt.passed:
                    messages.success(request, f"You passed with {attempt.score}%.")
                else:
                    messages.warning(
                        request,
                        f"You scored {attempt.score}%; {activity.pass_mark}% is needed to pass.",
                    )
            else:
                activity_complete(user=user, activity=activity, seconds=seconds)
                messages.success(request, f"“{activity.title}” completed.")
        except ProgressError as exc:
            messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("progress:player_activity", args=[activity.pk]))


def _seconds(request: HttpRequest) -> int:
    raw = request.POST.get("seconds", "0")
    return int(raw) if raw.isdigit() else 0


class ActivityTimeView(LoginRequiredMixin, View):
    """The player reports time spent when the learner leaves an activity (sendBeacon)."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        activity = get_object_or_404(Activity.objects.select_related("module"), pk=pk)
        if not Enrollment.objects.filter(
            user=request.user, course_id=activity.module.course_id
        ).exists():  # type: ignore[misc]
            raise Http404
        seconds = _seconds(request)
        if seconds:
            activity_time_record(user=request.user, activity=activity, seconds=seconds)  # type: ignore[arg-type]
        return HttpResponse(status=204)
