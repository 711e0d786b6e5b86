"""Instruments and scored responses as FHIR R4 resources, and QuestionnaireResponses back.

Out:
- `questionnaire(instrument)`: the instrument as a Questionnaire another system can load
  (canonical `urn:rapport:questionnaire:<id>`, its version); for goal-progress, the concrete
  questionnaire of one episode's goals (`questionnaire(goal_instrument, id="goal-progress-...")`);
- `questionnaire_response(instrument, answers)`: the answers as a QuestionnaireResponse that
  conforms to that Questionnaire: same linkIds in the same order, each coded answer one of the
  item's answerOptions;
- `observations(instrument, score, response_id=...)`: one Observation for the total and one
  per subscale, LOINC-coded where the definition has a code (PHQ-9 total 44261-6, GAD-7 total
  70274-6, PHQ-2 total 55758-7), our `urn:rapport:score` code always. Ids are derived from the
  response's id and the scale, so the same response always gives the same Observation ids.

Codes: a definition gives LOINC codes where LOINC defines them, each with its source: the
Questionnaire's `code` (the panel), each item's `code`, and `urn:rapport:instrument:answerCode`
extensions mapping our answer codes (e.g. `several-days`) to LOINC answer codes (LA6569-3).
Exported Questionnaires and responses use the LOINC answer coding where one is mapped and
`urn:rapport:answers` otherwise; our own codes still score (the forms post them).

In:
- `read_questionnaire_response(resource, questionnaires=...)`: the instrument a response
  answers and its answers as {linkId: value}, for a response to one of our Questionnaires or
  coded with LOINC (linkIds or the items' codes in its Questionnaire, LOINC answer codes);
  `score_questionnaire_response(resource)` does both steps.

Every resource is checked with `fhir.resources` (imported only here, so `rapport score` stays
light). We use its R4B models: the library defaults to R5, whose Questionnaire and
QuestionnaireResponse differ from R4 (answerConstraint, answerOption changes), while R4B is the
R4 technical correction and models R4 Questionnaire, QuestionnaireResponse, Observation and
Patient unchanged. The test suite checks what we export against the official R4 JSON schema
and the Questionnaire conformance rules besides.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from rapport.instruments import instrument_ids, load
from rapport.instruments.fhir_codes import (  # noqa: F401 (this module's interface)
    ANSWER_CODE,
    ANSWER_SYSTEM,
    CANONICAL_PREFIX,
    LOINC,
    NAMESPACE,
    ORDINAL_VALUE,
    SCORE_SYSTEM,
    SURVEY,
    TEMPLATE,
    _option_coding,
    _raw_items,
    canonical,
    item_codes,
    loinc_answers,
    narrative,
    stable_id,
    validate_resource,
)
from rapport.instruments.model import Instrument, Item, Scale, Score

# -- out ----------------------------------------------------------------------------------------


def questionnaire(instrument: Instrument, *, id: str | None = None, validate: bool = True
                  ) -> dict[str, Any]:
    """The instrument as a FHIR Questionnaire: our definition, with LOINC answer codings in its
    answerOptions where the definition maps them.

    A template instrument (goal-progress) is exported as the concrete questionnaire it was
    expanded into (`instrument.expand(...)`), under its own `id`: one integer item per goal,
    each optional, since a goal may be added or reached between two ratings.
    """
    data = copy.deepcopy(dict(instrument.definition))
    qid = id or instrument.id
    data["id"] = qid
    data["url"] = f"{CANONICAL_PREFIX}{qid}"
    data["version"] = instrument.version
    data["extension"] = [e for e in data.get("extension", []) if e.get("url") != ANSWER_CODE]
    loinc = loinc_answers(instrument)
    raw_items = _raw_items(instrument)
    template_raw = next(
        (r for r in raw_items.values()
         if any(e.get("url") == TEMPLATE for e in r.get("extension", []))), None)
    items = []
    for raw in instrument.definition.get("item", []):
        if raw is template_raw:
            continue
        items.append(copy.deepcopy(raw))
    if template_raw is not None:
        data["description"] = (
            "One rating per goal of one episode (the goals' own words as the items); each is "
            "optional, since goals are added and reached between ratings. "
            + str(data.get("description", ""))
        )
        for item in instrument.items:
            if item.link_id in raw_items:
                continue
            concrete = copy.deepcopy(template_raw)
            concrete.update(linkId=item.link_id, text=item.text, required=False)
            concrete["extension"] = [e for e in concrete.get("extension", [])
                                     if e.get("url") != TEMPLATE]
            items.append(concrete)
    for raw in items:
        for option in raw.get("answerOption", []):
            coding = option.get("valueCoding", {})
            if coding.get("code") in loinc:
                kept = [e for e in coding.get("extension", []) if e.get("url") == ORDINAL_VALUE]
                option["valueCoding"] = {**loinc[coding["code"]], "extension": kept}
    data["item"] = items
    data["text"] = narrative(
        instrument.title,
        f"Version {instrument.version}; {sum(1 for i in items if i.get('type') != 'display')} "
        "questions.",
    )
    if validate:
        validate_resource(data)
    return data


_VALUE_KEYS = {"integer": "valueInteger", "decimal": "valueDecimal", "boolean": "valueBoolean"}


def _answer(instrument: Instrument, item: Item, value: Any, scored: Any,
            loinc: Mapping[str, Mapping[str, str]]) -> tuple[dict[str, Any], Any]:
    """One item's answer as FHIR, and what the narrative shows of it."""
    if item.kind == "choice":
        option = next(o for o in item.options if o.value == scored)
        return {"valueCoding": _option_coding(instrument, item, option, loinc)}, option.display
    if item.kind == "integer":
        value = int(value)
    return {_VALUE_KEYS.get(item.kind, "valueString"): value}, value


