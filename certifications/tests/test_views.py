from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from certifications.models import Certification, CertificationAward, CertificationImport
from certifications.services import certification_award_unassign
from certifications.tests.factories import AwardFactory, CertificationFactory
from lms.models import BackgroundJob
from users.tests.factories import UserGroupFactory, learner

pytestmark = pytest.mark.django_db


def _login(client, user):
    client.force_login(user)
    return client


# --- the management page, per role --------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("admin_user", 200), ("sales_admin", 200), ("support_user", 200), ("learner_user", 403)],
)
def test_certification_list_per_role(client, request, who, status):
    CertificationFactory(title="Sales Excellence")
    response = _login(client, request.getfixturevalue(who)).get(reverse("certifications:list"))
    assert response.status_code == status
    if status == 200:
        assert b"Sales Excellence" in response.content


def test_anonymous_goes_to_login(client):
    response = client.get(reverse("certifications:list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_awarded_to_counts_only_the_department_admins_users(
    client, sales_admin, learner_user, outsider
):
    certification = CertificationFactory()
    AwardFactory(certification=certification, user=learner_user)
    AwardFactory(certification=certification, user=outsider)
    response = _login(client, sales_admin).get(reverse("certifications:list"))
    assert response.context["certifications"][0].awarded_count == 1


def test_list_query_count_does_not_grow(client, admin_user, django_assert_num_queries):
    _login(client, admin_user)
    CertificationFactory.create_batch(2)
    client.get(reverse("certifications:list"))
    with django_assert_num_queries(7):
        client.get(reverse("certifications:list"))
    for certification in CertificationFactory.create_batch(10):
        AwardFactory.create_batch(2, certification=certification)
    with django_assert_num_queries(7):
        client.get(reverse("certifications:list"))


def test_only_super_admins_create_certifications(client, admin_user, sales_admin):
    url = reverse("certifications:create")
    assert _login(client, sales_admin).get(url).status_code == 403
    response = _login(client, admin_user).post(
        url,
        {"title": "Forklift", "validity_days": "365", "renewal_window_days": "30"},
    )
    assert response.status_code == 302
    assert Certification.objects.get(title="Forklift").validity_days == 365


def test_create_needs_a_validity_or_always_valid(client, admin_user):
    response = _login(client, admin_user).post(
        reverse("certifications:create"), {"title": "X", "renewal_window_days": "30"}
    )
    assert response.status_code == 200 and "Always valid" in response.content.decode()
    assert not Certification.objects.exists()


def test_create_refuses_a_design_that_does_not_compile(client, admin_user):
    response = _login(client, admin_user).post(
        reverse("certifications:create"),
        {
            "title": "X",
            "always_valid": "on",
            "renewal_window_days": "30",
            "design_html": "{% if %}",
        },
    )
    assert response.status_code == 200 and "design has an error" in response.content.decode()
    assert not Certification.objects.exists()


def test_edit_always_valid_clears_the_validity(client, admin_user):
    certification = CertificationFactory(validity_days=365)
    _login(client, admin_user).post(
        reverse("certifications:edit", args=[certification.pk]),
        {"title": certification.title, "always_valid": "on", "renewal_window_days": "30"},
    )
    certification.refresh_from_db()
    assert certification.validity_days is None


# --- Awarded Users -----------------------------------------------------------------------


def test_awarded_users_page_lists_search_and_sort(client, admin_user):
    certification = CertificationFactory()
    AwardFactory(certification=certification, user=learner(username="zed", last_name="Zulu"))
    AwardFactory(certification=certification, user=learner(username="amy", last_name="Alpha"))
    url = reverse("certifications:awarded", args=[certification.pk])
    _login(client, admin_user)
    rows = list(client.get(url, {"sort": "-last_name"}).context["awards"])
    assert [a.user.username for a in rows] == ["zed", "amy"]
    rows = list(client.get(url, {"q": "amy"}).context["awards"])
    assert [a.user.username for a in rows] == ["amy"]


def test_awarded_users_query_count_is_the_same_for_few_and_many(
    client, admin_user, django_assert_num_queries
):
    certification = CertificationFactory()
    url = reverse("certifications:awarded", args=[certification.pk])
    _login(client, admin_user)
    AwardFactory.create_batch(2, certification=certification)
    client.get(url)
    with django_assert_num_queries(8):
        client.get(url)
    AwardFactory.create_batch(20, certification=certification)
    with django_assert_num_queries(8):
        client.get(url)


def test_awarded_users_hides_users_outside_the_department_admins_scope(
    client, sales_admin, learner_user, outsider
):
    certification = CertificationFactory()
    AwardFactory(certification=certification, user=learner_user)
    AwardFactory(certification=certification, user=outsider)
    response = _login(client, sales_admin).get(
        reverse("certifications:awarded", args=[certification.pk])
    )
    assert [a.user for a in response.context["awards"]] == [learner_user]


def test_edit_award_out_of_scope_is_404(client, sales_admin, outsider):
    award = AwardFactory(user=outsider)
    response = _login(client, sales_admin).get(
        reverse("certifications:award_edit", args=[award.pk])
    )
    assert response.status_code == 404


def test_edit_award_sets_always_valid(client, admin_user):
    award = AwardFactory()
    response = _login(client, admin_user).post(
        reverse("certifications:award_edit", args=[award.pk]),
        {"issued_on": award.issued_on.isoformat(), "always_valid": "on", "association": "manual"},
    )
    assert response.status_code == 302
    award.refresh_from_db()
    assert award.expires_on is None


def test_edit_award_refuses_expiry_before_issue_and_changes_nothing(client, admin_user):
    award = AwardFactory(issued_on=date(2026, 1, 10), expires_on=date(2027, 1, 10))
    response = _login(client, admin_user).post(
        reverse("certifications:award_edit", args=[award.pk]),
        {"issued_on": "2026-01-10", "expires_on": "2025-01-01", "association": "manual"},
    )
    assert response.status_code == 200
    assert "cannot be before the issue date" in response.content.decode()
    award.refresh_from_db()
    assert award.expires_on == date(2027, 1, 10)


def test_unassign_needs_a_post_and_keeps_history(client, admin_user):
    award = AwardFactory()
    url = reverse("certifications:award_unassign", args=[award.pk])
    _login(client, admin_user)
    assert client.get(url).status_code == 200
    award.refresh_from_db()
    assert award.is_current
    assert client.post(url).status_code == 302
    award.refresh_from_db()
    assert not award.is_current and award.ended_reason == "unassigned"


def test_learner_cannot_unassign(client, learner_user):
    award = AwardFactory(user=learner_user)
    response = _login(client, learner_user).post(
        reverse("certifications:award_unassign", args=[award.pk])
    )
    assert response.status_code == 403
    award.refresh_from_db()
    assert award.is_current


# --- Award Users wizard ------------------------------------------------------------------


def test_wizard_preselects_users_from_the_bulk_bar(client, admin_user, learner_user):
    response = _login(client, admin_user).get(
        reverse("certifications:award_users"), {"user_ids": [learner_user.pk]}
    )
    assert response.status_code == 200
    assert response.context["preselected"] == [learner_user]


def test_wizard_resolves_groups_and_branches_to_distinct_users(client, admin_user, org):
    certification = CertificationFactory()
    group = UserGroupFactory(name="Closers")
    in_both = learner(departments=[org["active_sales"]], user_groups=[group])
    only_branch = learner(departments=[org["sales"]])
    only_group = learner(departments=[org["hr"]], user_groups=[group])
    learner(departments=[org["hr"]])  # not picked
    _login(client, admin_user)
    response = client.post(
        reverse("certifications:award_users"),
        {
            "certification": certification.pk,
            "groups": [group.pk],
            "departments": [org["sales"].pk],
        },
    )
    assert response.status_code == 302
    confirm = client.get(reverse("certifications:award_users_confirm"))
    assert confirm.context["user_count"] == 3
    response = client.post(
        reverse("certifications:award_users_confirm"),
        {"issued_on": "2026-03-01", "association": "manual"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("certifications:awarded", args=[certification.pk])
    assert set(CertificationAward.objects.values_list("user_id", flat=True)) == {
        in_both.pk,
        only_branch.pk,
        only_group.pk,
    }


def test_wizard_refuses_an_empty_selection(client, admin_user):
    response = _login(client, admin_user).post(
        reverse("certifications:award_users"), {"certification": CertificationFactory().pk}
    )
    assert response.status_code == 200
    assert "Choose at least one user" in response.content.decode()


def test_wizard_names_unknown_users(client, admin_user):
    response = _login(client, admin_user).post(
        reverse("certifications:award_users"),
        {"certification": CertificationFactory().pk, "logins": "nobody-here"},
    )
    assert "Unknown users: nobody-here" in response.content.decode()


def test_wizard_refuses_unknown_groups(client, admin_user):
    response = _login(client, admin_user).post(
        reverse("certifications:award_users"),
        {"certification": CertificationFactory().pk, "groups": ["999999"]},
    )
    assert response.status_code == 200 and response.context["form"].errors["groups"]


def test_wizard_confirm_refuses_expiry_before_issue(client, admin_user, learner_user):
    certification = CertificationFactory()
    _login(client, admin_user)
    client.post(
        reverse("certifications:award_users"),
        {"certification": certification.pk, "logins": "anna"},
    )
    response = client.post(
        reverse("certifications:award_users_confirm"),
        {"issued_on": "2026-03-01", "expires_on": "2026-02-01", "association": "manual"},
    )
    assert response.status_code == 200
    assert not CertificationAward.objects.exists()


@override_settings(MERIT_BULK_JOB_THRESHOLD=2)
def test_wizard_over_the_threshold_redirects_to_the_job(client, admin_user, org):
    certification = CertificationFactory()
    for _ in range(3):
        learner(departments=[org["care"]])
    _login(client, admin_user)
    client.post(
        reverse("certifications:award_users"),
        {"certification": certification.pk, "departments": [org["care"].pk]},
    )
    response = client.post(
        reverse("certifications:award_users_confirm"),
        {"issued_on": "2026-03-01", "association": "manual"},
    )
    job = BackgroundJob.objects.get(kind="certifications.award")
    assert response["Location"] == job.get_absolute_url()
    assert job.total == 3


def test_department_admin_wizard_counts_only_their_users(
    client, sales_admin, learner_user, outsider, org
):
    certification = CertificationFactory()
    _login(client, sales_admin)
    response = client.post(
        reverse("certifications:award_users"),
        {"certification": certification.pk, "user_ids": [outsider.pk]},
    )
    assert "outside your departments" in response.content.decode()


# --- user record tab, learner page, PDFs, verification ----------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("admin_user", 200), ("sales_admin", 200), ("support_user", 200), ("learner_user", 403)],
)
def test_user_tab_per_role(client, request, learner_user, who, status):
    response = _login(client, request.getfixturevalue(who)).get(
        reverse("certifications:user_tab", args=[learner_user.pk])
    )
    assert response.status_code == status


def test_user_tab_out_of_scope_is_404(client, sales_admin, outsider):
    response = _login(client, sales_admin).get(
        reverse("certifications:user_tab", args=[outsider.pk])
    )
    assert response.status_code == 404


def test_issue_by_hand_from_the_user_record(client, admin_user, learner_user):
    certification = CertificationFactory()
    response = _login(client, admin_user).post(
        reverse("certifications:user_tab", args=[learner_user.pk]),
        {"certification": certification.pk, "issued_on": "2026-03-01", "association": "manual"},
    )
    assert response.status_code == 302
    award = CertificationAward.objects.get(user=learner_user)
    assert award.awarded_by == admin_user


def test_my_certificates_lists_only_mine(client, learner_user, outsider):
    mine = AwardFactory(user=learner_user)
    AwardFactory(user=outsider)
    response = _login(client, learner_user).get(reverse("certifications:my_certificates"))
    assert list(response.context["awards"]) == [mine]


def test_learner_downloads_their_pdf_but_not_someone_elses(client, learner_user, outsider):
    mine, theirs = AwardFactory(user=learner_user), AwardFactory(user=outsider)
    _login(client, learner_user)
    response = client.get(reverse("certifications:award_pdf", args=[mine.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert client.get(reverse("certifications:award_pdf", args=[theirs.pk])).status_code == 404


def test_learner_cannot_download_an_unassigned_certificate(client, admin_user, learner_user):
    award = AwardFactory(user=learner_user)
    certification_award_unassign(award=award, actor=admin_user)
    response = _login(client, learner_user).get(
        reverse("certifications:award_pdf", args=[award.pk])
    )
    assert response.status_code == 404


def test_department_admin_downloads_pdfs_in_scope_only(client, sales_admin, learner_user, outsider):
    inside, outside = AwardFactory(user=learner_user), AwardFactory(user=outsider)
    _login(client, sales_admin)
    assert client.get(reverse("certifications:award_pdf", args=[inside.pk])).status_code == 200
    assert client.get(reverse("certifications:award_pdf", args=[outside.pk])).status_code == 404


def test_broken_design_gives_a_message_not_a_500(client, learner_user):
    award = AwardFactory(
        user=learner_user, certification=CertificationFactory(design_html="{% if %}")
    )
    response = _login(client, learner_user).get(
        reverse("certifications:award_pdf", args=[award.pk]), follow=True
    )
    assert response.status_code == 200
    assert "could not be rendered" in response.content.decode()


def test_zip_of_selected_awards(client, admin_user):
    certification = CertificationFactory()
    awards = AwardFactory.create_batch(3, certification=certification)
    response = _login(client, admin_user).post(
        reverse("certifications:awards_zip", args=[certification.pk]),
        {"award_ids": [awards[0].pk, awards[1].pk]},
    )
    assert response["Content-Type"] == "application/zip"
    import io
    import zipfile

    assert len(zipfile.ZipFile(io.BytesIO(response.content)).namelist()) == 2


@override_settings(MERIT_CERTIFICATE_ZIP_INLINE_MAX=2)
def test_zip_of_many_awards_is_a_job(client, admin_user):
    certification = CertificationFactory()
    AwardFactory.create_batch(3, certification=certification)
    response = _login(client, admin_user).post(
        reverse("certifications:awards_zip", args=[certification.pk]), {"all": "1"}
    )
    job = BackgroundJob.objects.get(kind="certifications.zip")
    assert response["Location"] == job.get_absolute_url() and job.total == 3


def test_zip_with_nothing_selected_says_so(client, admin_user):
    certification = CertificationFactory()
    response = _login(client, admin_user).post(
        reverse("certifications:awards_zip", args=[certification.pk]), follow=True
    )
    assert "Select at least one" in response.content.decode()


def test_verification_page_says_valid_without_login(client):
    award = AwardFactory(user=learner(first_name="Anna", last_name="Smith"))
    response = client.get(reverse("certifications:verify", args=[award.code]))
    assert response.status_code == 200
    assert response.context["state"] == "valid"
    assert "Anna Smith" in response.content.decode()
    assert award.user.email not in response.content.decode()


def test_verification_page_says_expired(client):
    today = timezone.localdate()
    award = AwardFactory(
        issued_on=today - timedelta(days=400), expires_on=today - timedelta(days=1)
    )
    assert (
        client.get(reverse("certifications:verify", args=[award.code])).context["state"]
        == "expired"
    )


def test_verification_page_says_renewed(client, admin_user):
    award = AwardFactory()
    from certifications.services import certification_award

    certification_award(
        certification=award.certification,
        users=[award.user],
        issued_on=timezone.localdate(),
        actor=admin_user,
    )
    assert (
        client.get(reverse("certifications:verify", args=[award.code])).context["state"]
        == "renewed"
    )


def test_verification_page_says_unassigned(client, admin_user):
    award = AwardFactory()
    certification_award_unassign(award=award, actor=admin_user)
    assert (
        client.get(reverse("certifications:verify", args=[award.code])).context["state"]
        == "unassigned"
    )


def test_unknown_code_is_404(client):
    assert client.get(reverse("certifications:verify", args=["not-a-code"])).status_code == 404


# --- CSV import pages --------------------------------------------------------------------


def test_csv_upload_preview_apply_and_error_report(client, admin_user, learner_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    certification = CertificationFactory()
    _login(client, admin_user)
    upload = SimpleUploadedFile("a.csv", b"anna,2026-01-15,,manual,\nghost,2026-01-15,,manual,\n")
    response = client.post(
        reverse("certifications:import_upload", args=[certification.pk]), {"file": upload}
    )
    imported = CertificationImport.objects.get()
    assert response["Location"] == reverse("certifications:import_preview", args=[imported.pk])
    preview = client.get(response["Location"])
    assert "Unknown user" in preview.content.decode()
    assert not CertificationAward.objects.exists()
    report = client.get(reverse("certifications:import_errors", args=[imported.pk]))
    assert b"ghost" in report.content and b"anna" not in report.content
    client.post(reverse("certifications:import_preview", args=[imported.pk]))
    assert CertificationAward.objects.get().user == learner_user


def test_csv_upload_that_is_not_csv_shows_the_error(client, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    certification = CertificationFactory()
    response = _login(client, admin_user).post(
        reverse("certifications:import_upload", args=[certification.pk]),
        {"file": SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n\x00\x00")},
    )
    assert response.status_code == 200 and "not a CSV" in response.content.decode()
    assert not CertificationImport.objects.exists()


def test_another_admins_import_is_404(client, support_user, admin_user):
    imported = CertificationImport.objects.create(
        certification=CertificationFactory(), created_by=admin_user
    )
    response = _login(client, support_user).get(
        reverse("certifications:import_preview", args=[imported.pk])
    )
    assert response.status_code == 404


def test_wizard_keeps_the_preselected_users_through_both_steps(client, admin_user, learner_user):
    certification = CertificationFactory()
    _login(client, admin_user)
    page = client.get(reverse("certifications:award_users"), {"user_ids": [learner_user.pk]})
    assert f'name="user_ids" value="{learner_user.pk}"' in page.content.decode()
    client.post(
        reverse("certifications:award_users"),
        {"certification": certification.pk, "user_ids": [learner_user.pk]},
    )
    assert client.get(reverse("certifications:award_users_confirm")).context["user_count"] == 1
    client.post(
        reverse("certifications:award_users_confirm"),
        {"issued_on": "2026-03-01", "always_valid": "on", "association": "manual"},
    )
    award = CertificationAward.objects.get(user=learner_user)
    assert award.expires_on is None and award.issued_on == date(2026, 3, 1)


def test_awarded_users_query_count_for_a_department_admin_is_constant(
    client, sales_admin, org, django_assert_num_queries
):
    certification = CertificationFactory()
    url = reverse("certifications:awarded", args=[certification.pk])
    _login(client, sales_admin)

    def award(count: int) -> None:
        for _ in range(count):
            AwardFactory(certification=certification, user=learner(departments=[org["sales"]]))

    award(2)
    client.get(url)
    with django_assert_num_queries(9):
        assert len(client.get(url).context["awards"]) == 2
    award(20)
    with django_assert_num_queries(9):
        assert len(client.get(url).context["awards"]) == 22
