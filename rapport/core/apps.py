from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "rapport.core"
    label = "core"

    def ready(self) -> None:
        # The Celery app (rapport/celery.py) becomes the current app for every shared_task, and
        # failed tasks are recorded (rapport.core.tasks).
        import rapport.celery  # noqa: F401
        from rapport.core import tasks  # noqa: F401
