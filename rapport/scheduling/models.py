"""When clients can come, how sessions were booked, and each therapist's private calendar feed.

Sessions themselves are `care.Session`; this app adds what booking needs around them. Every row
carries its organisation and is reached through a manager that fails closed (django_scopes).
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Availability(models.Model):
    """A time of the week that suits the client (they say so at intake, or tell the practice)."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey("care.Client", on_delete=models.CASCADE, related_name="availability")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    starts = models.TimeField()
    ends = models.TimeField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["weekday", "starts"]
        verbose_name_plural = "availability"
        constraints = [
            models.CheckConstraint(condition=models.Q(ends__gt=models.F("starts")),
                                   name="availability_ends_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class Repeat(models.TextChoices):
    ONCE = "once", _("Once")
    WEEKLY = "weekly", _("Every week")
    FORTNIGHTLY = "fortnightly", _("Every two weeks")


class Booking(models.Model):
    """One booking action: a single session or a series, created together.

    `key` comes from the booking form (a fresh one each time the form is shown), so the same form
    submitted twice (a double click, a resent request) finds the first booking and creates nothing.
    """

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    key = models.UUIDField()
    episode = models.ForeignKey("care.CareEpisode", on_delete=models.PROTECT, related_name="+")
    repeat = models.CharField(max_length=20, choices=Repeat.choices, default=Repeat.ONCE)
    sessions = models.ManyToManyField("care.Session", related_name="bookings")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "key"], name="unique_booking_key"),
        ]

    def __str__(self) -> str:
        return f"{self.get_repeat_display()} booking of {self.created_at:%Y-%m-%d}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class CalendarFeed(models.Model):
    """A therapist's private iCalendar address. Only the token's hash is stored; revoking is final."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Calendar feed of {self.user} from {self.created_at:%Y-%m-%d}"


class ReminderPolicy(models.Model):
    """When a practice reminds clients of sessions and invites them to check-ins, and the hours in
    which nothing is sent."""

    organisation = models.OneToOneField("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    hours_before = models.PositiveSmallIntegerField(default=24)
    quiet_from = models.TimeField(default="21:00")
    quiet_until = models.TimeField(default="08:00")
    # Check-in invitations: the pre-session one this many hours before the session, the
    # post-session one as soon as the session has ended, one follow-up after `followup_hours`
    # when still unanswered. `checkin_invitations` off: none is sent automatically.
    checkin_invitations = models.BooleanField(default=True)
    checkin_hours_before = models.PositiveSmallIntegerField(default=24)
    followup_hours = models.PositiveSmallIntegerField(default=12)

    objects = ScopedManager(organisation="organisation")

    def __str__(self) -> str:
        return f"Reminders {self.hours_before} h before"


class Delivery(models.TextChoices):
    HELD = "held", _("Held for quiet hours")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    NOT_SENT = "not_sent", _("Not sent")


class SentReminder(models.Model):
    """One reminder of one kind for one session: claimed before sending, so never sent twice.

    Kinds: "session" (the session reminder), "checkin-before" / "checkin-after" (the invitation
    to the check-in before or after the session) and the same with "-followup". `status` and
    `reason` say what became of it: held for quiet hours, sent, or not sent and why.

    A claim without `sent_at` older than CLAIM_TIMEOUT belongs to a worker that died while
    sending; the next run takes it over (so a reminder is not lost, though in that rare case the
    client may get it twice: the provider may have sent it before the worker died).
    """

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey("care.Session", on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=30)
    channel = models.CharField(max_length=10)
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.SENDING)
    reason = models.CharField(max_length=200, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "kind"], name="unique_reminder_per_session"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder ({self.channel})"


class MoveReason(models.TextChoices):
    """Why a client asks to move a session: a choice, never free text (no clinical detail)."""

    CLASH = "clash", _("Something else came up at that time")
    WORK = "work", _("Work or study")
    HEALTH = "health", _("I am unwell")
    TRAVEL = "travel", _("Travel")
    CARE = "care", _("Caring for someone")
    OTHER = "other", _("Another reason")


class MoveStatus(models.TextChoices):
    OPEN = "open", _("Waiting for the therapist")
    PROPOSED = "proposed", _("The therapist proposed another time")
    ACCEPTED = "accepted", _("Moved")
    DECLINED = "declined", _("Not moved")


class RescheduleRequest(models.Model):
    """A client's request, from the portal, to move a session to one of the times they give.

    `key` comes from the portal's form (fresh each time it is shown): the same form sent twice
    finds the first request. At most one request per session is open at a time.
    """

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    key = models.UUIDField()
    session = models.ForeignKey("care.Session", on_delete=models.CASCADE, related_name="move_requests")
    reason = models.CharField(max_length=20, choices=MoveReason.choices)
    options = models.JSONField(default=list)  # ISO datetimes the client offered, in their order
    status = models.CharField(max_length=10, choices=MoveStatus.choices, default=MoveStatus.OPEN)
    proposed_at = models.DateTimeField(null=True, blank=True)  # the therapist's other time
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "key"], name="unique_move_request_key"),
            models.UniqueConstraint(fields=["session"], condition=models.Q(status__in=["open", "proposed"]),
                                    name="one_open_move_request_per_session"),
        ]

    def __str__(self) -> str:
        return f"Request to move a session ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status in (MoveStatus.OPEN, MoveStatus.PROPOSED)
