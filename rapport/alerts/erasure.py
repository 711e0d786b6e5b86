"""Erasing a client's alerts (see rapport.privacy.registry for the contract).

keep_scores=False: every alert of the client's episodes is deleted, with its steps.

keep_scores=True: alerts stay (kind, severity, the numbers behind them, the suggestions shown,
the lifecycle's timestamps: what the practice's outcome statistics may ask about early warnings);
the steps' notes, the only free text, are emptied.

Either way the episodes' pending-refresh counters go: an erased client gets no new findings.
"""

from __future__ import annotations

from rapport.alerts.models import Alert, AlertStep, AlertUpdate, PendingRefresh
from rapport.privacy.registry import Erased


def erase(client, *, keep_scores: bool) -> Erased:
    done = Erased()
    alerts = Alert.objects.filter(episode__client=client)
    codes = list(alerts.values_list("code", flat=True))
    steps = AlertStep.objects.filter(alert__in=alerts)
    PendingRefresh.objects.filter(episode__client=client).delete()
    if keep_scores:
        done.add("steps_scrubbed", steps.exclude(note="").update(note=""))
        done.codes.update(str(code) for code in codes)
        return done
    done.add("steps", steps.delete()[0])
    done.add("updates", AlertUpdate.objects.filter(alert__in=alerts).delete()[0])
    done.add("alerts", alerts.delete()[0], codes)
    return done
