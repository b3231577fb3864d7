"""Actions other apps add to the users list's bulk bar.

The bar sends the selected users to the action's URL as a GET: up to 100 as repeated
`user_ids` (`?user_ids=3&user_ids=9`), more (e.g. "all matching") as a stored selection
(`?selection=<token>`, see `users.models.UserSelection`), which the app's view reads with
`users.selectors.selected_user_ids`. The view shows its form for those users and does the
work on POST (inline, or as a background job above the threshold). An action whose URL name
does not exist is not shown."""

BULK_ACTIONS: list[tuple[str, str, str]] = [
    # (label, url name, bootstrap icon)
    ("Award points", "achievements:bulk_points", "bi-star"),
    ("Grant badge", "achievements:bulk_badge", "bi-award"),
    ("Award certification", "certifications:award_users", "bi-patch-check"),
    ("Enroll in course", "progress:bulk_enroll", "bi-person-plus"),
    ("Update progress", "progress:bulk_update_progress", "bi-check2-all"),
    ("Reset progress", "progress:bulk_reset_progress", "bi-arrow-counterclockwise"),
]
