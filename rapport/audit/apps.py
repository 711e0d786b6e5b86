from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "rapport.audit"
    label = "audit"

    def ready(self):
        from rapport.audit.roles import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self)
