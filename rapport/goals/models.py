"""Mutual goals: proposed by either side, agreed by both, rated by the client, kept with history.

A `Goal` holds its current wording and state; every change to it is also appended as a
`GoalEvent` (never changed or deleted), so the page can show who proposed, who agreed when,
how the wording changed and why a goal was closed. Ratings are not stored here: they are the
client's stored `goal-progress` check-in responses (see `rapport.goals.progress`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from rapport.core.fields import EncryptedTextField


class Side(models.TextChoices):
    CLIENT = "client", _("Client")
    THERAPIST = "therapist", _("Therapist")


class GoalStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed, waiting for agreement")
    ACTIVE = "active", _("Agreed and active")
    REVISED = "revised", _("Revised, waiting for agreement to the new wording")
    ACHIEVED = "achieved", _("Achieved")
    CLOSED = "closed", _("Closed")


# Goals the client rates in check-ins: agreed ones, and agreed ones whose new wording awaits
# the other side's agreement (the work goes on while the words are settled).
RATED_STATUSES = (GoalStatus.ACTIVE, GoalStatus.REVISED)
OPEN_STATUSES = (GoalStatus.PROPOSED, GoalStatus.ACTIVE, GoalStatus.REVISED)
ENDED_STATUSES = (GoalStatus.ACHIEVED, GoalStatus.CLOSED)


class GoalQuerySet(models.QuerySet):
    def rated(self):
        return self.filter(status__in=RATED_STATUSES)

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class Goal(models.Model):
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    episode = models.ForeignKey("care.CareEpisode", on_delete=models.PROTECT, related_name="goals")
    title = EncryptedTextField()
    description = EncryptedTextField()
    proposed_by = models.CharField(max_length=20, choices=Side.choices)
    proposed_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=GoalStatus.choices, default=GoalStatus.PROPOSED)
    client_agreed_at = models.DateTimeField(null=True, blank=True)
    therapist_agreed_at = models.DateTimeField(null=True, blank=True)
    therapist_agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(
        organisation="organisation", _manager_class=models.Manager.from_queryset(GoalQuerySet)
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["episode", "status"])]

    def __str__(self) -> str:
        return f"Goal {self.code}"

    @property
    def link_id(self) -> str:
        """The goal's linkId in the `goal-progress` instrument: its code as a string."""
        return str(self.code)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_rated(self) -> bool:
        return self.status in RATED_STATUSES

    def agreed_by(self, side: str) -> bool:
        return (self.client_agreed_at if side == Side.CLIENT else self.therapist_agreed_at) is not None

    @property
    def waiting_for(self) -> str | None:
        """The side whose agreement is still missing on an open goal, or None."""
        if not self.is_open or self.status == GoalStatus.ACTIVE:
            return None
        if self.client_agreed_at is None:
            return Side.CLIENT
        if self.therapist_agreed_at is None:
            return Side.THERAPIST
        return None


class EventKind(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    AGREED = "agreed", _("Agreed")
    ACTIVATED = "activated", _("Agreed by both: active")
    REVISED = "revised", _("Wording revised")
    ACHIEVED = "achieved", _("Closed as achieved")
    CLOSED = "closed", _("Closed")
    MILESTONE = "milestone", _("Milestone noticed")
    MILESTONE_ACKNOWLEDGED = "milestone_acknowledged", _("Milestone acknowledged with the client")
    REVISITED = "revisited", _("Goals revisited together")


class GoalEventError(Exception):
    """Raised on an attempt to change or delete a goal event."""


class GoalEvent(models.Model):
    """One step in a goal's (or, for `revisited`, an episode's goals') history. Append-only.

    `side` says who acted (client, therapist, or "" for the system); `text_before`/`text_after`
    hold the old and new wording of a revision, the reason of a closing, or the sentence shown to
    the client for a milestone, all encrypted. `key` names a milestone (e.g. "first-7") so each
    is noticed once.
    """

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    episode = models.ForeignKey("care.CareEpisode", on_delete=models.PROTECT, related_name="goal_events")
    goal = models.ForeignKey(
        Goal, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    side = models.CharField(max_length=20, choices=Side.choices, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    session = models.ForeignKey(
        "care.Session", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    key = models.CharField(max_length=50, blank=True)
    text_before = EncryptedTextField()
    text_after = EncryptedTextField()
    detail = models.JSONField(default=dict, blank=True)  # never free text: ratings, outcome
    at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["goal", "key"], condition=models.Q(kind="milestone"),
                name="one_milestone_per_goal_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise GoalEventError("goal events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise GoalEventError("goal events are append-only")
