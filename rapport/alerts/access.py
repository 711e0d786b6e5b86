"""The one way views reach alerts.

Alerts are clinical: they are reached through `clinical_episodes_for`, so the treating therapist
and their supervisors see an episode's alerts, and an administrator who neither treats nor
supervises sees none. Everyone else gets 404, so nobody learns that an alert exists.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from rapport.alerts.models import Alert
from rapport.care.access import clinical_episodes_for


def alerts_for(request: HttpRequest) -> QuerySet[Alert]:
    """Every alert the request's user may see in the current organisation."""
    return Alert.objects.filter(episode__in=clinical_episodes_for(request))


def get_alert_for(request: HttpRequest, code: UUID | str) -> Alert:
    try:
        code = code if isinstance(code, UUID) else UUID(str(code))
    except ValueError as exc:
        raise Http404("No such alert") from exc
    try:
        return (
            alerts_for(request)
            .select_related("episode", "episode__client", "episode__therapist", "session")
            .get(code=code)
        )
    except Alert.DoesNotExist as exc:
        raise Http404("No such alert") from exc
