from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "rapport.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        # Connects the receivers of response_stored, alert_raised/resolved and checkin_missed.
        from rapport.privacy.registry import register
        from rapport.webhooks import receivers  # noqa: F401
        from rapport.webhooks.erasure import erase

        register("webhooks", erase)
