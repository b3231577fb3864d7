from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_roles(**_: Any) -> None:
    from users.services import roles_ensure

    roles_ensure()


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users and organisation"

    def ready(self) -> None:
        # Permissions exist only after migrate; the role groups are (re)synced then.
        post_migrate.connect(_ensure_roles, sender=self)
        from hijack.signals import hijack_ended, hijack_started

        from users.services import impersonation_ended, impersonation_started

        hijack_started.connect(impersonation_started, dispatch_uid="users.impersonation_started")
        hijack_ended.connect(impersonation_ended, dispatch_uid="users.impersonation_ended")

        from django.contrib.auth.signals import user_logged_in

        from users.middleware import session_activity_start

        user_logged_in.connect(session_activity_start, dispatch_uid="users.session_activity")
