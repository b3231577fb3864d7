"""Who is acting, for the duration of one request or task.

Services take the actor as an argument; the impersonator (the real person behind a
"log in as") is carried here so that every event recorded during an impersonated request
names them without each service having to pass it along."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from users.models import User

_impersonator: ContextVar[User | None] = ContextVar("merit_impersonator", default=None)


def current_impersonator() -> User | None:
    return _impersonator.get()


@contextmanager
def acting_impersonator(impersonator: User | None) -> Iterator[None]:
    token = _impersonator.set(impersonator)
    try:
        yield
    finally:
        _impersonator.reset(token)
