"""Check-in services: the schedule, invitations, consent, drafts and the one way to store a response.

`submit` is the only function that creates a `Response`. Every path (a client's link, the
portal, the therapist's reflection form, the demo generator) goes through it, so every stored
response is validated and scored by `rapport.instruments`, audited in the same transaction,
raises a risk alert when the instrument flags risk, and sends `response_stored`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from rapport import instruments
from rapport.audit.services import record
from rapport.care.models import Attendance, CareEpisode, Client, Session
from rapport.checkins.models import (
    DEFAULT_CONFIDENTIALITY_STATEMENT,
    CheckIn,
    ConfidentialityStatement,
    Consent,
    Draft,
    Invitation,
    PracticeSettings,
    Respondent,
    Response,
    Schedule,
    When,
)
from rapport.checkins.signals import response_stored
from rapport.core.tasks import queue_email

log = logging.getLogger(__name__)

INVITATION_SALT = "rapport.checkins.invitation"
# The signature's own limit; each invitation's practice-specific expiry is checked in the database.
MAX_LINK_AGE = timedelta(days=31)


# -- instruments -----------------------------------------------------------------------------

GOAL_PROGRESS = "goal-progress"


def goals_to_rate(episode: CareEpisode) -> dict[str, str]:
    """{linkId: title} of the episode's goals the client rates now (the goals app decides)."""
    from rapport.goals.progress import rated_goals

    return rated_goals(episode)


def goal_instrument(goals: Mapping[str, str]) -> instruments.Instrument:
    """goal-progress with one 0-10 item per goal; each item shows the goal's wording with the
    template item's anchors, e.g. "Sleep better (0 = not at all, 10 = fully achieved)"."""
    hint = instruments.load(GOAL_PROGRESS).template.text
    hint = hint[hint.rindex(" ("):] if hint.endswith(")") and " (" in hint else ""
    return instruments.goal_progress({k: f"{title}{hint}" for k, title in goals.items()})


def instrument_for(episode: CareEpisode, instrument_id: str,
                   goals: Mapping[str, str] | None = None) -> instruments.Instrument:
    """The instrument as this episode's client answers it: goal-progress is expanded into one
    item per goal (`goals`, by default the goals rated now); every other id is loaded as is."""
    if instrument_id != GOAL_PROGRESS:
        return instruments.load(instrument_id)
    return goal_instrument(goals_to_rate(episode) if goals is None else goals)


def applies(episode: CareEpisode, instrument_id: str) -> bool:
    """False for goal-progress while the episode has no goal to rate: it is skipped."""
    return instrument_id != GOAL_PROGRESS or bool(goals_to_rate(episode))


# -- answers ---------------------------------------------------------------------------------


class InvalidAnswers(Exception):
    """The answers cannot be stored. `errors` maps a linkId (None: the whole form) to a message."""

    def __init__(self, errors: dict[str | None, str]) -> None:
        super().__init__("; ".join(f"{k or 'form'}: {v}" for k, v in errors.items()))
        self.errors = errors


def split_answers(instrument: instruments.Instrument, answers: dict[str, Any]) -> tuple[dict, dict]:
    """(scored answers, free-text answers): free text is stored encrypted, apart from the rest."""
    text_ids = {i.link_id for i in instrument.items if i.kind == "text"}
    scored = {k: v for k, v in answers.items() if k not in text_ids and v not in (None, "")}
    free = {k: v for k, v in answers.items() if k in text_ids and v not in (None, "")}
    return scored, free


def _friendly(item: instruments.Item, error: instruments.AnswerError) -> str:
    """A message for a person filling in the form, built from the instrument's own error."""
    if item.kind == "choice":
        return "Please choose one of the answers shown."
    return f"Please give {item.allowed()}."


