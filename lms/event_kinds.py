"""Every kind of event Merit records, and who listens to each.

This is the one place to read how the apps react to each other: `progress` records that a
course was completed; `achievements` and `certifications` subscribe to that kind. Subscribers
are dotted paths to functions `(events: Sequence[Event]) -> None`; they run inside the
transaction that recorded the events, so a failure in a subscriber rolls the whole change back
and nothing is half-done. A subscriber must be idempotent: a replayed event changes nothing."""

from django.db import models


class EventKind(models.TextChoices):
    # users
    USER_CREATED = "user.created", "User created"
    USER_UPDATED = "user.updated", "Details changed"
    USER_PASSWORD_SET = "user.password_set", "Password set"
    USER_SESSIONS_ENDED = "user.sessions_ended", "Logged out everywhere"
    USER_TWO_FACTOR_ENABLED = "user.two_factor_enabled", "Two-factor authentication set up"
    USER_TWO_FACTOR_DISABLED = "user.two_factor_disabled", "Two-factor authentication removed"
    USER_RECOVERY_CODES_CREATED = "user.recovery_codes_created", "Recovery codes created"
    USER_ROLE_CHANGED = "user.role_changed", "Role changed"
    USER_DISABLED = "user.disabled", "User disabled"
    USER_ENABLED = "user.enabled", "User enabled"
    USER_INVITED = "user.invited", "Invitation sent"
    USER_ADDED_TO_GROUP = "user.added_to_group", "Added to group"
    USER_REMOVED_FROM_GROUP = "user.removed_from_group", "Removed from group"
    USER_IMPERSONATION_STARTED = "user.impersonation_started", "Impersonation started"
    USER_IMPERSONATION_ENDED = "user.impersonation_ended", "Impersonation ended"
    PROFILE_AVATAR_ADDED = "profile.avatar_added", "Profile picture added"
    PROFILE_BIO_COMPLETED = "profile.bio_completed", "Bio completed"
    PROFILE_SOCIAL_LINKS_ADDED = "profile.social_links_added", "Social links added"
    PROFILE_UPDATED = "profile.updated", "Profile updated"
    # the organisation (no subject: they are about no one person)
    DEPARTMENT_CREATED = "department.created", "Department created"
    DEPARTMENT_CHANGED = "department.changed", "Department renamed or moved"
    DEPARTMENT_DELETED = "department.deleted", "Department deleted"
    GROUP_CREATED = "group.created", "Group created"
    GROUP_CHANGED = "group.changed", "Group renamed or changed"
    GROUP_DELETED = "group.deleted", "Group deleted"
    CUSTOM_FIELD_CREATED = "custom_field.created", "Custom field created"
    CUSTOM_FIELD_CHANGED = "custom_field.changed", "Custom field changed"
    CUSTOM_FIELD_DELETED = "custom_field.deleted", "Custom field deleted"
    # community (reported by other systems through achievements.services)
    COMMUNITY_POST_PUBLISHED = "community.post_published", "Post published"
    COMMUNITY_COMMENT_POSTED = "community.comment_posted", "Comment posted"
    COMMUNITY_REACTION_RECEIVED = "community.reaction_received", "Reaction received"
    # achievements
    POINTS_AWARDED = "points.awarded", "Points awarded"
    POINTS_DEDUCTED = "points.deducted", "Points removed"
    BADGE_EARNED = "badge.earned", "Badge earned"
    BADGE_GRANTED = "badge.granted", "Badge granted"
    BADGE_REVOKED = "badge.revoked", "Badge revoked"
    GAMIFICATION_SETTINGS_CHANGED = "gamification.settings_changed", "Gamification settings changed"
    # progress
    ENROLLED = "progress.enrolled", "Enrolled"
    UNENROLLED = "progress.unenrolled", "Enrollment removed"
    ACCESS_CHANGED = "progress.access_changed", "Access changed"
    ACTIVITY_COMPLETED = "progress.activity_completed", "Activity completed"
    MODULE_COMPLETED = "progress.module_completed", "Module completed"
    COURSE_COMPLETED = "progress.course_completed", "Course completed"
    LEARNING_PLAN_COMPLETED = "progress.learning_plan_completed", "Learning plan completed"
    PROGRESS_RESET = "progress.reset", "Progress reset"
    EXAM_ATTEMPTED = "progress.exam_attempted", "Exam attempted"
    EXAM_ATTEMPT_FORGIVEN = "progress.exam_attempt_forgiven", "Exam attempt forgiven"
    EXTERNAL_TRAINING_RECORDED = "progress.external_training_recorded", "External training recorded"
    # certifications
    CERTIFICATION_AWARDED = "certification.awarded", "Certification awarded"
    CERTIFICATION_RENEWED = "certification.renewed", "Certification renewed"
    CERTIFICATION_UPDATED = "certification.updated", "Certification award edited"
    CERTIFICATION_UNASSIGNED = "certification.unassigned", "Certification unassigned"
    CERTIFICATION_EXPIRED = "certification.expired", "Certification expired"
    CERTIFICATION_REMINDER_SENT = "certification.reminder_sent", "Renewal reminder sent"
    CERTIFICATION_DEFINED = "certification.defined", "Certification created"
    CERTIFICATION_DEFINITION_CHANGED = "certification.definition_changed", "Certification changed"
    # payments (payments/services.py)
    PAYMENT_RECORDED = "payment.recorded", "Payment recorded"
    PAYMENT_FAILED = "payment.failed", "Payment failed"
    PAYMENT_REFUNDED = "payment.refunded", "Refund recorded"
    PAYMENT_CARD_SAVED = "payment.card_saved", "Card on file saved"
    SUBSCRIPTION_STARTED = "subscription.started", "Subscription started"
    SUBSCRIPTION_RENEWED = "subscription.renewed", "Subscription renewed"
    SUBSCRIPTION_UPDATED = "subscription.updated", "Subscription changed"
    SUBSCRIPTION_CANCEL_SCHEDULED = (
        "subscription.cancel_scheduled",
        "Subscription set to end at period end",
    )
    SUBSCRIPTION_CANCELLED = "subscription.cancelled", "Subscription cancelled"
    SUBSCRIPTION_ENDED = "subscription.ended", "Subscription ended"
    SEAT_LICENCE_CREATED = "seat.licence_created", "Seat licence bought"
    SEAT_ASSIGNED = "seat.assigned", "Seat assigned"
    SEAT_RELEASED = "seat.released", "Seat taken back"
    # platform
    JOB_STARTED = "job.started", "Background job started"


