"""The portal's FHIR Bundle, checked by validators we did not build it with (tests/fhir)."""

from __future__ import annotations

from django_scopes import scope

from rapport.checkins.services import submission as checkins
from rapport.goals import services as goals
from rapport.goals.models import Side
from rapport.portal import export
from rapport.portal.views import _my_responses
from tests.fhir.validators import questionnaire_conformance, schema_errors, unresolved_references

PHQ9 = {f"phq9-{n}": 2 for n in range(1, 10)} | {"phq9-9": 0, "phq9-difficulty": "somewhat"}
GAD7 = {f"gad7-{n}": 1 for n in range(1, 8)}
REL = {"trust": 8, "empathy": 7, "genuineness": 9, "respect": 8, "listening": 6, "safety": 9,
       "goals": 7, "not-right": "Felt rushed <at> the end & more"}
PREP = {"focus": "Sleep", "since-last": 6}


def history(practice):
    """A client who answered every kind of instrument, goals included; returns the bundle."""
    with scope(organisation=[practice.org]):
        client = practice.client
        client.preferred_name = "Sam"
        client.email = "sam@example.test"
        client.phone = "+44 1632 960000"
        client.save()
        first = goals.propose_goal(practice.episode, "Take the bus to work", side=Side.THERAPIST,
                                   user=practice.therapist)
        goals.agree_goal(first, side=Side.CLIENT)
        for instrument_id, answers in (("phq9", PHQ9), ("gad7", GAD7), ("phq2", {"phq2-1": 3, "phq2-2": 1}),
                                       ("gad2", {"gad2-1": 0, "gad2-2": 2}),
                                       ("pcl5", {f"pcl5-{n}": n % 5 for n in range(1, 21)}),
                                       ("relationship-checkin", REL), ("session-prep", PREP),
                                       ("goal-progress", {first.link_id: 4})):
            checkins.submit(episode=practice.episode, instrument_id=instrument_id, answers=answers)
        second = goals.propose_goal(practice.episode, "Sleep before midnight", side=Side.THERAPIST,
                                    user=practice.therapist)
        goals.agree_goal(second, side=Side.CLIENT)
        checkins.submit(episode=practice.episode, instrument_id="goal-progress",
                        answers={first.link_id: 6, second.link_id: 3})
        responses = _my_responses(client)
        return export.bundle(responses, export.goal_titles(client), client, include_name=True), responses


def by_type(bundle, kind):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_every_exported_resource_is_valid_against_the_official_r4_schema(practice):
    bundle, _ = history(practice)
    assert schema_errors(bundle) == []
    for entry in bundle["entry"]:
        assert schema_errors(entry["resource"]) == [], entry["resource"]["resourceType"]
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert kinds == {"Patient", "Questionnaire", "QuestionnaireResponse", "Observation"}


def test_the_schema_check_is_not_a_rubber_stamp():
    assert schema_errors({"resourceType": "Observation", "status": "final"})  # no code
    assert schema_errors({"resourceType": "Patient", "gender": "robot"})
    assert schema_errors({"resourceType": "QuestionnaireResponse", "status": "completed",
                          "item": [{"linkId": "a", "answer": [{"valueCoding": {"cod": "x"}}]}]})


def test_every_reference_resolves_inside_the_bundle(practice):
    bundle, _ = history(practice)
    assert unresolved_references(bundle) == []
    [patient] = by_type(bundle, "Patient")
    subject = f"urn:uuid:{patient['id']}"
    for resource in by_type(bundle, "QuestionnaireResponse") + by_type(bundle, "Observation"):
        assert resource["subject"] == {"reference": subject}
    full_urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(full_urls) == len(set(full_urls)) and all(u.startswith("urn:uuid:") for u in full_urls)


def test_every_response_conforms_to_its_questionnaire_in_the_bundle(practice):
    bundle, responses = history(practice)
    questionnaires = {q["url"]: q for q in by_type(bundle, "Questionnaire")}
    qrs = by_type(bundle, "QuestionnaireResponse")
    assert len(qrs) == len(responses) == 9
    for qr in qrs:
        url = qr["questionnaire"].split("|")[0]
        assert url in questionnaires, url
        assert questionnaire_conformance(qr, questionnaires[url]) == [], url
    # Goal ratings answer the episode's own goal questionnaire: both goals are its items.
    goal_q = next(q for url, q in questionnaires.items() if "goal-progress-" in url)
    assert [i["text"].split(" (")[0] for i in goal_q["item"]] == [
        "Take the bus to work", "Sleep before midnight"]