def check_answers(instrument: instruments.Instrument, answers: dict[str, Any]):
    """Score the answers with the instrument; returns (score, errors by linkId).

    Errors come from `Instrument.score`; a required item left empty is reported against that
    item, so a person sees which question still needs an answer.
    """
    score = instrument.score(answers)
    errors: dict[str | None, str] = {}
    for error in score.errors:
        if error.link_id is None:
            continue
        try:
            item = instrument.item(error.link_id)
        except KeyError:
            errors[None] = f"This form has an answer to a question it does not ask ({error.link_id})."
            continue
        errors[error.link_id] = _friendly(item, error)
    for item in instrument.items:
        if item.required and item.link_id not in errors and answers.get(item.link_id) in (None, ""):
            errors[item.link_id] = "Please answer this question."
    if not errors and (score.errors or not score.complete):
        errors[None] = "; ".join(str(e) for e in score.errors) or "Some answers are missing."
    return score, errors


def as_token(value: uuid.UUID | str | None) -> uuid.UUID | None:
    """A submission token as a UUID; None for a missing or malformed one."""
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@dataclass
class Submission:
    response: Response
    created: bool  # False: a retry of a submission already stored
    score: Any = None
    alerts: list = field(default_factory=list)


def _raise_risk_alert(response: Response, score, request: HttpRequest | None):
    """An urgent alert for the therapist: the alerts app de-duplicates on (episode, key)."""
    from rapport.alerts.services import raise_alert

    flagged = [f.split(":", 1)[1] for f in response.flags if f.startswith("risk:")]
    item = flagged[0] if len(flagged) == 1 else flagged
    value = score.answers.get(flagged[0]) if len(flagged) == 1 else {
        k: score.answers.get(k) for k in flagged
    }
    return raise_alert(
        episode=response.episode,
        kind="risk",
        severity="urgent",
        key=f"risk:{response.code}",
        evidence={
            "instrument": response.instrument_id,
            "item": item,
            "value": value,
            "response": str(response.code),
        },
        session=response.session,
        request=request,
    )


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
    """Validate, score and store one response; audit it, alert on risk, send `response_stored`.

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
    if submission_token is not None:
        found = Response.objects.filter(submission_token=submission_token).first()
        if found is not None:
            if found.episode_id == episode.pk and found.instrument_id == instrument.id:
                return Submission(found, False)  # a retry: the stored response stands
            submission_token = None  # someone else's token: never theirs to reuse
    score, errors = check_answers(instrument, answers)
    if errors:
        raise InvalidAnswers(errors)
    scored, free = split_answers(instrument, {**answers, **score.answers})
    if actor_label is None and respondent == Respondent.CLIENT:
        actor_label = f"client:{episode.client.code}"

    with transaction.atomic():
        # Duplicates are refused by the unique constraints (token; one answer per instrument of
        # a check-in), and the savepoint below turns that into the stored response, so the
        # common path makes no look-up first. The constraint does not cover a correction
        # (supersedes set) given with a check-in: that one is looked up, and as before the
        # check-in's stored answer stands.
        if checkin is not None and supersedes is not None:
            existing = _existing(None, checkin, instrument.id)
            if existing is not None:
                return Submission(existing, False, score)
        response = Response(
            organisation_id=episode.organisation_id,
            episode=episode,
            session=session,
            checkin=checkin,
            instrument_id=instrument.id,
            instrument_version=instrument.version,
            respondent=respondent,
            respondent_user=respondent_user,
            answers=scored,
            free_text=json.dumps(free, ensure_ascii=False) if free else "",
            total=score.total,
            severity_label=score.severity.label if score.severity else "",
            severity_band=score.severity.band if score.severity else None,
            subscales=score.subscales,
            flags=list(score.flags),
            submission_token=submission_token,
            supersedes=supersedes,
            submitted_at=submitted_at or timezone.now(),
        )
        try:
            with transaction.atomic():  # a savepoint: a lost race leaves the outer one usable
                response.save()
        except IntegrityError:
            existing = _existing(submission_token, checkin, instrument.id)
            if existing is None:
                raise
            return Submission(existing, False, score)
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
        alerts = []
        if response.is_risk:
            alerts.append(_raise_risk_alert(response, score, request))
        if checkin is not None:
            Draft.objects.filter(checkin=checkin, instrument_id=instrument.id).delete()
            _complete_if_done(checkin, response.submitted_at)
        response_stored.send(sender=Response, response=response)
    return Submission(response, True, score, alerts)


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


# -- drafts ----------------------------------------------------------------------------------


def save_draft(checkin: CheckIn, instrument_id: str, answers: dict[str, Any],
               request: HttpRequest | None = None) -> Draft:
    """Keep what was entered so far (free text encrypted), replacing any earlier draft."""
    instrument = instrument_for(checkin.episode, instrument_id)
    scored, free = split_answers(instrument, answers)
    with transaction.atomic():
        draft, _ = Draft.objects.update_or_create(
            checkin=checkin,
            instrument_id=instrument_id,
            defaults={
                "organisation_id": checkin.organisation_id,
                "answers": scored,
                "free_text": json.dumps(free, ensure_ascii=False) if free else "",
                "updated_at": timezone.now(),
            },
        )
        record(request, "checkins.draft.saved", checkin, client=checkin.episode.client,
               organisation=checkin.episode.organisation,
               actor_label=f"client:{checkin.episode.client.code}"
               if checkin.respondent == Respondent.CLIENT else None,
               detail={"instrument": instrument_id})
    return draft


def load_draft(checkin: CheckIn, instrument_id: str) -> dict[str, Any]:
    draft = Draft.objects.filter(checkin=checkin, instrument_id=instrument_id).first()
    if draft is None:
        return {}
    return {**draft.answers, **(json.loads(draft.free_text) if draft.free_text else {})}


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
    """The statement the client still has to accept, or None."""
    statement = current_statement(client.organisation)
    if Consent.objects.filter(client=client, statement=statement).exists():
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


# -- the schedule ----------------------------------------------------------------------------


def schedule_for(episode: CareEpisode) -> Schedule:
    """The episode's schedule, created from the practice defaults on first use."""
    found = Schedule.objects.filter(episode=episode).first()
    if found is None:
        found, _ = Schedule.objects.get_or_create(
            episode=episode,
            defaults={"organisation_id": episode.organisation_id,
                      "rules": [dict(r) for r in practice_settings(episode.organisation).rules]},
        )
    return found


