"""`manage.py check` refuses wiring that names a function that is not there."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from lms import event_kinds, job_kinds
from lms.checks import event_subscribers_check, job_kinds_check
from lms.job_kinds import JobKind


def test_the_real_wiring_passes() -> None:
    assert event_subscribers_check() == []
    assert job_kinds_check() == []


def test_a_subscriber_that_does_not_import_fails_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        event_kinds.SUBSCRIBERS, "progress.course_completed", ["certifications.subscribers.nope"]
    )
    errors = event_subscribers_check()
    assert [error.id for error in errors] == ["lms.E001"]
    assert "certifications.subscribers.nope" in errors[0].msg
    with pytest.raises(SystemCheckError, match=r"lms\.E001"):
        call_command("check")


def test_a_subscriber_that_is_not_callable_fails_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(event_kinds.SUBSCRIBERS, "user.created", ["lms.event_kinds.SUBSCRIBERS"])
    errors = event_subscribers_check()
    assert len(errors) == 1
    assert "is not callable" in errors[0].msg


def test_a_job_handler_or_finalizer_that_does_not_import_fails_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(job_kinds.JOB_KINDS, "tests.broken", JobKind("nowhere.at_all"))
    monkeypatch.setitem(
        job_kinds.JOB_KINDS,
        "tests.broken_finish",
        JobKind("users.jobs.users_set_active_chunk", finalize="users.jobs.missing_finish"),
    )
    messages = sorted(error.msg for error in job_kinds_check())
    assert len(messages) == 2
    assert "'nowhere.at_all' does not import" in messages[1]
    assert "users.jobs.missing_finish" in messages[0]
    with pytest.raises(SystemCheckError, match=r"lms\.E002"):
        call_command("check")
