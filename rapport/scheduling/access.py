"""Who may see whose calendar and who may book: the treating therapist and the practice's admins.

Supervisors see the calendars of the therapists they supervise but do not book for them. Built on
rapport.care.access, so the organisation scope and the 404-for-everyone-else rule carry over.
"""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from rapport.accounts.models import Role, User
from rapport.accounts.roles import supervised_therapist_ids
from rapport.care import access
from rapport.care.models import CareEpisode, Session


def calendar_owners(request: HttpRequest) -> QuerySet[User]:
    """The therapists whose calendar the user may see, in the current organisation."""
    if not request.user.is_authenticated or request.organisation is None:
        return User.objects.none()
    therapists = User.objects.filter(memberships__organisation=request.organisation,
                                     memberships__role=Role.THERAPIST, is_active=True)
    if Role.ADMIN in request.roles:
        return therapists.distinct().order_by("name")
    ids = []
    if Role.THERAPIST in request.roles:
        ids.append(request.user.pk)
    if Role.SUPERVISOR in request.roles:
        ids += supervised_therapist_ids(request.user, request.organisation)
    return therapists.filter(pk__in=ids).distinct().order_by("name")


def get_calendar_owner(request: HttpRequest, code: UUID | str) -> User:
    try:
        return calendar_owners(request).get(code=access.parse_code(code))
    except User.DoesNotExist as exc:
        raise Http404("No such calendar") from exc


def bookable_episodes(request: HttpRequest) -> QuerySet[CareEpisode]:
    episodes = access.episodes_for(request)
    if Role.ADMIN in request.roles:
        return episodes
    return episodes.filter(therapist=request.user)


def get_episode_to_book(request: HttpRequest, code: UUID | str) -> CareEpisode:
    try:
        return bookable_episodes(request).select_related("client", "therapist").get(
            code=access.parse_code(code))
    except CareEpisode.DoesNotExist as exc:
        raise Http404("No such episode") from exc


def get_session_to_schedule(request: HttpRequest, code: UUID | str) -> Session:
    try:
        return (
            Session.objects.filter(episode__in=bookable_episodes(request))
            .select_related("episode", "episode__client", "episode__therapist")
            .get(code=access.parse_code(code))
        )
    except Session.DoesNotExist as exc:
        raise Http404("No such session") from exc
