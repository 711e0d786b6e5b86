"""The practice's check-in settings, its confidentiality statement and the clients' consent.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils import timezone

from rapport.audit.services import record
from rapport.care.models import Client
from rapport.checkins.models import (
    DEFAULT_CONFIDENTIALITY_STATEMENT,
    ConfidentialityStatement,
    Consent,
    PracticeSettings,
)

# -- practice settings and consent -----------------------------------------------------------


def practice_settings(organisation) -> PracticeSettings:
    found = PracticeSettings.objects.filter(organisation=organisation).first()
    if found is None:
        found, _ = PracticeSettings.objects.get_or_create(organisation=organisation)
    return found


def current_statement(organisation) -> ConfidentialityStatement:
    """The practice's current statement; the first use creates version 1 from the default."""
    statement = (
        ConfidentialityStatement.objects.filter(organisation=organisation).order_by("-version").first()
    )
    if statement is None:
        statement, _ = ConfidentialityStatement.objects.get_or_create(
            organisation=organisation, version=1,
            defaults={"text": DEFAULT_CONFIDENTIALITY_STATEMENT},
        )
    return statement


def publish_statement(organisation, text: str, request: HttpRequest | None = None):
    """A new version of the statement: every client is asked to accept it again."""
    with transaction.atomic():
        version = current_statement(organisation).version + 1
        statement = ConfidentialityStatement.objects.create(
            organisation=organisation, version=version, text=text
        )
        record(request, "checkins.statement.published", statement, organisation=organisation,
               detail={"version": version})
    return statement


def needs_consent(client: Client) -> ConfidentialityStatement | None:
    """The statement the client still has to accept, or None (one query on every check-in
    answered: the current statement, marked when this client accepted it)."""
    statement = (
        ConfidentialityStatement.objects.filter(organisation_id=client.organisation_id)
        .annotate(accepted=Exists(Consent.objects.filter(client=client, statement=OuterRef("pk"))))
        .order_by("-version").first()
    )
    if statement is None:
        statement = current_statement(client.organisation)
    elif statement.accepted:
        return None
    return statement


def accept_statement(client: Client, statement: ConfidentialityStatement,
                     request: HttpRequest | None = None, at: datetime | None = None) -> Consent:
    with transaction.atomic():
        consent, created = Consent.objects.get_or_create(
            client=client, statement=statement,
            defaults={"organisation": client.organisation, "version": statement.version,
                      "accepted_at": at or timezone.now()},
        )
        if created:
            record(request, "checkins.consent.accepted", consent, client=client,
                   actor_label=f"client:{client.code}", detail={"version": statement.version})
    return consent
