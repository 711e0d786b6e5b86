"""The urgent-alert banner on every staff page."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from rapport.alerts.access import alerts_for

# More than this many unacknowledged urgent alerts: the banner lists these and links the rest.
BANNER_LIMIT = 10


def urgent_alerts(request: HttpRequest) -> dict:
    """`urgent_alerts`: the user's urgent alerts not yet acknowledged, risk answers first, then
    newest first.

    Lazy, and one query when a page renders the banner (plus the supervision lookup for a
    supervisor). Nothing for anonymous visitors (the client portal), for staff who have not yet
    passed the second login step, or for administrators who do not treat or supervise. The banner shows the alert kind and the client's name only, as the
    caseload does; opening an alert is what reads (and audits) its evidence.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or getattr(request, "organisation", None) is None:
        return {}
    if not getattr(user, "is_verified", bool)():  # second factor not given yet: nothing clinical
        return {}

    def load() -> list:
        return list(
            alerts_for(request)
            .urgent_unacknowledged()
            .select_related("episode__client")
            .by_priority()[: BANNER_LIMIT + 1]
        )

    return {"urgent_alerts": SimpleLazyObject(load), "urgent_alerts_limit": BANNER_LIMIT}
