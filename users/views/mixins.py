from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse

from lms.views import AdminRequiredMixin
from users.models import User
from users.record_tabs import RECORD_TABS
from users.selectors import users_visible_to


class UserRecordMixin(AdminRequiredMixin):
    """For every tab of the admin's user record: the viewer must hold the "manage users"
    permission (403 otherwise) and the user must be in their scope (404 otherwise, so a
    department admin cannot even learn that a user outside their departments exists).

    Sets `self.subject` and puts `subject`, `record_tabs` and `active_tab` in the context."""

    record_tab: str = "details"
    subject_url_kwarg = "user_pk"
    subject: User

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and self.test_func():
            pk = kwargs.get(self.subject_url_kwarg) or kwargs.get("pk")
            if pk is None:
                raise Http404
            self.subject = get_object_or_404(users_visible_to(request.user), pk=pk)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        tabs = []
        for key, label, url_name in RECORD_TABS:
            try:
                url = reverse(url_name, args=[self.subject.pk])
            except NoReverseMatch:
                continue
            tabs.append({"key": key, "label": label, "url": url})
        context.update(
            {"subject": self.subject, "record_tabs": tabs, "active_tab": self.record_tab}
        )
        return context


def bulk_selection_source(request: HttpRequest) -> QueryDict:
    """Where a bulk page reached from the users list finds its users (repeated `user_ids`, or
    one `selection` token over 100 users; read with `users.selectors.selected_user_ids`): the
    query string of its GET, the fields of its POST."""
    return request.POST if request.method == "POST" else request.GET
