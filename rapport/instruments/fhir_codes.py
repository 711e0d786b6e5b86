"""The building blocks of rapport.instruments.fhir: our systems and namespaces, stable ids,
narrative, validation with `fhir.resources` (imported only when used), and the LOINC codes a
definition gives (panel, items, answers), each with its source in the definition."""

from __future__ import annotations

import html
import uuid
from collections.abc import Mapping
from typing import Any

from rapport.instruments.model import Instrument, Item, Option

SCORE_SYSTEM = "urn:rapport:score"
ANSWER_SYSTEM = "urn:rapport:answers"
CANONICAL_PREFIX = "urn:rapport:questionnaire:"
LOINC = "http://loinc.org"
ANSWER_CODE = "urn:rapport:instrument:answerCode"
TEMPLATE = "urn:rapport:instrument:template"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
# Ids derived from ours (Observations, Questionnaires in a Bundle) are UUIDv5 in this namespace,
# so the same response exports with the same ids every time.
NAMESPACE = uuid.UUID("6f1d3c1e-7a52-4d38-9a0b-2f0c5b6d9e41")
SURVEY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
            "display": "Survey",
        }
    ]
}


def stable_id(*parts: object) -> str:
    """A UUID (as text) that is always the same for the same parts."""
    return str(uuid.uuid5(NAMESPACE, "/".join(str(p) for p in parts)))


def narrative(*lines: str) -> dict[str, str]:
    """Generated narrative: each line a paragraph, escaped (FHIR's XHTML div)."""
    body = "".join(f"<p>{html.escape(line, quote=False)}</p>" for line in lines if line)
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


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


def canonical(instrument: Instrument, id: str | None = None) -> str:
    return f"{CANONICAL_PREFIX}{id or instrument.id}|{instrument.version}"


# -- codes ------------------------------------------------------------------------------------


def _parts(ext: Mapping[str, Any]) -> dict[str, Any]:
    return {
        p["url"]: next(v for k, v in p.items() if k.startswith("value"))
        for p in ext.get("extension", [])
    }


def loinc_answers(instrument: Instrument) -> dict[str, dict[str, str]]:
    """Our answer code -> its LOINC coding, from the definition's answerCode extensions."""
    result = {}
    for ext in instrument.definition.get("extension", []):
        if ext.get("url") == ANSWER_CODE:
            parts = _parts(ext)
            coding = parts["coding"]
            result[parts["code"]] = {
                "system": coding["system"], "code": coding["code"], "display": coding["display"]
            }
    return result


def _raw_items(instrument: Instrument) -> dict[str, dict[str, Any]]:
    return {i["linkId"]: i for i in instrument.definition.get("item", []) if "linkId" in i}


def item_codes(instrument: Instrument) -> dict[str, str]:
    """linkId -> the item's LOINC code, for items the definition codes with LOINC."""
    result = {}
    for link_id, raw in _raw_items(instrument).items():
        for coding in raw.get("code", []):
            if coding.get("system") == LOINC:
                result[link_id] = coding["code"]
    return result


def _option_coding(instrument: Instrument, item: Item, option: Option,
                   loinc: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    if option.code in loinc:
        return dict(loinc[option.code])
    system = ANSWER_SYSTEM
    for raw in _raw_items(instrument).get(item.link_id, {}).get("answerOption", []):
        coding = raw.get("valueCoding", {})
        if coding.get("code") == option.code:
            system = coding.get("system", ANSWER_SYSTEM)
    return {"system": system, "code": option.code, "display": option.display}
