"""The session record: agenda, summary and next steps, a private note, and homework.

One `SessionRecord` per `care.Session`, created when the therapist first writes something. All
free text is encrypted at rest. What the client may see (summary, next steps, homework) reaches
the portal only while the record is shared (`shared_with_client_at`), a deliberate action the
therapist can undo; the private note never leaves the treating therapist and their supervisors.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from rapport.core.fields import EncryptedTextField


class SessionRecord(models.Model):
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    session = models.OneToOneField("care.Session", on_delete=models.PROTECT, related_name="record")
    episode = models.ForeignKey("care.CareEpisode", on_delete=models.PROTECT, related_name="+")
    summary = EncryptedTextField()
    next_steps = EncryptedTextField()
    # Never shown outside the treating therapist and their supervisors; never in the portal.
    private_note = EncryptedTextField()
    shared_with_client_at = models.DateTimeField(null=True, blank=True)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organisation="organisation")

    def __str__(self) -> str:
        return f"Record of session {self.session_id}"

    @property
    def is_shared(self) -> bool:
        return self.shared_with_client_at is not None


class AgendaItem(models.Model):
    """One of the therapist's own agenda items (the client's come from their session-prep)."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(SessionRecord, on_delete=models.CASCADE, related_name="agenda")
    text = EncryptedTextField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Agenda item {self.code}"


class Homework(models.Model):
    """Something the client will try before the next session; they tick it off in the portal."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    record = models.ForeignKey(SessionRecord, on_delete=models.CASCADE, related_name="homework")
    episode = models.ForeignKey("care.CareEpisode", on_delete=models.PROTECT, related_name="+")
    text = EncryptedTextField()
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "homework"

    def __str__(self) -> str:
        return f"Homework {self.code}"


class ClosingSummary(models.Model):
    """The therapist's closing words to the client when an episode ends (the discharge flow in
    rapport.workspace.discharge); the client reads it in the portal and in their data download."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    episode = models.OneToOneField("care.CareEpisode", on_delete=models.PROTECT,
                                   related_name="closing_summary")
    text = EncryptedTextField()
    written_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organisation="organisation")

    def __str__(self) -> str:
        return f"Closing summary {self.code}"
