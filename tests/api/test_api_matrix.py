"""Every API route and FHIR endpoint, for every token holder.

Holders, in the order they ask (the treating therapist last, so that writes that succeed for an
earlier holder are seen by the later ones): no token, an expired token, a revoked one, a token
with no scope, a token with read scopes only, a token of another practice, the colleague who
does not treat the client, a supervisor who does not supervise the therapist, the practice's
administrator, the therapist's supervisor, the treating therapist. Objects belong to the
therapist's client. The first test enumerates the URL patterns so a new route cannot be missed.
"""

from __future__ import annotations

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.api.conftest import bearer

HOLDERS = ["none", "expired", "revoked", "no_scope", "read_only", "other_practice", "therapist_other",
           "supervisor_outside", "admin_own", "supervisor_team", "therapist_own"]
OK, MADE, BAD, AUTH, SCOPE, DENIED, HIDDEN, CONFLICT = 200, 201, 400, 401, 403, 403, 404, 409


def row(*statuses):
    return dict(zip(HOLDERS, statuses, strict=True))


#              none  exp   rev   noscp  ro     other   t_oth   s_out   a_own   s_team t_own
LIST = row(AUTH, AUTH, AUTH, SCOPE, OK, OK, OK, OK, OK, OK, OK)  # each sees their own (maybe empty) list
CLINICAL = row(AUTH, AUTH, AUTH, SCOPE, OK, HIDDEN, HIDDEN, HIDDEN, OK, OK, OK)  # admins administer
CLINICAL_TEXT = row(AUTH, AUTH, AUTH, SCOPE, OK, HIDDEN, HIDDEN, HIDDEN, HIDDEN, OK, OK)
PUBLIC_DOCS = row(OK, AUTH, AUTH, OK, OK, OK, OK, OK, OK, OK, OK)  # a bad token is refused even here


def _goal_q(w):
    return f"/fhir/Questionnaire/goal-progress-{w.episode.code}"


# name -> (method, url from the world, JSON body or None, expected row)
ROUTES = {
    "api:openapi-json": ("GET", lambda w: "/api/openapi.json", None, PUBLIC_DOCS),
    "api:openapi-view": ("GET", lambda w: "/api/docs", None, PUBLIC_DOCS),
    "api:api-root": ("GET", lambda w: "/api/", None, row(HIDDEN, AUTH, AUTH, *[HIDDEN] * 8)),  # no page
    "api:clients": ("GET", lambda w: "/api/clients", None, LIST),
    "api:client": ("GET", lambda w: f"/api/clients/{w.client.code}", None, CLINICAL),
    "api:episodes": ("GET", lambda w: "/api/episodes", None, LIST),
    "api:episode": ("GET", lambda w: f"/api/episodes/{w.episode.code}", None, CLINICAL),
    "api:sessions": ("GET", lambda w: "/api/sessions", None, LIST),
    "api:session": ("GET", lambda w: f"/api/sessions/{w.session.code}", None, CLINICAL),
    "api:session-checkins": ("GET", lambda w: f"/api/sessions/{w.session.code}/checkins", None, CLINICAL),
    "api:session-checkins-plan": ("POST", lambda w: f"/api/sessions/{w.session.code}/checkins", None,
                                  row(AUTH, AUTH, AUTH, SCOPE, SCOPE, HIDDEN, HIDDEN, HIDDEN, MADE, MADE, MADE)),
    "api:checkin": ("GET", lambda w: f"/api/checkins/{w.checkin.code}", None, CLINICAL),
    "api:checkin-send": ("POST", lambda w: f"/api/checkins/{w.checkin.code}/send", None,
                         row(AUTH, AUTH, AUTH, SCOPE, SCOPE, HIDDEN, HIDDEN, HIDDEN, MADE, MADE, MADE)),
    "api:responses": ("GET", lambda w: "/api/responses", None, LIST),
    "api:response": ("GET", lambda w: f"/api/responses/{w.response.code}", None, CLINICAL),
    # Only the client's own therapist enters answers (as a link in hand would let them).
    "api:responses-submit": ("POST", lambda w: "/api/responses", lambda w: {
        "checkin": str(w.checkin.code), "instrument": "gad7", "answers": {f"gad7-{n}": 1 for n in range(1, 8)}},
        row(AUTH, AUTH, AUTH, SCOPE, SCOPE, HIDDEN, HIDDEN, HIDDEN, DENIED, DENIED, MADE)),
    "api:alerts": ("GET", lambda w: "/api/alerts", None, LIST),
    "api:alert": ("GET", lambda w: f"/api/alerts/{w.alert.code}", None, CLINICAL_TEXT),
    # The supervisor acknowledges first; the therapist then finds it already acknowledged.
    "api:alert-acknowledge": ("POST", lambda w: f"/api/alerts/{w.alert.code}/acknowledge", None,
                              row(AUTH, AUTH, AUTH, SCOPE, SCOPE, HIDDEN, HIDDEN, HIDDEN, HIDDEN, OK, CONFLICT)),
    "api:episode-goals": ("GET", lambda w: f"/api/episodes/{w.episode.code}/goals", None, CLINICAL_TEXT),
    "api:episode-goals-propose": ("POST", lambda w: f"/api/episodes/{w.episode.code}/goals",
                                  lambda w: {"title": "Walk every morning"},
                                  row(AUTH, AUTH, AUTH, SCOPE, SCOPE, HIDDEN, HIDDEN, HIDDEN, HIDDEN, DENIED, MADE)),
    "fhir-metadata": ("GET", lambda w: "/fhir/metadata", None, row(*[OK] * 11)),  # public, as FHIR expects
    "fhir-search": ("GET", lambda w: "/fhir/QuestionnaireResponse", None,
                    row(AUTH, AUTH, AUTH, SCOPE, OK, OK, OK, OK, OK, OK, OK)),
    "fhir-read": ("GET", lambda w: f"/fhir/Patient/{w.client.code}", None, CLINICAL),
}