def test_the_conformance_rule_catches_what_the_issue_found(practice):
    bundle, _ = history(practice)
    questionnaires = {q["url"]: q for q in by_type(bundle, "Questionnaire")}
    phq9 = next(qr for qr in by_type(bundle, "QuestionnaireResponse")
                if qr["questionnaire"].startswith("urn:rapport:questionnaire:phq9|"))
    q = questionnaires["urn:rapport:questionnaire:phq9"]
    wrong_system = {**phq9, "item": [dict(phq9["item"][0], answer=[{"valueCoding": {
        "system": "urn:rapport:answers:phq9", "code": "more-than-half"}}])] + phq9["item"][1:]}
    assert any("not one of its answerOptions" in e for e in questionnaire_conformance(wrong_system, q))
    missing = {**phq9, "item": phq9["item"][1:]}
    assert any("required item 'phq9-1'" in e for e in questionnaire_conformance(missing, q))
    stranger = {**phq9, "item": phq9["item"] + [{"linkId": "goal-1", "answer": [{"valueInteger": 3}]}]}
    assert any("not an item" in e for e in questionnaire_conformance(stranger, q))
    swapped = {**phq9, "item": [phq9["item"][1], phq9["item"][0]] + phq9["item"][2:]}
    assert any("out of the Questionnaire's order" in e for e in questionnaire_conformance(swapped, q))


def test_loinc_item_and_answer_codes_where_loinc_defines_them(practice):
    bundle, _ = history(practice)
    questionnaires = {q["id"]: q for q in by_type(bundle, "Questionnaire")}
    phq9 = questionnaires["phq9"]
    assert phq9["code"][0]["code"] == "44249-1"
    first = next(i for i in phq9["item"] if i["linkId"] == "phq9-1")
    assert first["code"][0]["code"] == "44250-9"
    assert [o["valueCoding"]["code"] for o in first["answerOption"]] == [
        "LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
    assert questionnaires["phq2"]["code"][0]["code"] == "55757-9"
    qr = next(r for r in by_type(bundle, "QuestionnaireResponse") if r["questionnaire"].startswith(
        "urn:rapport:questionnaire:phq9|"))
    answer = next(i for i in qr["item"] if i["linkId"] == "phq9-1")["answer"][0]["valueCoding"]
    assert answer == {"system": "http://loinc.org", "code": "LA6570-1",
                      "display": "More than half the days"}
    # No LOINC answer code is published for the difficulty question here: ours stays.
    difficulty = next(i for i in qr["item"] if i["linkId"] == "phq9-difficulty")
    assert difficulty["answer"][0]["valueCoding"]["system"] == "urn:rapport:answers"
    totals = {c["code"] for o in by_type(bundle, "Observation") for c in o["code"]["coding"]
              if c["system"] == "http://loinc.org"}
    assert {"44261-6", "70274-6", "55758-7", "101698-9"} <= totals
    assert questionnaires["pcl5"]["code"][0]["code"] == "101697-1"


def test_the_patient_is_minimal_and_named_only_when_the_client_chooses(practice):
    bundle, responses = history(practice)
    [patient] = by_type(bundle, "Patient")
    assert set(patient) == {"resourceType", "id", "text", "identifier", "name", "communication"}
    assert [n["text"] for n in patient["name"]] == ["Riverside Client", "Sam"]
    text = str(patient)
    assert "sam@example.test" not in text and "1632" not in text
    with scope(organisation=[practice.org]):
        unnamed = export.bundle(responses, {}, practice.client)
    [patient] = by_type(unnamed, "Patient")
    assert set(patient) == {"resourceType", "id", "text", "identifier", "communication"}
    assert "Riverside" not in str(patient) and "Sam" not in str(patient)
    assert schema_errors(unnamed) == []


def test_ids_are_stable_and_every_resource_has_narrative(practice):
    bundle, responses = history(practice)
    with scope(organisation=[practice.org]):
        again = export.bundle(responses, export.goal_titles(practice.client), practice.client,
                              include_name=True)
    assert [e["fullUrl"] for e in bundle["entry"]] == [e["fullUrl"] for e in again["entry"]]
    assert [e["resource"]["id"] for e in bundle["entry"]] == [e["resource"]["id"] for e in again["entry"]]
    for entry in bundle["entry"]:
        div = entry["resource"]["text"]["div"]
        assert div.startswith('<div xmlns="http://www.w3.org/1999/xhtml">') and div.endswith("</div>")
    rel = next(r for r in by_type(bundle, "QuestionnaireResponse")
               if "relationship-checkin" in r["questionnaire"])
    assert "Felt rushed &lt;at&gt; the end &amp; more" in rel["text"]["div"]
