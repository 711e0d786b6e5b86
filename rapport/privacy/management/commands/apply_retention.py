"""Erase every client whose data has passed their practice's retention period.

Run it daily (cron or a systemd timer). --dry-run lists how many would go, per practice.
"""

from django.core.management.base import BaseCommand

from rapport.accounts.models import Organisation
from rapport.privacy.models import Erasure
from rapport.privacy.services import due_for_retention, erase_client


class Command(BaseCommand):
    help = "Apply each practice's retention policy (erase clients past their retention period)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, dry_run=False, **options):
        total = 0
        for organisation in Organisation.objects.order_by("id"):
            due = due_for_retention(organisation)
            if not dry_run:
                for client in due:
                    erase_client(client, trigger=Erasure.Trigger.RETENTION,
                                 reason="retention period passed")
            total += len(due)
            verb = "would erase" if dry_run else "erased"
            self.stdout.write(f"{organisation.name}: {verb} {len(due)} client(s)")
        self.stdout.write(f"{total} client(s) in all")