def questionnaire_response(
    instrument: Instrument,
    answers: Mapping[str, Any],
    *,
    id: str | None = None,
    subject: str | None = None,
    authored: str | None = None,
    questionnaire: str | None = None,
    validate: bool = True,
) -> dict[str, Any]:
    """The valid answers as a QuestionnaireResponse (status completed when the score is).

    `questionnaire` is the canonical it answers (by default the instrument's own); `subject` a
    reference to the Patient (e.g. "urn:uuid:..." inside a Bundle).
    """
    score = instrument.score(answers)
    concrete = instrument.resolve(answers) if instrument.template else instrument
    loinc = loinc_answers(instrument)
    items = []
    shown = []
    for item in concrete.items:
        if item.template or item.link_id not in score.answers:
            continue
        answer, display = _answer(instrument, item, answers[item.link_id],
                                  score.answers[item.link_id], loinc)
        shown.append(f"{item.text or item.link_id}: {display}")
        entry: dict[str, Any] = {"linkId": item.link_id}
        if item.text:
            entry["text"] = item.text
        entry["answer"] = [answer]
        items.append(entry)
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": id or str(uuid.uuid4()),
        "text": narrative(f"Answers to {instrument.title}" + (f" on {authored}" if authored else ""),
                          *shown),
        "questionnaire": questionnaire or canonical(instrument),
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
    derived_from: str,
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
        "id": stable_id(response_id, scale.name),
        "text": narrative(
            f"{instrument.title}, {scale.label}: {value}"
            + (f" ({interpretation})" if interpretation else "")
            + (f" on {effective}" if effective else "")
        ),
        "status": "final",
        "category": [SURVEY],
        "code": {"coding": coding, "text": scale.label},
    }
    if subject:
        resource["subject"] = {"reference": subject}
    if effective:
        resource["effectiveDateTime"] = effective
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
    resource["derivedFrom"] = [{"reference": derived_from}]
    return resource


def observations(
    instrument: Instrument,
    score: Score,
    *,
    response_id: str,
    derived_from: str | None = None,
    subject: str | None = None,
    effective: str | None = None,
    validate: bool = True,
) -> list[dict[str, Any]]:
    """Observations for the total (with its severity as interpretation) and each subscale.

    `derived_from` is the reference to the QuestionnaireResponse (by default
    "QuestionnaireResponse/<response_id>"; inside a Bundle, its "urn:uuid:..." fullUrl).
    """
    derived_from = derived_from or f"QuestionnaireResponse/{response_id}"
    common = {"response_id": response_id, "derived_from": derived_from, "subject": subject,
              "effective": effective}
    result = []
    rules = instrument.scoring
    if rules.total is not None and score.total is not None:
        result.append(
            _observation(instrument, rules.total, score.total,
                         interpretation=score.severity.label if score.severity else None, **common)
        )
    scales = {s.name: s for s in rules.subscales}
    for name, value in score.subscales.items():
        scale = scales.get(name) or Scale(name=name, label=name, items=(name,))
        result.append(_observation(instrument, scale, value, **common))
    if validate:
        for resource in result:
            validate_resource(resource)
    return result


# -- in -----------------------------------------------------------------------------------------


def _leaves(items: Iterable[Mapping[str, Any]]):
    """Answered items, groups flattened (LOINC forms often nest items under a group)."""
    for item in items:
        if item.get("answer"):
            yield item
        yield from _leaves(item.get("item", []))
        for answer in item.get("answer", []):
            yield from _leaves(answer.get("item", []))


def _q_item_codes(q: Mapping[str, Any] | None) -> dict[str, str]:
    """linkId -> LOINC code of the items of a (foreign) Questionnaire."""
    result: dict[str, str] = {}

    def walk(items):
        for item in items:
            for coding in item.get("code", []):
                if coding.get("system") == LOINC and "linkId" in item:
                    result[item["linkId"]] = coding["code"]
            walk(item.get("item", []))

    walk((q or {}).get("item", []))
    return result