def instruments_due(rules: list[dict], number: int, when: str) -> list[str]:
    """Instrument ids due at the `number`-th session (1-based) for `when`, in rule order.

    "intake" rules join the first session's "before" set; "discharge" rules ignore `number`.
    """
    due: list[str] = []
    for rule in rules:
        rule_when = rule.get("when")
        every = max(int(rule.get("every") or 1), 1)
        applies = (
            (rule_when == when and when != When.DISCHARGE and (number - 1) % every == 0)
            or (rule_when == "intake" and when == When.BEFORE and number == 1)
            or (rule_when == when == When.DISCHARGE)
        )
        if applies and rule["instrument"] not in due:
            due.append(rule["instrument"])
    return due


def respondent_of(instrument_id: str) -> str:
    return instruments.load(instrument_id).respondent or Respondent.CLIENT


CANCELLED = (Attendance.CANCELLED_CLIENT, Attendance.CANCELLED_CLINIC)


def session_number(session: Session) -> int:
    """The session's position in its episode, counting sessions that were not cancelled."""
    return (
        Session.objects.filter(episode_id=session.episode_id, scheduled_at__lte=session.scheduled_at)
        .exclude(attendance__in=CANCELLED)
        .count()
    ) or 1


def plan_session(session: Session, rules: list[dict] | None = None,
                 number: int | None = None, *, has_goals: bool | None = None) -> list[CheckIn]:
    """Create the session's check-ins (client before, client after, therapist after) if due.

    goal-progress is left out while the episode has no goal to rate (`has_goals`: whether it
    has, by default looked up now).
    """
    if rules is None:
        rules = schedule_for(session.episode).rules
    if number is None:
        number = session_number(session)
    planned = []
    for when in (When.BEFORE, When.AFTER):
        by_respondent: dict[str, list[str]] = {}
        for instrument_id in instruments_due(rules, number, when):
            if instrument_id == GOAL_PROGRESS:
                if has_goals is None:
                    has_goals = bool(goals_to_rate(session.episode))
                if not has_goals:
                    continue
            by_respondent.setdefault(respondent_of(instrument_id), []).append(instrument_id)
        for respondent, ids in by_respondent.items():
            checkin, _ = CheckIn.objects.get_or_create(
                session=session, when=when, respondent=respondent,
                defaults={"organisation_id": session.organisation_id,
                          "episode_id": session.episode_id, "instruments": ids},
            )
            planned.append(checkin)
    return planned


