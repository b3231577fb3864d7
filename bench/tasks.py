"""Celery tasks the benchmark's worker loads (`--include=bench.tasks`): the naive way, one
task per user, to compare the bulk jobs with."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.apps import apps
from django.utils.module_loading import import_string


def _resolve(value: Any) -> Any:
    if isinstance(value, dict) and "__model__" in value:
        return apps.get_model(value["__model__"])._default_manager.get(pk=value["pk"])
    return value


def model_ref(instance: Any) -> dict[str, Any]:
    return {"__model__": instance._meta.label, "pk": instance.pk}


@shared_task(name="bench.naive_call", ignore_result=True)
def naive_call(path: str, kwargs: dict[str, Any]) -> None:
    """Call one service for one user, the way many LMSs enqueue bulk work."""
    import_string(path)(**{key: _resolve(value) for key, value in kwargs.items()})
