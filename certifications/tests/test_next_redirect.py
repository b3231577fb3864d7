"""The award edit and unassign pages go back to the page they were opened from (`?next=`),
but only on this site: an external `next` is an open redirect, replaced by the awarded page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from certifications.tests.factories import AwardFactory

pytestmark = pytest.mark.django_db

EXTERNAL = ["https://evil.example/phish", "//evil.example/phish", "https:/\\evil.example"]


def _edit(client, award, next_url):
    return client.post(
        reverse("certifications:award_edit", args=[award.pk]) + f"?next={next_url}",
        {"issued_on": award.issued_on.isoformat(), "always_valid": "on", "association": "manual"},
    )


def _unassign(client, award, next_url):
    return client.post(
        reverse("certifications:award_unassign", args=[award.pk]) + f"?next={next_url}"
    )


@pytest.mark.parametrize("next_url", EXTERNAL)
@pytest.mark.parametrize("action", [_edit, _unassign], ids=["edit", "unassign"])
def test_an_external_next_goes_to_the_awarded_page_instead(client, admin_user, action, next_url):
    award = AwardFactory()
    client.force_login(admin_user)
    response = action(client, award, next_url)
    assert response.status_code == 302
    assert response["Location"] == reverse("certifications:awarded", args=[award.certification_id])


@pytest.mark.parametrize("action", [_edit, _unassign], ids=["edit", "unassign"])
def test_a_next_on_this_site_is_followed(client, admin_user, learner_user, action):
    award = AwardFactory()
    client.force_login(admin_user)
    back = reverse("certifications:user_tab", args=[learner_user.pk])
    response = action(client, award, back)
    assert response.status_code == 302
    assert response["Location"] == back
