"""Thin views: each checks who may do it, calls one service and redirects with a message."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from certifications.certificates import (
    CertificateRenderError,
    certificate_filename,
    certificate_pdf,
    certificates_zip_bytes,
)
from certifications.csv_import import (
    certification_import_apply,
    certification_import_check,
    certification_import_error_report,
)
from certifications.forms import (
    AwardEditForm,
    AwardSelectionForm,
    AwardTermsForm,
    CertificationForm,
    ImportUploadForm,
    IssueByHandForm,
)
from certifications.models import Certification, CertificationAward, CertificationImport
from certifications.selectors import (
    AWARD_SORTS,
    awards_visible_to,
    certification_award_by_code,
    certification_award_history_for_user,
    certification_awarded_users,
    certification_awards_for_user,
    certification_imports_visible_to,
    certifications_with_counts,
)
from certifications.services import (
    certification_award,
    certification_award_start,
    certification_award_unassign,
    certification_award_update,
    certification_create,
    certification_update,
)
from lms.http import safe_next_url
from lms.jobs import BulkResult, bulk_run
from lms.views import AdminRequiredMixin
from users.models import User
from users.permissions import can_manage_users
from users.roles import is_super_admin
from users.selectors import selected_user_ids, user_selection_ids, users_resolve_selection
from users.views.mixins import UserRecordMixin

SESSION_SELECTION = "certifications_award_selection"


def _outcome_message(result: BulkResult) -> str:
    counts = result.outcome.counts if result.outcome else {}
    parts = [f"{counts.get('awarded', 0)} awarded", f"{counts.get('renewed', 0)} renewed"]
    skipped = sum(v for k, v in counts.items() if k.startswith("skipped"))
    failed = len(result.outcome.errors) if result.outcome else 0
    if skipped or failed:
        parts.append(f"{skipped + failed} skipped")
    return ", ".join(parts) + "."


class SuperAdminRequiredMixin(AdminRequiredMixin):
    def test_func(self) -> bool:
        return super().test_func() and is_super_admin(self.request.user)  # type: ignore[arg-type]


# --- definitions -------------------------------------------------------------------------


class CertificationListView(AdminRequiredMixin, ListView):
    template_name = "certifications/certification_list.html"
    context_object_name = "certifications"
    paginate_by = 25

    def get_queryset(self) -> QuerySet[Certification]:
        return certifications_with_counts(actor=self.request.user)  # type: ignore[arg-type]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["can_define"] = is_super_admin(self.request.user)  # type: ignore[arg-type]
        return context


class CertificationCreateView(SuperAdminRequiredMixin, FormView):
    template_name = "certifications/certification_form.html"
    form_class = CertificationForm

    def form_valid(self, form: CertificationForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            certification = certification_create(
                title=data["title"],
                description=data["description"],
                validity_days=data["validity_days"],
                renewal_window_days=data["renewal_window_days"],
                courses=data["courses"],
                learning_plans=data["learning_plans"],
                external_trainings=data["external_trainings"],
                design_html=data["design_html"],
                actor=self.request.user,  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Certification “{certification.title}” created.")
        return redirect("certifications:list")


class CertificationUpdateView(SuperAdminRequiredMixin, FormView):
    template_name = "certifications/certification_form.html"
    form_class = CertificationForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.certification = get_object_or_404(Certification, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        # an unsaved copy: the form's validation must not touch the instance the service saves
        kwargs["instance"] = Certification.objects.get(pk=self.certification.pk)
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(certification=self.certification, **kwargs)

    def form_valid(self, form: CertificationForm) -> HttpResponse:
        data = dict(form.cleaned_data)
        data.pop("always_valid", None)
        try:
            certification_update(
                certification=self.certification,
                actor=self.request.user,  # type: ignore[arg-type]
                **data,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Certification “{self.certification.title}” saved.")
        return redirect("certifications:list")


# --- Awarded Users -----------------------------------------------------------------------


class AwardedUsersView(AdminRequiredMixin, ListView):
    template_name = "certifications/awarded_list.html"
    context_object_name = "awards"
    paginate_by = 25

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.certification = get_object_or_404(Certification, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[CertificationAward]:
        self.search = self.request.GET.get("q", "").strip()
        self.sort = self.request.GET.get("sort", "last_name")
        return certification_awarded_users(
            certification=self.certification,
            actor=self.request.user,  # type: ignore[arg-type]
            search=self.search,
            sort=self.sort,
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        columns = [
            ("username", "Username"),
            ("first_name", "First name"),
            ("last_name", "Last name"),
            ("issued_on", "Issued on"),
            (None, "Days left to renew"),
            ("expires_on", "Expiration date"),
            ("association", "Association type"),
            (None, "Status"),
        ]
        headers: list[dict[str, Any]] = []
        for key, label in columns:
            if key is None:
                headers.append({"label": label})
                continue
            next_sort = f"-{key}" if self.sort == key else key
            params = query.copy()
            params["sort"] = next_sort
            headers.append(
                {
                    "label": label,
                    "url": "?" + params.urlencode(),
                    "active": self.sort.lstrip("-") == key,
                    "descending": self.sort.startswith("-"),
                }
            )
        context.update(
            {
                "certification": self.certification,
                "search": self.search,
                "sort": self.sort if self.sort.lstrip("-") in AWARD_SORTS else "last_name",
                "headers": headers,
                "query_string": query.urlencode(),
                "zip_inline_max": settings.MERIT_CERTIFICATE_ZIP_INLINE_MAX,
            }
        )
        return context


class _AwardMixin(AdminRequiredMixin):
    """An award in the actor's scope (404 otherwise)."""

    award: CertificationAward

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and self.test_func():
            self.award = get_object_or_404(
                awards_visible_to(request.user),  # type: ignore[arg-type]
                pk=kwargs["pk"],
                is_current=True,
            )
        return super().dispatch(request, *args, **kwargs)

    def get_success_url(self) -> str:
        return safe_next_url(
            self.request, reverse("certifications:awarded", args=[self.award.certification_id])
        )


