"""Demo step: findings for every episode, so the demo opens on real alerts.

Runs after the check-in histories: the monitoring core reads each episode's stored responses,
exactly as after a real check-in, and the findings become alerts (`refresh_findings` does the
same for a live installation). Then a little of the lifecycle is played out, so the pages show
it: for the clients whose rupture was repaired, their therapist has acknowledged the rupture
alert and discussed it with the client. Clients whose rupture was not repaired keep theirs open.
"""

from __future__ import annotations

from django.http import HttpRequest

from rapport.alerts.findings import refresh_all
from rapport.alerts.models import Alert, Kind, Status
from rapport.alerts.services import transition
from rapport.demo.plans import Practice

REPAIR_NOTE = (
    "Asked about the last session at the start. They felt I had pushed on with the homework "
    "when they needed to talk about the week. I said I had missed that; we agreed to check the "
    "agenda together first."
)


def _as(user) -> HttpRequest:
    request = HttpRequest()
    request.user = user
    return request


def alerts_from_findings(practice: Practice) -> None:
    """The generator step: compute every episode's findings and raise their alerts."""
    refresh_all([practice.organisation])
    for plan in practice.plans:
        if plan.story != "rupture_repaired":
            continue
        request = _as(plan.episode.therapist)
        for alert in Alert.objects.filter(episode=plan.episode, kind=Kind.RUPTURE,
                                          status=Status.OPEN):
            transition(alert, Status.ACKNOWLEDGED, request=request)
            transition(alert, Status.DISCUSSED, request=request, note=REPAIR_NOTE)
