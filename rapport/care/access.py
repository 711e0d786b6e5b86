"""The one way views reach clients, episodes and sessions.

Each helper scopes by the request's organisation (through the scoped managers) and by role, and
answers 404 to everyone else, so nobody learns that an object exists:

- a therapist reaches the episodes they treat, and those episodes' clients and sessions;
- a supervisor also reaches the episodes of the therapists they supervise;
- an administrator reaches every episode of the organisation to administer it, but reads clinical
  free text only where they also treat or supervise (see `can_read_clinical_text`).
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest

from rapport.accounts.models import Role
from rapport.accounts.roles import supervised_therapist_ids
from rapport.care.models import CareEpisode, Client, Session


def _clinical_q(request: HttpRequest) -> Q | None:
    """Episodes the user treats or supervises, or None when they have no clinical role."""
    roles = request.roles
    q = Q(pk__in=[])
    if Role.THERAPIST in roles:
        q |= Q(therapist=request.user)
    if Role.SUPERVISOR in roles:
        q |= Q(therapist_id__in=supervised_therapist_ids(request.user, request.organisation))
    return q if roles & {Role.THERAPIST, Role.SUPERVISOR} else None


def episodes_for(request: HttpRequest) -> QuerySet[CareEpisode]:
    """Every episode the request's user may reach in the current organisation."""
    if not request.user.is_authenticated or request.organisation is None:
        return CareEpisode.objects.none()
    if Role.ADMIN in request.roles:
        return CareEpisode.objects.all()
    q = _clinical_q(request)
    return CareEpisode.objects.filter(q) if q is not None else CareEpisode.objects.none()


def clinical_episodes_for(request: HttpRequest) -> QuerySet[CareEpisode]:
    """The episodes the user treats or supervises (an admin role alone gives none)."""
    if not request.user.is_authenticated or request.organisation is None:
        return CareEpisode.objects.none()
    q = _clinical_q(request)
    return CareEpisode.objects.filter(q) if q is not None else CareEpisode.objects.none()


def clients_for(request: HttpRequest) -> QuerySet[Client]:
    return Client.objects.filter(episodes__in=episodes_for(request)).distinct()


def can_read_clinical_text(request: HttpRequest, episode: CareEpisode) -> bool:
    """Free text written by or about the client: treating therapist and their supervisors only."""
    return clinical_episodes_for(request).filter(pk=episode.pk).exists()


def may_write(request: HttpRequest, episode: CareEpisode) -> bool:
    """Goals and session records are written by the treating therapist (supervisors read)."""
    return request.user.is_authenticated and episode.therapist_id == request.user.pk


def require_admin(request: HttpRequest) -> None:
    """Pages for the practice's administrators only (audit trail, privacy): 404 for everyone else."""
    if request.organisation is None or Role.ADMIN not in request.roles:
        raise Http404("No such page")


def parse_code(code: UUID | str) -> UUID:
    """An object's code as a UUID; 404 for a malformed one.

    URLs already give UUIDs (the `<uuid:code>` converter); this is for codes that arrive as text,
    from a form field or a caller outside a URL, so a bad one is "not found", never a 500.
    """
    try:
        return code if isinstance(code, UUID) else UUID(str(code))
    except ValueError as exc:
        raise Http404("No such object") from exc


def get_client_for(request: HttpRequest, code: UUID | str) -> Client:
    try:
        return clients_for(request).get(code=parse_code(code))
    except Client.DoesNotExist as exc:
        raise Http404("No such client") from exc


def get_episode_for(request: HttpRequest, code: UUID | str) -> CareEpisode:
    try:
        return episodes_for(request).select_related("client", "therapist").get(code=parse_code(code))
    except CareEpisode.DoesNotExist as exc:
        raise Http404("No such episode") from exc


def get_session_for(request: HttpRequest, code: UUID | str) -> Session:
    try:
        return (
            Session.objects.filter(episode__in=episodes_for(request))
            .select_related("episode", "episode__client", "episode__therapist")
            .get(code=parse_code(code))
        )
    except Session.DoesNotExist as exc:
        raise Http404("No such session") from exc
