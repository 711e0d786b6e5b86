"""The REST API's behaviour besides access: pagination, ETags, rate limits, the audit trail, bad
input that changes nothing, and retries that store nothing twice."""

from __future__ import annotations

import json
import uuid

from django.test import override_settings
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.audit.models import AuditEvent
from rapport.checkins.models import Response
from rapport.goals.models import Goal
from tests.api.conftest import bearer

GAD7 = {f"gad7-{n}": 2 for n in range(1, 8)}


def _post(client, url, body, raw):
    return client.post(url, json.dumps(body), content_type="application/json", **bearer(raw))


def test_lists_are_paginated_with_limit_and_offset(client, world):
    raw = world.raw["admin_own"]  # the admin reaches both clients of the practice
    first = client.get("/api/clients?limit=1&offset=0", **bearer(raw)).json()
    second = client.get("/api/clients?limit=1&offset=1", **bearer(raw)).json()
    assert first["count"] == second["count"] == 2
    assert len(first["items"]) == len(second["items"]) == 1
    assert first["items"][0]["code"] != second["items"][0]["code"]
    assert client.get("/api/clients?limit=0", **bearer(raw)).status_code == 422


def test_an_unchanged_answer_is_304_and_a_changed_one_is_not(client, world):
    raw = world.raw["therapist_own"]
    url = f"/api/episodes/{world.episode.code}/goals"
    first = client.get(url, **bearer(raw))
    etag = first["ETag"]
    assert first.status_code == 200 and etag and "Authorization" in first["Vary"]
    again = client.get(url, HTTP_IF_NONE_MATCH=etag, **bearer(raw))
    assert again.status_code == 304 and again.content == b""
    _post(client, url, {"title": "Walk every morning"}, raw)
    changed = client.get(url, HTTP_IF_NONE_MATCH=etag, **bearer(raw))
    assert changed.status_code == 200 and changed["ETag"] != etag
    # FHIR answers carry them too.
    fhir = client.get(f"/fhir/Patient/{world.client.code}", **bearer(raw))
    assert client.get(f"/fhir/Patient/{world.client.code}", HTTP_IF_NONE_MATCH=fhir["ETag"],
                      **bearer(raw)).status_code == 304


