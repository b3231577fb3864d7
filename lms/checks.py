"""System checks (`manage.py check`, and every runserver, migrate and worker start): the wiring
that lms/event_kinds.py and lms/job_kinds.py name by dotted path must import and be callable,
so a renamed function fails at start instead of in the middle of an admin's change."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.utils.module_loading import import_string


def _path_errors(path: str, *, what: str, error_id: str) -> list[CheckMessage]:
    try:
        target = import_string(path)
    except ImportError as exc:
        return [Error(f"{what} {path!r} does not import: {exc}", id=error_id)]
    if not callable(target):
        return [Error(f"{what} {path!r} is not callable.", id=error_id)]
    return []


@register()
def event_subscribers_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from lms.event_kinds import SUBSCRIBERS

    errors: list[CheckMessage] = []
    for kind, paths in SUBSCRIBERS.items():
        for path in paths:
            errors += _path_errors(
                path, what=f"The subscriber of {str(kind)!r}", error_id="lms.E001"
            )
    return errors


@register()
def job_kinds_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from lms.job_kinds import JOB_KINDS

    errors: list[CheckMessage] = []
    for kind, spec in JOB_KINDS.items():
        errors += _path_errors(
            spec.handler, what=f"The handler of job {kind!r}", error_id="lms.E002"
        )
        if spec.finalize:
            errors += _path_errors(
                spec.finalize, what=f"The finalizer of job {kind!r}", error_id="lms.E002"
            )
    return errors
