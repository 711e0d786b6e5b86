"""Recompute every active episode's findings and sync them into alerts, for every practice.

Refits each practice's expected-treatment-response curves first. Safe to run at any time and
as often as wanted (alerts are de-duplicated by key); the demo runs it after loading its data.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from rapport.accounts.models import Organisation
from rapport.alerts.findings import refresh_all


class Command(BaseCommand):
    help = "Recompute the monitoring findings of every active episode and update the alerts."

    def add_arguments(self, parser):
        parser.add_argument("--organisation", help="only the practice with this code (UUID)")

    def handle(self, *args, organisation=None, **options):
        organisations = Organisation.objects.order_by("id")
        if organisation:
            organisations = organisations.filter(code=organisation)
        started = time.perf_counter()
        counts = refresh_all(list(organisations))
        if options["verbosity"]:
            self.stdout.write(
                f"{counts['episodes']} episodes: {counts['raised']} alerts raised, "
                f"{counts['refreshed']} refreshed, {counts['repaired']} repairs noted "
                f"({time.perf_counter() - started:.1f}s)"
            )
