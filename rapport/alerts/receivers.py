"""What the alerts app does when a response is stored (`response_stored`, rapport.checkins.signals).

A risk answer raises an urgent alert at once, inside the transaction that stores the response:
the client's crisis answer and the therapist's alert are stored together or not at all.

A new response also updates its episode's findings, on a worker, soon after it is committed.

`response_stored` is sent inside the transaction that stores the response. The receiver counts
the response for its episode in that same transaction (`pending.mark`, one statement), so the
count commits or rolls back with the response; once the transaction commits, unless a refresh
is queued already and not yet started (see rapport.alerts.pending), it has the sweep
`refresh_marked_findings` queued within a quarter second (one broker message a quarter second
for a burst of responses, for all web processes together on a Redis broker:
`rapport.core.tasks.enqueue_soon`), which refreshes every episode
asked for, once each: the first few itself, the others in tasks of several episodes
(`rapport.alerts.tasks.refresh_episodes_findings`) that other workers share. A refresh that
finds the episode up to date, or another worker on it, stops at once (one short statement).

- the client's answers are safely stored whatever happens next: the recompute runs on a worker,
  is retried with backoff when it fails, and an episode left behind (a worker killed, a refresh
  never queued) is found by the periodic `refresh_pending_findings` and at every worker start;
- the worker reads committed data only, so two responses stored at once for one episode (the
  client's check-in and the therapist's reflection) are both seen by the later refresh, and a
  burst for one episode coalesces into one or two recomputes;
- the submission's transaction stays short. The risk alert (above) does not wait for a worker:
  it is raised synchronously, inside the submission's transaction.

A check-in that stores several responses in one transaction (before a session: preparation,
PHQ-9, GAD-7), or the demo generator storing thousands, queues one task per episode: the first
response marks the episode queued, and the others find it so.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from rapport.alerts import pending
from rapport.alerts.services import raise_alert
from rapport.checkins.models import Response
from rapport.checkins.signals import response_stored


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
    """Count the response for its episode and, unless a refresh is queued already and not yet
    started (this transaction's own included), have one queued soon after the commit."""
    if pending.mark(response.episode_id, response.organisation_id):
        transaction.on_commit(_queue_refresh, robust=True)


def _queue_refresh() -> None:
    """Queue the sweep that refreshes every episode asked for (or shares them out), a quarter of a
    second from now, unless one queued already (by any web process, on a Redis broker) starts
    later than that (it reads this transaction's mark too): one broker message and one sweep
    a quarter second in a burst, not one per response, so an episode answered many times in a
    burst is recomputed about once a quarter second. `refresh_pending_findings` catches a
    message lost on the way."""
    from rapport.alerts.tasks import refresh_marked_findings
    from rapport.core.tasks import enqueue_soon

    enqueue_soon(refresh_marked_findings)
