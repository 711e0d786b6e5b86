"""Erasing a client's check-ins (see rapport.privacy.registry for the contract).

keep_scores=False: every response, check-in, invitation, draft, schedule, consent and import
record of the client is deleted.

keep_scores=True: stored responses keep what the outcome statistics need (instrument, version,
numeric answers, total, severity, subscales, flags, session and check-in) and lose their free
text and submission token. Responses are immutable and their save() refuses any change: this
QuerySet.update() is the one sanctioned change to a stored response, as masking is to the audit
trail. Check-ins stay (when and what was asked: the denominator of completion rates); drafts
(unsubmitted answers), invitations (links to the client) and the schedule (care still to come)
are deleted, and so is where any of it was imported from (ImportedRecord: an identifier in
another system). Consents stay: a consent holds no free text, only which version of the practice's
statement was accepted when, by a client row that no longer identifies anyone, and it is the
record that the kept answers were collected lawfully.
"""

from __future__ import annotations

from rapport.checkins.models import (
    CheckIn,
    Consent,
    Draft,
    ImportedRecord,
    Invitation,
    Response,
    Schedule,
)
from rapport.privacy.registry import Erased


def erase(client, *, keep_scores: bool) -> Erased:
    done = Erased()
    responses = Response.objects.filter(episode__client=client)
    checkins = CheckIn.objects.filter(episode__client=client)
    invitations = Invitation.objects.filter(checkin__episode__client=client)
    done.add("invitations", invitations.count(), invitations.values_list("code", flat=True))
    invitations.delete()
    done.add("drafts", Draft.objects.filter(checkin__episode__client=client).delete()[0])
    done.add("schedules", Schedule.objects.filter(episode__client=client).delete()[0])
    done.add("import_records", ImportedRecord.objects.filter(client=client).delete()[0])
    response_codes = list(responses.values_list("code", flat=True))
    checkin_codes = list(checkins.values_list("code", flat=True))
    if keep_scores:
        done.add("responses_scrubbed", responses.update(free_text="", submission_token=None),
                 response_codes)
        done.codes.update(str(code) for code in checkin_codes)
        return done
    # A correction points at the response it supersedes (PROTECT, even within one delete), and
    # responses are never changed: delete each chain from its newest correction back.
    deleted = 0
    while n := responses.filter(superseded_by=None).delete()[0]:
        deleted += n
    done.add("responses", deleted, response_codes)
    done.add("checkins", checkins.delete()[0], checkin_codes)
    done.add("consents", Consent.objects.filter(client=client).delete()[0])
    return done
