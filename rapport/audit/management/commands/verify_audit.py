"""`rapport manage verify_audit [--checkpoint FILE]`: check the audit trail's hash chain."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django_scopes import scopes_disabled

from rapport.audit import chain
from rapport.audit.models import AuditEvent


class Command(BaseCommand):
    help = ("Check that no audit event was changed, deleted or truncated away. With --checkpoint, "
            "also check the head recorded there last time, then record the current one.")

    def add_arguments(self, parser):
        parser.add_argument("--checkpoint", type=Path,
                            help="a file of 'SEQ HASH' lines, one per run (kept off the database server)")

    def handle(self, *args, checkpoint: Path | None = None, **options):
        previous = _read_checkpoint(checkpoint) if checkpoint else None
        with scopes_disabled():
            report = chain.verify(AuditEvent, previous)
        problems = list(report.problems)
        role = settings.DATABASE_APP_ROLE
        if role and connection.vendor == "postgresql":
            from rapport.audit.roles import app_role_problems

            problems += app_role_problems(role)
        if problems:
            raise CommandError("the audit trail is NOT intact:\n  " + "\n  ".join(problems))
        if checkpoint:
            with checkpoint.open("a") as f:
                f.write(f"{report.head_seq} {report.head_hash}\n")
        self.stdout.write(
            f"The audit trail is intact: {report.events} events, head {report.head_seq} "
            f"{report.head_hash}.\n"
            + ("" if checkpoint else "Keep this head elsewhere (or use --checkpoint FILE): a later "
               "run can only prove nothing before a head you kept was truncated or rewritten.")
        )


def _read_checkpoint(path: Path) -> tuple[int, str] | None:
    if not path.exists():
        return None
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1]
    if len(last) != 2 or not last[0].isdigit() or len(last[1]) != 64:
        raise CommandError(f"{path}: the last line is not 'SEQ HASH'")
    return int(last[0]), last[1]
