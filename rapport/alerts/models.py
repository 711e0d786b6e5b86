"""Alerts: what the monitoring core found about an episode, and what the therapist did about it.

An `Alert` is raised from a monitoring finding (or directly, for a risk answer in a check-in). It
carries the numbers behind it (`evidence`, never free text) and the suggestions shown when it was
raised. It then moves forward through open → acknowledged → discussed with the client →
resolved; every move is an `AlertStep` with who, when and an encrypted note.

At most one unresolved alert exists per (episode, key): a partial unique index enforces it, so
two processes raising the same finding at once cannot create two alerts. A resolved alert does
not block a new one with the same key.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from rapport.core.fields import EncryptedTextField


class Kind(models.TextChoices):
    # The monitoring core's finding kinds (rapport.monitoring.records.Finding), plus `risk`,
    # which the check-in submission raises directly from a risk answer.
    RUPTURE = "rupture", _("Alliance rupture")
    RUPTURE_REPAIRED = "rupture_repaired", _("Rupture repaired")
    ALLIANCE_DIP = "alliance_dip", _("Dip in the relationship")
    ALLIANCE_LOW = "alliance_low", _("Low relationship rating")
    COMPONENT_DROP = "component_drop", _("Drop in one part of the relationship")
    DISCREPANCY = "discrepancy", _("Therapist rates the session higher than the client")
    NOT_ON_TRACK = "not_on_track", _("Not on track")
    RELIABLE_DETERIORATION = "reliable_deterioration", _("Reliable deterioration")
    RISK = "risk", _("Risk")
    DROPOUT_RISK = "dropout_risk", _("Risk of dropping out")
    GOAL_STAGNATION = "goal_stagnation", _("A shared goal is not moving")


class Severity(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    URGENT = "urgent", _("Urgent")


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.URGENT: 2}


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DISCUSSED = "discussed", _("Discussed with the client")
    RESOLVED = "resolved", _("Resolved")


# The lifecycle, in order. A step may skip forward, never go back.
LIFECYCLE = (Status.OPEN, Status.ACKNOWLEDGED, Status.DISCUSSED, Status.RESOLVED)


class AlertQuerySet(models.QuerySet):
    def unresolved(self):
        return self.exclude(status=Status.RESOLVED)

    def urgent_unacknowledged(self):
        return self.filter(severity=Severity.URGENT, status=Status.OPEN)

    def by_priority(self):
        """A risk answer first, then the other urgent alerts, then warnings, then info; newest
        first within each (a client at risk is not listed below six scores off track)."""
        rank = models.Case(
            models.When(severity=Severity.URGENT, kind=Kind.RISK, then=0),
            models.When(severity=Severity.URGENT, then=1),
            models.When(severity=Severity.WARNING, then=2),
            default=3,
        )
        return self.alias(rank=rank).order_by("rank", "-opened_at", "-id")


class Alert(models.Model):
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    episode = models.ForeignKey("care.CareEpisode", on_delete=models.PROTECT, related_name="alerts")
    # The session where the condition started (when the app knows it).
    session = models.ForeignKey(
        "care.Session", null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    # The monitoring core's session number within the episode (1 = first), kept for display.
    session_number = models.PositiveIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=40, choices=Kind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    # Stable de-duplication key from the finding (e.g. "rupture:relationship-checkin:5") or
    # from the raiser ("risk:<response code>").
    key = models.CharField(max_length=200)
    # The instrument id or goal id the finding is about ("" for the episode as a whole).
    subject = models.CharField(max_length=100, blank=True)
    evidence = models.JSONField(default=dict, blank=True)  # numbers and identifiers only
    suggestions = models.JSONField(default=list, blank=True)  # as shown when raised
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    # Whether the latest computation still shows the condition (False: it has passed, or the
    # data behind it changed); an alert stays until a person resolves it either way.
    ongoing = models.BooleanField(default=True)
    opened_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    status_changed_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(
        organisation="organisation", _manager_class=models.Manager.from_queryset(AlertQuerySet)
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # At most one unresolved alert per episode and key: raising the same finding twice,
            # even from two processes at once, cannot duplicate it (a partial unique index, on
            # PostgreSQL and SQLite alike).
            models.UniqueConstraint(
                fields=["episode", "key"],
                condition=~Q(status="resolved"),
                name="alerts_one_unresolved_per_key",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "status", "severity"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_severity_display()}, {self.get_status_display()})"

    @property
    def client(self):
        return self.episode.client

    @property
    def is_resolved(self) -> bool:
        return self.status == Status.RESOLVED

    @property
    def headline(self) -> str:
        """What was found, in plain words, from the evidence it was raised on."""
        from rapport.alerts.wording import headline

        return headline(self.kind, self.subject, self.evidence, self.session_number)

    @property
    def latest_evidence(self) -> dict:
        """The evidence of the latest dated update, or the evidence it was raised with."""
        update = self.updates.last()
        return update.evidence if update is not None else self.evidence

    def next_statuses(self) -> list[str]:
        """The statuses this alert may move to (skipping forward allowed)."""
        return list(LIFECYCLE[LIFECYCLE.index(Status(self.status)) + 1 :])


class AlertStep(models.Model):
    """One move in an alert's lifecycle, or a note recorded on it (from_status == to_status)."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="steps")
    from_status = models.CharField(max_length=20, choices=Status.choices)
    to_status = models.CharField(max_length=20, choices=Status.choices)
    # None for a step the system recorded (e.g. the monitoring core saw a rupture repaired).
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    note = EncryptedTextField()
    # For system steps: the finding that caused it, so a repeated computation adds it once.
    finding_key = models.CharField(max_length=200, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status} at {self.at:%Y-%m-%d %H:%M}"

    @property
    def is_note(self) -> bool:
        return self.from_status == self.to_status


