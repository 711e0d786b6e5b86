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

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from rapport.audit.services import record
from rapport.care.models import CareEpisode, Session
from rapport.checkins.models import (
    CheckIn,
    Draft,
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


@dataclass
class Submission:
    response: Response
    created: bool  # False: a retry of a submission already stored
    score: Any = None


def submit(
    *,
    episode: CareEpisode,
    instrument_id: str,
    answers: dict[str, Any],
    respondent: str = Respondent.CLIENT,
    respondent_user=None,
    session: Session | None = None,
    checkin: CheckIn | None = None,
    submission_token: uuid.UUID | str | None = None,
    supersedes: Response | None = None,
    submitted_at: datetime | None = None,
    request: HttpRequest | None = None,
    actor_label: str | None = None,
    goals: Mapping[str, str] | None = None,
) -> Submission:
    """Validate, score and store one response; audit it and send `response_stored`.

    Raises `InvalidAnswers` (nothing stored) when the instrument rejects the answers or a
    required answer is missing. A repeated `submission_token`, or a second answer to the same
    instrument of the same check-in, returns the response already stored (created=False).

    goal-progress is validated and scored as the concrete instrument for `goals` ({linkId:
    wording}; by default the episode's goals rated now, see `instrument_for`): every goal
    needs a rating and an answer about any other goal is refused.
    """
    instrument = instrument_for(episode, instrument_id, goals)
    if instrument.id == GOAL_PROGRESS and not instrument.items:
        raise InvalidAnswers({None: "There are no agreed goals to rate at the moment."})
    if respondent == Respondent.THERAPIST and respondent_user is None:
        raise ValueError("a therapist's response needs respondent_user")
    submission_token = as_token(submission_token)
    if checkin is not None:
        session = checkin.session
        if instrument_id not in checkin.instruments:
            raise InvalidAnswers({None: "This check-in does not ask for that questionnaire."})
        if not checkin.is_open(submitted_at):
            raise InvalidAnswers({None: "This check-in opens when the session starts, "
                                        f"{timezone.localtime(checkin.opens_at):%A %-d %B at %H:%M}."})
    if submission_token is not None:
        found = Response.objects.filter(submission_token=submission_token).first()
        if found is not None:
            if found.episode_id == episode.pk and found.instrument_id == instrument.id:
                return Submission(found, False)  # a retry: the stored response stands
            submission_token = None  # someone else's token: never theirs to reuse
    score, errors = check_answers(instrument, answers)
    if errors:
        raise InvalidAnswers(errors)
    if actor_label is None and respondent == Respondent.CLIENT:
        actor_label = f"client:{episode.client.code}"
    response = _response(
        instrument, score, answers, episode=episode, session=session, checkin=checkin,
        respondent=respondent, respondent_user=respondent_user, supersedes=supersedes,
        submission_token=submission_token, submitted_at=submitted_at or timezone.now(),
    )
    return _store(response, instrument, score, request=request, actor_label=actor_label)


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


@transaction.atomic
def _store(response: Response, instrument, score, *, request: HttpRequest | None,
           actor_label: str | None) -> Submission:
    """Save the response with its audit event, draft clean-up and check-in completion, and
    publish `response_stored`, all in one transaction; a duplicate returns the stored one."""
    checkin, supersedes = response.checkin, response.supersedes
    # Duplicates are refused by the unique constraints (token; one answer per instrument of a
    # check-in), and the savepoint below turns that into the stored response, so the common
    # path makes no look-up first. The constraint does not cover a correction (supersedes set)
    # given with a check-in: that one is looked up, and as before the check-in's stored answer
    # stands.
    if checkin is not None and supersedes is not None:
        existing = _existing(None, checkin, instrument.id)
        if existing is not None:
            return Submission(existing, False, score)
    try:
        with transaction.atomic():  # a savepoint: a lost race leaves the outer one usable
            response.save()
    except IntegrityError:
        existing = _existing(response.submission_token, checkin, instrument.id)
        if existing is None:
            raise
        return Submission(existing, False, score)
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
    )
    if checkin is not None:
        Draft.objects.filter(checkin=checkin, instrument_id=instrument.id).delete()
        _complete_if_done(checkin, response.submitted_at)
    response_stored.send(sender=Response, response=response, score=score, request=request)
    return Submission(response, True, score)


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


def _complete_if_done(checkin: CheckIn, at: datetime) -> None:
    # Lock the check-in first: two steps of it stored at once (the portal and a link) would each
    # see only their own answer and neither would complete it. Under the lock the second one
    # sees the first one's committed answer.
    checkin.completed_at = (
        CheckIn.objects.select_for_update().filter(pk=checkin.pk).values_list("completed_at", flat=True).first()
    )
    if next_instrument(checkin) is None and checkin.completed_at is None:
        checkin.completed_at = at
        checkin.save(update_fields=["completed_at"])
        checkin.invitations.filter(used_at__isnull=True).update(used_at=timezone.now())


def answered_instruments(checkin: CheckIn) -> set[str]:
    return set(checkin.responses.values_list("instrument_id", flat=True))


def next_instrument(checkin: CheckIn) -> str | None:
    """The first instrument of the check-in not yet answered, or None when it is complete.

    goal-progress is passed over when the episode has no goal to rate any more (all closed
    since the check-in was planned).
    """
    done = answered_instruments(checkin)
    return next((i for i in checkin.instruments
                 if i not in done and applies(checkin.episode, i)), None)
