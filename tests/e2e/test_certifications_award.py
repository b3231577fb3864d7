"""The issue's story in a real browser: an admin awards a certification to a branch and a
group through the Award Users wizard (a background job with a progress bar, finished by a
real Celery worker), opens Awarded Users, edits and unassigns; a learner opens the public
verification page of their certificate."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.utils import timezone

from certifications.models import CertificationAward
from certifications.services import certification_award
from certifications.tests.factories import CertificationFactory
from tests.e2e.conftest import log_in, screenshot
from users.tests.factories import UserGroupFactory, learner

pytestmark = pytest.mark.e2e


@override_settings(MERIT_BULK_JOB_THRESHOLD=5)
def test_award_users_wizard_runs_a_job_and_lands_on_awarded_users(
    page, celery_worker, admin_user, org
):
    certification = CertificationFactory(title="Sales Excellence", validity_days=365)
    group = UserGroupFactory(name="Closers")
    for n in range(6):
        learner(
            username=f"seller{n}",
            first_name="Sam",
            last_name=f"Seller{n}",
            departments=[org["active_sales"]],
        )
    learner(
        username="closer",
        first_name="Cleo",
        last_name="Closer",
        departments=[org["hr"]],
        user_groups=[group],
    )
    learner(username="bystander", departments=[org["hr"]])

    log_in(page, "admin")
    page.goto("/certifications/")
    page.get_by_test_id("award-users").click()
    page.select_option("select[name=certification]", label="Sales Excellence")
    page.select_option("select[name=groups]", label="Closers")
    page.select_option("select[name=departments]", value=str(org["sales"].pk))
    screenshot(page, "certifications-wizard-1-who")
    page.get_by_test_id("wizard-next").click()

    assert "resolves to 7 distinct" in page.get_by_test_id("resolved-count").inner_text()
    page.fill("input[name=issued_on]", "2026-03-01")
    screenshot(page, "certifications-wizard-2-confirm")
    page.get_by_role("button", name="Confirm").click()

    page.wait_for_url("**/jobs/*/")
    page.get_by_test_id("job-summary").wait_for(timeout=60_000)
    assert "Awarded: 7" in page.get_by_test_id("job-summary").inner_text()
    screenshot(page, "certifications-wizard-3-job")

    page.goto(f"/certifications/{certification.pk}/awarded/")
    assert page.get_by_test_id("award-row").count() == 7
    assert page.get_by_test_id("awarded-total").inner_text() == "7"
    screenshot(page, "certifications-awarded-users")

    # Edit one user's expiration, then unassign another.
    cleo = CertificationAward.objects.get(user__username="closer")
    page.goto(f"/certifications/awards/{cleo.pk}/edit/")
    page.fill("input[name=expires_on]", "2026-12-31")
    page.get_by_role("button", name="Save changes").click()
    assert "was updated" in page.content()
    seller = CertificationAward.objects.get(user__username="seller0")
    page.goto(f"/certifications/awards/{seller.pk}/unassign/")
    page.get_by_test_id("confirm-unassign").click()
    assert page.get_by_test_id("award-row").count() == 6
    screenshot(page, "certifications-awarded-after-edit")
    cleo.refresh_from_db()
    assert str(cleo.expires_on) == "2026-12-31"

    page.goto("/certifications/")
    assert page.get_by_test_id("awarded-count").inner_text() == "6 users"
    screenshot(page, "certifications-list")
    page.goto(f"/certifications/users/{seller.user_id}/")
    assert "Unassigned" in page.get_by_test_id("user-award-row").inner_text()
    screenshot(page, "certifications-user-tab")


def test_learner_sees_their_certificate_and_its_public_verification(page, learner_user):
    certification = CertificationFactory(title="Workplace Safety", validity_days=None)
    certification_award(
        certification=certification,
        users=[learner_user],
        issued_on=timezone.localdate(),
        always_valid=True,
        actor=None,
    )
    award = CertificationAward.objects.get(user=learner_user)
    log_in(page, "anna")
    page.goto("/certifications/mine/")
    assert page.get_by_test_id("my-certificate").count() == 1
    screenshot(page, "certifications-my-certificates")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")

    page.context.clear_cookies()
    page.goto(f"/certifications/verify/{award.code}/")
    assert page.get_by_test_id("verify-card").get_attribute("data-state") == "valid"
    assert "Anna Smith" in page.get_by_test_id("verify-name").inner_text()
    screenshot(page, "certifications-verify-valid")
