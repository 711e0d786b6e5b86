"""Raising alerts, moving them through their lifecycle, and turning findings into alerts.

Every function here is atomic and audited. `request` is the staff request acting, or None for the
system (the incremental update after a stored response, the `refresh_findings` command, the demo).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from rapport.alerts import reads
from rapport.alerts.evidence import EvidenceError as EvidenceError  # raise_alert raises it
from rapport.alerts.evidence import clean_evidence
from rapport.alerts.models import (
    LIFECYCLE,
    SEVERITY_RANK,
    Alert,
    AlertStep,
    AlertUpdate,
    Kind,
    Severity,
    Status,
)
from rapport.alerts.notify_tasks import notify_urgent_alert
from rapport.alerts.planning import IGNORED_KINDS, plan_findings, rupture_key_for, topic
from rapport.alerts.signals import alert_raised, alert_resolved
from rapport.alerts.suggestions import suggestions_for
from rapport.audit.services import record
from rapport.care.models import CareEpisode, Session
from rapport.core.i18n import speaking
from rapport.core.tasks import enqueue_on_commit


class TransitionError(ValueError):
    """A lifecycle step that is not allowed; the message says why, for the person acting."""


def _actor(request: HttpRequest | None):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _audit(request: HttpRequest | None, action: str, alert: Alert, detail: dict) -> None:
    record(request, action, alert, client=alert.episode.client, organisation=alert.organisation,
           actor_label=None if _actor(request) else "system", detail=detail)


def _refresh(alert: Alert, *, severity: str, evidence: dict, ongoing: bool,
             request: HttpRequest | None, key: str | None = None,
             touch_unchanged: bool = True, session_number: int | None = None,
             previous: dict | None = None) -> bool:
    """Re-detection: newer evidence, last seen now; severity only ever rises while unresolved.

    Returns whether anything but `last_seen_at` changed (and was audited). With
    touch_unchanged=False an unchanged alert is not saved: the caller bumps last_seen_at in bulk.
    `previous` is the alert's latest evidence when the caller has read it (None: read here).
    """
    changed = []
    if key is not None and key != alert.key:
        alert.key = key
        changed.append("key")
    if evidence != (alert.latest_evidence if previous is None else previous):
        # Never written over: the alert keeps what it was raised with, the newer evidence is a
        # dated update shown as such.
        AlertUpdate.objects.create(organisation_id=alert.organisation_id, alert=alert,
                                   key=key or alert.key, session_number=session_number,
                                   evidence=evidence)
        changed.append("evidence")
    if SEVERITY_RANK[Severity(severity)] > SEVERITY_RANK[Severity(alert.severity)]:
        alert.severity = severity
        changed.append("severity")
        if severity == Severity.URGENT:
            _notify_after_commit(alert)
    if ongoing != alert.ongoing:
        alert.ongoing = ongoing
        changed.append("ongoing")
    if not changed and not touch_unchanged:
        return False
    alert.last_seen_at = timezone.now()
    alert.save(update_fields=[*(c for c in changed if c != "evidence"), "last_seen_at"])
    if changed:
        _audit(request, "alerts.alert.updated", alert,
               {"kind": alert.kind, "key": alert.key, "changed": changed,
                "severity": alert.severity})
    return bool(changed)


def _raise(
    *,
    episode: CareEpisode,
    kind: str,
    severity: str,
    key: str,
    evidence: Mapping[str, Any],
    session: Session | None = None,
    session_number: int | None = None,
    subject: str = "",
    ongoing: bool = True,
    request: HttpRequest | None = None,
) -> tuple[Alert, bool]:
    severity = Severity(severity)
    evidence = clean_evidence(dict(evidence))
    with transaction.atomic():
        existing = (
            Alert.objects.select_for_update(no_key=True).unresolved().filter(episode=episode, key=key).first()
        )
        if existing is not None:
            _refresh(existing, severity=severity, evidence=evidence, ongoing=ongoing,
                     request=request)
            return existing, False
        now = timezone.now()
        # Stored as shown: in the language of the therapist who reads them.
        with speaking(episode.therapist.language):
            suggestions = suggestions_for(kind, evidence)
        try:
            # A savepoint: if another process raised the same key first, the partial unique
            # index refuses this insert and we update theirs instead.
            with transaction.atomic():
                alert = Alert.objects.create(
                    organisation_id=episode.organisation_id,
                    episode=episode,
                    session=session,
                    session_number=session_number,
                    kind=kind,
                    severity=severity,
                    key=key,
                    subject=subject,
                    evidence=evidence,
                    suggestions=suggestions,
                    ongoing=ongoing,
                    opened_at=now,
                    last_seen_at=now,
                    status_changed_at=now,
                )
        except IntegrityError:
            existing = Alert.objects.select_for_update(no_key=True).unresolved().get(episode=episode, key=key)
            _refresh(existing, severity=severity, evidence=evidence, ongoing=ongoing,
                     request=request)
            return existing, False
        alert.episode = episode
        _audit(request, "alerts.alert.raised", alert,
               {"kind": kind, "severity": severity, "key": key})
        if severity == Severity.URGENT:
            _notify_after_commit(alert)
        alert_raised.send(sender=Alert, alert=alert, request=request)
        return alert, True


def _notify_after_commit(alert: Alert) -> None:
    """Email and text about an urgent alert from a worker once it is committed (never inside
    the request: a mail server that hangs must not hold a client's answers back)."""
    enqueue_on_commit(notify_urgent_alert, alert.pk)


def raise_alert(
    *,
    episode: CareEpisode,
    kind: str,
    severity: str,
    key: str,
    evidence: Mapping[str, Any],
    session: Session | None = None,
    request: HttpRequest | None = None,
    session_number: int | None = None,
    subject: str = "",
) -> Alert:
    """Raise an alert, or refresh the unresolved one with the same key (never a duplicate).

    A refresh replaces the evidence, moves `last_seen_at` and raises the severity if the new
    one is higher; the suggestions stay as they were first shown. A resolved alert with the
    same key does not block a new one. `evidence` must be numbers and identifiers only
    (EvidenceError otherwise): free text belongs in encrypted fields, never here.
    """
    alert, _ = _raise(episode=episode, kind=kind, severity=severity, key=key, evidence=evidence,
                      session=session, session_number=session_number, subject=subject,
                      request=request)
    return alert


def note_required(to_status: str) -> bool:
    """Resolving needs a note: what was done, or why nothing needed doing."""
    return to_status == Status.RESOLVED


@transaction.atomic
def transition(alert: Alert, to_status: str, *, request: HttpRequest | None,
               note: str = "") -> AlertStep:
    """Move an alert forward: open → acknowledged → discussed → resolved.

    Skipping forward is allowed (a note is required to resolve); going back or standing still
    raises TransitionError and changes nothing. Records who, when and the note (encrypted).
    """
    try:
        target = Status(to_status)
    except ValueError as exc:
        raise TransitionError(f"{to_status!r} is not a status of an alert") from exc
    locked = Alert.objects.select_for_update(no_key=True).get(pk=alert.pk)
    current = Status(locked.status)
    if current == Status.RESOLVED:
        raise TransitionError("This alert is already resolved; a new finding raises a new alert.")
    if LIFECYCLE.index(target) <= LIFECYCLE.index(current):
        raise TransitionError(
            f"An alert that is {current.label.lower()} cannot go back to {target.label.lower()}."
        )
    note = (note or "").strip()
    if note_required(target) and not note:
        raise TransitionError("Add a note to resolve the alert: what was done, or why nothing was needed.")
    now = timezone.now()
    step = AlertStep.objects.create(
        organisation_id=locked.organisation_id, alert=locked, from_status=current,
        to_status=target, by=_actor(request), at=now, note=note,
    )
    locked.status = target
    locked.status_changed_at = now
    fields = ["status", "status_changed_at"]
    if target == Status.RESOLVED:
        locked.resolved_at = now
        fields.append("resolved_at")
    locked.save(update_fields=fields)
    # Keep the caller's object in step with the row.
    alert.status, alert.status_changed_at, alert.resolved_at = (
        locked.status, locked.status_changed_at, locked.resolved_at)
    locked.episode = alert.episode
    _audit(request, f"alerts.alert.{target.value}", locked,
           {"from": current.value, "to": target.value, "note": bool(note)})
    if target == Status.RESOLVED:
        alert_resolved.send(sender=Alert, alert=locked, request=request)
    return step


# ---- findings -> alerts ------------------------------------------------------------------------

@dataclass
class SyncResult:
    raised: list[Alert] = field(default_factory=list)
    refreshed: list[Alert] = field(default_factory=list)
    repaired: list[Alert] = field(default_factory=list)  # rupture alerts given a repair step
    no_longer_seen: int = 0
    # The stored responses the computation read (set by rapport.alerts.findings).
    response_codes: frozenset = frozenset()

    @property
    def changed(self) -> bool:
        return bool(self.raised or self.repaired)


def _record_repair(alert: Alert, finding: Any, request: HttpRequest | None) -> None:
    """Add a system note to a rupture alert: the client's ratings recovered."""
    now = timezone.now()
    AlertStep.objects.create(
        organisation_id=alert.organisation_id, alert=alert, from_status=alert.status,
        to_status=alert.status, by=None, at=now, finding_key=finding.key,
        note=f"The client's ratings were back at their usual level at session {finding.session} "
             "(noted by Rapport). Resolve the alert once you have talked it through.",
    )
    _audit(request, "alerts.alert.repair_noted", alert,
           {"kind": alert.kind, "key": alert.key, "finding": finding.key})


def _rank(severity: str) -> int:
    return SEVERITY_RANK[Severity(severity)]


@transaction.atomic(savepoint=False)  # inside a transaction, its failure fails that one too
def sync_findings(
    episode: CareEpisode,
    findings: Iterable[Any],
    *,
    request: HttpRequest | None = None,
    sessions: Mapping[int, Session] | None = None,
    locked: bool = False,
) -> SyncResult:
    """Turn an episode's monitoring findings into alerts: `plan_findings` (rapport.alerts.planning)
    says which, and this reconciles the plan with the alerts already there:

    - a topic's latest finding refreshes its unresolved alert (evidence, last seen, severity
      rising, and its key moving to the latest finding's), or raises one when there is none;
    - a finding whose key belongs to an alert a person resolved is not raised again unless it
      is now more severe: resolved means handled. A new occurrence (a rupture at a later
      session, a new run of not-on-track scores) has a new key and raises a new alert;
    - a repair adds a system note to the unresolved rupture alert it answers (the one whose key
      names its rupture's session, else the latest unresolved rupture on the same instrument
      before it), so the therapist sees it on the alert they are working through and still
      resolves it after talking with the client; with no such alert it becomes an `info` alert;
    - unresolved alerts whose findings are no longer produced are marked not ongoing.

    `sessions` maps the core's session numbers to Session rows, to link alerts to sessions.
    Concurrent syncs of one episode are serialised by a lock on the episode row (taken here,
    or by the caller already: locked=True), and the alerts read are locked too."""
    plan = plan_findings(findings)
    sync = _Sync(episode, request, sessions or {}, locked=locked)
    for topic_, latest in plan.topics.items():
        sync.upsert(topic_, latest, latest.kind, latest.severity,
                    bool(getattr(latest, "ongoing", True)))
    for finding in plan.repairs:
        sync.repair(finding)
    return sync.finish(plan.seen)


class _Sync:
    """The episode's alerts while a plan is applied (one sync_findings call)."""

    def __init__(self, episode: CareEpisode, request: HttpRequest | None,
                 sessions: Mapping[int, Session], *, locked: bool = False) -> None:
        self.episode, self.request, self.sessions = episode, request, sessions
        self.result = SyncResult()
        self.untouched: list[int] = []
        # One sync per episode at a time; the alerts read once it is held include the last sync's.
        if not locked:
            reads.lock_episode(episode)
        self.by_key: dict[str, Alert] = {}
        self.by_topic: dict[str, Alert] = {}
        self.resolved: dict[str, Alert] = {}
        self.read = reads.alerts_of(episode)
        for alert in self.read:
            alert.episode = episode
            if alert.is_resolved:
                self.resolved[alert.key] = alert
            else:
                self.by_key[alert.key] = alert
                self.by_topic.setdefault(topic(alert.kind, alert.subject), alert)
        # Alert id -> its latest evidence: one statement, not one per alert refreshed.
        self.evidence = {a.pk: a.evidence for a in self.by_key.values()}
        self.evidence |= reads.latest_evidence(episode) if self.by_key else {}

    @functools.cached_property
    def noted(self) -> set[str]:
        """The findings already noted on an alert (read when a repair is planned)."""
        return set(AlertStep.objects.filter(alert__episode=self.episode)
                   .exclude(finding_key="").values_list("finding_key", flat=True))

    def upsert(self, topic_: str, latest: Any, kind: str, severity: str, ongoing: bool) -> None:
        current = self.by_key.get(latest.key) or self.by_topic.get(topic_)
        if current is not None:
            moved = latest.key if latest.key not in self.by_key else None
            evidence = clean_evidence(dict(latest.evidence))
            changed = _refresh(current, severity=severity, ongoing=ongoing, evidence=evidence,
                               key=moved, request=self.request, touch_unchanged=False,
                               session_number=latest.session, previous=self.evidence.get(current.pk))
            self.evidence[current.pk] = evidence
            if moved:
                self.by_key[moved] = current
            if not changed:
                self.untouched.append(current.pk)
            self.result.refreshed.append(current)
            return
        handled = self.resolved.get(latest.key)
        if handled is not None and _rank(severity) <= _rank(handled.severity):
            return
        alert, created = _raise(
            episode=self.episode, kind=kind, severity=severity, key=latest.key,
            evidence=latest.evidence, session=self.sessions.get(latest.session),
            session_number=latest.session, subject=latest.subject, ongoing=ongoing,
            request=self.request,
        )
        self.by_key[alert.key] = self.by_topic[topic_] = alert
        (self.result.raised if created else self.result.refreshed).append(alert)

    def repair(self, finding: Any) -> None:
        if finding.key in self.noted:
            return
        candidates = sorted(
            (a for a in self.by_key.values()
             if a.kind == Kind.RUPTURE and a.subject == finding.subject
             and (a.session_number or 0) < finding.session),
            key=lambda a: a.session_number or 0,
        )
        wanted = rupture_key_for(finding)
        target = next((a for a in candidates if a.key == wanted), None) or (
            candidates[-1] if candidates else None)
        if target is not None:
            _record_repair(target, finding, self.request)
            self.noted.add(finding.key)
            self.result.repaired.append(target)
        else:
            self.upsert(topic(Kind.RUPTURE_REPAIRED, finding.subject), finding,
                        Kind.RUPTURE_REPAIRED, Severity.INFO, False)

    def finish(self, seen: set[str]) -> SyncResult:
        if self.untouched:
            Alert.objects.filter(pk__in=self.untouched).update(last_seen_at=timezone.now())
        # Synced alerts change only under the episode's lock, so the alerts known here say
        # whether this UPDATE has a row to change (most refreshes: none).
        alerts = (*self.read, *self.result.raised, *self.result.refreshed)
        if any(not a.is_resolved and a.ongoing and a.key not in seen for a in alerts):
            self.result.no_longer_seen = (
                Alert.objects.unresolved()
                .filter(episode=self.episode, ongoing=True)
                .exclude(kind__in=IGNORED_KINDS)
                .exclude(key__in=seen)
                .update(ongoing=False)
            )
        return self.result