class AwardEditView(_AwardMixin, FormView):
    template_name = "certifications/award_edit.html"
    form_class = AwardEditForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "award": self.award}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(award=self.award, **kwargs)

    def form_valid(self, form: AwardEditForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            certification_award_update(
                award=self.award,
                issued_on=data["issued_on"],
                expires_on=data["expires_on"],
                always_valid=data["always_valid"],
                association=data["association"],
                external_training=data["external_training"],
                actor=self.request.user,  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"The award of {self.award.user} was updated.")
        return HttpResponseRedirect(self.get_success_url())


class AwardUnassignView(_AwardMixin, TemplateView):
    template_name = "certifications/award_unassign.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(award=self.award, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        certification_award_unassign(award=self.award, actor=request.user)  # type: ignore[arg-type]
        messages.success(
            request,
            f"“{self.award.certification.title}” was unassigned from {self.award.user}. "
            "It stays in their history and the event log.",
        )
        return HttpResponseRedirect(self.get_success_url())


class AwardsZipView(AdminRequiredMixin, View):
    """The PDFs of the selected awards (or all of them) in one ZIP; a job when large."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        certification = get_object_or_404(Certification, pk=pk)
        awards = certification_awarded_users(
            certification=certification,
            actor=request.user,  # type: ignore[arg-type]
        ).order_by("pk")
        if request.POST.get("all") != "1":
            ids = [int(x) for x in request.POST.getlist("award_ids") if x.isdigit()]
            awards = awards.filter(pk__in=ids)
        award_ids = list(awards.values_list("pk", flat=True))
        back = reverse("certifications:awarded", args=[pk])
        if not award_ids:
            messages.error(request, "Select at least one awarded user.")
            return HttpResponseRedirect(back)
        if len(award_ids) > settings.MERIT_CERTIFICATE_ZIP_INLINE_MAX:
            result = bulk_run(
                kind="certifications.zip",
                label=f"Certificates of “{certification.title}” ({len(award_ids)} PDFs)",
                item_ids=award_ids,
                actor=request.user,  # type: ignore[arg-type]
                force_background=True,
            )
            assert result.job is not None
            messages.info(request, "The ZIP is being built; download it from this page when ready.")
            return HttpResponseRedirect(result.job.get_absolute_url())
        data, errors = certificates_zip_bytes(awards.select_related("certification", "user"))
        if errors:
            messages.error(request, errors[0][1])
            return HttpResponseRedirect(back)
        response = HttpResponse(data, content_type="application/zip")
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = (
            f'attachment; filename="certificates-{certification.pk}-{stamp}.zip"'
        )
        return response


# --- Award Users wizard ------------------------------------------------------------------


class AwardUsersView(AdminRequiredMixin, FormView):
    """Step 1: the certification and who (users, groups, branches). Reached from the users
    list's bulk bar as a GET with repeated `user_ids`, or over 100 users one `selection`
    token (see `selected_user_ids`), which pre-selects those users."""

    template_name = "certifications/award_users.html"
    form_class = AwardSelectionForm

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["actor"] = self.request.user
        if self.request.method == "GET":
            token = self.request.GET.get("selection", "")
            raw_ids = [] if token else self.request.GET.getlist("user_ids")
            ids = [int(x) for x in raw_ids if x.isdigit()]
            initial: dict[str, Any] = {"user_ids": ids, "selection": token}
            certification_id = self.request.GET.get("certification")
            if certification_id and certification_id.isdigit():
                initial["certification"] = int(certification_id)
            kwargs["initial"] = initial
        return kwargs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = context["form"]
        actor: User = self.request.user  # type: ignore[assignment]
        ids = selected_user_ids(
            actor=actor, source=form.data if form.is_bound else self.request.GET
        )
        context["preselected"] = list(
            users_resolve_selection(actor=actor, user_ids=ids, include_disabled=True)[:200]
        )
        context["preselected_count"] = len(ids)
        return context

    def form_valid(self, form: AwardSelectionForm) -> HttpResponse:
        self.request.session[SESSION_SELECTION] = form.wizard_selection()
        return redirect("certifications:award_users_confirm")


class AwardUsersConfirmView(AdminRequiredMixin, FormView):
    """Step 2: how many distinct users the selection is, the dates and association, Confirm."""

    template_name = "certifications/award_users_confirm.html"
    form_class = AwardTermsForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated or not self.test_func():
            return super().dispatch(request, *args, **kwargs)
        selection = request.session.get(SESSION_SELECTION)
        if not selection:
            messages.info(request, "Choose a certification and the users first.")
            return redirect("certifications:award_users")
        self.certification = get_object_or_404(Certification, pk=selection["certification_id"])
        actor: User = request.user  # type: ignore[assignment]
        # Over 100 users from the users list, step 1 kept their selection's token, not the ids.
        picked = user_selection_ids(actor=actor, token=selection.get("selection", ""))
        self.users = users_resolve_selection(
            actor=actor,
            user_ids=[*selection["user_ids"], *picked],
            group_ids=selection["group_ids"],
            department_ids=selection["department_ids"],
        )
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        count = self.users.count()
        return super().get_context_data(
            certification=self.certification,
            user_count=count,
            sample=list(self.users[:8]),
            threshold=settings.MERIT_BULK_JOB_THRESHOLD,
            **kwargs,
        )

    def form_valid(self, form: AwardTermsForm) -> HttpResponse:
        data = form.cleaned_data
        user_ids = list(self.users.values_list("pk", flat=True))
        try:
            result = certification_award_start(
                certification=self.certification,
                user_ids=user_ids,
                issued_on=data["issued_on"],
                expires_on=data["expires_on"],
                always_valid=data["always_valid"],
                association=data["association"],
                external_training=data["external_training"],
                actor=self.request.user,  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        self.request.session.pop(SESSION_SELECTION, None)
        if result.is_background:
            assert result.job is not None
            messages.info(
                self.request,
                f"Awarding “{self.certification.title}” to {len(user_ids)} users in the background.",
            )
            return HttpResponseRedirect(result.job.get_absolute_url())
        messages.success(self.request, f"“{self.certification.title}”: {_outcome_message(result)}")
        return redirect("certifications:awarded", pk=self.certification.pk)


# --- the user record tab, the learner's page, PDFs ---------------------------------------


class UserCertificationsTabView(UserRecordMixin, FormView):
    template_name = "certifications/user_tab.html"
    record_tab = "certifications"
    form_class = IssueByHandForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            awards=certification_award_history_for_user(user=self.subject), **kwargs
        )

    def form_valid(self, form: IssueByHandForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            outcome = certification_award(
                certification=data["certification"],
                users=[self.subject],
                issued_on=data["issued_on"],
                expires_on=data["expires_on"],
                always_valid=data["always_valid"],
                association=data["association"],
                external_training=data["external_training"],
                actor=self.request.user,  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        verb = "renewed" if outcome.renewed else "issued"
        messages.success(self.request, f"“{data['certification'].title}” {verb}.")
        return redirect("certifications:user_tab", user_pk=self.subject.pk)


class MyCertificatesView(LoginRequiredMixin, ListView):
    template_name = "certifications/my_certificates.html"
    context_object_name = "awards"

    def get_queryset(self) -> QuerySet[CertificationAward]:
        return certification_awards_for_user(user=self.request.user)  # type: ignore[arg-type]


class AwardPdfView(LoginRequiredMixin, View):
    """The learner's own current certificate, or any (also ended ones) in an admin's scope."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        user: User = request.user  # type: ignore[assignment]
        award = (
            CertificationAward.objects.select_related("certification", "user")
            .filter(pk=pk, user=user, is_current=True)
            .first()
        )
        if award is None and can_manage_users(user):
            award = awards_visible_to(user).filter(pk=pk).first()
        if award is None:
            raise Http404
        try:
            pdf = certificate_pdf(award)
        except CertificateRenderError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(request.META.get("HTTP_REFERER") or reverse("home"))
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{certificate_filename(award)}"'
        return response


class VerifyView(TemplateView):
    """Public: anyone with the code (printed as a QR code) sees whether it is valid."""

    template_name = "certifications/verify.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        award = certification_award_by_code(code=kwargs["code"])
        if award is None:
            raise Http404
        if award.ended_reason == CertificationAward.EndReason.RENEWED:
            state = "renewed"
        elif award.ended_reason == CertificationAward.EndReason.UNASSIGNED:
            state = "unassigned"
        elif award.status == CertificationAward.Status.EXPIRED:
            state = "expired"
        else:
            state = "valid"
        return super().get_context_data(award=award, state=state, **kwargs)


# --- CSV import --------------------------------------------------------------------------


class ImportUploadView(AdminRequiredMixin, FormView):
    template_name = "certifications/import_upload.html"
    form_class = ImportUploadForm

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        self.certification = get_object_or_404(Certification, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(certification=self.certification, **kwargs)

    def form_valid(self, form: ImportUploadForm) -> HttpResponse:
        upload = form.cleaned_data["file"]
        try:
            imported = certification_import_check(
                certification=self.certification,
                upload=upload,
                file_name=upload.name,
                actor=self.request.user,  # type: ignore[arg-type]
            )
        except ValidationError as exc:
            form.add_error("file", exc)
            return self.form_invalid(form)
        return redirect("certifications:import_preview", pk=imported.pk)


class _ImportMixin(AdminRequiredMixin):
    imported: CertificationImport

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and self.test_func():
            self.imported = get_object_or_404(
                certification_imports_visible_to(request.user),  # type: ignore[arg-type]
                pk=kwargs["pk"],
            )
        return super().dispatch(request, *args, **kwargs)


class ImportPreviewView(_ImportMixin, TemplateView):
    template_name = "certifications/import_preview.html"
    rows_per_page = 200

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from django.core.paginator import Paginator

        show = self.request.GET.get("show", "errors" if self.imported.error_rows else "all")
        rows = self.imported.rows
        if show == "errors":
            rows = [row for row in rows if row["errors"]]
        page = Paginator(rows, self.rows_per_page).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            imported=self.imported,
            certification=self.imported.certification,
            page_obj=page,
            rows=page.object_list,
            show=show,
            query_string=f"show={show}",
            **kwargs,
        )

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            result = certification_import_apply(imported=self.imported, actor=request.user)  # type: ignore[arg-type]
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("certifications:import_preview", pk=self.imported.pk)
        if result.is_background:
            assert result.job is not None
            messages.info(request, f"Applying {self.imported.valid_rows} rows in the background.")
            return HttpResponseRedirect(result.job.get_absolute_url())
        messages.success(
            request, f"“{self.imported.certification.title}”: {_outcome_message(result)}"
        )
        return redirect("certifications:awarded", pk=self.imported.certification_id)


class ImportErrorsView(_ImportMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        response = HttpResponse(
            certification_import_error_report(self.imported), content_type="text/csv"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="import-{self.imported.pk}-errors.csv"'
        )
        return response
