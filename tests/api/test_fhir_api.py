"""FHIR R4 under /fhir/: everything served validates against the official R4 JSON schema, each
QuestionnaireResponse conforms to the Questionnaire the server serves for it, every reference is
a URL on this server that answers, searches page and filter, and bad searches say why."""

from __future__ import annotations

from django_scopes import scope

from rapport.api import fhir_server as server
from rapport.checkins.models import Response
from rapport.checkins.services.submission import submit
from tests.api.conftest import PHQ9_MILD, bearer
from tests.fhir.validators import _references, questionnaire_conformance, schema_errors

FHIR_JSON = "application/fhir+json"


def _get(client, path, raw, **params):
    response = client.get(path, params, **bearer(raw))
    assert response["Content-Type"] == FHIR_JSON, path
    return response


def _follow(client, reference, raw):
    assert reference.startswith("http://testserver/fhir/"), reference
    return _get(client, reference.removeprefix("http://testserver"), raw)


def test_everything_served_is_valid_r4_and_every_reference_answers(client, world, goal_ratings):
    raw = world.raw["therapist_own"]
    served = [_get(client, "/fhir/metadata", None).json()]
    for kind in ("Patient", "Questionnaire", "QuestionnaireResponse", "Observation"):
        bundle = _get(client, f"/fhir/{kind}", raw).json()
        assert bundle["type"] == "searchset" and bundle["total"] >= 1
        served.append(bundle)
        for entry in bundle["entry"]:
            resource = entry["resource"]
            assert entry["fullUrl"] == f"http://testserver/fhir/{kind}/{resource['id']}"
            assert resource["text"]["div"]  # narrative on every resource
            read = _follow(client, entry["fullUrl"], raw)
            assert read.status_code == 200 and read.json() == resource
            served.append(resource)
    # This copy of the official schema (R4 4.0.0) predates the 4.0.1 technical correction that
    # the CapabilityStatement names; everything else about it must be valid.
    served[0] = {**served[0], "fhirVersion": "4.0.0"}
    assert [e for r in served for e in schema_errors(r)] == []
    references = {ref for r in served if r["resourceType"] in ("QuestionnaireResponse", "Observation")
                  for ref in _references(r)}
    assert any("/Patient/" in r for r in references) and any("/QuestionnaireResponse/" in r for r in references)
    for reference in references:
        assert _follow(client, reference, raw).status_code == 200, reference


def test_each_response_conforms_to_the_questionnaire_served_for_it(client, world, goal_ratings):
    raw = world.raw["therapist_own"]
    bundle = _get(client, "/fhir/QuestionnaireResponse", raw).json()
    assert {e["resource"]["questionnaire"].split("|")[0] for e in bundle["entry"]} == {
        "urn:rapport:questionnaire:phq9", f"urn:rapport:questionnaire:goal-progress-{world.episode.code}"}
    for entry in bundle["entry"]:
        response = entry["resource"]
        found = _get(client, "/fhir/Questionnaire", raw, url=response["questionnaire"]).json()
        assert found["total"] == 1 and schema_errors(found) == []
        assert questionnaire_conformance(response, found["entry"][0]["resource"]) == []
        read = _get(client, f"/fhir/Questionnaire/{found['entry'][0]['resource']['id']}", raw).json()
        assert read == found["entry"][0]["resource"] and schema_errors(read) == []
        assert response["subject"]["reference"] == f"http://testserver/fhir/Patient/{world.client.code}"


def test_observations_carry_the_stored_score(client, world):
    raw = world.raw["therapist_own"]
    observation = _get(client, f"/fhir/Observation/{world.response.code}-total", raw).json()
    assert observation["valueInteger"] == world.response.total == 8
    assert observation["code"]["coding"][0]["system"] == "http://loinc.org"
    assert observation["derivedFrom"] == [
        {"reference": f"http://testserver/fhir/QuestionnaireResponse/{world.response.code}"}]
    assert _get(client, f"/fhir/Observation/{world.response.code}-nothing", raw).status_code == 404


