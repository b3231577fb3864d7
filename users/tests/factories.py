from __future__ import annotations

from datetime import UTC
from typing import Any

import factory
from django.contrib.auth.models import Group

from users.models import Department, User, UserGroup
from users.roles import Role


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"Department {n}")
    parent = None

    @classmethod
    def _create(cls, model_class: type[Department], *args: Any, **kwargs: Any) -> Department:
        from users.services import department_create

        return department_create(name=kwargs["name"], parent=kwargs.get("parent"))


class UserGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserGroup
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Group {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct-horse-battery")
    joined_at = factory.Faker("date_time_this_year", tzinfo=UTC)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:
        if not create:
            return
        names = extracted if extracted is not None else [Role.LEARNER]
        self.groups.set(Group.objects.filter(name__in=names))

    @factory.post_generation
    def departments(self, create: bool, extracted: list[Department] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.departments.set(extracted)

    @factory.post_generation
    def user_groups(self, create: bool, extracted: list[UserGroup] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.user_groups.set(extracted)

    @factory.post_generation
    def administered_departments(
        self, create: bool, extracted: list[Department] | None, **kwargs: Any
    ) -> None:
        if create and extracted:
            self.administered_departments.set(extracted)


def super_admin(**kwargs: Any) -> User:
    return UserFactory(roles=[Role.SUPER_ADMIN, Role.LEARNER], **kwargs)


def department_admin(*, administers: list[Department], **kwargs: Any) -> User:
    return UserFactory(
        roles=[Role.DEPARTMENT_ADMIN, Role.LEARNER], administered_departments=administers, **kwargs
    )


def customer_service(**kwargs: Any) -> User:
    return UserFactory(roles=[Role.CUSTOMER_SERVICE], **kwargs)


def learner(**kwargs: Any) -> User:
    return UserFactory(roles=[Role.LEARNER], **kwargs)
