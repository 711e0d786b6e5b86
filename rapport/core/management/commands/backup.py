from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from rapport.core.backup import BackupError, backup


class Command(BaseCommand):
    help = "Back up the whole database (SQLite backup API or pg_dump) with a manifest beside it."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="file to write (default: var/backups/rapport-<time>.<ext>)")

    def handle(self, *args, path=None, **options):
        if path is None:
            engine = settings.DATABASES["default"]["ENGINE"]
            ext = "sqlite3" if engine.endswith("sqlite3") else "pgdump"
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
            path = settings.VAR_DIR / "backups" / f"rapport-{stamp}.{ext}"
        try:
            manifest = backup(Path(path))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(manifest.tables.values())
        self.stdout.write(f"Backed up {rows} rows in {len(manifest.tables)} tables to {path}")
        self.stdout.write(
            "The encryption keys are NOT in the backup. Keep RAPPORT_ENCRYPTION_KEYS (fingerprints "
            f"{', '.join(manifest.key_fingerprints)}) somewhere safe and separate."
        )
