"""Scored responses as FHIR resources, and FHIR QuestionnaireResponses back into scores.

- `questionnaire_response(instrument, answers)`: the answers as a QuestionnaireResponse;
- `observations(instrument, score, response_id=...)`: one Observation for the total and one per
  subscale, with LOINC codes where they exist (PHQ-9 total 44261-6, GAD-7 total 70274-6; the
  code lives in the definition's total rule) and our own code system otherwise;
- `read_questionnaire_response(resource)`: the instrument and the answers, ready to score;
  `score_questionnaire_response(resource)` does both steps.

Resources are checked with `fhir.resources` (imported only here, so `rapport score` stays
light). We use its R4B models: the library defaults to R5, whose Questionnaire and
QuestionnaireResponse differ from R4 (answerConstraint, answerOption changes), while R4B is the
R4 technical correction and models R4 Questionnaire, QuestionnaireResponse and Observation
unchanged; our definitions are R4 documents.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from rapport.instruments import load
from rapport.instruments.model import Instrument, Scale, Score

SCORE_SYSTEM = "urn:rapport:score"
CANONICAL_PREFIX = "urn:rapport:questionnaire:"
SURVEY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
            "display": "Survey",
        }
    ]
}


def validate_resource(resource: Mapping[str, Any]) -> None:
    """Raise ValueError unless `resource` is a valid FHIR R4 (R4B model) resource."""
    from fhir.resources.R4B import get_fhir_model_class

    try:
        model = get_fhir_model_class(str(resource.get("resourceType")))
    except (KeyError, ValueError):
        raise ValueError(f"unknown resourceType {resource.get('resourceType')!r}") from None
    try:
        model.model_validate(dict(resource))
    except Exception as e:  # pydantic's ValidationError, kept out of our interface
        raise ValueError(f"not a valid {resource.get('resourceType')}: {e}") from None


def canonical(instrument: Instrument) -> str:
    return f"{CANONICAL_PREFIX}{instrument.id}|{instrument.version}"


def questionnaire_response(
    instrument: Instrument,
    answers: Mapping[str, Any],
    *,
    id: str | None = None,
    subject: str | None = None,
    authored: str | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """The valid answers as a QuestionnaireResponse (status completed when the score is)."""
    score = instrument.score(answers)
    concrete = instrument.resolve(answers) if instrument.template else instrument
    items = []
    for item in concrete.items:
        if item.template or item.link_id not in score.answers:
            continue
        value = answers[item.link_id]
        if item.kind == "choice":
            scored = score.answers[item.link_id]
            option = next(o for o in item.options if o.value == scored)
            answer: dict[str, Any] = {
                "valueCoding": {
                    "system": f"urn:rapport:answers:{instrument.id}",
                    "code": option.code,
                    "display": option.display,
                }
            }
        elif item.kind == "integer":
            answer = {"valueInteger": int(value)}
        elif item.kind == "decimal":
            answer = {"valueDecimal": value}
        elif item.kind == "boolean":
            answer = {"valueBoolean": value}
        else:
            answer = {"valueString": value}
        entry: dict[str, Any] = {"linkId": item.link_id, "answer": [answer]}
        if item.text:
            entry["text"] = item.text
        items.append(entry)
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": id or str(uuid.uuid4()),
        "questionnaire": canonical(instrument),
        "status": "completed" if score.complete else "in-progress",
    }
    if subject:
        resource["subject"] = {"reference": subject}
    if authored:
        resource["authored"] = authored
    if items:
        resource["item"] = items
    if validate:
        validate_resource(resource)
    return resource


def _observation(
    instrument: Instrument,
    scale: Scale,
    value: float | int,
    *,
    response_id: str,
    subject: str | None,
    effective: str | None,
    interpretation: str | None = None,
) -> dict[str, Any]:
    coding = [
        {
            "system": SCORE_SYSTEM,
            "code": f"{instrument.id}/{scale.name}",
            "display": f"{instrument.title}: {scale.label}",
        }
    ]
    if scale.code:
        system, code, display = scale.code
        coding.insert(0, {"system": system, "code": code, "display": display})
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(uuid.uuid4()),
        "status": "final",
        "category": [SURVEY],
        "code": {"coding": coding, "text": scale.label},
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{response_id}"}],
    }
    if isinstance(value, int):
        resource["valueInteger"] = value
    else:
        resource["valueQuantity"] = {
            "value": value,
            "unit": "{score}",
            "system": "http://unitsofmeasure.org",
            "code": "{score}",
        }
    if interpretation:
        resource["interpretation"] = [{"text": interpretation}]
    if subject:
        resource["subject"] = {"reference": subject}
    if effective:
        resource["effectiveDateTime"] = effective
    return resource


def observations(
    instrument: Instrument,
    score: Score,
    *,
    response_id: str,
    subject: str | None = None,
    effective: str | None = None,
    validate: bool = True,
) -> list[dict[str, Any]]:
    """Observations for the total (with its severity as interpretation) and each subscale."""
    result = []
    rules = instrument.scoring
    if rules.total is not None and score.total is not None:
        result.append(
            _observation(
                instrument,
                rules.total,
                score.total,
                response_id=response_id,
                subject=subject,
                effective=effective,
                interpretation=score.severity.label if score.severity else None,
            )
        )
    scales = {s.name: s for s in rules.subscales}
    for name, value in score.subscales.items():
        scale = scales.get(name) or Scale(name=name, label=name, items=(name,))
        result.append(
            _observation(
                instrument,
                scale,
                value,
                response_id=response_id,
                subject=subject,
                effective=effective,
            )
        )
    if validate:
        for resource in result:
            validate_resource(resource)
    return result


def read_questionnaire_response(resource: Mapping[str, Any]) -> tuple[Instrument, dict[str, Any]]:
    """The instrument a QuestionnaireResponse answers and its answers as {linkId: value}.

    A coded answer becomes its code; an item with several answers is passed on as a list, which
    scoring reports as an error for that item.
    """
    validate_resource(resource)
    reference = str(resource.get("questionnaire", ""))
    if not reference.startswith(CANONICAL_PREFIX):
        raise ValueError(f"not one of our questionnaires: {reference!r}")
    instrument = load(reference[len(CANONICAL_PREFIX) :].split("|", 1)[0])
    answers: dict[str, Any] = {}
    for item in resource.get("item", []):
        values = []
        for answer in item.get("answer", []):
            if "valueCoding" in answer:
                values.append(answer["valueCoding"].get("code"))
                continue
            key = next((k for k in answer if k.startswith("value")), None)
            values.append(answer[key] if key else None)
        if values:
            answers[item["linkId"]] = values[0] if len(values) == 1 else values
    return instrument, answers


def score_questionnaire_response(resource: Mapping[str, Any]) -> Score:
    instrument, answers = read_questionnaire_response(resource)
    return instrument.score(answers)
