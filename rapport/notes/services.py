"""Session record services: write, share, the client's agenda from session-prep, the portal side.

Every write is atomic and audited in the same transaction. Staff reach a session's record through
`get_clinical_session_for` and `record_of` (treating therapist and their supervisors; everyone
else 404, including administrators without a clinical role); only the treating therapist writes (`care.access.may_write`).
The portal functions check that the record belongs to one of the client's episodes and is shared,
and never return the private note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone

from rapport.audit.services import record
from rapport.care import access
from rapport.care.models import Client, Session
from rapport.notes.models import AgendaItem, Homework, SessionRecord

TEXT_MAX = 10_000
ITEM_MAX = 1_000
SESSION_PREP = "session-prep"


class RecordNotFound(Http404):
    """No such session record or homework for this person: missing, not theirs, or not shared."""


class RecordError(ValueError):
    """The input cannot be saved; the message says why (nothing was changed)."""


# -- staff access ------------------------------------------------------------------------------


def get_clinical_session_for(request: HttpRequest, code: UUID | str) -> Session:
    """A session whose record the user may read: treating therapist, supervisors; else 404."""
    try:
        return (
            Session.objects.filter(episode__in=access.clinical_episodes_for(request))
            .select_related("episode", "episode__client", "episode__therapist")
            .get(code=access.parse_code(code))
        )
    except Session.DoesNotExist as exc:
        raise Http404("No such session") from exc


def record_of(session: Session) -> SessionRecord:
    """The session's record, or an unsaved empty one (nothing is written by reading)."""
    found = SessionRecord.objects.filter(session=session).first()
    return found or SessionRecord(organisation_id=session.organisation_id, session=session,
                                  episode_id=session.episode_id)


def _ensure(session: Session, at: datetime) -> SessionRecord:
    rec, _ = SessionRecord.objects.get_or_create(
        session=session,
        defaults={"organisation_id": session.organisation_id, "episode_id": session.episode_id,
                  "created_at": at, "updated_at": at},
    )
    return rec


def _check(text: str, limit: int, what: str, required: bool = False) -> str:
    text = (text or "").strip()
    if required and not text:
        raise RecordError(f"Please write the {what}.")
    if len(text) > limit:
        raise RecordError(f"Please keep the {what} to {limit:,} characters.")
    return text


def _audit(request, action: str, obj, session: Session, detail: dict | None = None) -> None:
    record(request, action, obj, client=session.episode.client,
           organisation=session.episode.organisation, detail=detail)


# -- the writes --------------------------------------------------------------------------------


def save_summary(session: Session, summary: str, next_steps: str, *,
                 request: HttpRequest | None = None, at: datetime | None = None) -> SessionRecord:
    """Save the summary and next steps (if shared, the client sees the new text)."""
    summary = _check(summary, TEXT_MAX, "summary")
    next_steps = _check(next_steps, TEXT_MAX, "next steps")
    at = at or timezone.now()
    with transaction.atomic():
        rec = _ensure(session, at)
        rec.summary, rec.next_steps, rec.updated_at = summary, next_steps, at
        rec.save(update_fields=["summary", "next_steps", "updated_at"])
        _audit(request, "notes.summary.saved", rec, session, {"shared": rec.is_shared})
    return rec


def save_private_note(session: Session, text: str, *, request: HttpRequest | None = None,
                      at: datetime | None = None) -> SessionRecord:
    text = _check(text, TEXT_MAX, "private note")
    at = at or timezone.now()
    with transaction.atomic():
        rec = _ensure(session, at)
        rec.private_note, rec.updated_at = text, at
        rec.save(update_fields=["private_note", "updated_at"])
        _audit(request, "notes.private_note.saved", rec, session)
    return rec


def share(session: Session, *, user=None, request: HttpRequest | None = None,
          at: datetime | None = None) -> SessionRecord:
    """Show the summary, next steps and homework to the client in the portal."""
    at = at or timezone.now()
    with transaction.atomic():
        rec = _ensure(session, at)
        if not rec.is_shared:
            rec.shared_with_client_at, rec.shared_by = at, user
            rec.save(update_fields=["shared_with_client_at", "shared_by"])
            _audit(request, "notes.record.shared", rec, session)
    return rec


def unshare(session: Session, *, request: HttpRequest | None = None) -> SessionRecord:
    """Take the summary, next steps and homework out of the portal again (ticks are kept)."""
    with transaction.atomic():
        rec = _ensure(session, timezone.now())
        if rec.is_shared:
            rec.shared_with_client_at, rec.shared_by = None, None
            rec.save(update_fields=["shared_with_client_at", "shared_by"])
            _audit(request, "notes.record.unshared", rec, session)
    return rec


