"""Reading an instrument definition: a FHIR R4 Questionnaire with our scoring extensions.

The format is documented in README.md next to this file. Every definition is checked when it is
loaded; a problem raises `DefinitionError` naming the file and what is wrong. Every clinical
number (reliable change, cutoff, response, remission, severity bands, a missing-item allowance,
a flag) must carry its source, so none can be added silently (`scoring_rules`); every
translation must say where it comes from and cover every text (`translation`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rapport.instruments import translation
from rapport.instruments.extensions import (
    ALLIANCE,
    MAX_DECIMAL_PLACES,
    MAX_VALUE,
    MIN_VALUE,
    ORDINAL_VALUE,
    PSYCHOMETRICS,
    RESPONDENT,
    SCORING,
    SOURCE,
    TEMPLATE,
    VALIDATED,
    DefinitionError,
    as_number,
    as_text,
    ext_all,
    ext_simple,
    ext_value,
)
from rapport.instruments.model import Display, Instrument, Item, ItemKind, Option
from rapport.instruments.scoring_rules import psychometrics, scoring

__all__ = ["DefinitionError", "load_file", "parse"]

KINDS: dict[str, ItemKind] = {
    "choice": "choice",
    "integer": "integer",
    "decimal": "decimal",
    "boolean": "boolean",
    "string": "text",
    "text": "text",
}


def _options(raw: dict[str, Any], kind: ItemKind, where: str) -> tuple[Option, ...]:
    """A choice item's answer options, each with a distinct code and whole ordinal value."""
    if kind != "choice":
        if raw.get("answerOption"):
            raise DefinitionError(f"{where}: only choice items take answerOption")
        return ()
    raw_options = raw.get("answerOption")
    if not raw_options:
        raise DefinitionError(f"{where}: a choice item needs answerOption")
    options: list[Option] = []
    for option in raw_options:
        coding = option.get("valueCoding")
        if not isinstance(coding, dict):
            raise DefinitionError(f"{where}: each answerOption needs a valueCoding")
        code = as_text(coding.get("code"), "answerOption code", where)
        ordinal = ext_simple(coding, ORDINAL_VALUE, where)
        if ordinal is None:
            ordinal = ext_simple(option, ORDINAL_VALUE, where)
        if ordinal is None:
            raise DefinitionError(f"{where}: option {code!r} has no ordinalValue")
        options.append(
            Option(code, str(coding.get("display", code)), as_number(ordinal, "ordinalValue", where))
        )
    codes = [o.code for o in options]
    values = [o.value for o in options]
    if len(set(codes)) != len(codes) or len(set(values)) != len(values):
        raise DefinitionError(f"{where}: option codes and ordinal values must be distinct")
    if any(isinstance(o.value, float) and not o.value.is_integer() for o in options):
        raise DefinitionError(f"{where}: ordinal values must be whole numbers")
    return tuple(Option(o.code, o.display, int(o.value)) for o in options)


def _bounds(raw: dict[str, Any], kind: ItemKind, where: str) -> tuple[Any, Any, Any]:
    """(minValue, maxValue, maxDecimalPlaces) of a number item; (None, None, None) otherwise."""
    min_value = ext_simple(raw, MIN_VALUE, where)
    max_value = ext_simple(raw, MAX_VALUE, where)
    places = ext_simple(raw, MAX_DECIMAL_PLACES, where)
    if kind not in ("integer", "decimal") and (min_value, max_value, places) != (None,) * 3:
        raise DefinitionError(f"{where}: bounds only apply to integer and decimal items")
    if min_value is not None:
        min_value = as_number(min_value, "minValue", where)
    if max_value is not None:
        max_value = as_number(max_value, "maxValue", where)
    if min_value is not None and max_value is not None and min_value > max_value:
        raise DefinitionError(f"{where}: minValue is above maxValue")
    if places is not None and (kind != "decimal" or not isinstance(places, int) or places < 0):
        raise DefinitionError(f"{where}: maxDecimalPlaces must be a whole number on a decimal item")
    return min_value, max_value, places


