"""The events of the check-ins app: a response was stored; a check-in was missed.

`response_stored` is sent by `rapport.checkins.services.submission.submit` inside the transaction
that stores a response, with sender=Response and:

- `response`: the new Response;
- `score`: the instrument's Score of its answers (`score.answers` holds the scored values);
- `request`: the HttpRequest it came with, or None (the demo, a job), for the audit trail.

It is the one seam through which higher apps react to a response; check-ins never import them.
The receivers today: the risk alert (rapport.alerts.receivers.raise_risk_alert, synchronous, in
the transaction), goal milestones (rapport.goals.signals, in a savepoint) and the findings
refresh (rapport.alerts.receivers.refresh_after_response, after the commit).

Receivers run in the transaction: an exception rolls the response back, so keep receivers small
and correct, and defer slow work to after the commit.
"""

from django.dispatch import Signal

response_stored = Signal()

# Sent once per check-in by `rapport.checkins.services.schedule.mark_missed` (a periodic task), in
# the transaction that marks it, with sender=CheckIn and `checkin`: a client's check-in that was
# not answered before it closed (`missed_at` is set).
checkin_missed = Signal()
