"""Tests: fast hashing, locmem mail, and whatever database/broker the environment names
(a throwaway embedded PostgreSQL and the filesystem broker locally, the machine's PostgreSQL
and Redis in CI)."""

import os

from lms.settings.base import *
from lms.settings.base import DATABASE_URL, env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = str(VAR_DIR / "test-media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# A real Celery worker started by the tests (conftest.py `celery_worker`) listens on a queue of
# this test run's own, and reads the test database named here.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default=f"merit-test-{os.getpid()}")
if not DATABASE_URL:
    # A server of the test run's own in a temporary folder, deleted when the run ends; the
    # Celery worker the tests start joins it through MERIT_EMBEDDED_PGDATA.
    MERIT_EMBEDDED_PGDATA = env("MERIT_EMBEDDED_PGDATA", default="")
    MERIT_EMBEDDED_THROWAWAY = True
if env("MERIT_TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["NAME"] = env("MERIT_TEST_DATABASE_NAME")
MERIT_JOB_CHUNK_SIZE = 50

# Each test process's own memory, emptied before every test (conftest.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