# The FHIR endpoints, each resource type (the URL patterns above take the type as a parameter).
FHIR = {
    "Patient search": ("/fhir/Patient", LIST),
    "Questionnaire search": ("/fhir/Questionnaire", LIST),
    "Observation search": ("/fhir/Observation", LIST),
    "Patient read": (lambda w: f"/fhir/Patient/{w.client.code}", CLINICAL),
    "Questionnaire read": ("/fhir/Questionnaire/phq9", LIST),
    "goal Questionnaire read": (_goal_q, CLINICAL_TEXT),
    "QuestionnaireResponse read": (lambda w: f"/fhir/QuestionnaireResponse/{w.response.code}", CLINICAL),
    "Observation read": (lambda w: f"/fhir/Observation/{w.response.code}-total", CLINICAL),
}


def _names(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _names(p.url_patterns, prefix + (f"{p.namespace}:" if p.namespace else ""))
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + p.name


def test_every_api_and_fhir_route_is_in_the_matrix():
    names = {n for n in _names(get_resolver().url_patterns) if n.startswith(("api:", "fhir-"))}
    assert names == ROUTES.keys()


def _ask(client, world, method, url, body, holder):
    headers = bearer(world.raw[holder])
    if method == "GET":
        return client.get(url, **headers)
    data = json.dumps(body(world)) if body else ""
    return client.post(url, data, content_type="application/json", **headers)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_route_matrix(client, world, name):
    method, url, body, expected = ROUTES[name]
    got = {h: _ask(client, world, method, url(world), body, h).status_code for h in HOLDERS}
    assert got == expected


@pytest.mark.parametrize("what", sorted(FHIR))
def test_fhir_matrix(client, world, what, goal_ratings):
    url, expected = FHIR[what]
    url = url(world) if callable(url) else url
    got = {}
    for h in HOLDERS:
        response = client.get(url, **bearer(world.raw[h]))
        got[h] = response.status_code
        assert response["Content-Type"] == "application/fhir+json"
    assert got == {**expected, "no_scope": SCOPE}
