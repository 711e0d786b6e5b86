"""FHIR R4 resources as this server serves them: built by the portal export's builders (the one
implementation, `rapport.instruments.fhir` underneath), with references as this server's URLs.

- Patient/<client code>: the client (named: the token's staff member sees the name on the pages);
- Questionnaire/<instrument id>, and Questionnaire/goal-progress-<episode code> for an episode's
  goal ratings (its items are the goals' wording, so only for those who may read the goals);
- QuestionnaireResponse/<response code>: its free-text answers only for those who may read them;
- Observation/<response code>-<scale>: one per score of a response.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.db.models import Case, F, Func, IntegerField, Sum, Value, When, Window
from django.http import Http404, HttpRequest

from rapport import instruments
from rapport.care import access
from rapport.checkins.models import Response
from rapport.checkins.services.answers import GOAL_PROGRESS
from rapport.goals.services import get_clinical_episode_for
from rapport.instruments import fhir
from rapport.portal import export

SCALE = re.compile(r"^(?P<code>[0-9a-f-]{36})-(?P<scale>[a-z0-9-]{1,27})$")
GOAL_Q = re.compile(rf"^{GOAL_PROGRESS}-(?P<code>[0-9a-f-]{{36}})$")


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/")


def patient(request: HttpRequest, client) -> dict[str, Any]:
    return export.patient(client, include_name=True, validate=False)


def responses_for(request: HttpRequest):
    """The stored responses the user reaches (as on the session pages)."""
    return (Response.objects.filter(episode__in=access.episodes_for(request))
            .select_related("episode", "episode__client").order_by("submitted_at", "pk"))


class _KeyCount(Func):
    """The number of keys of a JSON object column (a response's subscales)."""

    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection,
                           template="(SELECT count(*) FROM json_each(%(expressions)s))", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection,
                           template="(SELECT count(*) FROM jsonb_object_keys(%(expressions)s))",
                           **extra)


def with_observation_counts(responses):
    """The responses (in their order) annotated with `n_observations` (one per score: the total
    when there is one, and each subscale, as `export.resources` builds them), and the running
    counts `observations_before` and `observations_upto` of all before and up to each one."""
    scores = Case(When(total__isnull=False, then=Value(1)), default=Value(0)) + _KeyCount("subscales")
    # A response whose definition the practice no longer has is exported without Observations.
    counted = responses.annotate(n_observations=Case(
        When(instrument_id__in=instruments.instrument_ids(), then=scores), default=Value(0)))
    upto = Window(Sum("n_observations"), order_by=[F("submitted_at").asc(), F("pk").asc()])
    return counted.annotate(observations_upto=upto,
                            observations_before=upto - F("n_observations"))


def readable_episodes(request: HttpRequest, episode_ids) -> set[int]:
    return set(access.clinical_episodes_for(request).filter(pk__in=set(episode_ids))
               .values_list("pk", flat=True))


def _titles(response: Response, readers: set[int], cache: dict) -> dict[str, str]:
    if response.episode_id not in readers:
        return {}
    client = response.episode.client
    if client.pk not in cache:
        cache[client.pk] = export.goal_titles(client)
    return cache[client.pk]


def response_resources(request: HttpRequest, responses: list[Response]) -> list[dict[str, Any]]:
    """Each response as [QuestionnaireResponse, *Observations], references as server URLs."""
    base = base_url(request)
    readers = readable_episodes(request, [r.episode_id for r in responses])
    cache: dict = {}
    out = []
    for response in responses:
        if response.episode_id not in readers:
            response.free_text = ""  # in memory only: this reader may not see free text
        titles = _titles(response, readers, cache)
        subject = f"{base}Patient/{response.episode.client.code}"
        built = export.resources(response, titles, subject, validate=False)
        for resource in built[1:]:
            scale = resource["code"]["coding"][-1]["code"].rsplit("/", 1)[-1]
            resource["id"] = observation_id(response.code, scale)
            resource["derivedFrom"] = [{"reference": f"{base}QuestionnaireResponse/{response.code}"}]
        out.append(built)
    return out


def observation_id(code, scale: str) -> str:
    """<response code>-<scale>; a scale named by a goal's code (too long for an id) by its hash."""
    if len(scale) > 27:
        scale = "g" + hashlib.sha256(scale.encode()).hexdigest()[:16]
    return f"{code}-{scale}"


def questionnaire(request: HttpRequest, qid: str) -> dict[str, Any]:
    """A Questionnaire by id; 404 for an unknown one or an episode's goals the user may not read."""
    match = GOAL_Q.match(qid)
    if match is None:
        try:
            return fhir.questionnaire(instruments.load(qid), validate=False)
        except (instruments.UnknownInstrument, instruments.DefinitionError, ValueError) as exc:
            raise Http404("No such questionnaire") from exc
    episode = get_clinical_episode_for(request, match["code"])
    ratings = list(Response.objects.filter(episode=episode, instrument_id=GOAL_PROGRESS)
                   .select_related("episode"))
    found = export.questionnaires(ratings, export.goal_titles(episode.client), validate=False)
    if not found:
        raise Http404("No goal ratings in this episode")
    return found[0]


def library_ids() -> list[str]:
    """The instruments served as Questionnaires (goal-progress only per episode)."""
    return [i for i in instruments.instrument_ids() if i != GOAL_PROGRESS]


def parse_observation_id(oid: str) -> tuple[str, str]:
    match = SCALE.match(oid)
    if match is None:
        raise Http404("No such observation")
    return match["code"], match["scale"]


def reference_code(value: str, resource_type: str) -> str:
    """The id in a search reference: "Patient/<id>", a full URL to it, or the bare id."""
    value = value.strip()
    marker = f"{resource_type}/"
    if marker in value:
        value = value.rsplit(marker, 1)[1]
    return value.split("/")[0].split("|")[0]
