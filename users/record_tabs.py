"""The tabs of the admin's user record, in order. Each app owns the view behind its tab;
a tab whose URL name does not exist yet is simply not shown."""

RECORD_TABS: list[tuple[str, str, str]] = [
    # (key, label, url name taking the user's pk)
    ("details", "Details", "users:detail"),
    ("achievements", "Achievements", "achievements:user_tab"),
    ("progress", "Progress", "progress:user_progress"),
    ("certifications", "Certifications", "certifications:user_tab"),
    ("access", "Access", "progress:user_access"),
    ("activity", "Activity", "progress:user_activity"),
    ("engagement", "Engagement", "progress:user_engagement"),
    ("payments", "Payments", "payments:user_tab"),
    ("transcript", "Transcript", "progress:user_transcript"),
    ("events", "Events", "users:events"),
]
