"""`submit`: the only function that creates a `Response`.

Every path (a client's link, the portal, the therapist's reflection form, the demo generator)
goes through it, so every stored response is validated and scored by `rapport.instruments`,
audited in the same transaction, and announced by one event, `response_stored`, inside that
transaction. Everything that reacts to a response (the risk alert, goal milestones, the findings
refresh) is a receiver of that signal in its own app: see rapport.checkins.signals.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from rapport.audit import chain
from rapport.audit.services import record
from rapport.care.models import CareEpisode, Session
from rapport.checkins.models import (
    CheckIn,
    Draft,
    Invitation,
    Respondent,
    Response,
)
from rapport.checkins.services.answers import (
    GOAL_PROGRESS,
    InvalidAnswers,
    applies,
    as_token,
    check_answers,
    instrument_for,
    split_answers,
)
from rapport.checkins.signals import response_stored
from rapport.core import statements


@dataclass
class Submission:
    response: Response
    created: bool  # False: a retry of a submission already stored
    score: Any = None


@dataclass(frozen=True)
class Source:
    """Who gave the answers and how they came: what `submit` records beside the answers.

    - `respondent` and `user`: the client (the default) or a therapist, who is then `user`;
    - `request` (None: the demo, an import, a job) and `actor_label` (the audit trail's actor
      where nobody is logged in; a client's own code by default);
    - `token`: the form's submission token; a repeat of it returns the response already stored;
    - `at`: when the answers were given (now by default; the demo and imports give the past).
    """

    respondent: str = Respondent.CLIENT
    user: Any = None
    request: HttpRequest | None = None
    actor_label: str | None = None
    token: uuid.UUID | str | None = None
    at: datetime | None = None


CLIENT = Source()


def submit(
    episode: CareEpisode,
    instrument_id: str,
    answers: dict[str, Any],
    *,
    checkin: CheckIn | None = None,
    session: Session | None = None,
    supersedes: Response | None = None,
    goals: Mapping[str, str] | None = None,
    source: Source = CLIENT,
) -> Submission:
    """Validate, score and store one response; audit it and send `response_stored`.

    The response belongs to `episode`, and to `checkin` (whose session it then takes) or
    `session` when given; `supersedes` is the response it corrects; `source` says who answered
    and how (see `Source`).

    Raises `InvalidAnswers` (nothing stored) when the instrument rejects the answers or a
    required answer is missing. A repeated `source.token`, or a second answer to the same
    instrument of the same check-in, returns the response already stored (created=False).

    goal-progress is validated and scored as the concrete instrument for `goals` ({linkId:
    wording}; by default the episode's goals rated now, see `instrument_for`): every goal
    needs a rating and an answer about any other goal is refused.
    """
    instrument = instrument_for(episode, instrument_id, goals)
    if instrument.id == GOAL_PROGRESS and not instrument.items:
        raise InvalidAnswers({None: _("There are no agreed goals to rate at the moment.")})
    if source.respondent == Respondent.THERAPIST and source.user is None:
        raise ValueError("a therapist's response needs source.user")
    if checkin is not None:
        session = checkin.session
        if instrument_id not in checkin.instruments:
            raise InvalidAnswers({None: _("This check-in does not ask for that questionnaire.")})
        if not checkin.is_open(source.at):
            raise InvalidAnswers({None: _("This check-in opens when the session starts, %(when)s.") % {
                "when": formats.date_format(timezone.localtime(checkin.opens_at),
                                            pgettext("date format", "l j F, H:i"))}})
    score, errors = check_answers(instrument, answers)
    if errors:
        raise InvalidAnswers(errors)
    actor_label = source.actor_label
    if actor_label is None and source.respondent == Respondent.CLIENT:
        actor_label = f"client:{episode.client.code}"
    response = _response(
        instrument, score, answers, episode=episode, session=session, checkin=checkin,
        respondent=source.respondent, respondent_user=source.user, supersedes=supersedes,
        submission_token=as_token(source.token), submitted_at=source.at or timezone.now(),
    )
    return _store(response, instrument, score, request=source.request, actor_label=actor_label)


def _response(instrument, score, answers: dict[str, Any], **fields: Any) -> Response:
    """The unsaved Response for valid answers: scored answers as JSON, free text apart."""
    scored, free = split_answers(instrument, {**answers, **score.answers})
    return Response(
        organisation_id=fields["episode"].organisation_id,
        instrument_id=instrument.id,
        instrument_version=instrument.version,
        answers=scored,
        free_text=json.dumps(free, ensure_ascii=False) if free else "",
        total=score.total,
        severity_label=score.severity.label if score.severity else "",
        severity_band=score.severity.band if score.severity else None,
        subscales=score.subscales,
        flags=list(score.flags),
        **fields,
    )


def _store(response: Response, instrument, score, *, request: HttpRequest | None,
           actor_label: str | None) -> Submission:
    """Save the response with its check-in completion, draft clean-up and audit event, and
    publish `response_stored`, all in one transaction; a duplicate returns the stored one.

    Duplicates are refused by the unique constraints (token; one answer per instrument of a
    check-in): the transaction (a savepoint inside another one) is rolled back and the response
    that stands is returned, so the common path makes no look-up first. A token on anyone
    else's response is never theirs to reuse: the answers are then stored without it.
    """
    checkin, token = response.checkin, response.submission_token
    # The constraint does not cover a correction (supersedes set) given with a check-in: that
    # one is looked up, and the check-in's stored answer stands.
    if checkin is not None and response.supersedes is not None:
        existing = _existing(None, checkin, instrument.id)
        if existing is not None:
            return Submission(existing, False, score)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                _write(response, instrument, score, request=request, actor_label=actor_label)
            return Submission(response, True, score)
        except IntegrityError:
            response.pk, response._state.adding = None, True
            existing = _existing(response.submission_token, checkin, instrument.id)
            if existing is None:
                raise
            if token is None or existing.submission_token != token or (
                    existing.episode_id == response.episode_id
                    and existing.instrument_id == instrument.id):
                return Submission(existing, False, score)
            response.submission_token = None  # someone else's token: store without it
    raise AssertionError("unreachable")  # pragma: no cover


def _write(response: Response, instrument, score, *, request: HttpRequest | None,
           actor_label: str | None) -> None:
    checkin, supersedes, head = response.checkin, response.supersedes, None
    if (connection.vendor == "postgresql" and checkin is not None
            and checkin.instruments == [instrument.id]):
        head = _store_completing(response)  # one round trip, the audit chain's head with it
    else:
        response.save()  # first: a duplicate fails here, before anything else is written
        if checkin is not None:
            # A check-in read through its link knows whether it has drafts (resolve_token):
            # most have none, and the statement is spared. A draft saved since by another tab
            # of the same link is left, as one saved after this statement would be.
            if getattr(checkin, "has_drafts", True):
                Draft.objects.filter(checkin=checkin, instrument_id=instrument.id).delete()
            _complete_if_done(checkin, response.submitted_at, instrument.id)
    # The audit event comes after the other writes: appending to the audit chain holds its lock
    # until the commit, and answers stored at once wait for each other only that long (on
    # PostgreSQL the lock is taken by the statement after the check-in's own, above).
    episode = response.episode
    record(
        request,
        "checkins.response.submitted",
        response,
        client=episode.client,
        organisation=episode.organisation,
        actor_label=actor_label,
        detail={
            "instrument": instrument.id,
            "version": instrument.version,
            "flags": list(score.flags),
            "supersedes": str(supersedes.code) if supersedes else None,
        },
        head=head,
    )
    response_stored.send(sender=Response, response=response, score=score, request=request)


def _existing(token, checkin: CheckIn | None, instrument_id: str) -> Response | None:
    if token is not None:
        found = Response.objects.filter(submission_token=token).first()
        if found is not None:
            return found
    if checkin is not None:
        return Response.objects.filter(
            checkin=checkin, instrument_id=instrument_id, supersedes__isnull=True
        ).first()
    return None


def _complete_if_done(checkin: CheckIn, at: datetime, instrument_id: str) -> None:
    if checkin.instruments == [instrument_id]:
        # The check-in's only questionnaire was answered (elsewhere than on PostgreSQL, where
        # _store_completing does this in the INSERT's statement): complete it (the condition
        # keeps the first completion when two are stored at once) and use up its links.
        completed = CheckIn.objects.filter(pk=checkin.pk, completed_at__isnull=True).update(
            completed_at=at)
        if completed:
            _use_invitations(checkin.pk)
        _completed(checkin, at, completed)
        return
    # Lock the check-in first: two steps of it stored at once (the portal and a link) would each
    # see only their own answer and neither would complete it. Under the lock the second one
    # sees the first one's committed answer.
    checkin.completed_at = (
        CheckIn.objects.select_for_update(no_key=True).filter(pk=checkin.pk).values_list("completed_at", flat=True).first()
    )
    if next_instrument(checkin) is None and checkin.completed_at is None:
        checkin.completed_at = at
        checkin.save(update_fields=["completed_at"])
        _use_invitations(checkin.pk)


def _store_completing(response: Response) -> chain.Head:
    """PostgreSQL, the answer to a check-in's only questionnaire: the response stored, its
    drafts deleted, the check-in completed (unless it is already: the condition keeps the first
    completion) and its links used up in one prepared statement (a duplicate fails it whole);
    then the audit chain's lock taken and its head read for the event that follows, in a
    statement of its own sent with the first (one round trip, the transaction's BEGIN with
    them).

    The lock comes after the answer's own row locks (the check-in's, its links', its drafts'),
    as wherever an audited change locks rows (rapport.audit.chain, "Locks"): taken in the same
    statement it came first, and a change holding the check-in's row while it waited for the
    chain's lock waited for an answer that waited for it."""
    checkin = response.checkin
    insert, values = statements.insert_sql(response)
    checkins, invitations = CheckIn._meta.db_table, Invitation._meta.db_table
    with statements.together(2) as (stored, head):
        stored.execute(
            f"WITH stored AS ({insert}), "  # noqa: S608 - model tables and our own statement
            f"drafts AS (DELETE FROM {Draft._meta.db_table} WHERE checkin_id = %s "
            "AND instrument_id = %s), "
            f"done AS (UPDATE {checkins} SET completed_at = %s "
            "WHERE id = %s AND completed_at IS NULL RETURNING id), "
            f"used AS (UPDATE {invitations} SET used_at = %s "
            "WHERE checkin_id IN (SELECT id FROM done) AND used_at IS NULL) "
            "SELECT (SELECT id FROM stored), (SELECT count(*) FROM done)",
            [*values, checkin.pk, response.instrument_id, response.submitted_at, checkin.pk,
             timezone.now()])
        head.execute(f"SELECT seq, row_hash FROM {chain.HEAD_FUNCTION}")  # noqa: S608 - a constant
        pk, completed = stored.fetchone()
        last = chain.Head.of(*head.fetchone())
    statements.inserted(response, pk)
    _completed(checkin, response.submitted_at, completed)
    return last


def _completed(checkin: CheckIn, at: datetime, by_this_answer: bool) -> None:
    """Bring the check-in in hand up to date: completed at `at` by this answer, or else (by
    another answer stored at the same moment) as the database has it."""
    if by_this_answer:
        checkin.completed_at = at
    else:
        checkin.refresh_from_db(fields=["completed_at"])


def _use_invitations(checkin_id: int) -> None:
    Invitation.objects.filter(checkin_id=checkin_id, used_at__isnull=True).update(
        used_at=timezone.now())


def answered_instruments(checkin: CheckIn) -> set[str]:
    return set(checkin.responses.values_list("instrument_id", flat=True))


def next_instrument(checkin: CheckIn, done: set[str] | None = None) -> str | None:
    """The first instrument of the check-in not yet answered, or None when it is complete.

    `done`: the instruments answered already, when the caller has read them.
    goal-progress is passed over when the episode has no goal to rate any more (all closed
    since the check-in was planned).
    """
    done = answered_instruments(checkin) if done is None else done
    return next((i for i in checkin.instruments
                 if i not in done and applies(checkin.episode, i)), None)
