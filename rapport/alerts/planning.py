"""Which alerts an episode's monitoring findings call for: a pure plan, no database.

The core recomputes the whole history every time, so the same findings come back after every
response; `plan_findings` sorts them into what `rapport.alerts.services.sync_findings` then
reconciles with the alerts already there:

- one alert per topic (kind and subject, e.g. a rupture on the relationship check-in), as the
  core advises: `topics` maps each topic to its latest finding;
- `risk` findings are left out (see IGNORED_KINDS);
- a component drop at the session of a rupture on the same instrument is part of that rupture
  (its evidence lists the component drops), not an alert of its own;
- `rupture_repaired` findings are `repairs`: each adds a note to the rupture alert it answers
  (`rupture_key_for`), or becomes an `info` alert when there is none;
- `seen`: the keys still produced; an unresolved alert whose key is not among them is marked
  not ongoing (never resolved automatically: a person closes an alert).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rapport.alerts.models import Kind

# Kinds that sync_findings leaves alone. A risk answer raises its alert at once when the response
# is stored (rapport.alerts.receivers.raise_risk_alert, key "risk:<response code>", one per
# response), before and independently of the monitoring core; the core's own `risk` findings
# describe the same answers under another key, so raising them too would show the therapist
# every risk twice.
IGNORED_KINDS = frozenset({Kind.RISK})


@dataclass
class FindingsPlan:
    topics: dict[str, Any] = field(default_factory=dict)  # topic -> its latest finding
    repairs: list[Any] = field(default_factory=list)  # rupture_repaired findings, by session
    seen: set[str] = field(default_factory=set)  # keys of the findings still produced


def plan_findings(findings: Iterable[Any]) -> FindingsPlan:
    """Sort an episode's findings (any order) into topics, repairs and the keys still seen."""
    findings = sorted((f for f in findings if f.kind not in IGNORED_KINDS),
                      key=lambda f: f.session)
    ruptures = {
        ((f.evidence or {}).get("instrument") or f.subject, f.session)
        for f in findings if f.kind == Kind.RUPTURE
    }
    plan = FindingsPlan()
    for f in findings:
        if f.kind == Kind.RUPTURE_REPAIRED:
            plan.repairs.append(f)
        elif not _part_of_a_rupture(f, ruptures):
            plan.topics[topic(f.kind, f.subject)] = f
        else:
            continue
        plan.seen.add(f.key)
    return plan


def rupture_key_for(finding: Any) -> str | None:
    """The rupture finding key a `rupture_repaired` finding answers, when its evidence says."""
    start = (finding.evidence or {}).get("rupture_session")
    if isinstance(start, int) and not isinstance(start, bool):
        return f"{Kind.RUPTURE}:{finding.subject}:{start}"
    return None


def topic(kind: str, subject: str) -> str:
    return f"{kind}:{subject}"


def _part_of_a_rupture(finding: Any, ruptures: set[tuple[str, int]]) -> bool:
    """A component drop at a rupture's session: the rupture's evidence already lists it."""
    if finding.kind != Kind.COMPONENT_DROP:
        return False
    instrument = (finding.evidence or {}).get("instrument") or finding.subject.split("/")[0]
    return (instrument, finding.session) in ruptures
