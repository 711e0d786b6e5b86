"""Check-ins (plan a session's, send one to the client) and responses (submit, list), through
the check-ins app's services, so validation, scoring, audit and `response_stored` stay there."""

from uuid import UUID

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from rapport.api.auth import need
from rapport.api.rest import audit_list, narrowed
from rapport.api.schemas import CheckInOut, Problem, ResponseOut, SentOut, SubmitIn
from rapport.audit.services import record
from rapport.care import access
from rapport.checkins.models import CheckIn, Respondent, Response
from rapport.checkins.services.answers import InvalidAnswers
from rapport.checkins.services.invitations import send_invitation
from rapport.checkins.services.schedule import CANCELLED, plan_session
from rapport.checkins.services.submission import Source, submit

router = Router(tags=["check-ins"])


def _checkin_for(request: HttpRequest, code: UUID) -> CheckIn:
    try:
        return (CheckIn.objects.filter(episode__in=access.episodes_for(request))
                .select_related("episode", "episode__client", "episode__therapist", "session")
                .get(code=code))
    except CheckIn.DoesNotExist as exc:
        raise Http404("No such check-in") from exc


@router.get("/sessions/{code}/checkins", response=list[CheckInOut], url_name="session-checkins")
def session_checkins(request: HttpRequest, code: UUID):
    need(request, "checkins:read")
    session = access.get_session_for(request, code)
    record(request, "api.session.checkins.viewed", session, client=session.episode.client)
    return list(CheckIn.objects.filter(session=session).select_related("episode", "session"))


@router.post("/sessions/{code}/checkins", response={201: list[CheckInOut], 400: Problem},
             url_name="session-checkins-plan")
def plan_checkins(request: HttpRequest, code: UUID):
    """Create the session's check-ins that its episode's schedule makes due (none twice)."""
    need(request, "checkins:write")
    session = access.get_session_for(request, code)
    if session.attendance in CANCELLED:
        return Status(400, {"detail": _("This session was cancelled: it has no check-ins.")})
    planned = plan_session(session)
    record(request, "api.session.checkins.planned", session, client=session.episode.client,
           detail={"checkins": [str(c.code) for c in planned]})
    return Status(201, planned)


@router.get("/checkins/{code}", response=CheckInOut, url_name="checkin")
def get_checkin(request: HttpRequest, code: UUID):
    need(request, "checkins:read")
    checkin = _checkin_for(request, code)
    record(request, "api.checkin.viewed", checkin, client=checkin.episode.client)
    return checkin


@router.post("/checkins/{code}/send", response={201: SentOut, 400: Problem}, url_name="checkin-send")
def send_checkin(request: HttpRequest, code: UUID):
    """Email the client a new single-use link to the check-in (as the session's page does)."""
    need(request, "checkins:write")
    checkin = _checkin_for(request, code)
    if checkin.respondent != Respondent.CLIENT or checkin.is_complete:
        return Status(400, {"detail": _("Only a client's check-in that is not yet answered can be sent.")})
    if not checkin.episode.client.email:
        return Status(400, {"detail": _("This client has no email address on record.")})
    invitation, _token = send_invitation(checkin, request)
    return Status(201, {"checkin": checkin.code, "channel": invitation.channel, "expires_at": invitation.expires_at})


def response_out(request: HttpRequest, response: Response, readers: set[int]) -> dict:
    """`readers`: the episodes whose free text this user may read."""
    return {
        "code": response.code, "episode": response.episode.code,
        "session": response.session.code if response.session_id else None,
        "checkin": response.checkin.code if response.checkin_id else None,
        "instrument": response.instrument_id, "instrument_version": response.instrument_version,
        "respondent": response.respondent, "answers": response.answers,
        "free_text": response.free_text_answers if response.episode_id in readers else None,
        "total": response.total, "severity": response.severity_label, "subscales": response.subscales,
        "flags": response.flags, "submitted_at": response.submitted_at,
        "supersedes": response.supersedes.code if response.supersedes_id else None,
    }


def _readers(request: HttpRequest, episode_ids) -> set[int]:
    return set(access.clinical_episodes_for(request).filter(pk__in=episode_ids).values_list("pk", flat=True))


def _responses(request: HttpRequest):
    return (Response.objects.filter(episode__in=access.episodes_for(request))
            .select_related("episode", "session", "checkin", "supersedes").order_by("submitted_at", "pk"))


@router.get("/responses", response=list[ResponseOut], url_name="responses")
@paginate(LimitOffsetPagination)
def list_responses(request: HttpRequest, episode: UUID | None = None, instrument: str | None = None):
    need(request, "responses:read")
    responses = narrowed(_responses(request), episode__code=episode, instrument_id=instrument)
    audit_list(request, "responses", responses.count(), episode=episode, instrument=instrument)
    return _Rows(request, responses)


class _Rows:
    """A queryset whose page is turned into answers only once sliced (by the paginator)."""

    def __init__(self, request, queryset):
        self.request, self.queryset = request, queryset

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        page = list(self.queryset[key])
        readers = _readers(self.request, {r.episode_id for r in page})
        return [response_out(self.request, r, readers) for r in page]


@router.get("/responses/{code}", response=ResponseOut, url_name="response")
def get_response(request: HttpRequest, code: UUID):
    need(request, "responses:read")
    try:
        response = _responses(request).get(code=code)
    except Response.DoesNotExist as exc:
        raise Http404("No such response") from exc
    record(request, "api.response.viewed", response, client=response.episode.client)
    return response_out(request, response, _readers(request, [response.episode_id]))


@router.post("/responses", response={201: ResponseOut, 200: ResponseOut, 400: Problem},
             url_name="responses-submit")
def submit_response(request: HttpRequest, payload: SubmitIn):
    """Answers to one instrument of a check-in, entered by the treating therapist (as a link in
    hand would let them); validated and scored like every other response. 200: a retry of a
    response already stored (same submission_token), which stands."""
    need(request, "responses:write")
    checkin = _checkin_for(request, payload.checkin)
    episode = checkin.episode
    if request.user.pk != episode.therapist_id:
        raise HttpError(403, _("Only the client's own therapist may submit answers."))
    if payload.instrument not in checkin.instruments:
        return Status(400, {"detail": _("This check-in does not ask for that questionnaire."),
                            "errors": {"instrument": _("Choose one of: %(ids)s.")
                                       % {"ids": ", ".join(checkin.instruments)}}})
    therapist = checkin.respondent == Respondent.THERAPIST
    try:
        stored = submit(
            episode, payload.instrument, payload.answers, checkin=checkin,
            source=Source(respondent=checkin.respondent,
                          user=request.user if therapist else None,
                          token=payload.submission_token, request=request,
                          actor_label=f"user:{request.user.email} token:{request.api_token.prefix}"),
        )
    except InvalidAnswers as exc:
        errors = {str(k or "answers"): str(v) for k, v in exc.errors.items()}
        return Status(400, {"detail": _("The answers were not stored."), "errors": errors})
    response = Response.objects.select_related("episode", "session", "checkin", "supersedes").get(
        pk=stored.response.pk)
    return Status(201 if stored.created else 200, response_out(request, response, _readers(request, [episode.pk])))
