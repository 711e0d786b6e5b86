"""Check-ins: what is due when, invitations to answer, drafts, stored responses and consent.

Every row carries its organisation and is reached through a scoped manager. A `Response` is
append-only: a correction is a new response that supersedes the old one.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from rapport.core import statements
from rapport.core.fields import EncryptedTextField

# The practice defaults a new episode's schedule starts from. "before": answered by the client
# before each session; "after": after each session (the respondent comes from the instrument);
# "intake": added to the first session's preparation; "discharge": the set asked at the end.
# `every`: every n-th session (1 = every session), counted from the first.
DEFAULT_RULES: list[dict] = [
    {"instrument": "session-prep", "when": "before", "every": 1},
    # One 0-10 rating per agreed goal; left out while the episode has none (services.schedule.plan_session).
    {"instrument": "goal-progress", "when": "before", "every": 1},
    {"instrument": "phq9", "when": "before", "every": 1},
    {"instrument": "gad7", "when": "before", "every": 1},
    {"instrument": "relationship-checkin", "when": "after", "every": 1},
    {"instrument": "therapist-reflection", "when": "after", "every": 1},
    {"instrument": "cnip", "when": "intake", "every": 1},
    {"instrument": "phq9", "when": "discharge", "every": 1},
    {"instrument": "gad7", "when": "discharge", "every": 1},
]

DEFAULT_CRISIS_RESOURCES = gettext_noop(
    "If you are thinking about harming yourself or feel you might act on these thoughts, "
    "please get help now: call your local emergency number, go to the nearest emergency "
    "department, or call a crisis line. You do not have to wait for your next session.\n\n"
    "Your therapist will see your answer and will contact you. If you cannot keep yourself "
    "safe, do not wait for them: contact emergency services now."
)

DEFAULT_CONFIDENTIALITY_STATEMENT = gettext_noop(
    "What you write here is shared with your therapist and, where they have one, their clinical "
    "supervisor. Practice administrators can see that a check-in was answered, but not what you "
    "wrote.\n\n"
    "Limits of confidentiality: if what you tell us means that you or someone else is at serious "
    "risk of harm, or if the law requires it, your therapist may need to share information with "
    "others, such as your doctor or emergency services. Where possible they will talk with you "
    "first.\n\n"
    "How long we keep it: your answers are kept for as long as the practice keeps your clinical "
    "record, as the law requires, and are then deleted. You can download your answers at any "
    "time from your portal."
)


class When(models.TextChoices):
    BEFORE = "before", _("Before the session")
    AFTER = "after", _("After the session")
    DISCHARGE = "discharge", _("At the end of therapy")


class Respondent(models.TextChoices):
    CLIENT = "client", _("Client")
    THERAPIST = "therapist", _("Therapist")


class PracticeSettings(models.Model):
    """A practice's check-in settings: crisis resources, link lifetime, default schedule."""

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="checkin_settings"
    )
    crisis_resources = models.TextField(default=DEFAULT_CRISIS_RESOURCES)
    invitation_days = models.PositiveSmallIntegerField(default=7)
    default_rules = models.JSONField(default=list, blank=True)  # empty: DEFAULT_RULES

    objects = ScopedManager(organisation="organisation")

    def __str__(self) -> str:
        return f"Check-in settings of {self.organisation}"

    @property
    def shown_crisis_resources(self) -> str:
        """The crisis resources in the reader's language: the default text is translated; a
        practice's own wording is shown as the practice wrote it."""
        if self.crisis_resources == DEFAULT_CRISIS_RESOURCES:
            return gettext(DEFAULT_CRISIS_RESOURCES)
        return self.crisis_resources

    @property
    def rules(self) -> list[dict]:
        return self.default_rules or DEFAULT_RULES


class Schedule(models.Model):
    """An episode's check-in schedule: the practice defaults, as adjusted by the therapist."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    episode = models.OneToOneField("care.CareEpisode", on_delete=models.PROTECT, related_name="checkin_schedule")
    rules = models.JSONField(default=list)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organisation="organisation")

    def __str__(self) -> str:
        return f"Schedule for {self.episode_id}"


class ConfidentialityStatement(models.Model):
    """One version of a practice's confidentiality statement; the highest version is current."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "version"], name="unique_statement_version"),
        ]

    def __str__(self) -> str:
        return f"Confidentiality statement v{self.version}"

    @property
    def shown_text(self) -> str:
        """The text in the reader's language: the default statement is translated; a practice's
        own wording is shown as the practice wrote it."""
        if self.text == DEFAULT_CONFIDENTIALITY_STATEMENT:
            return gettext(DEFAULT_CONFIDENTIALITY_STATEMENT)
        return self.text


