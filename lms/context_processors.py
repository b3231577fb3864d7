from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from users.roles import is_learner, user_admin_role


def merit(request: HttpRequest) -> dict[str, Any]:
    """Navigation facts every page needs: the organisation, the viewer's admin role, whether
    they are in the learner view (dual-role users switch), and who is impersonating."""
    user = getattr(request, "user", None)
    admin_role = user_admin_role(user) if user is not None and user.is_authenticated else None
    view_mode = (
        request.session.get("view_mode", "admin") if hasattr(request, "session") else "admin"
    )
    return {
        "organisation_name": settings.MERIT_ORGANISATION_NAME,
        "viewer_admin_role": admin_role,
        "viewer_is_learner": bool(user and user.is_authenticated and is_learner(user)),
        "viewer_in_learner_view": admin_role is None or view_mode == "learner",
        "impersonator": getattr(request, "impersonator", None),
    }
