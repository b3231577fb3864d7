"""Tests: fast hashing, locmem mail, and whatever database/broker the environment names
(SQLite and the filesystem broker locally, PostgreSQL and Redis in CI)."""

import os

from lms.settings.base import *

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
if env("MERIT_TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["NAME"] = env("MERIT_TEST_DATABASE_NAME")
MERIT_JOB_CHUNK_SIZE = 50

# Each test process's own memory, emptied before every test (conftest.py).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
