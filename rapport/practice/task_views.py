"""The practice's failed background tasks, for its administrators: what failed, with which
inputs (never the text of a message), and a button to queue it again.

A task fails for good after its retries (rapport.core.tasks). Each failure belongs to the
practice its inputs name (`TaskFailure.organisation_id`); one that names no practice and has
no inputs (a nightly fan-out) is the whole installation's and shown to every administrator.
Anything else is only on the command line (`rapport manage failed_tasks`).
"""

from __future__ import annotations

import json
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from rapport.audit.services import record
from rapport.care import access
from rapport.core.models import TaskFailure
from rapport.core.tasks import NotRequeued, inputs_of, requeue

SHOWN = 100  # the newest failures listed
EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*)(?::|$)")


def _inputs(failure: TaskFailure) -> dict:
    raw = json.loads(failure.arguments or "{}")
    return inputs_of(failure.task_name, raw.get("args"), raw.get("kwargs"))


def _shown(name: str, value) -> str:
    """An input as an administrator may read it: numbers and addresses, never written text."""
    if value is None or isinstance(value, bool | int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return ", ".join(map(str, value))
    if name == "recipients" and isinstance(value, list):
        return ", ".join(str(v) for v in value)  # who it was for, not what it said
    if isinstance(value, str):
        return _("text not shown (%(count)d characters)") % {"count": len(value)}
    return _("not shown")


def _row(failure: TaskFailure) -> dict:
    lines = failure.error.strip().splitlines()
    found = EXCEPTION.match(lines[-1].strip()) if lines else None
    return {
        "failure": failure,
        "what": failure.task_name.rsplit(".", 1)[-1].replace("_", " ").capitalize(),
        "inputs": [(name.replace("_", " "), _shown(name, value))
                   for name, value in _inputs(failure).items() if name != "organisation_id"],
        # The exception's kind only: its message may quote the data it failed on.
        "error": found.group(1).rsplit(".", 1)[-1] if found else _("unknown error"),
    }


def _visible(request: HttpRequest):
    """The failures this administrator may see: their practice's, and the installation's."""
    return TaskFailure.objects.filter(
        Q(organisation_id=request.organisation.pk) | Q(organisation_id__isnull=True))


def _theirs(request: HttpRequest, failure: TaskFailure) -> bool:
    return failure.organisation_id == request.organisation.pk or not _inputs(failure)


@login_required
@require_safe
def failed_tasks(request: HttpRequest) -> HttpResponse:
    access.require_admin(request)
    rows = [_row(f) for f in _visible(request)[:SHOWN] if _theirs(request, f)]
    record(request, "core.failed_tasks.viewed", organisation=request.organisation,
           detail={"shown": len(rows)})
    return render(request, "practice/failed_tasks.html", {"rows": rows})


@login_required
@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    access.require_admin(request)
    failure = _visible(request).filter(pk=pk).first()
    if failure is None or not _theirs(request, failure):
        raise Http404("No such failed task")
    try:
        requeue(failure)
    except NotRequeued:
        messages.error(request, _("That task was queued again already, or no longer exists."))
    else:
        record(request, "core.failed_task.requeued", organisation=request.organisation,
               detail={"task": failure.task_name, "failure": failure.pk})
        messages.success(request, _("Queued again: it runs as soon as a worker is free."))
    return redirect("practice-failed-tasks")
