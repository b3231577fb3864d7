"""Award Users for "all matching" users of the users list, over more users than a request may
carry as fields (Django's DATA_UPLOAD_MAX_NUMBER_FIELDS): the selection travels as one
server-side token through both wizard steps, and Confirm starts one background job over all."""

from __future__ import annotations

import pytest
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from certifications.models import CertificationAward
from certifications.tests.factories import CertificationFactory
from lms.models import BackgroundJob
from users.models import Department, User
from users.services import user_selection_create
from users.tests.factories import super_admin
from users.tests.large_selection import (
    LARGE_SELECTION,
    as_data,
    bulk_bar_forward,
    hidden_fields,
    learners_bulk_create,
    logged_in,
)

pytestmark = pytest.mark.django_db


def _award(client: Client) -> BackgroundJob:
    certification = CertificationFactory()
    page = client.get(bulk_bar_forward(client, "certifications:award_users"))
    assert page.status_code == 200
    step_one = client.post(
        reverse("certifications:award_users"),
        as_data(hidden_fields(page.text), certification=certification.pk),
    )
    assert step_one.status_code == 302
    assert step_one["Location"] == reverse("certifications:award_users_confirm")
    # The session keeps the selection's token, not its ids (read with every request).
    kept = client.session["certifications_award_selection"]
    assert kept["selection"] and kept["user_ids"] == []
    confirm = client.post(
        step_one["Location"], {"issued_on": "2026-03-01", "association": "manual"}
    )
    job = BackgroundJob.objects.get(kind="certifications.award")
    assert confirm.status_code == 302 and confirm["Location"] == job.get_absolute_url()
    return job


def test_award_all_matching_users_over_the_field_limit_runs_one_job(
    admin_user: User, org: dict[str, Department]
) -> None:
    ids = learners_bulk_create(LARGE_SELECTION, department=org["care"], prefix="care")
    job = _award(logged_in(admin_user))
    assert job.total == LARGE_SELECTION + 1  # and the admin, who is active too
    assert set(ids) <= set(job.item_ids)


def test_a_department_admins_large_selection_reaches_only_their_subtree(
    sales_admin: User, org: dict[str, Department]
) -> None:
    inside = learners_bulk_create(LARGE_SELECTION, department=org["active_sales"], prefix="in")
    outside = learners_bulk_create(200, department=org["hr"], prefix="out")
    job = _award(logged_in(sales_admin))
    assert not set(outside) & set(job.item_ids)
    assert set(job.item_ids) == {*inside, sales_admin.pk}


def test_another_admins_selection_selects_nobody(
    admin_user: User, org: dict[str, Department]
) -> None:
    learners_bulk_create(150, department=org["care"], prefix="care")
    location = bulk_bar_forward(logged_in(admin_user), "certifications:award_users")
    other = logged_in(super_admin(username="other-admin"))
    page = other.get(location)
    assert page.status_code == 200 and page.context["preselected"] == []
    token = QueryDict(location.partition("?")[2])["selection"]
    posted = other.post(
        reverse("certifications:award_users"),
        {"selection": token, "certification": CertificationFactory().pk},
    )
    assert posted.status_code == 200
    assert "Choose at least one user, group or branch." in posted.text
    assert "certifications_award_selection" not in other.session
    assert not BackgroundJob.objects.exists()


def test_a_department_admins_selection_is_still_scoped_when_it_is_used(
    sales_admin: User, learner_user: User, outsider: User
) -> None:
    """Someone may have left the admin's subtree since the selection was made."""
    selection = user_selection_create(actor=sales_admin, user_ids=[learner_user.pk, outsider.pk])
    certification = CertificationFactory()
    client = logged_in(sales_admin)
    page = client.get(reverse("certifications:award_users"), {"selection": selection.token})
    assert page.context["preselected"] == [learner_user]
    assert hidden_fields(page.text) == [("selection", selection.token)]
    client.post(
        reverse("certifications:award_users"),
        {"selection": selection.token, "certification": certification.pk},
    )
    confirm = client.get(reverse("certifications:award_users_confirm"))
    assert confirm.context["user_count"] == 1
    client.post(
        reverse("certifications:award_users_confirm"),
        {"issued_on": "2026-03-01", "association": "manual"},
    )
    awarded = CertificationAward.objects.filter(certification=certification)
    assert list(awarded.values_list("user_id", flat=True)) == [learner_user.pk]
