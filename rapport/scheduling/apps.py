from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "rapport.scheduling"
    label = "scheduling"

    def ready(self) -> None:
        from rapport.privacy.registry import register
        from rapport.scheduling.erasure import erase

        register("scheduling", erase)
