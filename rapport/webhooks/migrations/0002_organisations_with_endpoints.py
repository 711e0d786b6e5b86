"""Mark the practices that already have webhook endpoints (see Organisation.has_webhook_endpoints)."""

from django.db import migrations


def mark(apps, schema_editor):
    Organisation = apps.get_model("accounts", "Organisation")
    Endpoint = apps.get_model("webhooks", "Endpoint")
    with_endpoints = Endpoint.objects.values("organisation_id")
    Organisation.objects.filter(pk__in=with_endpoints).update(has_webhook_endpoints=True)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0005_organisation_has_webhook_endpoints"),
        ("webhooks", "0001_endpoints_and_deliveries"),
    ]

    operations = [
        migrations.RunPython(mark, migrations.RunPython.noop),
    ]
