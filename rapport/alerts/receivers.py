"""What the alerts app does when a response is stored (`response_stored`, rapport.checkins.signals).

A risk answer raises an urgent alert at once, inside the transaction that stores the response:
the client's crisis answer and the therapist's alert are stored together or not at all.

A new response also updates its episode's findings.

`response_stored` is sent inside the transaction that stores the response. We do the work right
after that transaction commits (`transaction.on_commit`, in the same request), not inside it:

- the client's answers are safely stored whatever happens here: a failure in the monitoring
  glue is logged (robust=True) and never rolls a check-in back; `refresh_findings` catches up;
- the computation reads committed data, so two responses stored at once for one episode (the
  client's check-in and the therapist's reflection) are both seen by the later refresh;
- the submission's transaction stays short.

A check-in that stores several responses in one transaction (before a session: preparation,
PHQ-9, GAD-7) queues one callback each; the first refresh reads all of them, and the others see
that their response was already analysed and stop. That also keeps the demo generator, which
stores thousands of responses in one transaction, to one refresh per episode.
"""

from __future__ import annotations

import threading

from django.db import transaction
from django.dispatch import receiver
from django_scopes import scope

from rapport.alerts.services import raise_alert
from rapport.care.models import CareEpisode, EpisodeStatus
from rapport.checkins.models import Response
from rapport.checkins.signals import response_stored

# Episode id -> the codes of the responses its latest refresh after a commit read, in this
# process (codes, not ids: they are never reused). Only an optimisation: another process simply
# refreshes again.
_analysed: dict[int, frozenset] = {}
_lock = threading.Lock()
_MAX_TRACKED = 10_000


def refresh_after_commit(episode_id: int, organisation_id: int, response_code) -> None:
    """Refresh the episode's findings unless a refresh since the commit already read it."""
    from rapport.alerts.findings import refresh_episode

    with _lock:
        if response_code in _analysed.get(episode_id, ()):
            return
    with scope(organisation=organisation_id), transaction.atomic():
        episode = CareEpisode.objects.select_related("organisation", "client").get(pk=episode_id)
        if episode.status != EpisodeStatus.ACTIVE:
            return  # see refresh_all: findings are for episodes still in progress
        result = refresh_episode(episode)
    with _lock:
        if len(_analysed) >= _MAX_TRACKED:
            _analysed.clear()
        _analysed[episode_id] = result.response_codes


@receiver(response_stored, sender=Response, dispatch_uid="rapport.alerts.risk")
def raise_risk_alert(sender, response: Response, score=None, request=None, **kwargs):
    """An urgent alert for the therapist when the response flags risk; the alerts app
    de-duplicates on (episode, key)."""
    if not response.is_risk:
        return None
    answers = score.answers if score is not None else response.answers
    flagged = [f.split(":", 1)[1] for f in response.flags if f.startswith("risk:")]
    item = flagged[0] if len(flagged) == 1 else flagged
    value = answers.get(flagged[0]) if len(flagged) == 1 else {k: answers.get(k) for k in flagged}
    return raise_alert(
        episode=response.episode,
        kind="risk",
        severity="urgent",
        key=f"risk:{response.code}",
        evidence={
            "instrument": response.instrument_id,
            "item": item,
            "value": value,
            "response": str(response.code),
        },
        session=response.session,
        request=request,
    )


@receiver(response_stored, sender=Response, dispatch_uid="rapport.alerts.response_stored")
def refresh_after_response(sender, response: Response, **kwargs) -> None:
    """Refresh the episode's findings once the response's transaction has committed."""
    episode_id, organisation_id, response_code = (
        response.episode_id, response.organisation_id, response.code)

    def refresh_findings_after_commit() -> None:
        refresh_after_commit(episode_id, organisation_id, response_code)

    transaction.on_commit(refresh_findings_after_commit, robust=True)
