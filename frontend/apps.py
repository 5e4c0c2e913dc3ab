from django.apps import AppConfig


class FrontendConfig(AppConfig):
    name = "frontend"
    verbose_name = "Browser app"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
