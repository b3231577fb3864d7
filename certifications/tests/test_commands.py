from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from certifications.models import CertificationAward
from certifications.tests.factories import AwardFactory, CertificationFactory
from users.tests.factories import UserGroupFactory, learner

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_award_certification_to_users_group_and_department(admin_user, org, learner_user):
    CertificationFactory(title="Sales Excellence")
    group = UserGroupFactory(name="Closers")
    in_group = learner(user_groups=[group])
    in_hr = learner(departments=[org["hr"]])
    output = _run(
        "award_certification",
        "Sales Excellence",
        "--users",
        "anna",
        "--group",
        "Closers",
        "--department",
        "Human Resource",
        "--issued-on",
        "2026-03-01",
    )
    assert "awarded: 3" in output
    assert set(CertificationAward.objects.values_list("user_id", flat=True)) == {
        learner_user.pk,
        in_group.pk,
        in_hr.pk,
    }
    assert CertificationAward.objects.first().issued_on == date(2026, 3, 1)


def test_award_certification_from_a_csv(admin_user, learner_user, tmp_path):
    CertificationFactory(title="Forklift")
    path = tmp_path / "awards.csv"
    path.write_text("username,issued,expires\nanna,2026-01-15,always\nghost,2026-01-15,\n")
    output = _run("award_certification", "Forklift", "--csv", str(path))
    assert "awarded: 1" in output
    assert CertificationAward.objects.get().expires_on is None


def test_award_certification_unknown_names_fail_clearly(admin_user):
    CertificationFactory(title="Forklift")
    with pytest.raises(CommandError, match="Unknown certification"):
        _run("award_certification", "Nope", "--users", "anna")
    with pytest.raises(CommandError, match="Unknown group"):
        _run("award_certification", "Forklift", "--group", "Nope")
    with pytest.raises(CommandError, match="no active users"):
        _run("award_certification", "Forklift")
    assert not CertificationAward.objects.exists()


def test_certification_reminders_command_is_idempotent():
    AwardFactory(issued_on=date(2025, 3, 10), expires_on=date(2026, 3, 10))
    first = _run("certification_reminders", "--date", "2026-03-01")
    second = _run("certification_reminders", "--date", "2026-03-01")
    assert "Renewal reminders sent: 1" in first
    assert "Renewal reminders sent: 0" in second
    assert len(mail.outbox) == 1


def test_reminders_task_runs_the_service():
    from certifications.tasks import certification_reminders_task

    AwardFactory(issued_on=date(2020, 1, 1), expires_on=date(2021, 1, 1))
    assert certification_reminders_task()["marked_expired"] == 1


def test_demo_seed_is_idempotent(admin_user):
    from certifications.demo import seed_demo

    for username in ["anna", "agata", "earl", "harry"]:
        learner(username=username)
    seed_demo(stdout=StringIO())
    first = CertificationAward.objects.count()
    seed_demo(stdout=StringIO())
    assert first == CertificationAward.objects.count() == 8
    statuses = {a.status for a in CertificationAward.objects.filter(is_current=True)}
    assert statuses == {"active", "expiring", "expired", "always_valid"}
