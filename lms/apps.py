from django.apps import AppConfig


class LmsConfig(AppConfig):
    name = "lms"
    verbose_name = "Merit platform"

    def ready(self) -> None:
        # Each app registers its background-job handlers in its own `jobs.py`; importing them
        # here means the web process and every Celery worker know the same handlers.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("jobs")
        from lms import signals  # noqa: F401  (worker start-up hook that resumes stale jobs)
