"""Import clients (CSV) or clients and their answers (FHIR R4 JSON) into a practice.

    rapport manage import_data --practice "Riverside" --fhir export.json --therapist t@x.example --dry-run
    rapport manage import_data --practice "Riverside" --clients-csv clients.csv [--therapist EMAIL]
    rapport manage import_data --practice "Riverside" --fhir responses.json --client CLIENT_CODE

Prints what would be created, skipped (imported before), ignored and refused, one line each.
Without --dry-run it imports everything or, when any row is refused, nothing (exit status 1).
See rapport.checkins.imports.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_scopes import scope

from rapport.accounts.models import Organisation
from rapport.care.models import Client
from rapport.checkins import imports

MAX_BYTES = 50 * 1024 * 1024


class Command(BaseCommand):
    help = "Import clients from CSV, or clients and questionnaire responses from FHIR R4 JSON."

    def add_arguments(self, parser):
        parser.add_argument("--practice", required=True, help="the practice's name")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--fhir", type=Path, help="a FHIR R4 Bundle or resource (JSON)")
        source.add_argument("--clients-csv", type=Path, help="a CSV of clients")
        parser.add_argument("--therapist", help="email of the therapist of the new clients")
        parser.add_argument("--client", help="code of the client whose responses name no subject")
        parser.add_argument("--dry-run", action="store_true", help="list what would happen; change nothing")

    def handle(self, *args, practice, fhir, clients_csv, therapist, client, dry_run, **options):
        matches = list(Organisation.objects.filter(name=practice))
        if len(matches) != 1:
            raise CommandError(f"no single practice named {practice!r}")
        organisation = matches[0]
        path = fhir or clients_csv
        try:
            if path.stat().st_size > MAX_BYTES:
                raise CommandError(f"{path}: larger than {MAX_BYTES // 1024 // 1024} MB; split it")
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            raise CommandError(f"{path}: cannot read it as UTF-8 text: {e}") from None
        with scope(organisation=[organisation]):
            team = imports.clients.therapists(organisation)
            lead = None
            if therapist:
                lead = team.get(therapist.strip().lower())
                if lead is None:
                    raise CommandError(f"{therapist} is not a therapist of {organisation.name}")
            owner = None
            if client:
                try:
                    owner = Client.objects.filter(code=uuid.UUID(client)).first()
                except ValueError:
                    owner = None
                if owner is None:
                    raise CommandError(f"no client {client} in {organisation.name}")
            if fhir:
                try:
                    data = json.loads(text)
                except json.JSONDecodeError as e:
                    raise CommandError(f"{path}: not JSON: {e}") from None
                plan = imports.plan_fhir(data, organisation, therapist=lead, client=owner)
            else:
                plan = imports.plan_csv(text, organisation, therapist=lead)
            for line in plan.report():
                self.stdout.write(line)
            if dry_run:
                self.stdout.write(f"Dry run: nothing imported ({len(plan.clients)} clients, "
                                  f"{len(plan.new_goals)} goals and "
                                  f"{len(plan.responses)} responses would be, "
                                  f"{len(plan.refused)} refused).")
                return
            try:
                counts = imports.apply(plan, organisation, actor_label=f"import:{path.name}"[:200])
            except imports.ImportRefused as e:
                raise CommandError(str(e)) from None
        self.stdout.write(f"Imported {counts['clients']} clients, {counts['goals']} goals and "
                          f"{counts['responses']} "
                          f"responses ({counts['skipped']} imported before, skipped).")
