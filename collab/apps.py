from django.apps import AppConfig


class CollabAppConfig(AppConfig):
    name = "collab"
    verbose_name = "Real-time collaboration"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
