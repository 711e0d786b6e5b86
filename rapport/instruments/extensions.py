"""The parts of an instrument definition every reader needs: the extension URLs, the error a
bad definition raises, and small checked accessors for (complex) FHIR extensions."""

from __future__ import annotations

import math
from typing import Any

# FHIR core and SDC extensions we read.
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
MAX_DECIMAL_PLACES = "http://hl7.org/fhir/StructureDefinition/maxDecimalPlaces"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"

# Ours. Complex extensions use short names for their parts, as FHIR recommends.
SCORING = "urn:rapport:instrument:scoring"
PSYCHOMETRICS = "urn:rapport:instrument:psychometrics"
ALLIANCE = "urn:rapport:instrument:alliance"
VALIDATED = "urn:rapport:instrument:validated"
RESPONDENT = "urn:rapport:instrument:respondent"
SOURCE = "urn:rapport:instrument:source"
TEMPLATE = "urn:rapport:instrument:template"

# FHIR's own: a translation of the string element it is attached to (on `_text`, `_display`, ...).
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
# Ours: one per translated language, saying where the translation comes from and whether it is
# validated (parts: lang, source, validated).
TRANSLATION_SOURCE = "urn:rapport:instrument:translation"


class DefinitionError(ValueError):
    """A definition file that is not a valid instrument."""


def ext_value(ext: dict[str, Any], where: str) -> Any:
    values = [v for k, v in ext.items() if k.startswith("value")]
    if len(values) != 1 or "extension" in ext:
        raise DefinitionError(f"{where}: extension {ext.get('url')!r} needs exactly one value[x]")
    return values[0]


def ext_parts(ext: dict[str, Any], where: str) -> dict[str, list[Any]]:
    """The parts of a complex extension as name -> list of values (or of sub-extensions)."""
    parts: dict[str, list[Any]] = {}
    for sub in ext.get("extension", []):
        url = sub.get("url")
        if not isinstance(url, str):
            raise DefinitionError(f"{where}: an extension part has no url")
        parts.setdefault(url, []).append(sub if "extension" in sub else ext_value(sub, where))
    return parts


def one_part(parts: dict[str, list[Any]], name: str, where: str, default: Any = None) -> Any:
    values = parts.get(name)
    if not values:
        return default
    if len(values) > 1:
        raise DefinitionError(f"{where}: {name!r} is given more than once")
    return values[0]


def ext_all(element: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [e for e in element.get("extension", []) if e.get("url") == url]


def ext_simple(element: dict[str, Any], url: str, where: str, default: Any = None) -> Any:
    found = ext_all(element, url)
    if not found:
        return default
    if len(found) > 1:
        raise DefinitionError(f"{where}: extension {url!r} is given more than once")
    return ext_value(found[0], where)


def as_number(value: Any, what: str, where: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DefinitionError(f"{where}: {what} must be a number, not {value!r}")
    return value


def as_text(value: Any, what: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DefinitionError(f"{where}: {what} must be non-empty text, not {value!r}")
    return value


def sourced(parts: dict[str, list[Any]], name: str, where: str) -> tuple[float | None, str | None]:
    """A clinical number and its source; the number is refused without one."""
    value = one_part(parts, name, where)
    if value is None:
        return None, None
    value = as_number(value, name, where)
    source = one_part(parts, name + "Source", where)
    if source is None:
        raise DefinitionError(f"{where}: {name} needs a {name}Source naming where it comes from")
    return value, as_text(source, name + "Source", where)
