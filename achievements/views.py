"""Thin views: check who may do it, validate the form, call one service, redirect with a message."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import FormView, ListView, TemplateView

from achievements import selectors
from achievements.forms import (
    BadgeForm,
    BadgeGrantForm,
    BadgeRevokeForm,
    BulkBadgeForm,
    BulkPointsForm,
    ContentPointsForm,
    GamificationSettingsForm,
    LeaderboardFilterForm,
    PointsForm,
)
from achievements.models import Badge, GamificationSettings
from achievements.services import (
    badge_create,
    badge_grant,
    badge_revoke,
    badge_rule_apply,
    badge_rule_candidates,
    badge_update,
    content_points_update,
    gamification_settings_update,
    points_award,
    points_deduct,
)
from lms.jobs import bulk_run
from lms.views import AdminRequiredMixin
from users.models import User
from users.roles import is_super_admin
from users.selectors import selected_user_ids, users_resolve_selection
from users.views.mixins import UserRecordMixin, bulk_selection_source

LEDGER_PAGE_SIZE = 50


def _form_errors_from(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field_name, errors in exc.message_dict.items():
            form.add_error(field_name if field_name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _ledger_page(request: HttpRequest, entries: Any) -> dict[str, Any]:
    """One page of a points history: `ledger` (the rows) and `page_obj` for the pager."""
    page = Paginator(entries, LEDGER_PAGE_SIZE).get_page(request.GET.get("page"))
    return {"ledger": list(page.object_list), "page_obj": page}


class SuperAdminRequiredMixin(AdminRequiredMixin):
    def test_func(self) -> bool:
        return super().test_func() and is_super_admin(self.request.user)  # type: ignore[arg-type]


# --- settings and badges (super admin) ---------------------------------------------------------


class GamificationSettingsView(SuperAdminRequiredMixin, FormView):
    template_name = "achievements/settings_edit.html"
    form_class = GamificationSettingsForm

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = GamificationSettings.load()
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["badges"] = selectors.badge_list()
        return context

    def form_valid(self, form: GamificationSettingsForm) -> HttpResponse:
        changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
        gamification_settings_update(actor=self.request.user, **changes)  # type: ignore[arg-type]
        messages.success(self.request, "Gamification settings saved.")
        return HttpResponseRedirect(reverse("achievements:settings"))


class BadgeFormMixin(SuperAdminRequiredMixin):
    request: HttpRequest

    def get_success_url(self) -> str:
        return reverse("achievements:settings") + "#badges"


class BadgeCreateView(BadgeFormMixin, FormView):
    template_name = "achievements/badge_form.html"
    form_class = BadgeForm

    def form_valid(self, form: BadgeForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            badge = badge_create(
                actor=self.request.user,  # type: ignore[arg-type]
                name=data["name"],
                description=data["description"],
                category=data["category"],
                rule=data["rule"],
                threshold=data["threshold"],
                points=data["points"],
                is_active=data["is_active"],
                image=data.get("image_upload"),
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"Badge “{badge.name}” created. Nobody has it yet: apply its rule to past activity "
            "from the badge list if people should earn it retroactively.",
        )
        return HttpResponseRedirect(self.get_success_url())


class BadgeUpdateView(BadgeFormMixin, FormView):
    template_name = "achievements/badge_form.html"
    form_class = BadgeForm
    badge: Badge

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not (request.user.is_authenticated and self.test_func()):
            return self.handle_no_permission()  # login or 403 before saying what exists
        self.badge = get_object_or_404(Badge, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["instance"] = Badge.objects.get(pk=self.badge.pk)
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(badge=self.badge, **kwargs)

    def form_valid(self, form: BadgeForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        image = data.pop("image_upload", None)
        try:
            badge_update(badge=self.badge, actor=self.request.user, image=image, **data)  # type: ignore[arg-type]
        except ValidationError as exc:
            _form_errors_from(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Badge “{data['name']}” saved. Nobody lost it.")
        return HttpResponseRedirect(self.get_success_url())


class BadgeApplyView(SuperAdminRequiredMixin, TemplateView):
    """GET: a dry run (how many users would earn the badge). POST: start the job."""

    template_name = "achievements/badge_apply.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        badge = get_object_or_404(Badge, pk=self.kwargs["pk"])
        return super().get_context_data(
            badge=badge, would_earn=len(badge_rule_candidates(badge=badge)), **kwargs
        )

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        badge = get_object_or_404(Badge, pk=pk)
        try:
            result = badge_rule_apply(badge=badge, actor=request.user)  # type: ignore[arg-type]
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return HttpResponseRedirect(reverse("achievements:badge_apply", args=[pk]))
        messages.success(request, f"Applying “{badge.name}” to past activity.")
        assert result.job is not None  # always a background job (force_background)
        return HttpResponseRedirect(result.job.get_absolute_url())


class CoursePointsListView(SuperAdminRequiredMixin, ListView):
    """Courses with the points they give (default or custom)."""

    template_name = "achievements/course_points_list.html"
    context_object_name = "courses"
    paginate_by = 25

    def get_queryset(self) -> Any:
        from progress.models import Course

        return Course.objects.select_related("points_override").order_by("title", "pk")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(settings=GamificationSettings.load(), **kwargs)


class CoursePointsEditView(SuperAdminRequiredMixin, FormView):
    template_name = "achievements/course_points_edit.html"
    form_class = ContentPointsForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        from progress.models import Activity, Course

        if not (request.user.is_authenticated and self.test_func()):
            return self.handle_no_permission()  # login or 403 before saying what exists
        self.course = get_object_or_404(Course, pk=kwargs["pk"])
        self.activities = list(
            Activity.objects.filter(module__course=self.course)
            .select_related("module", "points_override")
            .order_by("module__position", "module_id", "position", "pk")
        )
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        override = getattr(self.course, "points_override", None)
        initial: dict[str, Any] = {"course_points": override.points if override else None}
        for activity in self.activities:
            custom = getattr(activity, "points_override", None)
            initial[f"activity_{activity.pk}"] = custom.points if custom else None
        return initial

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs.update(course=self.course, activities=self.activities)
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            course=self.course, settings=GamificationSettings.load(), **kwargs
        )

    def form_valid(self, form: ContentPointsForm) -> HttpResponse:
        changed = content_points_update(
            course=self.course,
            course_points=form.cleaned_data["course_points"],
            activity_points=form.activity_points(),
            actor=self.request.user,  # type: ignore[arg-type]
        )
        messages.success(self.request, f"Points for “{self.course}” saved ({changed} changed).")
        return HttpResponseRedirect(reverse("achievements:course_points"))


# --- the user record's Achievements tab -------------------------------------------------------


class UserAchievementsView(UserRecordMixin, TemplateView):
    template_name = "achievements/user_tab.html"
    record_tab = "achievements"
    SECTIONS = ("points", "badges", "certificates")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        enabled = selectors.gamification_enabled()
        section = self.request.GET.get("section", "points")
        if section not in self.SECTIONS or not enabled:
            section = "points" if enabled else "certificates"
        context.update(
            {
                "gamification_enabled": enabled,
                "section": section,
                "certificates": selectors.certificates_for_user(user=self.subject)
                if section == "certificates"
                else [],
            }
        )
        if enabled:
            context["standing"] = selectors.leaderboard_standing(user=self.subject)
            context["badges_held_count"] = selectors.badges_held(user=self.subject).count()
            if section == "points":
                context.update(
                    _ledger_page(self.request, selectors.points_ledger(user=self.subject))
                )
                context["query_string"] = "section=points"
            elif section == "badges":
                context["held"] = list(
                    selectors.badges_held(user=self.subject).select_related("awarded_by")
                )
                context["grant_form"] = BadgeGrantForm()
                context["revoke_form"] = BadgeRevokeForm()
        return context


class GamificationRequiredMixin:
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not selectors.gamification_enabled():
            return self.gamification_off(request)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    def gamification_off(self, request: HttpRequest) -> HttpResponse:
        raise Http404("Gamification is turned off.")


class UserPointsManageView(UserRecordMixin, GamificationRequiredMixin, TemplateView):
    """Manage Points: the Award points and Remove points forms."""

    template_name = "achievements/points_manage.html"
    record_tab = "achievements"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.setdefault("award_form", PointsForm(prefix="award", submit_label="Award points"))
        context.setdefault("remove_form", PointsForm(prefix="remove", submit_label="Remove points"))
        context.setdefault("direction", "award")
        context["standing"] = selectors.leaderboard_standing(user=self.subject)
        return context

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        direction = "remove" if request.POST.get("direction") == "remove" else "award"
        label = "Remove points" if direction == "remove" else "Award points"
        form = PointsForm(request.POST, prefix=direction, submit_label=label)
        if form.is_valid():
            service = points_deduct if direction == "remove" else points_award
            try:
                entry = service(
                    user=self.subject,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    actor=request.user,  # type: ignore[arg-type]
                    awarded_at=form.cleaned_data["awarded_at"],
                )
            except ValidationError as exc:
                _form_errors_from(form, exc)
            else:
                verb = "Removed" if direction == "remove" else "Awarded"
                messages.success(request, f"{verb} {abs(entry.amount):,} points: {entry.reason}")
                return HttpResponseRedirect(
                    reverse("achievements:user_tab", args=[self.subject.pk]) + "?section=points"
                )
        return self.render_to_response(
            self.get_context_data(**{f"{direction}_form": form, "direction": direction})
        )


class UserBadgeGrantView(UserRecordMixin, GamificationRequiredMixin, FormView):
    template_name = "achievements/badge_grant.html"
    record_tab = "achievements"
    form_class = BadgeGrantForm

    def form_valid(self, form: BadgeGrantForm) -> HttpResponse:
        badge = form.cleaned_data["badge"]
        try:
            badge_grant(
                user=self.subject,
                badge=badge,
                actor=self.request.user,  # type: ignore[arg-type]
                reason=form.cleaned_data["reason"],
                content=form.cleaned_data["content"] or None,
                quantity=form.cleaned_data["quantity"],
            )
        except ValidationError as exc:
            _form_errors_from(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Badge “{badge.name}” granted to {self.subject}.")
        return HttpResponseRedirect(
            reverse("achievements:user_tab", args=[self.subject.pk]) + "?section=badges"
        )


class UserBadgeRevokeView(UserRecordMixin, GamificationRequiredMixin, FormView):
    template_name = "achievements/badge_grant.html"
    record_tab = "achievements"
    form_class = BadgeRevokeForm

    def form_valid(self, form: BadgeRevokeForm) -> HttpResponse:
        badge = get_object_or_404(Badge, pk=self.kwargs["badge_pk"])
        try:
            badge_revoke(
                user=self.subject,
                badge=badge,
                actor=self.request.user,  # type: ignore[arg-type]
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(self.request, " ".join(exc.messages))
        else:
            messages.success(self.request, f"Badge “{badge.name}” revoked.")
        return HttpResponseRedirect(
            reverse("achievements:user_tab", args=[self.subject.pk]) + "?section=badges"
        )

    def form_invalid(self, form: Any) -> HttpResponse:
        messages.error(self.request, "Give a reason to revoke the badge.")
        return HttpResponseRedirect(
            reverse("achievements:user_tab", args=[self.subject.pk]) + "?section=badges"
        )


# --- bulk actions from the users list ----------------------------------------------------------


class BulkActionMixin(AdminRequiredMixin, GamificationRequiredMixin):
    request: HttpRequest
    job_kind: str = ""

    def gamification_off(self, request: HttpRequest) -> HttpResponse:
        messages.error(request, "Gamification is turned off: points and badges cannot be given.")
        return HttpResponseRedirect(reverse("users:list"))

    def selected_ids(self) -> list[int]:
        actor: User = self.request.user  # type: ignore[assignment]
        return selected_user_ids(actor=actor, source=bulk_selection_source(self.request))

    def selected_users(self) -> Any:
        return users_resolve_selection(actor=self.request.user, user_ids=self.selected_ids())  # type: ignore[arg-type]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        users = self.selected_users()
        context["selection"] = bulk_selection_source(self.request).get("selection", "")
        context["selected_count"] = users.count()
        context["selected_preview"] = list(users[:8])
        context["user_ids"] = [user.pk for user in users.only("pk")]
        return context

    def run(self, *, label: str, params: dict[str, Any]) -> HttpResponse:
        ids = list(self.selected_users().values_list("pk", flat=True))
        if not ids:
            messages.error(self.request, "Select at least one user you may manage.")
            return HttpResponseRedirect(reverse("users:list"))
        result = bulk_run(
            kind=self.job_kind,
            label=label,
            item_ids=ids,
            actor=self.request.user,  # type: ignore[arg-type]
            params=params,
        )
        if result.is_background:
            messages.info(
                self.request, f"{label}: running in the background for {len(ids):,} users."
            )
            return HttpResponseRedirect(result.job.get_absolute_url())  # type: ignore[union-attr]
        outcome = result.outcome
        assert outcome is not None
        summary = ", ".join(f"{n:,} {what}" for what, n in sorted(outcome.counts.items()) if n)
        messages.success(self.request, f"{label}: {summary or 'nothing changed'}.")
        for user_id, error in outcome.errors[:5]:
            messages.warning(self.request, f"User {user_id}: {error}")
        return HttpResponseRedirect(reverse("users:list"))


class BulkPointsView(BulkActionMixin, FormView):
    template_name = "achievements/bulk_points.html"
    form_class = BulkPointsForm
    job_kind = "achievements.points"

    def form_valid(self, form: BulkPointsForm) -> HttpResponse:
        data = form.cleaned_data
        direction = data["direction"]
        verb = "Remove" if direction == "remove" else "Award"
        return self.run(
            label=f"{verb} {data['amount']:,} points",
            params={
                "direction": direction,
                "amount": data["amount"],
                "reason": data["reason"],
                "awarded_at": data["awarded_at"].isoformat(),
            },
        )


class BulkBadgeView(BulkActionMixin, FormView):
    template_name = "achievements/bulk_badge.html"
    form_class = BulkBadgeForm
    job_kind = "achievements.badge_grant"

    def form_valid(self, form: BulkBadgeForm) -> HttpResponse:
        badge = form.cleaned_data["badge"]
        return self.run(
            label=f"Grant the badge “{badge.name}”",
            params={"badge_id": badge.pk, "reason": form.cleaned_data["reason"]},
        )


# --- the learner's pages --------------------------------------------------------------------


class MyAchievementsView(LoginRequiredMixin, TemplateView):
    template_name = "achievements/my_achievements.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user: User = self.request.user  # type: ignore[assignment]
        enabled = selectors.gamification_enabled()
        context["gamification_enabled"] = enabled
        if not enabled:
            return context
        statuses = selectors.badge_statuses(user=user)
        categories = []
        for value, label in Badge.Category.choices:
            items = [status for status in statuses if status.badge.category == value]
            categories.append(
                {
                    "key": value,
                    "label": label,
                    "items": sorted(
                        items, key=lambda s: (not s.earned, s.badge.position, s.badge.name)
                    ),
                    "earned": sum(1 for s in items if s.earned),
                }
            )
        context.update(
            {
                "my_department": user.departments.order_by("path").first(),
                "standing": selectors.leaderboard_standing(user=user),
                "categories": categories,
                "earned_count": sum(1 for s in statuses if s.earned),
                "badge_count": len(statuses),
                **_ledger_page(self.request, selectors.points_ledger(user=user)),
            }
        )
        return context


class LeaderboardView(LoginRequiredMixin, GamificationRequiredMixin, ListView):
    template_name = "achievements/leaderboard.html"
    context_object_name = "leaders"

    def get_queryset(self) -> Any:
        self.filter_form = LeaderboardFilterForm(self.request.GET or None)
        data = self.filter_form.cleaned_data if self.filter_form.is_valid() else {}
        self.period = data.get("period") or "all"
        self.department = data.get("department")
        self.group = data.get("group")
        return selectors.leaderboard_top(
            limit=50, period=self.period, department=self.department, group=self.group
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        from users.models import Department, UserGroup

        context.update(
            {
                "filter_form": self.filter_form,
                "period": self.period,
                "department": self.department,
                "group": self.group,
                "period_choices": self.filter_form.fields["period"].choices,  # type: ignore[attr-defined]
                "department_choices": list(
                    Department.objects.order_by("path").values_list("pk", "name", "depth")
                ),
                "group_choices": list(UserGroup.objects.order_by("name").values_list("pk", "name")),
            }
        )
        context["my_standing"] = selectors.leaderboard_standing(
            user=self.request.user,  # type: ignore[arg-type]
            period=self.period,
            department=self.department,
            group=self.group,
        )
        return context