@override_settings(RAPPORT_API_REQUESTS_PER_MINUTE=3)
def test_a_token_over_its_rate_gets_429_and_others_are_not_slowed(client, world):
    raw = world.raw["therapist_own"]
    statuses = [client.get("/api/clients", **bearer(raw)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/fhir/Patient", **bearer(raw))
    assert refused.status_code == 429 and refused["Retry-After"] == "60"
    assert refused.json()["resourceType"] == "OperationOutcome"
    assert client.get("/api/clients", **bearer(world.raw["admin_own"])).status_code == 200


def test_every_read_and_write_is_audited_with_the_token(client, world):
    raw = world.raw["therapist_own"]
    prefix = raw.split("_")[1]
    label = f"user:{world.therapist.email} token:{prefix}"
    with scopes_disabled():
        before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    client.get(f"/api/clients/{world.client.code}", **bearer(raw))
    client.get("/api/responses", **bearer(raw))
    client.get(f"/fhir/QuestionnaireResponse/{world.response.code}", **bearer(raw))
    client.post(f"/api/alerts/{world.alert.code}/acknowledge", **bearer(raw))
    _post(client, "/api/responses", {"checkin": str(world.checkin.code), "instrument": "gad7",
                                     "answers": GAD7}, raw)
    with scopes_disabled():
        events = list(AuditEvent.objects.filter(seq__gt=before).order_by("seq"))
    assert [e.action for e in events] == [
        "api.client.viewed", "api.responses.listed", "api.fhir.questionnaireresponse.read",
        "alerts.alert.acknowledged", "checkins.response.submitted"]
    assert {e.actor_label for e in events} == {label}
    assert all(e.actor == world.therapist for e in events)
    assert events[0].client_code == world.client.code


def test_a_refused_token_is_audited_and_reaches_nothing(client, world):
    response = client.get("/api/clients", **bearer(world.raw["revoked"]))
    assert response.status_code == 401 and response.json() == {
        "detail": "The API token is unknown, expired or revoked."}
    with scopes_disabled():
        event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "api.token.refused" and event.detail["revoked"] is True
    assert client.get("/api/clients", **bearer("rpt_nothing_real")).status_code == 401


def test_bad_answers_get_a_clear_error_and_store_nothing(client, world):
    raw = world.raw["therapist_own"]
    with scopes_disabled():
        count = Response.objects.count()
    bad = _post(client, "/api/responses", {"checkin": str(world.checkin.code), "instrument": "gad7",
                                           "answers": {"gad7-1": 9}}, raw)
    assert bad.status_code == 400
    assert bad.json()["detail"] == "The answers were not stored." and bad.json()["errors"]
    wrong = _post(client, "/api/responses", {"checkin": str(world.checkin.code), "instrument": "pcl5",
                                             "answers": {}}, raw)
    assert wrong.status_code == 400 and "instrument" in wrong.json()["errors"]
    malformed = client.post("/api/responses", "{not json", content_type="application/json", **bearer(raw))
    assert malformed.status_code in (400, 422)
    missing = _post(client, "/api/responses", {"checkin": "not-a-uuid"}, raw)
    assert missing.status_code == 422 and missing.json()["detail"]
    with scopes_disabled():
        assert Response.objects.count() == count


def test_a_retried_submission_is_stored_once(client, world):
    raw = world.raw["therapist_own"]
    body = {"checkin": str(world.checkin.code), "instrument": "gad7", "answers": GAD7,
            "submission_token": str(uuid.uuid4())}
    first, second = (_post(client, "/api/responses", body, raw) for _ in range(2))
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["code"] == second.json()["code"] and first.json()["total"] == 14
    with scopes_disabled():
        assert Response.objects.filter(instrument_id="gad7").count() == 1


def test_free_text_is_only_for_those_who_may_read_it(client, world):
    ours = client.get(f"/api/responses/{world.response.code}", **bearer(world.raw["therapist_own"])).json()
    admin = client.get(f"/api/responses/{world.response.code}", **bearer(world.raw["admin_own"])).json()
    assert ours["free_text"] == {} and admin["free_text"] is None
    assert admin["answers"] == ours["answers"]


def test_sending_a_checkin_emails_a_link(client, world, mailoutbox):
    sent = client.post(f"/api/checkins/{world.checkin.code}/send", **bearer(world.raw["therapist_own"]))
    assert sent.status_code == 201 and sent.json()["channel"] == "email"
    assert [m.to for m in mailoutbox] == [["client@riverside.test"]]


@override_settings(RAPPORT_API_REQUESTS_PER_MINUTE=100_000)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(["title", "description", "checkin", "instrument", "answers"]),
                            st.one_of(st.none(), st.integers(), st.text(max_size=300), st.lists(st.text())),
                            max_size=5),
       params=st.dictionaries(st.sampled_from(["limit", "offset", "status", "episode", "client", "_count",
                                               "_offset", "patient", "questionnaire", "_id"]),
                              st.text(max_size=20), max_size=3))
def test_any_input_gets_an_answer_not_a_crash_and_bad_input_changes_nothing(client, world, body, params):
    raw = world.raw["therapist_own"]
    with scopes_disabled():
        goals, responses = Goal.objects.count(), Response.objects.count()
    for url in ("/api/responses", f"/api/episodes/{world.episode.code}/goals"):
        answer = _post(client, url, body, raw)
        assert answer.status_code < 500
        if answer.status_code >= 400:  # refused: said why, and nothing changed
            assert "detail" in answer.json()
            with scopes_disabled():
                assert (Goal.objects.count(), Response.objects.count()) == (goals, responses)
        with scopes_disabled():
            goals, responses = Goal.objects.count(), Response.objects.count()
    for url in ("/api/clients", "/api/alerts", "/api/responses", "/fhir/QuestionnaireResponse",
                "/fhir/Observation", "/fhir/Patient", "/fhir/Questionnaire"):
        assert client.get(url, params, **bearer(raw)).status_code in (200, 400, 422)


def test_the_openapi_document_describes_every_operation_and_the_token(client):
    document = client.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert {"/api/clients", "/api/sessions/{code}/checkins", "/api/responses", "/api/alerts/{code}/acknowledge",
            "/api/episodes/{code}/goals", "/api/checkins/{code}/send"} <= document["paths"].keys()
    assert document["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    docs = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs and "//cdn" not in docs


def test_a_token_needs_no_csrf_token_and_a_session_cookie_alone_gets_nothing(web, world):
    """The API is exempt from CSRF because no cookie authenticates it: a logged-in browser's
    session without a token is refused."""
    body = {"title": "Walk every morning"}
    url = f"/api/episodes/{world.episode.code}/goals"
    assert _post(web, url, body, world.raw["therapist_own"]).status_code == 201
    web.force_login(world.therapist)
    assert _post(web, url, body, None).status_code == 401
