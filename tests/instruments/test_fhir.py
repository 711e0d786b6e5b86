"""Scored responses as FHIR QuestionnaireResponse and Observations, and back."""

from __future__ import annotations

from pathlib import Path

import pytest

from rapport.instruments import goal_progress, instrument_ids, load
from rapport.instruments.fhir import (
    LOINC,
    loinc_answers,
    observations,
    questionnaire,
    questionnaire_response,
    read_questionnaire_response,
    score_questionnaire_response,
    validate_resource,
)
from tests.fhir.validators import questionnaire_conformance, schema_errors


def test_phq9_response_round_trips_through_fhir() -> None:
    instrument = load("phq9")
    answers = {f"phq9-{n}": 2 for n in range(1, 10)} | {"phq9-difficulty": "very"}
    resource = questionnaire_response(
        instrument, answers, subject="Patient/1", authored="2025-03-01T09:00:00Z"
    )
    assert resource["status"] == "completed"
    assert resource["questionnaire"] == "urn:rapport:questionnaire:phq9|1"
    first = resource["item"][0]
    assert first["linkId"] == "phq9-1"
    assert first["answer"][0]["valueCoding"] == {
        "system": "http://loinc.org", "code": "LA6570-1", "display": "More than half the days"}
    again = score_questionnaire_response(resource)
    assert again.to_json() == instrument.score(answers).to_json()


def test_total_observations_carry_loinc_codes_and_severity() -> None:
    for instrument_id, n, loinc in (("phq9", 9, "44261-6"), ("gad7", 7, "70274-6")):
        instrument = load(instrument_id)
        answers = {f"{instrument_id}-{i}": 1 for i in range(1, n + 1)}
        score = instrument.score(answers)
        [total] = observations(
            instrument, score, response_id="r1", subject="Patient/1", effective="2025-03-01"
        )
        assert total["code"]["coding"][0] == {
            "system": "http://loinc.org",
            "code": loinc,
            "display": total["code"]["coding"][0]["display"],
        }
        assert total["valueInteger"] == n
        assert total["interpretation"] == [{"text": "mild"}]
        assert total["derivedFrom"] == [{"reference": "QuestionnaireResponse/r1"}]


def test_pcl5_carries_its_loinc_panel_and_total_score_codes() -> None:
    """LOINC 101697-1 (the PCL-5 panel) and 101698-9 (its score), as pcl5.json cites them."""
    instrument = load("pcl5")
    assert questionnaire(instrument)["code"][0]["code"] == "101697-1"
    score = instrument.score({f"pcl5-{i}": 2 for i in range(1, 21)})
    total = observations(instrument, score, response_id="r1")[0]
    assert total["code"]["coding"][0]["code"] == "101698-9" and total["valueInteger"] == 40
    assert schema_errors(total) == []


def test_subscales_and_fractional_totals_become_observations() -> None:
    instrument = load("relationship-checkin")
    answers = {"trust": 9, "empathy": 8, "genuineness": 8, "not-right": "It felt rushed"}
    resource = questionnaire_response(instrument, answers)
    assert resource["status"] == "in-progress"
    assert {
        "linkId": "not-right",
        "text": instrument.item("not-right").text,
        "answer": [{"valueString": "It felt rushed"}],
    } in resource["item"]
    obs = observations(instrument, instrument.score(answers), response_id=resource["id"])
    assert obs[0]["valueQuantity"]["value"] == pytest.approx(83.33)
    assert [o["code"]["coding"][0]["code"] for o in obs[1:]] == [
        "relationship-checkin/trust",
        "relationship-checkin/empathy",
        "relationship-checkin/genuineness",
    ]


def test_goal_progress_round_trips() -> None:
    instrument = goal_progress(["g1", "g2"])
    resource = questionnaire_response(instrument, {"g1": 3, "g2": 8})
    assert score_questionnaire_response(resource).subscales == {"g1": 3, "g2": 8}


def test_practice_instrument_with_every_item_type(practice_dir: Path) -> None:
    instrument = load("wellbeing-demo")
    answers = {
        "wb-1": 1,
        "wb-2": 0,
        "wb-3": 2,
        "wb-4": 0,
        "wb-rating": 7.5,
        "wb-count": 3,
        "wb-yes": True,
        "wb-note": "fine",
    }
    resource = questionnaire_response(instrument, answers)
    read, back = read_questionnaire_response(resource)
    assert read.id == "wellbeing-demo"
    assert read.score(back).to_json() == instrument.score(answers).to_json()


