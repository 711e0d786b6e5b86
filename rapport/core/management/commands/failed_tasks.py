"""List the background tasks that failed for good, or queue one again.

    rapport manage failed_tasks               the failures not yet queued again, newest first
    rapport manage failed_tasks --all         every failure kept
    rapport manage failed_tasks --retry ID    queue failure ID again, with the same inputs
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from rapport.core.models import TaskFailure
from rapport.core.tasks import NotRequeued, requeue


class Command(BaseCommand):
    help = "List background tasks that failed after their retries, or queue one again."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="include those queued again")
        parser.add_argument("--retry", type=int, metavar="ID", help="queue this failure again")

    def handle(self, *args, all=False, retry=None, **options):
        if retry is not None:
            failure = TaskFailure.objects.filter(pk=retry).first()
            if failure is None:
                raise CommandError(f"no failed task with id {retry}")
            try:
                requeue(failure)
            except NotRequeued as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"queued {failure.task_name} again (failure {failure.pk})")
            return
        failures = TaskFailure.objects.all()
        if not all:
            failures = failures.filter(requeued_at__isnull=True)
        for f in failures:
            last = (f.error.strip().splitlines() or [""])[-1]
            self.stdout.write(f"{f.pk}\t{f.failed_at:%Y-%m-%d %H:%M:%S}\t{f.task_name}\t"
                              f"retries={f.retries}\t{last}")
        self.stdout.write(f"{failures.count()} failed task(s)")
