"""Single-use, expiring links to a check-in, and sending them by email.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from rapport.audit.services import record
from rapport.checkins.models import (
    CheckIn,
    ConfidentialityStatement,
    Consent,
    Draft,
    Invitation,
    Respondent,
    When,
)
from rapport.checkins.services.consent import practice_settings
from rapport.core import i18n
from rapport.core.statements import Joined, Part
from rapport.core.tasks import queue_email

log = logging.getLogger(__name__)

INVITATION_SALT = "rapport.checkins.invitation"
# The signature's own limit; each invitation's practice-specific expiry is checked in the database.
MAX_LINK_AGE = timedelta(days=31)


# -- invitations -----------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(checkin: CheckIn, channel: str = "link",
                      request: HttpRequest | None = None) -> tuple[Invitation, str]:
    """A new single-use link to the check-in; returns (invitation, token). Only a hash is kept."""
    if checkin.respondent != Respondent.CLIENT:
        raise ValueError("only a client's check-in is answered through a link")
    days = practice_settings(checkin.organisation).invitation_days
    token = signing.TimestampSigner(salt=INVITATION_SALT).sign(secrets.token_urlsafe(18))
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organisation_id=checkin.organisation_id, checkin=checkin, token_hash=_hash(token),
            channel=channel, expires_at=timezone.now() + timedelta(days=days),
        )
        record(request, "checkins.invitation.created", invitation, client=checkin.episode.client,
               organisation=checkin.episode.organisation, detail={"channel": channel})
    return invitation, token


def invitation_path(token: str) -> str:
    return reverse("checkins-answer", args=[token])


def absolute(request: HttpRequest | None, path: str) -> str:
    """The full link: from the request when there is one, otherwise from RAPPORT_BASE_URL.

    Without either (production, a job sending email, RAPPORT_BASE_URL unset) only the path can
    be given; a warning says so, so the installer can set it.
    """
    if request is not None:
        return request.build_absolute_uri(path)
    from django.conf import settings

    base = (getattr(settings, "RAPPORT_BASE_URL", "") or "").rstrip("/")
    if not base:
        log.warning(
            "RAPPORT_BASE_URL is not set: a link emailed outside a web request cannot name this "
            "server, so the email holds only the link's path. Set RAPPORT_BASE_URL to the "
            "site's address, e.g. https://rapport.example.org."
        )
    return base + path


def send_invitation(checkin: CheckIn, request: HttpRequest | None = None) -> tuple[Invitation, str]:
    """Email a new link to the client (through Django's email framework)."""
    client = checkin.episode.client
    if not client.email:
        raise ValueError("the client has no email address")
    invitation, token = create_invitation(checkin, channel="email", request=request)
    url = absolute(request, invitation_path(token))
    org = checkin.organisation.name
    with i18n.speaking(client.language, client.time_zone):
        asks = (_("%(practice)s asks you to answer a short check-in (before your session).")
                if checkin.when == When.BEFORE else
                _("%(practice)s asks you to answer a short check-in (after your session)."))
        until = formats.date_format(timezone.localtime(invitation.expires_at), _("j F Y"))
        subject = _("%(practice)s: a short check-in") % {"practice": org}
        body = _("Hello %(name)s,\n\n%(asks)s\n\n%(url)s\n\nThe link works until %(until)s "
                 "and can be used once. If it has expired, ask your therapist for a new one.\n") % {
            "name": client.display_name, "asks": asks % {"practice": org}, "url": url,
            "until": until}
    queue_email(subject, body, [client.email])
    return invitation, token


@dataclass
class LinkState:
    """What a link resolves to: status is ok, expired, used or invalid. The invitation read
    with it carries `consented`: whether its client has accepted the practice's current
    confidentiality statement, and its check-in `has_drafts`: whether any answers were saved
    for later (both read in the same query)."""

    status: str
    invitation: Invitation | None = None


# The client's encrypted columns: nothing that answers a link reads them, and each would be
# decrypted on every answer.
_CLIENT_PRIVATE = ("name", "preferred_name", "email", "phone", "date_of_birth",
                   "emergency_contact")


@functools.cache
def _link_query() -> Joined:
    """The link's statement: the invitation with its practice, check-in, episode and client (but
    their encrypted columns) and session, whether the client has accepted the practice's current
    confidentiality statement, and whether the check-in has drafts. Written once per process
    (rapport.core.statements): built by the ORM on every answer, it cost more CPU than the whole
    rest of a submission. Read without any scope: the link itself is the key."""
    from rapport.accounts.models import Organisation
    from rapport.care.models import CareEpisode, Client, Session

    return Joined(
        Part(Invitation, "i"),
        Part(Organisation, "o", "JOIN {organisation} o ON o.id = i.organisation_id"),
        Part(CheckIn, "c", "JOIN {checkin} c ON c.id = i.checkin_id"),
        Part(CareEpisode, "e", "JOIN {careepisode} e ON e.id = c.episode_id",
             defer=("presenting_concerns",)),  # encrypted, and not needed to answer
        Part(Client, "k", "JOIN {client} k ON k.id = e.client_id", defer=_CLIENT_PRIVATE),
        Part(Session, "s", "LEFT JOIN {session} s ON s.id = c.session_id"),
        where="i.token_hash = %s",
        extra=(
            # consented_now: a consent to the latest version of the client's practice's statement
            "EXISTS (SELECT 1 FROM {consent} a WHERE a.client_id = e.client_id AND a.version = "
            "(SELECT st.version FROM {statement} st WHERE st.organisation_id = a.organisation_id "
            "ORDER BY st.version DESC LIMIT 1))",
            "EXISTS (SELECT 1 FROM {draft} d WHERE d.checkin_id = c.id)",
        ),
        tables={"consent": Consent, "statement": ConfidentialityStatement, "draft": Draft},
    )


def resolve_token(token: str) -> LinkState:
    """Check a link's signature and look up its invitation (no scope is needed or opened)."""
    try:
        signing.TimestampSigner(salt=INVITATION_SALT).unsign(
            token, max_age=MAX_LINK_AGE.total_seconds()
        )
    except signing.SignatureExpired:
        return LinkState("expired")
    except signing.BadSignature:
        return LinkState("invalid")
    found = _link_query().first([_hash(token)])
    if found is None:
        return LinkState("invalid")
    (invitation, organisation, checkin, episode, client, session), (consented, drafts) = found
    # The check-in, its episode and client belong to the invitation's practice: one row serves
    # them all, read as the ORM's select_related would have set them.
    invitation.organisation, invitation.checkin = organisation, checkin
    checkin.episode, checkin.session, episode.client = episode, session, client
    for row in (checkin, episode, client):
        if row.organisation_id == organisation.pk:
            row.organisation = organisation
    invitation.consented = bool(consented)
    checkin.has_drafts = bool(drafts)  # none: submitting deletes none (submission.py)
    if invitation.used_at is not None or invitation.checkin.completed_at is not None:
        return LinkState("used", invitation)
    if invitation.expires_at <= timezone.now():
        return LinkState("expired", invitation)
    return LinkState("ok", invitation)