def test_reading_back_reports_bad_answers_as_scoring_errors() -> None:
    resource = questionnaire_response(load("phq2"), {"phq2-1": 1, "phq2-2": 1})
    resource["item"][0]["answer"].append({"valueCoding": {"code": "not-at-all"}})
    resource["item"][1]["answer"] = [{"valueInteger": 9}]
    score = score_questionnaire_response(resource)
    assert [e.link_id for e in score.errors] == ["phq2-1", "phq2-2"]


def test_invalid_resources_are_refused() -> None:
    with pytest.raises(ValueError, match="not a valid Observation"):
        validate_resource({"resourceType": "Observation", "status": "final"})
    with pytest.raises(ValueError, match="unknown resourceType"):
        validate_resource({"resourceType": "Nonsense"})
    with pytest.raises(ValueError, match="not one of our questionnaires"):
        read_questionnaire_response(
            {
                "resourceType": "QuestionnaireResponse",
                "status": "completed",
                "questionnaire": "http://example.org/Questionnaire/x",
            }
        )


# -- Questionnaires and LOINC ----------------------------------------------------------------------

@pytest.mark.parametrize("instrument_id", instrument_ids())
def test_every_instrument_exports_a_schema_valid_questionnaire_its_responses_conform_to(
        instrument_id: str) -> None:
    instrument = load(instrument_id)
    if instrument.template:
        instrument = goal_progress({"g1": "Sleep better", "g2": "Walk daily"})
    q = questionnaire(instrument, id="goal-progress-e1" if instrument.template else None)
    assert schema_errors(q) == []
    answers = {}
    for item in instrument.items:
        if item.kind == "choice":
            answers[item.link_id] = item.options[-1].code
        elif item.kind in ("integer", "decimal"):
            answers[item.link_id] = int(item.max_value if item.max_value is not None else 1)
        elif item.kind == "boolean":
            answers[item.link_id] = True
        else:
            answers[item.link_id] = "Some words"
    qr = questionnaire_response(instrument, answers, questionnaire=f"{q['url']}|{q['version']}")
    assert schema_errors(qr) == []
    assert questionnaire_conformance(qr, q) == []


def test_every_loinc_code_in_a_definition_names_its_source() -> None:
    for instrument_id in instrument_ids():
        definition = load(instrument_id).definition
        for item in definition["item"]:
            for coding in item.get("code", []):
                sources = [e["valueString"] for e in coding.get("extension", [])
                           if e["url"] == "urn:rapport:instrument:source"]
                assert coding["system"] == LOINC and sources and sources[0].strip(), item["linkId"]
        scoring = [p for e in definition.get("extension", [])
                   if e["url"] == "urn:rapport:instrument:scoring" for p in e["extension"]]
        totals = [p["valueCoding"] for s in scoring if s["url"] in ("total", "subscale")
                  for p in s["extension"] if p["url"] == "code"]
        for coding in [*definition.get("code", []), *totals]:  # the panel and the scores
            sources = [e["valueString"] for e in coding.get("extension", [])
                       if e["url"] == "urn:rapport:instrument:source"]
            assert coding["system"] == LOINC and sources and coding["code"] in sources[0], instrument_id
        for ext in definition.get("extension", []):
            if ext["url"] == "urn:rapport:instrument:answerCode":
                parts = {p["url"] for p in ext["extension"]}
                assert parts == {"code", "coding", "source"}, instrument_id
        options = {o.code for i in load(instrument_id).items for o in i.options}
        assert set(loinc_answers(load(instrument_id))) <= options


def test_a_response_coded_only_with_loinc_is_read_as_our_instrument() -> None:
    def qr(items):
        return {"resourceType": "QuestionnaireResponse", "status": "completed",
                "questionnaire": "http://example.org/Questionnaire/x",
                "item": [{"linkId": link, "answer": [{"valueCoding": {"system": LOINC, "code": code}}]}
                         for link, code in items]}

    phq2 = qr([("/44250-9", "LA6571-9"), ("44255-8", "LA6569-3")])
    instrument, answers = read_questionnaire_response(phq2)
    assert instrument.id == "phq2"  # the smallest instrument holding both items
    assert answers == {"phq2-1": "nearly-every-day", "phq2-2": "several-days"}
    assert instrument.score(answers).total == 4
    with pytest.raises(ValueError, match="no instrument here has the LOINC items 99999-9"):
        read_questionnaire_response(qr([("99999-9", "LA6571-9")]))