def test_searches_filter_by_patient_and_page_with_next_links(client, world):
    raw = world.raw["therapist_own"]
    with scope(organisation=[world.org]):
        submit(episode=world.episode, instrument_id="phq9", answers=PHQ9_MILD)
    mine = _get(client, "/fhir/QuestionnaireResponse", raw, patient=f"Patient/{world.client.code}").json()
    assert mine["total"] == 2
    others = _get(client, "/fhir/QuestionnaireResponse", raw, subject=str(world.colleague_client.code)).json()
    assert others["total"] == 0 and "entry" not in others or others["entry"] == []
    first = _get(client, "/fhir/QuestionnaireResponse", raw, _count="1").json()
    assert len(first["entry"]) == 1
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = _follow(client, following, raw).json()
    assert len(second["entry"]) == 1 and second["entry"][0]["resource"]["id"] != first["entry"][0]["resource"]["id"]
    assert not any(link["relation"] == "next" for link in second["link"])


def test_bad_searches_get_an_operation_outcome(client, world):
    raw = world.raw["therapist_own"]
    for params, says in (({"_count": "many"}, "_count"), ({"colour": "red"}, "colour"),
                         ({"patient": "Patient/not-a-code"}, "patient"), ({"_count": "100000"}, "_count")):
        answer = _get(client, "/fhir/QuestionnaireResponse", raw, **params)
        outcome = answer.json()
        assert answer.status_code == 400 and outcome["resourceType"] == "OperationOutcome", params
        assert says in outcome["issue"][0]["diagnostics"]
        assert schema_errors(outcome) == []


def test_another_practice_sees_none_of_it(client, world, goal_ratings):
    raw = world.raw["other_practice"]
    ours = {str(world.client.code), str(world.response.code), str(goal_ratings.code)}
    for kind in ("Patient", "QuestionnaireResponse", "Observation"):
        served = _get(client, f"/fhir/{kind}", raw).json().get("entry", [])
        assert not {e["resource"]["id"][:36] for e in served} & ours, kind  # their own client only
    assert _get(client, f"/fhir/Questionnaire/goal-progress-{world.episode.code}", raw).status_code == 404
    assert _get(client, "/fhir/QuestionnaireResponse", raw, _id=str(world.response.code)).json()["total"] == 0


REL = {"trust": 8, "empathy": 7, "genuineness": 9, "respect": 8, "listening": 6, "safety": 9,
       "goals": 7}


def _history(world):
    """Responses with 1, 8 (total and 7 parts) and 5 (total and 4 clusters) Observations each."""
    with scope(organisation=[world.org]):
        for instrument_id, answers in (("relationship-checkin", REL), ("phq9", PHQ9_MILD),
                                       ("pcl5", {f"pcl5-{n}": n % 5 for n in range(1, 21)}),
                                       ("relationship-checkin", REL | {"trust": 3})):
            submit(episode=world.episode, instrument_id=instrument_id, answers=answers)
    with scope(organisation=[world.other.org]):  # another practice's scores, never counted here
        for _ in range(3):
            submit(episode=world.other.episode, instrument_id="relationship-checkin", answers=REL)


def _pages(client, raw, count, **params):
    """Every page from the first, following `next` links: (totals, entries, pages)."""
    page = _get(client, "/fhir/Observation", raw, _count=str(count), **params).json()
    totals, entries, n = [], [], 0
    while True:
        n += 1
        totals.append(page["total"])
        entries += page.get("entry", [])
        assert len(page.get("entry", [])) <= count
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not following:
            return totals, entries, n
        page = _follow(client, following[0], raw).json()


