"""Reading an instrument definition: a FHIR R4 Questionnaire with our scoring extensions.

The format is documented in README.md next to this file. Every definition is checked when it is
loaded; a problem raises `DefinitionError` naming the file and what is wrong. Every clinical
number (reliable change, cutoff, response, remission, severity bands, a missing-item allowance,
a flag) must carry its source, so none can be added silently.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from rapport.instruments.model import (
    Band,
    Display,
    FlagRule,
    Instrument,
    Item,
    ItemKind,
    Option,
    Scale,
    Scoring,
)
from rapport.instruments.psychometrics import Psychometrics

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

KINDS: dict[str, ItemKind] = {
    "choice": "choice",
    "integer": "integer",
    "decimal": "decimal",
    "boolean": "boolean",
    "string": "text",
    "text": "text",
}


class DefinitionError(ValueError):
    """A definition file that is not a valid instrument."""


def _value(ext: dict[str, Any], where: str) -> Any:
    values = [v for k, v in ext.items() if k.startswith("value")]
    if len(values) != 1 or "extension" in ext:
        raise DefinitionError(f"{where}: extension {ext.get('url')!r} needs exactly one value[x]")
    return values[0]


def _parts(ext: dict[str, Any], where: str) -> dict[str, list[Any]]:
    """The parts of a complex extension as name -> list of values (or of sub-extensions)."""
    parts: dict[str, list[Any]] = {}
    for sub in ext.get("extension", []):
        url = sub.get("url")
        if not isinstance(url, str):
            raise DefinitionError(f"{where}: an extension part has no url")
        parts.setdefault(url, []).append(sub if "extension" in sub else _value(sub, where))
    return parts


def _one(parts: dict[str, list[Any]], name: str, where: str, default: Any = None) -> Any:
    values = parts.get(name)
    if not values:
        return default
    if len(values) > 1:
        raise DefinitionError(f"{where}: {name!r} is given more than once")
    return values[0]


def _extensions(element: dict[str, Any], url: str) -> list[dict[str, Any]]:
    return [e for e in element.get("extension", []) if e.get("url") == url]


def _simple(element: dict[str, Any], url: str, where: str, default: Any = None) -> Any:
    found = _extensions(element, url)
    if not found:
        return default
    if len(found) > 1:
        raise DefinitionError(f"{where}: extension {url!r} is given more than once")
    return _value(found[0], where)


def _number(value: Any, what: str, where: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DefinitionError(f"{where}: {what} must be a number, not {value!r}")
    return value


def _text(value: Any, what: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DefinitionError(f"{where}: {what} must be non-empty text, not {value!r}")
    return value


def _sourced(parts: dict[str, list[Any]], name: str, where: str) -> tuple[float | None, str | None]:
    """A clinical number and its source; the number is refused without one."""
    value = _one(parts, name, where)
    if value is None:
        return None, None
    value = _number(value, name, where)
    source = _one(parts, name + "Source", where)
    if source is None:
        raise DefinitionError(f"{where}: {name} needs a {name}Source naming where it comes from")
    return value, _text(source, name + "Source", where)


def _item(raw: dict[str, Any], where: str) -> Item | None:
    link_id = _text(raw.get("linkId"), "linkId", where)
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
    options: list[Option] = []
    if kind == "choice":
        raw_options = raw.get("answerOption")
        if not raw_options:
            raise DefinitionError(f"{where}: a choice item needs answerOption")
        for option in raw_options:
            coding = option.get("valueCoding")
            if not isinstance(coding, dict):
                raise DefinitionError(f"{where}: each answerOption needs a valueCoding")
            code = _text(coding.get("code"), "answerOption code", where)
            ordinal = _simple(coding, ORDINAL_VALUE, where)
            if ordinal is None:
                ordinal = _simple(option, ORDINAL_VALUE, where)
            if ordinal is None:
                raise DefinitionError(f"{where}: option {code!r} has no ordinalValue")
            options.append(
                Option(
                    code, str(coding.get("display", code)), _number(ordinal, "ordinalValue", where)
                )
            )
        codes = [o.code for o in options]
        values = [o.value for o in options]
        if len(set(codes)) != len(codes) or len(set(values)) != len(values):
            raise DefinitionError(f"{where}: option codes and ordinal values must be distinct")
        if any(isinstance(o.value, float) and not o.value.is_integer() for o in options):
            raise DefinitionError(f"{where}: ordinal values must be whole numbers")
        options = [Option(o.code, o.display, int(o.value)) for o in options]
    elif raw.get("answerOption"):
        raise DefinitionError(f"{where}: only choice items take answerOption")
    min_value = _simple(raw, MIN_VALUE, where)
    max_value = _simple(raw, MAX_VALUE, where)
    places = _simple(raw, MAX_DECIMAL_PLACES, where)
    if kind not in ("integer", "decimal") and (min_value, max_value, places) != (None,) * 3:
        raise DefinitionError(f"{where}: bounds only apply to integer and decimal items")
    if min_value is not None:
        min_value = _number(min_value, "minValue", where)
    if max_value is not None:
        max_value = _number(max_value, "maxValue", where)
    if min_value is not None and max_value is not None and min_value > max_value:
        raise DefinitionError(f"{where}: minValue is above maxValue")
    if places is not None and (kind != "decimal" or not isinstance(places, int) or places < 0):
        raise DefinitionError(f"{where}: maxDecimalPlaces must be a whole number on a decimal item")
    return Item(
        link_id=link_id,
        text=str(raw.get("text", "")),
        kind=kind,
        fhir_type=fhir_type,
        required=bool(raw.get("required", False)),
        options=tuple(options),
        min_value=min_value,
        max_value=max_value,
        decimal_places=places,
        template=bool(_simple(raw, TEMPLATE, where, False)),
    )


def _links(value: Any, what: str, where: str) -> tuple[str, ...]:
    return tuple(_text(value, what, where).split())


def _scale(ext: dict[str, Any], name: str, where: str) -> Scale:
    parts = _parts(ext, where)
    where = f"{where}: {name}"
    method = _one(parts, "method", where, "sum")
    if method not in ("sum", "mean"):
        raise DefinitionError(f"{where}: method must be sum or mean, not {method!r}")
    any_answered = _one(parts, "anyAnswered", where, False)
    max_missing = _one(parts, "maxMissing", where, 0)
    if not isinstance(max_missing, int) or isinstance(max_missing, bool) or max_missing < 0:
        raise DefinitionError(f"{where}: maxMissing must be a whole number >= 0")
    source = _one(parts, "missingSource", where)
    if (max_missing or any_answered) and source is None:
        raise DefinitionError(f"{where}: a missing-item allowance needs a missingSource")
    multiplier = _number(_one(parts, "multiplier", where, 1), "multiplier", where)
    round_prorated = _one(parts, "roundProrated", where, False)
    if not isinstance(round_prorated, bool):
        raise DefinitionError(f"{where}: roundProrated must be true or false")
    code = None
    coding = _one(parts, "code", where)
    if coding is not None:
        if not isinstance(coding, dict) or not coding.get("system") or not coding.get("code"):
            raise DefinitionError(f"{where}: code must be a Coding with system and code")
        code = (coding["system"], coding["code"], coding.get("display", ""))
    return Scale(
        name=name,
        label=str(_one(parts, "label", where, name)),
        items=_links(_one(parts, "items", where, ""), "items", where) if "items" in parts else (),
        method=method,
        multiplier=multiplier,
        max_missing=None if any_answered else max_missing,
        missing_source=source,
        code=code,
        round_prorated=round_prorated,
    )


def _scoring(ext: dict[str, Any] | None, items: dict[str, Item], where: str) -> Scoring:
    if ext is None:
        return Scoring()
    parts = _parts(ext, where)
    template = next((i for i in items.values() if i.template), None)
    total = None
    if "total" in parts:
        total = _scale(_one(parts, "total", where), "total", where)
    subscales = []
    for sub in parts.get("subscale", []):
        name = _text(_one(_parts(sub, where), "name", where), "subscale name", where)
        subscales.append(_scale(sub, name, where))
    names = [s.name for s in subscales]
    if len(set(names)) != len(names):
        raise DefinitionError(f"{where}: subscale names must be distinct")
    for scale in [total, *subscales] if total else subscales:
        if not scale.items and template is None:
            raise DefinitionError(f"{where}: {scale.name} lists no items")
        for link_id in scale.items:
            item = items.get(link_id)
            if item is None or not item.scorable:
                raise DefinitionError(
                    f"{where}: {scale.name} uses {link_id!r}, which is not a scorable item"
                )
            if item.value_range is None and scale.method == "sum" and scale.max_missing:
                raise DefinitionError(f"{where}: cannot prorate unbounded item {link_id!r}")
    reverse = (
        frozenset(_links(_one(parts, "reverse", where, ""), "reverse", where))
        if ("reverse" in parts)
        else frozenset()
    )
    for link_id in reverse:
        item = items.get(link_id)
        if item is None or item.value_range is None:
            raise DefinitionError(f"{where}: reverse-keyed {link_id!r} needs a bounded item")
    bands = []
    for band in parts.get("band", []):
        bp = _parts(band, where)
        bands.append(
            Band(
                _number(_one(bp, "min", where), "band min", where),
                _text(_one(bp, "label", where), "band label", where),
            )
        )
    if any(a.min >= b.min for a, b in zip(bands, bands[1:], strict=False)):
        raise DefinitionError(f"{where}: bands must be in rising order of min")
    bands_source = _one(parts, "bandsSource", where)
    if bands and bands_source is None:
        raise DefinitionError(f"{where}: severity bands need a bandsSource")
    if bands and total is None:
        raise DefinitionError(f"{where}: severity bands need a total")
    flags = []
    for flag in parts.get("flag", []):
        fp = _parts(flag, where)
        link_id = _text(_one(fp, "item", where), "flag item", where)
        if link_id not in items or not items[link_id].scorable:
            raise DefinitionError(f"{where}: flag on {link_id!r}, which is not a scorable item")
        flags.append(
            FlagRule(
                name=_text(_one(fp, "name", where), "flag name", where),
                item=link_id,
                min=_number(_one(fp, "min", where), "flag min", where),
                source=_text(_one(fp, "source", where), "flag source", where),
            )
        )
    return Scoring(
        total=total,
        subscales=tuple(subscales),
        reverse=reverse,
        bands=tuple(bands),
        bands_source=bands_source,
        flags=tuple(flags),
    )


def _psychometrics(ext: dict[str, Any] | None, has_total: bool, where: str) -> Psychometrics | None:
    if ext is None:
        return None
    if not has_total:
        raise DefinitionError(f"{where}: psychometrics need a total")
    parts = _parts(ext, where)
    where = f"{where}: psychometrics"
    direction = _one(parts, "direction", where)
    if direction not in ("lower-is-better", "higher-is-better"):
        raise DefinitionError(f"{where}: direction must be lower-is-better or higher-is-better")
    source: dict[str, str] = {}
    reliable_change, rc_source = _sourced(parts, "reliableChange", where)
    sd, sd_source = _sourced(parts, "sd", where)
    reliability, r_source = _sourced(parts, "reliability", where)
    if reliable_change is not None and (sd is not None or reliability is not None):
        raise DefinitionError(f"{where}: give reliableChange or sd and reliability, not both")
    if (sd is None) != (reliability is None):
        raise DefinitionError(f"{where}: sd and reliability go together")
    if sd is not None and reliability is not None:
        from rapport.instruments.psychometrics import reliable_change_amount

        try:
            reliable_change = reliable_change_amount(sd, reliability)
        except ValueError as e:
            raise DefinitionError(f"{where}: {e}") from None
        rc_source = f"Jacobson & Truax (1991) from SD ({sd_source}) and reliability ({r_source})"
    if reliable_change is not None:
        if reliable_change <= 0:
            raise DefinitionError(f"{where}: reliableChange must be > 0")
        source["reliable_change"] = str(rc_source)
    cutoff, cutoff_source = _sourced(parts, "cutoff", where)
    if cutoff_source:
        source["cutoff"] = cutoff_source
    response, response_source = _sourced(parts, "responseFraction", where)
    if response is not None:
        if not 0 < response < 1:
            raise DefinitionError(f"{where}: responseFraction must be between 0 and 1")
        source["response_fraction"] = str(response_source)
    remission, remission_source = _sourced(parts, "remissionBelow", where)
    if remission_source:
        source["remission_below"] = remission_source
    higher = direction == "higher-is-better"
    if higher and (response is not None or remission is not None):
        raise DefinitionError(
            f"{where}: response and remission are defined for lower-is-better scales only"
        )
    notes = tuple(_text(n, "note", where) for n in parts.get("note", []))
    return Psychometrics(
        higher_is_better=higher,
        reliable_change=reliable_change,
        cutoff=cutoff,
        response_fraction=response,
        remission_below=remission,
        sd=sd,
        reliability=reliability,
        source=source,
        notes=notes,
    )


def parse(data: Any, where: str = "definition") -> Instrument:
    """Build an `Instrument` from a parsed Questionnaire, checking everything we rely on."""
    if not isinstance(data, dict) or data.get("resourceType") != "Questionnaire":
        raise DefinitionError(f"{where}: not a FHIR Questionnaire (resourceType)")
    instrument_id = _text(data.get("id"), "id", where)
    where = f"{where} ({instrument_id})"
    if data.get("status") not in ("draft", "active", "retired", "unknown"):
        raise DefinitionError(f"{where}: status must be draft, active, retired or unknown")
    raw_items = data.get("item")
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
            text = _text(raw.get("text"), "display text", f"{where}: item {link_id}")
            displays.append(Display(link_id, text, len(items)))
    by_id = {i.link_id: i for i in items}
    if sum(i.template for i in items) > 1:
        raise DefinitionError(f"{where}: at most one template item")
    scoring_ext = _extensions(data, SCORING)
    psych_ext = _extensions(data, PSYCHOMETRICS)
    if len(scoring_ext) > 1 or len(psych_ext) > 1:
        raise DefinitionError(f"{where}: scoring and psychometrics are given once each")
    scoring = _scoring(scoring_ext[0] if scoring_ext else None, by_id, where)
    psychometrics = _psychometrics(
        psych_ext[0] if psych_ext else None, scoring.total is not None, where
    )
    sources = [_text(_value(e, where), "source", where) for e in _extensions(data, SOURCE)]
    return Instrument(
        id=instrument_id,
        title=_text(data.get("title"), "title", where),
        version=_text(data.get("version"), "version", where),
        items=items,
        scoring=scoring,
        psychometrics=psychometrics,
        alliance=bool(_simple(data, ALLIANCE, where, False)),
        validated=bool(_simple(data, VALIDATED, where, True)),
        respondent=_simple(data, RESPONDENT, where),
        sources=sources,
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
