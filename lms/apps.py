from django.apps import AppConfig


class LmsConfig(AppConfig):
    name = "lms"
    verbose_name = "Merit platform"

    def ready(self) -> None:
        from lms import checks, signals  # noqa: F401  (system checks; the worker start-up hook)
