from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rapport.core.backup import BackupError, restore


class Command(BaseCommand):
    help = "Restore a backup made by `rapport backup` into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--force", action="store_true",
                            help="restore over existing data, or with encryption keys missing")

    def handle(self, *args, path, force=False, **options):
        try:
            manifest = restore(Path(path), force=force)
        except BackupError as exc:
            # Exit code 2 and one line, naming the file: nothing was restored.
            raise CommandError(f"{path}: {exc}", returncode=2) from exc
        self.stdout.write(
            f"Restored {sum(manifest.tables.values())} rows in {len(manifest.tables)} tables "
            f"from a backup of {manifest.created_at}."
        )
