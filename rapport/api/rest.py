"""The REST API: the NinjaAPI and the practice's people and appointments
(clients, episodes, sessions). Check-ins and responses are in `rest_checkins`, alerts and goals in
`rest_alerts`. Every operation needs a token with the operation's scope and reaches only what
the token's staff member reaches on the pages (`rapport.care.access`); anything else is 404.
"""

from uuid import UUID

from django.http import HttpRequest
from ninja import NinjaAPI, Router
from ninja.pagination import LimitOffsetPagination, paginate

from rapport.api.auth import TokenAuth, need
from rapport.api.schemas import ClientOut, EpisodeOut, SessionOut
from rapport.audit.services import record
from rapport.care import access
from rapport.care.models import Session

DESCRIPTION = """Rapport's REST API. Send a practice's API token (made by an administrator under
Practice > API tokens) as `Authorization: Bearer <token>`. Each token acts as one member of the
practice's staff and reaches what they reach on the pages; other objects answer 404. Lists are
paginated with `limit` and `offset`; GET answers carry an ETag (send it back in `If-None-Match`
to get 304 when nothing changed). FHIR R4 read and search are under `/fhir/`."""



def make_api() -> NinjaAPI:
    return NinjaAPI(title="Rapport API", version="1", description=DESCRIPTION, auth=TokenAuth(),
                    urls_namespace="api", docs_url="/docs")


def audit_list(request: HttpRequest, what: str, count_of, **detail) -> None:
    record(request, f"api.{what}.listed", organisation=request.organisation,
           detail={"count": count_of, **{k: str(v) for k, v in detail.items() if v}})


def narrowed(queryset, **filters):
    """The queryset filtered by each of the caller's optional query parameters that was given."""
    return queryset.filter(**{k: v for k, v in filters.items() if v not in (None, "")})


care = Router(tags=["care"])


@care.get("/clients", response=list[ClientOut], url_name="clients")
@paginate(LimitOffsetPagination)
def list_clients(request: HttpRequest):
    need(request, "clients:read")
    clients = access.clients_for(request).order_by("created_at", "pk")
    audit_list(request, "clients", clients.count())
    return clients


@care.get("/clients/{code}", response=ClientOut, url_name="client")
def get_client(request: HttpRequest, code: UUID):
    need(request, "clients:read")
    client = access.get_client_for(request, code)
    record(request, "api.client.viewed", client, client=client)
    return client


@care.get("/episodes", response=list[EpisodeOut], url_name="episodes")
@paginate(LimitOffsetPagination)
def list_episodes(request: HttpRequest, client: UUID | None = None):
    need(request, "episodes:read")
    episodes = narrowed(access.episodes_for(request).select_related("client", "therapist")
                        .order_by("started_on", "pk"), client__code=client)
    audit_list(request, "episodes", episodes.count(), client=client)
    return episodes


@care.get("/episodes/{code}", response=EpisodeOut, url_name="episode")
def get_episode(request: HttpRequest, code: UUID):
    need(request, "episodes:read")
    episode = access.get_episode_for(request, code)
    record(request, "api.episode.viewed", episode, client=episode.client)
    return episode


@care.get("/sessions", response=list[SessionOut], url_name="sessions")
@paginate(LimitOffsetPagination)
def list_sessions(request: HttpRequest, episode: UUID | None = None):
    need(request, "sessions:read")
    sessions = narrowed(Session.objects.filter(episode__in=access.episodes_for(request))
                        .select_related("episode").order_by("scheduled_at", "pk"), episode__code=episode)
    audit_list(request, "sessions", sessions.count(), episode=episode)
    return sessions


@care.get("/sessions/{code}", response=SessionOut, url_name="session")
def get_session(request: HttpRequest, code: UUID):
    need(request, "sessions:read")
    session = access.get_session_for(request, code)
    record(request, "api.session.viewed", session, client=session.episode.client)
    return session

