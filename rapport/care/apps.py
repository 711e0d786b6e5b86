from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "rapport.care"
    label = "care"

    def ready(self) -> None:
        from rapport.care.models import CareEpisode
        from rapport.core.tasks import register_owner

        register_owner("episode_id", CareEpisode)  # whose failed tasks (rapport.core.tasks)
