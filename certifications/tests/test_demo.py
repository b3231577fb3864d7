"""The demo certifications are linked to the demo catalog after one `seed_demo` run."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from certifications.models import Certification

pytestmark = pytest.mark.django_db


def test_one_seed_demo_run_links_the_certifications_to_the_catalog() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    sales = Certification.objects.get(title="Sales Excellence")
    assert list(sales.courses.values_list("title", flat=True)) == ["Car Sale Dialog"]
    expert = Certification.objects.get(title="Product Expert")
    assert expert.external_trainings.exists()