def _answers_for(instrument) -> dict:
    """One valid answer per item: the choices cycle through their options."""
    answers = {}
    for n, item in enumerate(instrument.items):
        if item.kind == "choice":
            answers[item.link_id] = item.options[n % len(item.options)].code
    return answers


LOINC_CODED = [i for i in instrument_ids() if any(
    c.get("system") == LOINC for c in load(i).definition.get("code", []))
    or any(c.get("system") == LOINC for item in load(i).definition["item"] for c in item.get("code", []))]


def test_the_loinc_coded_instruments_are_those_whose_codes_were_verified() -> None:
    assert LOINC_CODED == ["gad2", "gad7", "pcl5", "phq2", "phq9"]


@pytest.mark.parametrize("instrument_id", LOINC_CODED)
def test_every_loinc_code_we_export_is_read_back_by_import(instrument_id: str) -> None:
    """What another system makes of our export: our Questionnaire under its own URL (panel and
    item codes from it), or LOINC item codes as linkIds; either way our answers and score."""
    instrument = load(instrument_id)
    answers = _answers_for(instrument)
    q = questionnaire(instrument)
    qr = questionnaire_response(instrument, answers, questionnaire=f"{q['url']}|{q['version']}")
    coded = {i["linkId"] for i in q["item"] if i.get("code")}
    assert all(a["valueCoding"]["system"] == LOINC for i in qr["item"] if i["linkId"] in coded
               for a in i["answer"])
    expected = instrument.score(answers)
    foreign_q = {**q, "url": "http://example.org/Questionnaire/theirs"}
    rehosted = {**qr, "questionnaire": foreign_q["url"]}
    got, read = read_questionnaire_response(rehosted, {foreign_q["url"]: foreign_q})
    assert (got.id, read) == (instrument_id, answers)
    codes = {c["code"] for c in q.get("code", [])}
    item_codes = {i["linkId"]: c["code"] for i in q["item"] for c in i.get("code", [])}
    if item_codes:  # LOINC item codes as linkIds, no Questionnaire at all
        by_code = {**rehosted, "questionnaire": "http://example.org/Questionnaire/unknown",
                   "item": [{**i, "linkId": "/" + item_codes[i["linkId"]]} for i in qr["item"]
                            if i["linkId"] in item_codes]}
        got, read = read_questionnaire_response(by_code)
        assert got.id == instrument_id and got.score(read).total == expected.total
    else:  # the panel code alone names it (PCL-5: its items have no verified LOINC codes)
        assert codes == {"101697-1"}
        bare = {"resourceType": "Questionnaire", "status": "active", "url": foreign_q["url"],
                "code": q["code"], "item": [{"linkId": i["linkId"], "type": "choice"} for i in qr["item"]]}
        got, read = read_questionnaire_response(rehosted, {bare["url"]: bare})
        assert got.id == instrument_id and got.score(read).total == expected.total
        with pytest.raises(ValueError, match="no instrument here has the LOINC panel 101697-1 with items"):
            read_questionnaire_response({**rehosted, "item": [{**qr["item"][0], "linkId": "x"}]},
                                        {bare["url"]: bare})


def test_lhc_forms_paths_and_loincs_own_canonical_name_the_items_and_the_panel() -> None:
    answers = [{"valueCoding": {"system": LOINC, "code": "LA6570-1"}}]
    nested = {"resourceType": "QuestionnaireResponse", "status": "completed",
              "questionnaire": "http://loinc.org/q/69737-5",
              "item": [{"linkId": "/69737-5", "item": [
                  {"linkId": f"/69737-5/{code}", "answer": answers}
                  for code in ("69725-0", "68509-9", "69733-4", "69734-2", "69735-9", "69689-8",
                               "69736-7")]}]}
    instrument, read = read_questionnaire_response(nested)
    assert instrument.id == "gad7" and instrument.score(read).total == 14
    # The panel in LOINC's canonical picks the GAD-7 even for its first two items alone
    # (without it, those two are read as the smaller GAD-2).
    two = {**nested, "item": [{"linkId": "/69737-5", "item": nested["item"][0]["item"][:2]}]}
    assert read_questionnaire_response(two)[0].id == "gad7"
    assert read_questionnaire_response({**two, "questionnaire": "http://example.org/q"})[0].id == "gad2"
    pcl5 = {"resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": "http://loinc.org/q/101697-1",
            "item": [{"linkId": f"pcl5-{n}", "answer": [{"valueCoding": {"code": "moderately"}}]}
                     for n in range(1, 21)]}
    instrument, read = read_questionnaire_response(pcl5)
    assert instrument.id == "pcl5" and instrument.score(read).total == 40
