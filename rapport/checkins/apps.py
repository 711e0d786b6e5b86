from django.apps import AppConfig


class CheckinsConfig(AppConfig):
    name = "rapport.checkins"
    label = "checkins"

    def ready(self) -> None:
        from rapport.checkins.erasure import erase
        from rapport.privacy.registry import register

        register("checkins", erase)
