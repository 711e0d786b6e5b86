"""FHIR R4 read and search under /fhir/ (application/fhir+json), on API tokens with the
fhir:read scope. Searches answer with a searchset Bundle, paged by `_count` and `_offset`, each
entry's fullUrl and every reference a URL on this server. `/fhir/metadata` (the
CapabilityStatement) is public, as FHIR expects."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from rapport.api import fhir_server as server
from rapport.api.auth import FHIR_JSON, error, token_view
from rapport.audit.services import record
from rapport.care import access
from rapport.instruments import fhir

TYPES = ("Patient", "Questionnaire", "QuestionnaireResponse", "Observation")
SEARCH_PARAMS = {
    "Patient": [("_id", "token"), ("identifier", "token")],
    "Questionnaire": [("_id", "token"), ("url", "uri")],
    "QuestionnaireResponse": [("_id", "token"), ("patient", "reference"), ("subject", "reference"),
                              ("questionnaire", "reference")],
    "Observation": [("patient", "reference"), ("subject", "reference"), ("derived-from", "reference")],
}
DEFAULT_COUNT, MAX_COUNT = 50, 200


def fhir_response(data: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data), status=status, content_type=FHIR_JSON)


class BadSearch(ValueError):
    pass


def _int(request: HttpRequest, name: str, default: int, top: int) -> int:
    raw = request.GET.get(name, str(default))
    if not raw.isdigit() or int(raw) > top:
        raise BadSearch(_("%(name)s must be a whole number from 0 to %(top)s.") % {"name": name, "top": top})
    return int(raw)


@require_GET
def metadata(request: HttpRequest) -> HttpResponse:
    resources = [{"type": t, "interaction": [{"code": "read"}, {"code": "search-type"}],
                  "searchParam": [{"name": n, "type": k} for n, k in SEARCH_PARAMS[t]]} for t in TYPES]
    return fhir_response({
        "resourceType": "CapabilityStatement", "status": "active", "kind": "instance",
        "date": timezone.now().date().isoformat(), "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "text": fhir.narrative("Rapport: FHIR R4 read and search of clients, questionnaires, "
                               "responses and scores, with an API token."),
        "software": {"name": "Rapport"},
        "implementation": {"description": "Rapport", "url": server.base_url(request)},
        "rest": [{"mode": "server", "resource": resources, "security": {
            "description": "Send a practice's API token with the fhir:read scope as "
                           "'Authorization: Bearer <token>'."}}],
    })


def _guard(request: HttpRequest) -> HttpResponse | None:
    token = getattr(request, "api_token", None)
    if token is None:
        return error(request, 401, _("Send an API token: Authorization: Bearer <token>."),
                     **{"WWW-Authenticate": 'Bearer realm="rapport"'})
    if not token.allows("fhir:read"):
        return error(request, 403, _("This token does not have the fhir:read scope."))
    return None


@token_view
@require_GET
def read(request: HttpRequest, resource_type: str, rid: str) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    try:
        resource = _READERS[resource_type](request, rid)
    except Http404:
        return error(request, 404, _("%(type)s/%(id)s is not known here.") % {"type": resource_type, "id": rid})
    return fhir_response(resource)


@token_view
@require_GET
def search(request: HttpRequest, resource_type: str) -> HttpResponse:
    if (refused := _guard(request)) is not None:
        return refused
    unknown = sorted(set(request.GET) - {n for n, _k in SEARCH_PARAMS[resource_type]}
                     - {"_count", "_offset", "_format"})
    try:
        if unknown:
            raise BadSearch(_("Unsupported search parameters: %(names)s.") % {"names": ", ".join(unknown)})
        count = _int(request, "_count", DEFAULT_COUNT, MAX_COUNT)
        offset = _int(request, "_offset", 0, 10**9)
        total, resources = _SEARCHES[resource_type](request, offset, count)
    except BadSearch as exc:
        return error(request, 400, str(exc))
    record(request, f"api.fhir.{resource_type.lower()}.searched", organisation=request.organisation,
           detail={"count": len(resources), "query": request.GET.urlencode()[:500]})
    return fhir_response(_bundle(request, resource_type, total, resources, offset, count))


def _bundle(request, resource_type, total, resources, offset, count) -> dict[str, Any]:
    base = server.base_url(request)
    params = {k: v for k, v in request.GET.items() if k not in ("_offset", "_count")}

    def page(at: int) -> str:
        return f"{base}{resource_type}?{urlencode({**params, '_count': count, '_offset': at})}"

    links = [{"relation": "self", "url": page(offset)}]
    if offset + count < total:
        links.append({"relation": "next", "url": page(offset + count)})
    if offset > 0:
        links.append({"relation": "previous", "url": page(max(offset - count, 0))})
    return {
        "resourceType": "Bundle", "type": "searchset", "total": total, "link": links,
        "entry": [{"fullUrl": f"{base}{r['resourceType']}/{r['id']}", "resource": r,
                   "search": {"mode": "match"}} for r in resources],
    }


# -- reads -------------------------------------------------------------------------------------


def _read_patient(request, rid):
    client = access.get_client_for(request, rid)
    record(request, "api.fhir.patient.read", client, client=client)
    return server.patient(request, client)


def _read_questionnaire(request, rid):
    resource = server.questionnaire(request, rid)
    record(request, "api.fhir.questionnaire.read", organisation=request.organisation, detail={"id": rid})
    return resource


def _one_response(request, code):
    try:
        return server.responses_for(request).get(code=access.parse_code(code))
    except server.Response.DoesNotExist as exc:
        raise Http404("No such response") from exc


def _read_qr(request, rid):
    response = _one_response(request, rid)
    record(request, "api.fhir.questionnaireresponse.read", response, client=response.episode.client)
    return server.response_resources(request, [response])[0][0]


def _read_observation(request, rid):
    code, _scale = server.parse_observation_id(rid)
    response = _one_response(request, code)
    found = [o for o in server.response_resources(request, [response])[0][1:] if o["id"] == rid]
    if not found:
        raise Http404("No such observation")
    record(request, "api.fhir.observation.read", response, client=response.episode.client,
           detail={"id": rid})
    return found[0]


_READERS = {"Patient": _read_patient, "Questionnaire": _read_questionnaire,
            "QuestionnaireResponse": _read_qr, "Observation": _read_observation}


# -- searches ----------------------------------------------------------------------------------


def _code(request, name: str, resource_type: str):
    value = request.GET.get(name)
    if value is None:
        return None
    try:
        return access.parse_code(server.reference_code(value, resource_type))
    except Http404 as exc:
        raise BadSearch(_("%(name)s must name a %(type)s by its id.") % {"name": name, "type": resource_type}) from exc


def _search_patients(request, offset, count):
    clients = access.clients_for(request).order_by("created_at", "pk")
    for name in ("_id", "identifier"):
        if (code := _code(request, name, "Patient")) is not None:
            clients = clients.filter(code=code)
    page = list(clients[offset:offset + count])
    return clients.count(), [server.patient(request, c) for c in page]


def _search_questionnaires(request, offset, count):
    wanted = request.GET.get("_id") or request.GET.get("url", "").removeprefix(fhir.CANONICAL_PREFIX).split("|")[0]
    if wanted:
        try:
            found = [server.questionnaire(request, wanted)]
        except Http404:
            found = []
        return len(found), found[offset:offset + count]
    ids = server.library_ids()
    return len(ids), [server.questionnaire(request, i) for i in ids[offset:offset + count]]


def _responses(request):
    responses = server.responses_for(request)
    for name in ("patient", "subject"):
        if (code := _code(request, name, "Patient")) is not None:
            responses = responses.filter(episode__client__code=code)
    return responses


def _search_qrs(request, offset, count):
    responses = _responses(request)
    if (code := _code(request, "_id", "QuestionnaireResponse")) is not None:
        responses = responses.filter(code=code)
    if questionnaire := request.GET.get("questionnaire"):
        qid = server.reference_code(questionnaire.removeprefix(fhir.CANONICAL_PREFIX), "Questionnaire")
        goal = server.GOAL_Q.match(qid)
        responses = (responses.filter(instrument_id=server.GOAL_PROGRESS, episode__code=goal["code"])
                     if goal else responses.filter(instrument_id=qid))
    page = list(responses[offset:offset + count])
    return responses.count(), [built[0] for built in server.response_resources(request, page)]


def _search_observations(request, offset, count):
    # Counted and paged in the database: each response gives one Observation per score (its
    # total, if any, and each subscale), so a running sum over the responses says which of them
    # hold the page; only those are built.
    responses = _responses(request)
    if (code := _code(request, "derived-from", "QuestionnaireResponse")) is not None:
        responses = responses.filter(code=code)
    scored = server.with_observation_counts(responses)
    total = scored.aggregate(n=Sum("n_observations"))["n"] or 0
    page = list(scored.filter(observations_upto__gt=offset,
                              observations_before__lt=offset + count))
    if not page:
        return total, []
    built = server.response_resources(request, page)
    observations = [o for b in built for o in b[1:]]
    skip = offset - page[0].observations_before
    return total, observations[skip:skip + count]


_SEARCHES = {"Patient": _search_patients, "Questionnaire": _search_questionnaires,
             "QuestionnaireResponse": _search_qrs, "Observation": _search_observations}
