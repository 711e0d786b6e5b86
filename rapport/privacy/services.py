"""Erasure of a client's data, on request or by the retention policy.

What goes: the client's identifying data (name, contact, date of birth), all free text written
by or about them, and, unless the practice keeps de-identified scores, every row about them.
What stays: an `Erasure` record (who erased, when, why, what was kept) and the audit trail with
the client masked: their code and the codes of their records (client, episodes, sessions, and
every row the apps' erasers handled: see rapport.privacy.registry) are removed from every event,
so the trail still shows what staff did but no longer says to whom.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django_scopes import scopes_disabled

from rapport.audit import masking
from rapport.audit.models import AuditEvent
from rapport.audit.services import record
from rapport.care.models import CareEpisode, Client, EpisodeStatus, Session
from rapport.privacy import registry
from rapport.privacy.models import Erasure, RetentionPolicy

ERASED_NAME = "Erased client"


def policy_for(organisation) -> RetentionPolicy:
    """The practice's policy; until one is saved, the defaults (an unsaved row, nothing stored)."""
    policy = RetentionPolicy.objects.filter(organisation=organisation).first()
    return policy or RetentionPolicy(organisation=organisation)


@transaction.atomic
def erase_client(client: Client, *, request=None, by=None, trigger=Erasure.Trigger.REQUEST,
                 reason: str = "") -> Erasure:
    """Erase one client. Atomic: on any error nothing is erased."""
    with scopes_disabled():
        organisation = client.organisation
        keep = policy_for(organisation).keep_deidentified_scores
        client_code = client.code
        episodes = list(CareEpisode.objects.filter(client=client))
        sessions = list(Session.objects.filter(episode__in=episodes))
        object_codes = {str(client.code)} | {str(e.code) for e in episodes} | {str(s.code) for s in sessions}

        counts: dict[str, int] = {}
        for name, eraser in registry.erasers():
            erased = eraser(client, keep_scores=keep)
            for kind, n in erased.counts.items():
                counts[f"{name}.{kind}"] = n
            object_codes |= erased.codes

        if keep:
            # The rows stay, so scores keep their sessions and episodes; nothing identifies them.
            CareEpisode.objects.filter(client=client).update(presenting_concerns="")
            client.name = ERASED_NAME
            client.preferred_name = client.pronouns = client.email = client.phone = ""
            client.emergency_contact = ""
            client.language = ""
            client.date_of_birth = None
            client.code = uuid.uuid4()  # links, exports or emails that carried the old code go nowhere
            client.save()
            counts["care.clients_deidentified"] = 1
        else:
            counts["care.sessions"] = Session.objects.filter(episode__in=episodes).delete()[0]
            counts["care.episodes"] = CareEpisode.objects.filter(client=client).delete()[0]
            Client.objects.filter(pk=client.pk).delete()
            counts["care.clients"] = 1

        if by is None and request is not None and request.user.is_authenticated:
            by = request.user
        erasure = Erasure.objects.create(
            organisation=organisation, by=by, trigger=trigger, reason=reason,
            kept_deidentified_scores=keep, counts=counts,
        )

        def announce(digests: dict) -> AuditEvent:
            return record(request, masking.ANNOUNCEMENT, erasure, organisation=organisation,
                          actor_label=None if request else "system:retention",
                          detail={"erasure": str(erasure.code), "trigger": trigger,
                                  "kept_scores": keep, **digests})

        counts["audit.events_masked"] = masking.mask_client(client_code, object_codes, announce)
        erasure.counts = counts
        erasure.save(update_fields=["counts"])
    return erasure


def due_for_retention(organisation, today=None) -> list[Client]:
    """Clients whose every episode ended longer ago than the practice's retention period."""
    policy = policy_for(organisation)
    if policy.retain_days_after_last_episode is None:
        return []
    today = today or timezone.localdate()
    cutoff = today - timedelta(days=policy.retain_days_after_last_episode)
    with scopes_disabled():
        clients = (
            Client.objects.filter(organisation=organisation)
            .exclude(episodes__status=EpisodeStatus.ACTIVE)
            .annotate(last_end=Max("episodes__ended_on"))
            .filter(last_end__lt=cutoff)
        )
        return [c for c in clients if c.name != ERASED_NAME]  # names are encrypted: compared here