def _item(raw: dict[str, Any], where: str) -> Item | None:
    """One question; None for a display item (a stem or instruction)."""
    link_id = as_text(raw.get("linkId"), "linkId", where)
    where = f"{where}: item {link_id}"
    fhir_type = raw.get("type")
    if fhir_type == "display":
        return None
    if fhir_type == "group" or raw.get("item"):
        raise DefinitionError(f"{where}: groups and nested items are not supported")
    if fhir_type not in KINDS:
        raise DefinitionError(
            f"{where}: type {fhir_type!r} is not supported; use one of {', '.join(KINDS)}"
        )
    kind = KINDS[fhir_type]
    if raw.get("repeats"):
        raise DefinitionError(f"{where}: repeating items are not supported")
    min_value, max_value, places = _bounds(raw, kind, where)
    return Item(
        link_id=link_id,
        text=str(raw.get("text", "")),
        kind=kind,
        fhir_type=fhir_type,
        required=bool(raw.get("required", False)),
        options=_options(raw, kind, where),
        min_value=min_value,
        max_value=max_value,
        decimal_places=places,
        template=bool(ext_simple(raw, TEMPLATE, where, False)),
    )


def _items(raw_items: Any, where: str) -> tuple[list[Item], list[Display]]:
    if not isinstance(raw_items, list) or not raw_items:
        raise DefinitionError(f"{where}: no items")
    items: list[Item] = []
    displays: list[Display] = []
    seen: set[str] = set()
    for raw in raw_items:
        if not isinstance(raw, dict):
            raise DefinitionError(f"{where}: each item must be an object")
        link_id = raw.get("linkId")
        if link_id in seen:
            raise DefinitionError(f"{where}: linkId {link_id!r} is used twice")
        seen.add(link_id)
        item = _item(raw, where)
        if item is not None:
            items.append(item)
        else:  # a stem or instruction: kept word for word, shown before the next item
            text = as_text(raw.get("text"), "display text", f"{where}: item {link_id}")
            displays.append(Display(link_id, text, len(items)))
    if sum(i.template for i in items) > 1:
        raise DefinitionError(f"{where}: at most one template item")
    return items, displays


def parse(data: Any, where: str = "definition") -> Instrument:
    """Build an `Instrument` from a parsed Questionnaire, checking everything we rely on."""
    if not isinstance(data, dict) or data.get("resourceType") != "Questionnaire":
        raise DefinitionError(f"{where}: not a FHIR Questionnaire (resourceType)")
    instrument_id = as_text(data.get("id"), "id", where)
    where = f"{where} ({instrument_id})"
    if data.get("status") not in ("draft", "active", "retired", "unknown"):
        raise DefinitionError(f"{where}: status must be draft, active, retired or unknown")
    items, displays = _items(data.get("item"), where)
    scoring_ext = ext_all(data, SCORING)
    psych_ext = ext_all(data, PSYCHOMETRICS)
    if len(scoring_ext) > 1 or len(psych_ext) > 1:
        raise DefinitionError(f"{where}: scoring and psychometrics are given once each")
    rules = scoring(scoring_ext[0] if scoring_ext else None, {i.link_id: i for i in items}, where)
    psych = psychometrics(psych_ext[0] if psych_ext else None, rules.total is not None, where)
    translation.check(data, where)
    return Instrument(
        id=instrument_id,
        title=as_text(data.get("title"), "title", where),
        version=as_text(data.get("version"), "version", where),
        items=items,
        scoring=rules,
        psychometrics=psych,
        alliance=bool(ext_simple(data, ALLIANCE, where, False)),
        validated=bool(ext_simple(data, VALIDATED, where, True)),
        respondent=ext_simple(data, RESPONDENT, where),
        sources=[as_text(ext_value(e, where), "source", where) for e in ext_all(data, SOURCE)],
        definition=data,
        displays=displays,
    )


def load_file(path: Path) -> Instrument:
    """Read and check one definition file; its name must be `<id>.json`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DefinitionError(f"{path}: cannot read a JSON definition: {e}") from None
    instrument = parse(data, str(path))
    if instrument.id != path.stem:
        raise DefinitionError(f"{path}: the file must be named after its id, {instrument.id}.json")
    return instrument
