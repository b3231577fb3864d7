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