def discharge_checkin(episode: CareEpisode) -> CheckIn | None:
    ids = [i for i in instruments_due(schedule_for(episode).rules, 0, When.DISCHARGE)
           if respondent_of(i) == Respondent.CLIENT]
    if not ids:
        return None
    existing = CheckIn.objects.filter(episode=episode, when=When.DISCHARGE, completed_at__isnull=True).first()
    return existing or CheckIn.objects.create(
        organisation_id=episode.organisation_id, episode=episode, when=When.DISCHARGE,
        respondent=Respondent.CLIENT, instruments=ids,
    )


# A check-in is offered from a week before its session until a week after it; older ones lapse.
DUE_WINDOW = timedelta(days=7)


def due_checkins(client: Client, now: datetime | None = None):
    """The client's open check-ins that can still be answered, oldest first."""
    from django.db.models import Q

    now = now or timezone.now()
    window = (
        Q(session__isnull=True)
        | Q(when=When.BEFORE, session__scheduled_at__gt=now - timedelta(hours=1),
            session__scheduled_at__lte=now + DUE_WINDOW)
        | Q(when=When.AFTER, session__scheduled_at__lte=now,
            session__scheduled_at__gt=now - DUE_WINDOW)
    )
    return (
        CheckIn.objects.filter(episode__client=client, respondent=Respondent.CLIENT,
                               completed_at__isnull=True)
        .filter(window)
        .exclude(session__attendance__in=CANCELLED)
        .select_related("session", "episode")
        .order_by("created_at")
    )


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
    queue_email(
        f"{org}: a short check-in",
        (
            f"Hello {client.display_name},\n\n{org} asks you to answer a short check-in "
            f"({'before' if checkin.when == When.BEFORE else 'after'} your session).\n\n"
            f"{url}\n\nThe link works until {invitation.expires_at:%d %B %Y} and can be used "
            "once. If it has expired, ask your therapist for a new one.\n"
        ),
        [client.email],
    )
    return invitation, token


@dataclass
class LinkState:
    """What a link resolves to: status is ok, expired, used or invalid."""

    status: str
    invitation: Invitation | None = None


def resolve_token(token: str) -> LinkState:
    """Check a link's signature and look up its invitation (no scope is needed or opened)."""
    from django_scopes import scopes_disabled

    try:
        signing.TimestampSigner(salt=INVITATION_SALT).unsign(
            token, max_age=MAX_LINK_AGE.total_seconds()
        )
    except signing.SignatureExpired:
        return LinkState("expired")
    except signing.BadSignature:
        return LinkState("invalid")
    with scopes_disabled():
        invitation = (
            Invitation.objects.select_related(
                "checkin", "checkin__episode", "checkin__episode__client", "organisation",
                "checkin__session", "checkin__episode__organisation",
                "checkin__episode__client__organisation",
            )
            .filter(token_hash=_hash(token))
            .first()
        )
    if invitation is None:
        return LinkState("invalid")
    if invitation.used_at is not None or invitation.checkin.completed_at is not None:
        return LinkState("used", invitation)
    if invitation.expires_at <= timezone.now():
        return LinkState("expired", invitation)
    return LinkState("ok", invitation)
