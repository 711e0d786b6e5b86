"""Add a staff member to a practice (creating the practice with --new-practice).

    rapport manage add_staff --practice "Riverside Counselling" --new-practice \\
        --email alex@riverside.example --name "Alex Morgan" --role admin

A new account gets a random temporary password, printed once; the person changes it after their
first login, where they also enrol an authenticator app. Supervision links a supervisor to a
therapist: --supervises therapist@riverside.example (repeatable).
"""

import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from rapport.accounts.models import Membership, Organisation, Role, Supervision, User
from rapport.audit.services import record


class Command(BaseCommand):
    help = "Add a staff member (and optionally a new practice)."

    def add_arguments(self, parser):
        parser.add_argument("--practice", required=True, help="the practice's name")
        parser.add_argument("--new-practice", action="store_true", help="create the practice")
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", required=True, action="append", choices=Role.values,
                            help="repeat for several roles")
        parser.add_argument("--supervises", action="append", default=[], metavar="EMAIL",
                            help="a therapist this supervisor supervises (repeatable)")

    @transaction.atomic
    def handle(self, *args, practice, new_practice, email, name, role, supervises, **options):
        matches = list(Organisation.objects.filter(name=practice))
        if new_practice:
            if matches:
                raise CommandError(f"a practice named {practice!r} exists already")
            organisation = Organisation.objects.create(name=practice)
        elif len(matches) != 1:
            raise CommandError(f"no single practice named {practice!r}; use --new-practice to create it")
        else:
            organisation = matches[0]
        email = email.strip().lower()
        user = User.objects.filter(email=email).first()
        password = None
        if user is None:
            password = secrets.token_urlsafe(12)
            user = User.objects.create_user(email, password, name=name)
        for r in role:
            Membership.objects.get_or_create(organisation=organisation, user=user, role=r)
        for other in supervises:
            if Role.SUPERVISOR not in role:
                raise CommandError("--supervises needs --role supervisor")
            therapist = User.objects.filter(
                email=other.strip().lower(), memberships__organisation=organisation,
                memberships__role=Role.THERAPIST,
            ).first()
            if therapist is None:
                raise CommandError(f"{other} is not a therapist of {practice}")
            Supervision.objects.get_or_create(organisation=organisation, supervisor=user, therapist=therapist)
        record(None, "accounts.staff.added", user, organisation=organisation, actor_label="cli",
               detail={"roles": sorted(role), "supervises": len(supervises)})
        self.stdout.write(f"{user.email}: {', '.join(sorted(role))} at {organisation.name}")
        if password:
            self.stdout.write(f"Temporary password (shown once; change it after logging in): {password}")