class AlertUpdate(models.Model):
    """Newer evidence for an unresolved alert, dated. The alert keeps the evidence it was raised
    with (what its title and session say); a later finding on the same topic is added here and
    shown as an update, never written over it."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="updates")
    at = models.DateTimeField(default=timezone.now)
    key = models.CharField(max_length=200)  # the finding's key
    session_number = models.PositiveIntegerField(null=True, blank=True)
    evidence = models.JSONField(default=dict, blank=True)  # numbers and identifiers only

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"Update of {self.alert_id} at {self.at:%Y-%m-%d %H:%M}"


class UrgentSettings(models.Model):
    """Who else hears about an urgent alert, and when it goes to the supervisor. One per practice,
    edited by its administrators (alerts/settings/)."""

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="urgent_settings"
    )
    duty_name = models.CharField(max_length=200, blank=True)
    duty_email = models.EmailField(blank=True)
    duty_phone = models.CharField(max_length=40, blank=True)  # for text messages
    escalate_after_minutes = models.PositiveIntegerField(default=60)

    objects = ScopedManager(organisation="organisation")

    def __str__(self) -> str:
        return f"Urgent alert settings of {self.organisation_id}"


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("Text message")


class Notification(models.Model):
    """One message about an urgent alert, sent outside the app. Unique per (alert, reason,
    channel, address): sending again is a no-op, so a retried job never messages twice."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications")
    reason = models.CharField(max_length=20)  # "urgent" (therapist, duty) or "escalation"
    channel = models.CharField(max_length=10, choices=Channel.choices)
    to = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "reason", "channel", "to"],
                                    name="alerts_one_notification_per_address"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.to} ({self.reason})"


class PendingRefresh(models.Model):
    """Whether an episode's findings are behind its stored responses (rapport.alerts.pending).

    `requested` counts the responses stored for the episode (raised in the same transaction as
    each response), `done` is the count the latest completed refresh had read. A refresh is due
    while requested > done, so a burst of responses coalesces into one recompute, and a refresh
    lost with a dying worker is still due afterwards. `claimed_until`: a worker is on it.
    `queued_at`: a refresh was asked for then and no worker has started it yet, so the
    responses stored meanwhile ask for none of their own (one task per episode in the queue);
    `sent_at`: a sweep took it then (`refresh_marked_findings`, which follows responses, and
    refreshes it or queues its task), so no later sweep takes it again.
    """

    episode = models.OneToOneField("care.CareEpisode", on_delete=models.CASCADE,
                                   primary_key=True, related_name="+")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE,
                                     related_name="+")
    requested = models.PositiveBigIntegerField(default=0)
    done = models.PositiveBigIntegerField(default=0)
    requested_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    def __str__(self) -> str:
        return f"episode {self.episode_id}: {self.requested - self.done} response(s) behind"