class Consent(models.Model):
    """A client accepted one version of the confidentiality statement, at a time."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey("care.Client", on_delete=models.PROTECT, related_name="consents")
    statement = models.ForeignKey(ConfidentialityStatement, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    accepted_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "statement"], name="unique_consent"),
        ]

    def __str__(self) -> str:
        return f"Consent to v{self.version}"


class CheckIn(models.Model):
    """A set of instruments due from one respondent at one point of an episode."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    episode = models.ForeignKey("care.CareEpisode", on_delete=models.PROTECT, related_name="checkins")
    session = models.ForeignKey(
        "care.Session", null=True, blank=True, on_delete=models.PROTECT, related_name="checkins"
    )
    when = models.CharField(max_length=20, choices=When.choices)
    respondent = models.CharField(max_length=20, choices=Respondent.choices)
    instruments = models.JSONField(default=list)  # instrument ids, in the order asked
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    # When it was found missed (can no longer be answered; see services.schedule.mark_missed).
    missed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "when", "respondent"], name="unique_checkin_per_session"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_when_display()} check-in ({self.respondent})"

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None

    @property
    def opens_at(self):
        """When it may be answered from: an after-session check-in from the session's start
        (rating a session that has not happened would record a rupture that never was)."""
        if self.when == When.AFTER and self.session_id is not None:
            return self.session.scheduled_at
        return None

    def is_open(self, at=None) -> bool:
        opens = self.opens_at
        return opens is None or opens <= (at or timezone.now())


class Invitation(models.Model):
    """A signed, expiring link to one check-in; it is used up when the check-in is complete.

    Only a hash of the link's token is stored, so the table cannot be turned back into links.
    """

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    checkin = models.ForeignKey(CheckIn, on_delete=models.PROTECT, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    channel = models.CharField(max_length=20, default="link")  # email, link, portal
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    def __str__(self) -> str:
        return f"Invitation {self.code}"


class Draft(models.Model):
    """What a client has entered for one instrument of a check-in but not yet submitted."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    checkin = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="drafts")
    instrument_id = models.CharField(max_length=100)
    answers = models.JSONField(default=dict)  # non-free-text answers as entered
    free_text = EncryptedTextField()  # JSON of the free-text answers
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["checkin", "instrument_id"], name="unique_draft"),
        ]

    def __str__(self) -> str:
        return f"Draft {self.instrument_id}"


class ResponseError(Exception):
    """Raised on an attempt to change a stored response."""


class Response(models.Model):
    """One submitted instrument: raw answers, computed scores and flags. Never changed."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    episode = models.ForeignKey("care.CareEpisode", on_delete=models.PROTECT, related_name="responses")
    session = models.ForeignKey(
        "care.Session", null=True, blank=True, on_delete=models.PROTECT, related_name="responses"
    )
    checkin = models.ForeignKey(
        CheckIn, null=True, blank=True, on_delete=models.PROTECT, related_name="responses"
    )
    instrument_id = models.CharField(max_length=100)
    instrument_version = models.CharField(max_length=50)
    respondent = models.CharField(max_length=20, choices=Respondent.choices)
    respondent_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answers = models.JSONField(default=dict)  # scored (non-free-text) answers, linkId -> value
    free_text = EncryptedTextField()  # JSON object of the free-text answers
    total = models.FloatField(null=True, blank=True)
    severity_label = models.CharField(max_length=100, blank=True)
    severity_band = models.SmallIntegerField(null=True, blank=True)
    subscales = models.JSONField(default=dict, blank=True)
    flags = models.JSONField(default=list, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)
    # A double tap or a retry posts the same token again and gets the stored response back.
    submission_token = models.UUIDField(null=True, blank=True, unique=True)
    supersedes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["submitted_at", "id"]
        indexes = [models.Index(fields=["episode", "instrument_id", "submitted_at"])]
        constraints = [
            # One answer per instrument per check-in; a correction supersedes it instead.
            models.UniqueConstraint(
                fields=["checkin", "instrument_id"],
                condition=Q(checkin__isnull=False, supersedes__isnull=True),
                name="one_response_per_checkin_instrument",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} response {self.code}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ResponseError("responses are immutable; store a correction that supersedes it")
        statements.insert(self)  # as Model.save() would, its INSERT written once per process

    @property
    def free_text_answers(self) -> dict:
        import json

        return json.loads(self.free_text) if self.free_text else {}

    @property
    def is_risk(self) -> bool:
        return any(str(f).startswith("risk:") for f in self.flags)


class ImportSource(models.TextChoices):
    FHIR = "fhir", _("FHIR file")
    CSV = "csv", _("CSV file")


class ImportedRecord(models.Model):
    """Where an imported client or response came from (rapport.checkins.imports).

    `source_id` names the resource in the file it came from ("Patient/<id>",
    "QuestionnaireResponse/<id>" or its identifier); importing the same resource again finds
    it here and is skipped instead of stored twice.
    """

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey("care.Client", on_delete=models.CASCADE, related_name="+")
    response = models.OneToOneField(
        Response, null=True, blank=True, on_delete=models.CASCADE, related_name="imported"
    )
    source = models.CharField(max_length=10, choices=ImportSource.choices)
    source_id = models.CharField(max_length=300)
    imported_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "source_id"], name="unique_import_source"),
        ]

    def __str__(self) -> str:
        return f"Imported {self.source_id}"
