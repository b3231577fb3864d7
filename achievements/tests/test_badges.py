"""Badge definitions, manual grants and revokes, and applying a rule to past activity."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from achievements.models import Badge, PointsBalance, UserBadge
from achievements.selectors import badge_statuses
from achievements.services import (
    badge_create,
    badge_grant,
    badge_grant_bulk,
    badge_revoke,
    badge_rule_candidates,
    badge_update,
    community_event_record,
)
from achievements.tests.factories import BadgeFactory, png_upload
from lms.event_kinds import ORGANISATION_KINDS, EventKind
from lms.jobs import job_execute
from lms.models import Event
from users.models import User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _comments(user: User, n: int) -> None:
    for _ in range(n):
        community_event_record(kind=EventKind.COMMUNITY_COMMENT_POSTED, user=user)


def test_badge_image_is_normalised_into_the_page_sizes(admin_user: User) -> None:
    badge = badge_create(
        actor=admin_user,
        name="Conversationalist",
        category="community",
        rule="comment_posted",
        threshold=10,
        image=png_upload(size=(800, 500)),
    )
    with Image.open(badge.image.path) as big, Image.open(badge.image_small.path) as small:
        assert (big.size, big.format) == ((256, 256), "PNG")
        assert small.size == (64, 64)


def test_a_badge_image_that_is_not_an_image_is_refused_and_nothing_saved(admin_user: User) -> None:
    fake = SimpleUploadedFile("badge.png", b"<?php echo 'hi'; ?>", content_type="image/png")
    with pytest.raises(ValidationError, match="not an image"):
        badge_create(actor=admin_user, name="Fake", category="profile", image=fake)
    assert not Badge.objects.exists()


def test_an_unknown_rule_is_refused(admin_user: User) -> None:
    with pytest.raises(ValidationError):
        badge_create(actor=admin_user, name="Odd", category="profile", rule="teleported")
    assert not Badge.objects.exists()


def test_a_new_badge_is_not_given_to_anyone_until_applied(
    admin_user: User, learner_user: User
) -> None:
    _comments(learner_user, 3)
    badge_create(
        actor=admin_user, name="Chatty", category="community", rule="comment_posted", threshold=2
    )
    assert not UserBadge.objects.exists()


def test_dry_run_counts_who_would_earn_it(admin_user: User, learner_user: User) -> None:
    chatty, quiet = UserFactory.create_batch(2)
    _comments(learner_user, 3)
    _comments(chatty, 5)
    _comments(quiet, 1)
    badge = BadgeFactory(rule="comment_posted", threshold=3)
    assert badge_rule_candidates(badge=badge) == sorted([learner_user.pk, chatty.pk])
    assert not UserBadge.objects.exists()


def test_applying_a_rule_retroactively_awards_it_once(admin_user: User, learner_user: User) -> None:
    from achievements.services import badge_rule_apply

    _comments(learner_user, 3)
    badge = BadgeFactory(rule="comment_posted", threshold=3, points=20)
    result = badge_rule_apply(badge=badge, actor=admin_user)
    assert result.job is not None
    job = job_execute(job_id=result.job.pk)
    assert job.summary == {"awarded": 1}
    assert UserBadge.objects.get().user == learner_user
    assert PointsBalance.objects.get(user=learner_user).points == 20
    job_execute(job_id=result.job.pk)  # a duplicate delivery
    again = badge_rule_apply(badge=badge, actor=admin_user)
    assert again.job is not None and again.job.total == 0
    assert UserBadge.objects.count() == 1


def test_a_stricter_rule_revokes_nobody(admin_user: User, learner_user: User) -> None:
    badge = BadgeFactory(rule="comment_posted", threshold=1)
    _comments(learner_user, 1)
    badge_update(badge=badge, actor=admin_user, threshold=50)
    assert UserBadge.objects.filter(user=learner_user, revoked_at__isnull=True).count() == 1


def test_an_admin_grants_a_badge_with_a_reason(admin_user: User, learner_user: User) -> None:
    badge = BadgeFactory(rule="manual", points=10)
    held = badge_grant(
        user=learner_user, badge=badge, actor=admin_user, reason="Mentoring", content="Onboarding"
    )
    assert (held.source, held.reason, held.content_label) == ("manual", "Mentoring", "Onboarding")
    event = Event.objects.get(kind=EventKind.BADGE_GRANTED)
    assert event.is_manual and event.details["reason"] == "Mentoring"
    assert PointsBalance.objects.get(user=learner_user).points == 10


def test_granting_a_badge_already_held_adds_to_its_quantity(
    admin_user: User, learner_user: User
) -> None:
    badge = BadgeFactory(rule="manual", points=10)
    badge_grant(user=learner_user, badge=badge, actor=admin_user, reason="Once")
    held = badge_grant(
        user=learner_user, badge=badge, actor=admin_user, reason="Twice more", quantity=2
    )
    assert held.quantity == 3 and UserBadge.objects.count() == 1
    assert Event.objects.filter(kind=EventKind.BADGE_GRANTED).count() == 2
    assert PointsBalance.objects.get(user=learner_user).points == 10  # badge points once


@pytest.mark.parametrize("quantity", [0, -1, 101, 2.5])
def test_a_bad_quantity_is_refused(admin_user: User, learner_user: User, quantity: object) -> None:
    with pytest.raises(ValidationError, match="quantity"):
        badge_grant(
            user=learner_user,
            badge=BadgeFactory(rule="manual"),
            actor=admin_user,
            reason="Bad",
            quantity=quantity,  # type: ignore[arg-type]
        )
    # nothing recorded but the fixtures' organisation
    assert not UserBadge.objects.exists()
    assert not Event.objects.exclude(kind__in=ORGANISATION_KINDS).exists()


def test_revoking_keeps_the_row_and_a_rule_does_not_give_it_back(
    admin_user: User, learner_user: User
) -> None:
    badge = BadgeFactory(rule="comment_posted", threshold=1, points=5)
    _comments(learner_user, 1)
    badge_revoke(user=learner_user, badge=badge, actor=admin_user, reason="Spam comments")
    _comments(learner_user, 2)
    held = UserBadge.objects.get(user=learner_user)
    assert held.revoked_reason == "Spam comments" and held.is_revoked
    assert Event.objects.filter(kind=EventKind.BADGE_REVOKED, details__reason="Spam comments")
    badge_grant(user=learner_user, badge=badge, actor=admin_user, reason="Appeal upheld")
    held.refresh_from_db()
    assert not held.is_revoked
    assert PointsBalance.objects.get(user=learner_user).points == 5  # badge points once only


def test_revoking_needs_a_reason(admin_user: User, learner_user: User) -> None:
    badge = BadgeFactory(rule="manual")
    badge_grant(user=learner_user, badge=badge, actor=admin_user, reason="Good")
    with pytest.raises(ValidationError):
        badge_revoke(user=learner_user, badge=badge, actor=admin_user, reason=" ")
    assert not UserBadge.objects.get().is_revoked


def test_bulk_grant_skips_holders(admin_user: User) -> None:
    badge = BadgeFactory(rule="manual")
    users = UserFactory.create_batch(3)
    badge_grant(user=users[0], badge=badge, actor=admin_user, reason="First")
    granted = badge_grant_bulk(
        user_ids=[u.pk for u in users], badge=badge, actor=admin_user, reason="Team"
    )
    assert granted == sorted([users[1].pk, users[2].pk])
    assert UserBadge.objects.count() == 3


def test_locked_badges_show_progress(admin_user: User, learner_user: User) -> None:
    BadgeFactory(name="Conversationalist", rule="comment_posted", threshold=10)
    BadgeFactory(name="First comment", rule="comment_posted", threshold=1)
    _comments(learner_user, 3)
    statuses = {s.badge.name: s for s in badge_statuses(user=learner_user)}
    assert statuses["Conversationalist"].progress_label == "3 / 10 comments"
    assert not statuses["Conversationalist"].earned
    assert statuses["First comment"].earned