def _panel(instrument: Instrument) -> set[str]:
    return {c.get("code") for c in instrument.definition.get("code", []) if c.get("system") == LOINC}


def _loinc_instrument(codes: set[str], panel: str | None) -> Instrument:
    """The instrument a LOINC-coded response answers: the one whose panel code is `panel`
    (its answered items named by LOINC item codes or by our linkIds, for an instrument such as
    the PCL-5 whose items LOINC codes we could not verify), or else the smallest whose LOINC
    items include every answered code."""
    candidates = []
    for instrument_id in instrument_ids():
        instrument = load(instrument_id)
        if panel and panel not in _panel(instrument):
            continue
        have = set(item_codes(instrument).values())
        if panel:
            have |= {i.link_id for i in instrument.items}
        if (codes or panel) and codes <= have:
            candidates.append((len(have), instrument.id, instrument))
    if not candidates:
        what = f"panel {panel}" if panel else f"items {', '.join(sorted(codes)) or '(none)'}"
        if panel and any(panel in _panel(load(i)) for i in instrument_ids()):
            what += f" with items {', '.join(sorted(codes))}"
        raise ValueError(f"no instrument here has the LOINC {what}")
    return min(candidates)[2]


# LOINC publishes each panel as a Questionnaire with this canonical URL plus the panel code (the
# "Questionnaire definition" link on its term pages, e.g. cdn.loinc.org/55757-9).
LOINC_QUESTIONNAIRE = "http://loinc.org/q/"


def read_questionnaire_response(
    resource: Mapping[str, Any], questionnaires: Mapping[str, Mapping[str, Any]] | None = None
) -> tuple[Instrument, dict[str, Any]]:
    """The instrument a QuestionnaireResponse answers and its answers as {linkId: value}.

    The response answers one of our Questionnaires (`urn:rapport:questionnaire:<id>|<version>`;
    `goal-progress-<episode>` reads as goal-progress), or is coded with LOINC: its items'
    linkIds are LOINC item codes (with or without a leading "/"), or its Questionnaire (found in
    `questionnaires`, canonical URL -> resource, e.g. from the same Bundle) gives them as item
    codes and may name the panel, as LOINC's own canonical (http://loinc.org/q/<panel>) does;
    an LHC-Forms linkId path ("/<group>/<code>") names the item by its last part. A coded answer becomes our answer code (LOINC answer codes are
    mapped back); an item with several answers is passed on as a list, which scoring reports
    as an error for that item. Raises ValueError when the resource is not valid FHIR or its
    instrument cannot be told.
    """
    validate_resource(resource)
    reference = str(resource.get("questionnaire", ""))
    leaves = list(_leaves(resource.get("item", [])))
    if reference.startswith(CANONICAL_PREFIX):
        instrument_id = reference[len(CANONICAL_PREFIX):].split("|", 1)[0]
        if instrument_id.startswith("goal-progress-"):
            instrument_id = "goal-progress"
        instrument = load(instrument_id)
        to_ours: dict[str, str] = {}
    else:
        url = reference.split("|", 1)[0]
        q = (questionnaires or {}).get(url) or (questionnaires or {}).get(reference)
        q_codes = _q_item_codes(q)
        panel = next((c.get("code") for c in (q or {}).get("code", [])
                      if c.get("system") == LOINC), None)
        if q is None and url.startswith(LOINC_QUESTIONNAIRE):
            panel = url[len(LOINC_QUESTIONNAIRE):]  # LOINC's own form of the panel

        def code_of(link_id: str) -> str:  # LHC-Forms linkIds are paths: "/<group>/<item code>"
            return q_codes.get(link_id) or link_id.rstrip("/").rsplit("/", 1)[-1]

        answered = {code_of(i["linkId"]) for i in leaves}
        if not answered and not panel:
            raise ValueError(f"not one of our questionnaires and not coded with LOINC: {reference!r}")
        instrument = _loinc_instrument(answered, panel)
        by_code = {code: link for link, code in item_codes(instrument).items()}
        to_ours = {i["linkId"]: by_code.get(code_of(i["linkId"]), i["linkId"]) for i in leaves}
    from_loinc = {c["code"]: ours for ours, c in loinc_answers(instrument).items()}
    answers: dict[str, Any] = {}
    for item in leaves:
        values = []
        for answer in item.get("answer", []):
            if "valueCoding" in answer:
                coding = answer["valueCoding"]
                code = coding.get("code")
                if coding.get("system") == LOINC:
                    code = from_loinc.get(code, code)
                values.append(code)
                continue
            key = next((k for k in answer if k.startswith("value")), None)
            values.append(answer[key] if key else None)
        if values:
            link_id = to_ours.get(item["linkId"], item["linkId"])
            answers[link_id] = values[0] if len(values) == 1 else values
    return instrument, answers


def score_questionnaire_response(resource: Mapping[str, Any]) -> Score:
    instrument, answers = read_questionnaire_response(resource)
    return instrument.score(answers)
