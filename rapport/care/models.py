"""Clients, care episodes (the therapeutic relationship itself) and sessions.

Every model here carries its organisation and is reached through a manager that fails closed:
outside an active organisation scope (django_scopes.scope) a query raises ScopeError. Views
reach rows through rapport.care.access, which adds the role rules on top.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from rapport.core import blind_index
from rapport.core.fields import (
    BlindIndexField,
    EncryptedCharField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedTextField,
)

# A cancellation this close to the appointment counts as late (a common practice policy; used
# by the drop-out risk rules, which weigh late cancellations like no-shows).
LATE_CANCELLATION_WINDOW = timedelta(hours=24)


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    TEXT = "text", _("Text message")


class ClientQuerySet(models.QuerySet):
    def update(self, **kwargs):
        """As QuerySet.update, keeping the blind indexes in step with the contact details."""
        for field in self.model._meta.concrete_fields:
            if isinstance(field, BlindIndexField) and isinstance(kwargs.get(field.source), str):
                kwargs.setdefault(field.attname, blind_index.compute(field.kind, kwargs[field.source]))
        return super().update(**kwargs)


class Client(models.Model):
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Direct identifiers are encrypted at rest (rapport.core.fields); email and phone also carry a
    # keyed blind index for exact look-ups (duplicates at intake, portal login). Sort and search
    # by name in Python after decryption (rapport.care.search), never in SQL.
    name = EncryptedCharField(max_length=200, blank=False)
    preferred_name = EncryptedCharField(max_length=100)
    pronouns = models.CharField(max_length=50, blank=True)
    language = models.CharField(max_length=35, default="en", help_text=_("BCP 47 language tag"))
    email = EncryptedEmailField(max_length=254)
    phone = EncryptedCharField(max_length=40)
    date_of_birth = EncryptedDateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Intake (rapport/practice, rapport/portal): how to reach the client and whom in an emergency.
    preferred_channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    emergency_contact = EncryptedCharField(max_length=200, help_text=_("Name and phone number"))
    time_zone = models.CharField(max_length=64, blank=True,
                                 help_text=_("IANA name; the practice's time zone when empty"))
    reminders_opt_out = models.BooleanField(default=False)
    intake_completed_at = models.DateTimeField(null=True, blank=True)
    email_index = BlindIndexField(source="email", kind="email")
    phone_index = BlindIndexField(source="phone", kind="phone")

    objects = ScopedManager(organisation="organisation",
                            _manager_class=models.Manager.from_queryset(ClientQuerySet))

    class Meta:
        ordering = ["id"]  # not by name: names are encrypted (rapport.care.search.by_name)

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, update_fields=None, **kwargs):
        if update_fields is not None:  # an index follows its source
            update_fields = set(update_fields)
            update_fields |= {f.name for f in self._meta.concrete_fields
                              if isinstance(f, BlindIndexField) and f.source in update_fields}
        super().save(*args, update_fields=update_fields, **kwargs)

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.name

    @property
    def listed_name(self) -> str:
        """The name in a list of clients, where two may share a first name (two Viktors): the
        full name, and the name they go by when it is not part of it ("Alexandra Ruiz (Sasha)")."""
        preferred = (self.preferred_name or "").strip()
        if not preferred or preferred in self.name.split() or preferred == self.name:
            return self.name
        return f"{self.name} ({preferred})"


class EpisodeStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    DROPPED_OUT = "dropped_out", _("Ended early (drop-out)")
    TRANSFERRED = "transferred", _("Transferred")


class EpisodeQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=EpisodeStatus.ACTIVE)


class CareEpisode(models.Model):
    """One client working with one therapist, from the first session to the last."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="episodes")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="episodes"
    )
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=EpisodeStatus.choices, default=EpisodeStatus.ACTIVE)
    presenting_concerns = EncryptedTextField()

    objects = ScopedManager(
        organisation="organisation", _manager_class=models.Manager.from_queryset(EpisodeQuerySet)
    )

    class Meta:
        ordering = ["-started_on"]

    def __str__(self) -> str:
        return f"{self.client} with {self.therapist} from {self.started_on}"


class Attendance(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("Did not attend")
    CANCELLED_CLIENT = "cancelled_client", _("Cancelled by client")
    CANCELLED_CLINIC = "cancelled_clinic", _("Cancelled by the practice")


class Session(models.Model):
    """An appointment within an episode, and whether it took place."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    episode = models.ForeignKey(CareEpisode, on_delete=models.PROTECT, related_name="sessions")
    scheduled_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=50)
    attendance = models.CharField(max_length=20, choices=Attendance.choices, default=Attendance.SCHEDULED)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Where a video session takes place (set when booking; rapport/scheduling).
    telehealth_url = models.URLField(max_length=500, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["scheduled_at"]
        indexes = [models.Index(fields=["episode", "scheduled_at"])]

    def __str__(self) -> str:
        return f"Session {self.scheduled_at:%Y-%m-%d %H:%M}"

    @property
    def ends_at(self):
        return self.scheduled_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_cancelled(self) -> bool:
        return self.attendance in (Attendance.CANCELLED_CLIENT, Attendance.CANCELLED_CLINIC)

    @property
    def is_late_cancellation(self) -> bool:
        if self.attendance != Attendance.CANCELLED_CLIENT or self.cancelled_at is None:
            return False
        return self.scheduled_at - self.cancelled_at < LATE_CANCELLATION_WINDOW