# Changes to the organisation's structure, about no one user: shown on the organisation pages,
# not on a user's Events tab.
DEPARTMENT_KINDS = (
    EventKind.DEPARTMENT_CREATED,
    EventKind.DEPARTMENT_CHANGED,
    EventKind.DEPARTMENT_DELETED,
)
GROUP_KINDS = (EventKind.GROUP_CREATED, EventKind.GROUP_CHANGED, EventKind.GROUP_DELETED)
CUSTOM_FIELD_KINDS = (
    EventKind.CUSTOM_FIELD_CREATED,
    EventKind.CUSTOM_FIELD_CHANGED,
    EventKind.CUSTOM_FIELD_DELETED,
)
ORGANISATION_KINDS = frozenset({*DEPARTMENT_KINDS, *GROUP_KINDS, *CUSTOM_FIELD_KINDS})

# kind -> subscribers, in the order they run. Apps add their own lines here.
SUBSCRIBERS: dict[str, list[str]] = {
    EventKind.COURSE_COMPLETED: ["certifications.subscribers.on_course_completed"],
    EventKind.LEARNING_PLAN_COMPLETED: ["certifications.subscribers.on_learning_plan_completed"],
    EventKind.EXTERNAL_TRAINING_RECORDED: [
        "certifications.subscribers.on_external_training_recorded"
    ],
}

# achievements: points for passed modules/courses/content, badge rules, leaderboard membership
for _kind, _subscriber in [
    (EventKind.MODULE_COMPLETED, "achievements.subscribers.on_module_completed"),
    (EventKind.COURSE_COMPLETED, "achievements.subscribers.on_course_completed"),
    (EventKind.ACTIVITY_COMPLETED, "achievements.subscribers.on_activity_completed"),
    (EventKind.PROFILE_AVATAR_ADDED, "achievements.subscribers.on_badge_event"),
    (EventKind.PROFILE_BIO_COMPLETED, "achievements.subscribers.on_badge_event"),
    (EventKind.PROFILE_SOCIAL_LINKS_ADDED, "achievements.subscribers.on_badge_event"),
    (EventKind.COMMUNITY_POST_PUBLISHED, "achievements.subscribers.on_badge_event"),
    (EventKind.COMMUNITY_COMMENT_POSTED, "achievements.subscribers.on_badge_event"),
    (EventKind.COMMUNITY_REACTION_RECEIVED, "achievements.subscribers.on_badge_event"),
    (EventKind.USER_DISABLED, "achievements.subscribers.on_user_active_changed"),
    (EventKind.USER_ENABLED, "achievements.subscribers.on_user_active_changed"),
]:
    SUBSCRIBERS.setdefault(str(_kind), []).append(_subscriber)
