"""The events of the alerts app, for higher apps to react to (webhooks); alerts never import them.

Both are sent inside the transaction that changes the alert, with sender=Alert and:

- `alert_raised`: `alert` (new, with its episode), `request` (or None for the system);
- `alert_resolved`: `alert` (now resolved), `request`.

Receivers run in the transaction: keep them small and defer slow work to after the commit.
"""

from django.dispatch import Signal

alert_raised = Signal()
alert_resolved = Signal()