def test_observation_pages_cover_every_score_once_whatever_the_page_size(client, world, monkeypatch):
    _history(world)
    raw = world.raw["therapist_own"]
    every = _get(client, "/fhir/Observation", raw, _count="200").json()
    expected = 1 + 8 + 1 + 5 + 8  # the world's PHQ-9, then the history above, in time order
    assert every["total"] == len(every["entry"]) == expected
    ids = [e["resource"]["id"] for e in every["entry"]]
    assert len(set(ids)) == expected and ids[0] == f"{world.response.code}-total"
    assert [e for e in every["entry"] if schema_errors(e["resource"])] == []
    for count in (1, 2, 3, 7, 8, 9, 22, 23, 24, 200):
        totals, entries, pages = _pages(client, raw, count)
        assert set(totals) == {expected}, count
        assert [e["resource"]["id"] for e in entries] == ids, count
        assert pages == max(1, -(-expected // count)), count
    for offset, size in ((0, 0), (23, 5), (22, 5), (40, 5), (9, 1), (10, 6)):
        page = _get(client, "/fhir/Observation", raw, _count=str(size), _offset=str(offset)).json()
        assert page["total"] == expected
        assert [e["resource"]["id"] for e in page.get("entry", [])] == ids[offset:offset + size]
        assert any(link["relation"] == "next" for link in page["link"]) == (offset + size < expected)
    # Only the responses holding the page are built: a page inside the first check-in's parts
    # builds that one response, not the whole history.
    built = []
    real = server.response_resources
    monkeypatch.setattr(server, "response_resources",
                        lambda request, responses: built.append(len(responses)) or real(request, responses))
    page = _get(client, "/fhir/Observation", raw, _count="3", _offset="2").json()
    assert [e["resource"]["id"] for e in page["entry"]] == ids[2:5] and built == [1]


def test_observation_search_filters_and_pages_within_the_practice_only(client, world):
    _history(world)
    mine = _get(client, "/fhir/Observation", world.raw["therapist_own"], _count="200",
                patient=f"Patient/{world.client.code}").json()
    assert mine["total"] == 23
    one = _get(client, "/fhir/Observation", world.raw["therapist_own"],
               **{"derived-from": f"QuestionnaireResponse/{world.response.code}"}).json()
    assert [e["resource"]["id"] for e in one["entry"]] == [f"{world.response.code}-total"]
    theirs = _get(client, "/fhir/Observation", world.raw["other_practice"], _count="5").json()
    assert theirs["total"] == 24  # their three check-ins, 8 scores each; none of ours
    totals, entries, _pages_seen = _pages(client, world.raw["other_practice"], 5)
    assert set(totals) == {24} and len(entries) == 24
    ours = {e["resource"]["id"] for e in mine["entry"]}
    assert not ours & {e["resource"]["id"] for e in entries}
    assert all(e["resource"]["subject"]["reference"].endswith(str(world.other.client.code))
               for e in entries)
    asked = _get(client, "/fhir/Observation", world.raw["other_practice"],
                 patient=f"Patient/{world.client.code}").json()
    assert asked["total"] == 0 and not asked.get("entry")


def test_a_response_whose_definition_is_gone_counts_no_observations(client, world):
    """Its answers are still served (a QuestionnaireResponse), but no scores: total and pages
    leave it out rather than promising Observations that are never built."""
    _history(world)
    with scope(organisation=[world.org]):
        pcl5 = Response.objects.get(instrument_id="pcl5")
        Response.objects.filter(pk=pcl5.pk).update(instrument_id="retired-measure")
    raw = world.raw["therapist_own"]
    every = _get(client, "/fhir/Observation", raw, _count="200").json()
    assert every["total"] == len(every["entry"]) == 23 - 5
    assert not any(e["resource"]["id"].startswith(str(pcl5.code)) for e in every["entry"])
    totals, entries, _n = _pages(client, raw, 4)
    assert set(totals) == {18} and [e["resource"]["id"] for e in entries] == [
        e["resource"]["id"] for e in every["entry"]]
    served = _get(client, f"/fhir/QuestionnaireResponse/{pcl5.code}", raw)
    assert served.status_code == 200 and schema_errors(served.json()) == []
