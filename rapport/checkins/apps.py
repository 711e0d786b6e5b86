from django.apps import AppConfig


class CheckinsConfig(AppConfig):
    name = "rapport.checkins"
    label = "checkins"

    def ready(self) -> None:
        from rapport.checkins.erasure import erase
        from rapport.checkins.models import CheckIn
        from rapport.core.tasks import register_owner
        from rapport.privacy.registry import register

        register("checkins", erase)
        register_owner("checkin_id", CheckIn)  # whose failed tasks (rapport.core.tasks)
