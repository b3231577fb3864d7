from __future__ import annotations

from pathlib import PurePath, PurePosixPath
from typing import Any

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin, UserPassesTestMixin
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView, ListView
from django.views.static import serve

from lms.selectors import jobs_visible_to
from users.permissions import can_manage_users
from users.roles import user_admin_role


class AdminRequiredMixin(LoginRequiredMixin, UserPassesTestMixin):
    """Any admin role (the "manage users" permission): anonymous users go to the login page,
    others get 403. Object scope (which users) is checked by each view."""

    request: HttpRequest

    def test_func(self) -> bool:
        return can_manage_users(self.request.user)  # type: ignore[arg-type]

    def handle_no_permission(self) -> HttpResponseRedirect:
        self.raise_exception = self.request.user.is_authenticated
        return super().handle_no_permission()


class HomeView(LoginRequiredMixin, View):
    """Admins land on the users list, learners (and admins in the learner view) on their
    achievements page."""

    def get(self, request: HttpRequest) -> HttpResponse:
        in_learner_view = request.session.get("view_mode") == "learner"
        if user_admin_role(request.user) is not None and not in_learner_view:  # type: ignore[arg-type]
            return HttpResponseRedirect(reverse("users:list"))
        return HttpResponseRedirect(reverse("users:profile"))


class ViewModeSwitchView(LoginRequiredMixin, View):
    """Dual-role users switch between the admin view and the learner view."""

    def post(self, request: HttpRequest) -> HttpResponse:
        mode = request.POST.get("mode", "admin")
        request.session["view_mode"] = "learner" if mode == "learner" else "admin"
        return HttpResponseRedirect(reverse("home"))


class JobListView(AdminRequiredMixin, ListView):
    template_name = "lms/job_list.html"
    context_object_name = "jobs"
    paginate_by = 25

    def get_queryset(self) -> Any:
        return jobs_visible_to(self.request.user)  # type: ignore[arg-type]


class JobDetailView(AdminRequiredMixin, DetailView):
    template_name = "lms/job_detail.html"
    context_object_name = "job"

    def get_queryset(self) -> Any:
        return jobs_visible_to(self.request.user).defer(None).defer("item_ids")  # type: ignore[arg-type]


class JobStatusView(AdminRequiredMixin, View):
    """Polled by the progress bar."""

    def get(self, request: HttpRequest, pk: int) -> JsonResponse:
        job = get_object_or_404(jobs_visible_to(request.user), pk=pk)  # type: ignore[arg-type]
        return JsonResponse(
            {
                "id": job.pk,
                "status": job.status,
                "status_label": job.get_status_display(),
                "total": job.total,
                "processed": job.cursor,
                "done": job.done,
                "failed": job.failed,
                "percent": job.percent,
                "summary": job.summary,
                "finished": job.is_finished,
                "last_error": job.last_error,
            }
        )


class JobResultDownloadView(AdminRequiredMixin, View):
    """A job's result file (e.g. the certificates ZIP), as an attachment, for the job's creator
    or a super admin (`jobs_visible_to`): other admins get a 404 as on the job page, non-admins
    a 403. /media/ serves only images (`MediaImageView`), so this is how results are downloaded."""

    def get(self, request: HttpRequest, pk: int) -> FileResponse:
        job = get_object_or_404(jobs_visible_to(request.user), pk=pk)  # type: ignore[arg-type]
        if not job.result_file:
            raise Http404("This job has no result file.")
        try:
            handle = job.result_file.open("rb")
        except FileNotFoundError:
            raise Http404("The result file is no longer there.") from None
        return FileResponse(
            handle, as_attachment=True, filename=PurePath(str(job.result_file.name)).name
        )


class MediaImageView(LoginRequiredMixin, View):
    """Uploaded images (avatars, badge images) for people who are logged in, in production as
    in development; `django.views.static.serve` refuses paths that leave MEDIA_ROOT. Only the
    image folders are served: a job's result file goes through `JobResultDownloadView` and its
    permission check, never through here. A web server or CDN may serve these folders instead
    (see the README)."""

    folders = ("avatars/", "badges/")

    def get(self, request: HttpRequest, path: str) -> HttpResponseBase:
        parts = PurePosixPath(path).parts
        # The folder check is on the path's own parts: "avatars/../jobs/x.zip" must not pass.
        if ".." in parts or not path.startswith(self.folders):
            raise Http404("No such image.")
        response = serve(request, path, document_root=settings.MEDIA_ROOT)
        response["Cache-Control"] = "private, max-age=86400"
        response["X-Content-Type-Options"] = "nosniff"
        return response
