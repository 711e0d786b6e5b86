from django.apps import AppConfig


class GoalsConfig(AppConfig):
    name = "rapport.goals"
    label = "goals"

    def ready(self) -> None:
        from rapport.checkins.registry import provide_goal_importer, provide_rated_goals
        from rapport.goals import signals  # noqa: F401  (connects the check-in receiver)
        from rapport.goals.erasure import erase
        from rapport.goals.imports import Importer
        from rapport.goals.progress import rated_goals
        from rapport.privacy.registry import register

        register("goals", erase)
        provide_rated_goals(rated_goals)
        provide_goal_importer(Importer())