# The record's two lists, alike in every way but their model and wording.
ITEMS = {
    "agenda": (AgendaItem, "agenda item", "notes.agenda_item"),
    "homework": (Homework, "homework", "notes.homework"),
}


def add_item(session: Session, kind: str, text: str, *, request: HttpRequest | None = None,
             at: datetime | None = None) -> AgendaItem | Homework:
    """Add an agenda item or homework ("agenda" or "homework") to the session's record."""
    model, what, action = ITEMS[kind]
    text = _check(text, ITEM_MAX, what, required=True)
    at = at or timezone.now()
    with transaction.atomic():
        rec = _ensure(session, at)
        extra = {"episode_id": session.episode_id} if model is Homework else {}
        item = model.objects.create(organisation_id=rec.organisation_id, record=rec, text=text,
                                    created_at=at, **extra)
        _audit(request, f"{action}.added", item, session)
    return item


def remove_item(session: Session, kind: str, code: UUID | str, *,
                request: HttpRequest | None = None) -> None:
    """Remove one of the record's agenda items or homework; RecordNotFound when not this session's."""
    model, _, action = ITEMS[kind]
    with transaction.atomic():
        try:
            item = model.objects.get(record__session=session, code=access.parse_code(code))
        except model.DoesNotExist as exc:
            raise RecordNotFound("No such item in this session's record") from exc
        _audit(request, f"{action}.removed", item, session)
        item.delete()


# -- the client's agenda from session-prep -----------------------------------------------------


@dataclass
class PrepAnswer:
    question: str
    answer: str


def session_prep(session: Session) -> list[PrepAnswer]:
    """The client's session-prep answers for this session (the latest correction), as agenda.

    Empty when the client has not prepared. The caller audits the read with its page view.
    """
    from rapport import instruments
    from rapport.checkins.models import Response

    response = (
        Response.objects.filter(session=session, instrument_id=SESSION_PREP,
                                superseded_by__isnull=True)
        .order_by("-submitted_at", "-id").first()
    )
    if response is None:
        return []
    answers = {**response.answers, **response.free_text_answers}
    try:
        items = instruments.load(SESSION_PREP).items
    except instruments.UnknownInstrument:
        items = []
    known = [(i.link_id, i.text) for i in items]
    known += [(k, k) for k in answers if k not in {link_id for link_id, _ in known}]
    return [PrepAnswer(text, str(answers[link_id])) for link_id, text in known
            if answers.get(link_id) not in (None, "")]


# -- the portal side ---------------------------------------------------------------------------


@dataclass
class SharedHomework:
    code: UUID
    text: str
    done_at: datetime | None


@dataclass
class SharedRecord:
    """What the client sees of one session: never the private note."""

    session_code: UUID
    session_at: datetime
    therapist: str
    summary: str
    next_steps: str
    shared_at: datetime
    homework: list[SharedHomework] = field(default_factory=list)


def shared_records_for_client(client: Client,
                              request: HttpRequest | None = None) -> list[SharedRecord]:
    """The client's shared session records, newest session first (audited as a read)."""
    records = list(
        SessionRecord.objects.filter(episode__client=client, shared_with_client_at__isnull=False)
        .select_related("session", "episode__therapist")
        .prefetch_related("homework")
        .order_by("-session__scheduled_at")
    )
    result = [
        SharedRecord(
            session_code=r.session.code, session_at=r.session.scheduled_at,
            therapist=str(r.episode.therapist), summary=r.summary, next_steps=r.next_steps,
            shared_at=r.shared_with_client_at,
            homework=[SharedHomework(h.code, h.text, h.done_at) for h in r.homework.all()],
        )
        for r in records
    ]
    record(request, "notes.shared_records.viewed_by_client", client, client=client,
           organisation=client.organisation, actor_label=f"client:{client.code}",
           detail={"records": len(result)})
    return result


def tick_homework(client: Client, homework_code: UUID | str, done: bool,
                  request: HttpRequest | None = None) -> Homework:
    """The client marks one of their shared homework items done (or not done after all)."""
    try:
        item = Homework.objects.select_related("record").get(
            episode__client=client, record__shared_with_client_at__isnull=False,
            code=access.parse_code(homework_code),
        )
    except (Homework.DoesNotExist, Http404) as exc:
        raise RecordNotFound("No such homework for this client") from exc
    with transaction.atomic():
        if done != (item.done_at is not None):
            item.done_at = timezone.now() if done else None
            item.save(update_fields=["done_at"])
            record(request, "notes.homework.ticked", item, client=client,
                   organisation=client.organisation, actor_label=f"client:{client.code}",
                   detail={"done": done})
    return item
