from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "rapport.portal"
    label = "portal"

    def ready(self) -> None:
        from rapport.portal.erasure import erase
        from rapport.privacy.registry import register

        register("portal", erase)
