from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import ResolverMatch, reverse

from users.roles import is_learner, is_super_admin, user_admin_role

if TYPE_CHECKING:
    from users.models import User


@dataclass(frozen=True)
class NavLink:
    """A link of the top navigation. `may_open` is the same rule the page's view applies, so
    nobody is shown a link that answers 403."""

    section: str
    label: str
    url_name: str
    icon: str
    may_open: Callable[[User], bool]


# By role (cached on the user for the request), not `has_perm`, which would cost two queries on
# pages that never asked: every admin role's group holds "manage users" (users/roles.py), which
# is what AdminRequiredMixin checks.
def _admin(user: User) -> bool:
    return user_admin_role(user) is not None


def _super_admin(user: User) -> bool:
    return is_super_admin(user)


def _anyone(user: User) -> bool:
    return True


def _payments_report(user: User) -> bool:
    from payments.permissions import can_see_payments_report

    return can_see_payments_report(user)


def _gamification_on(user: User) -> bool:
    """The learner's Achievements page says nothing but "not used" while gamification is off,
    so its link goes too. Read once per request (kept on the user object)."""
    cached = user.__dict__.get("_merit_gamification_on")
    if cached is None:
        from achievements.models import GamificationSettings

        enabled = GamificationSettings.objects.filter(pk=1).values_list("enabled", flat=True)
        row = enabled.first()
        cached = GamificationSettings._meta.get_field("enabled").default if row is None else row
        user.__dict__["_merit_gamification_on"] = cached
    return bool(cached)


ADMIN_NAV = (
    NavLink("users", "Users", "users:list", "bi-people", _admin),
    NavLink("courses", "Courses", "progress:course_list", "bi-journal-richtext", _admin),
    NavLink(
        "certifications",
        "Certifications",
        "certifications:list",
        "bi-patch-check",
        _admin,
    ),
    NavLink("gamification", "Gamification", "achievements:settings", "bi-trophy", _super_admin),
    NavLink("payments", "Payments", "payments:report", "bi-cash-coin", _payments_report),
    NavLink("jobs", "Jobs", "lms:job_list", "bi-hourglass-split", _admin),
)
LEARNER_NAV = (
    NavLink("my_courses", "My courses", "progress:my_courses", "bi-journal-richtext", _anyone),
    NavLink(
        "achievements",
        "Achievements",
        "achievements:my_achievements",
        "bi-trophy",
        _gamification_on,
    ),
    NavLink(
        "certificates", "Certificates", "certifications:my_certificates", "bi-patch-check", _anyone
    ),
    NavLink("profile", "Profile", "users:profile", "bi-person", _anyone),
)

# URL names (per app namespace) that belong to another section than their app's default.
_LEARNER_PAGES = {
    "progress": {
        "my_courses",
        "player_course",
        "player_activity",
        "activity_time",
        "my_transcript",
    },
    "achievements": {"my_achievements", "leaderboard"},
    "certifications": {"my_certificates", "verify"},
    "users": {"profile", "invite_accept"},
    "payments": {"mine", "my_receipt", "card_setup", "card_setup_done"},
}
_LEARNER_SECTION = {
    "progress": "my_courses",
    "achievements": "achievements",
    "certifications": "certificates",
    "users": "profile",
    "payments": "profile",
}
_ADMIN_SECTION = {
    "users": "users",
    "progress": "courses",
    "certifications": "certifications",
    "achievements": "gamification",
    "lms": "jobs",
    "payments": "payments",
}


def nav_section(match: ResolverMatch | None) -> str:
    """Which navigation link a page belongs to. A user's record tabs (any app's page about one
    user, `users/<user_pk>/...`) and the bulk actions started from the users list belong to
    Users, not to the app that serves them."""
    if match is None:
        return ""
    app, name = match.app_name, match.url_name or ""
    if name in _LEARNER_PAGES.get(app, ()):
        return _LEARNER_SECTION[app]
    if "user_pk" in match.kwargs or name.startswith("bulk_"):
        return "users"
    return _ADMIN_SECTION.get(app, "")


def _links(links: tuple[NavLink, ...], user: User, section: str) -> list[dict[str, Any]]:
    return [
        {
            "section": link.section,
            "label": link.label,
            "url": reverse(link.url_name),
            "icon": link.icon,
            "active": link.section == section,
        }
        for link in links
        if link.may_open(user)
    ]


def merit(request: HttpRequest) -> dict[str, Any]:
    """Navigation facts every page needs: the organisation, the viewer's admin role, whether
    they are in the learner view (dual-role users switch), who is impersonating, and the
    navigation links the viewer may open, with the current page's section marked active."""
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    admin_role = user_admin_role(user) if signed_in else None  # type: ignore[arg-type]
    view_mode = (
        request.session.get("view_mode", "admin") if hasattr(request, "session") else "admin"
    )
    in_learner_view = admin_role is None or view_mode == "learner"
    nav: list[dict[str, Any]] = []
    if signed_in:
        section = nav_section(getattr(request, "resolver_match", None))
        nav = _links(LEARNER_NAV if in_learner_view else ADMIN_NAV, user, section)  # type: ignore[arg-type]
    return {
        "organisation_name": settings.MERIT_ORGANISATION_NAME,
        "viewer_admin_role": admin_role,
        "viewer_is_learner": bool(signed_in and is_learner(user)),  # type: ignore[arg-type]
        "viewer_in_learner_view": in_learner_view,
        "impersonator": getattr(request, "impersonator", None),
        "nav_links": nav,
    }
