"""The events a practice can subscribe to, and what each one's payload says.

Payloads follow the Standard Webhooks shape ({"type", "timestamp", "data"}) and carry ids
(our public codes) and kinds only: never free text, a name or an answer.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

RESPONSE_STORED = "response.stored"
ALERT_RAISED = "alert.raised"
ALERT_RESOLVED = "alert.resolved"
CHECKIN_MISSED = "checkin.missed"

EVENTS = {
    RESPONSE_STORED: _("A questionnaire response was stored"),
    ALERT_RAISED: _("An alert was raised"),
    ALERT_RESOLVED: _("An alert was resolved"),
    CHECKIN_MISSED: _("A check-in was missed"),
}
CHOICES = list(EVENTS.items())


def _episode(episode) -> dict[str, str]:
    return {"episode": str(episode.code), "client": str(episode.client.code)}


def response_data(response) -> dict:
    return {"response": str(response.code), **_episode(response.episode),
            "instrument": response.instrument_id, "risk": bool(response.is_risk)}


def alert_data(alert) -> dict:
    return {"alert": str(alert.code), **_episode(alert.episode), "kind": alert.kind,
            "severity": alert.severity, "status": alert.status}


def checkin_data(checkin) -> dict:
    return {"checkin": str(checkin.code), **_episode(checkin.episode), "when": checkin.when,
            "instruments": list(checkin.instruments)}
