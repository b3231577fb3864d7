from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from certifications.models import Certification, CertificationAward
from progress.models import Course, ExternalTraining, LearningPlan
from users.tests.factories import UserFactory


class CertificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Certification

    title = factory.Sequence(lambda n: f"Certification {n}")
    description = "Shows the holder knows the job."
    validity_days = 365
    renewal_window_days = 30


class AwardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CertificationAward

    certification = factory.SubFactory(CertificationFactory)
    user = factory.SubFactory(UserFactory)
    issued_on = factory.LazyFunction(timezone.localdate)
    expires_on = factory.LazyAttribute(lambda o: o.issued_on + timedelta(days=365))


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    title = factory.Sequence(lambda n: f"Course {n}")
    slug = factory.Sequence(lambda n: f"course-{n}")


class LearningPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LearningPlan

    title = factory.Sequence(lambda n: f"Plan {n}")


class ExternalTrainingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExternalTraining

    title = factory.Sequence(lambda n: f"Workshop {n}")
