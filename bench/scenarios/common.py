"""Helpers the scenarios share."""

from __future__ import annotations

from typing import Any

from bench.core import Skip


def logged_in_client(user: Any) -> Any:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def require_view(url_name: str, *args: Any) -> str:
    """The URL of a view, or Skip while it is still the skeleton's placeholder."""
    from django.urls import NoReverseMatch, resolve, reverse
    from django.views.generic import TemplateView

    try:
        url = reverse(url_name, args=args)
    except NoReverseMatch as exc:
        raise Skip(f"{url_name} does not exist yet") from exc
    view_class = getattr(resolve(url).func, "view_class", None)
    if view_class is TemplateView:
        raise Skip(f"{url_name} is still a placeholder")
    return url


def require_callable(path: str) -> Any:
    from django.utils.module_loading import import_string

    try:
        return import_string(path)
    except ImportError as exc:
        raise Skip(f"{path} does not exist yet") from exc


def get_ok(client: Any, url: str, data: dict[str, Any] | None = None) -> Any:
    response = client.get(url, data or {})
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} {data or ''} answered {response.status_code}")
    return response


def job_run_and_wait(
    *, kind: str, label: str, item_ids: list[int], actor: Any, params: dict[str, Any]
) -> tuple[float, Any]:
    """Start a bulk action as a background job and wait for the worker to finish it; the
    seconds from the call to the job's end, and the finished job."""
    import time

    from bench.core import wait_until
    from lms.jobs import bulk_run
    from lms.models import BackgroundJob

    finished = (
        BackgroundJob.Status.SUCCEEDED,
        BackgroundJob.Status.PARTIAL,
        BackgroundJob.Status.FAILED,
    )
    started = time.perf_counter()
    result = bulk_run(
        kind=kind,
        label=label,
        item_ids=item_ids,
        actor=actor,
        params=params,
        force_background=True,
    )
    job_id = result.job.pk
    wait_until(
        lambda: BackgroundJob.objects.filter(pk=job_id, status__in=finished).exists(),
        timeout=1800,
        interval=0.02,
    )
    elapsed = time.perf_counter() - started
    job = BackgroundJob.objects.get(pk=job_id)
    if job.status != BackgroundJob.Status.SUCCEEDED:
        raise RuntimeError(
            f"{kind} job ended {job.status}: {job.last_error or job.errors[:3]} {job.summary}"
        )
    return elapsed, job


def load_user_ids(count: int | None = None) -> list[int]:
    from users.models import User

    ids = User.objects.filter(username__startswith="load-").order_by("pk")
    return list(
        ids.values_list("pk", flat=True)[:count] if count else ids.values_list("pk", flat=True)
    )
