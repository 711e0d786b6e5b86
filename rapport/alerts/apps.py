from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "rapport.alerts"
    label = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        # Connects the receiver that refreshes an episode's findings when a response is stored.
        from rapport.alerts import receivers  # noqa: F401
        from rapport.alerts.erasure import erase
        from rapport.alerts.models import Alert
        from rapport.core.tasks import register_owner
        from rapport.privacy.registry import register

        register("alerts", erase)
        register_owner("alert_id", Alert)  # whose failed tasks (rapport.core.tasks)
