"""Instrument translations, kept in the definition itself (README.md next to this file).

Each text a respondent reads carries its translations in FHIR's translation extension on the
element's `_`-sibling: the Questionnaire's `_title`, each item's `_text` and each answer option's
`_display`; in our scoring extension, a band, total or subscale carries the same extension as a
part beside its `label`:

    "text": "How have you been since last time?",
    "_text": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/translation",
                             "extension": [{"url": "lang", "valueCode": "es"},
                                           {"url": "content", "valueString": "¿Cómo ha ..."}]}]}

A language is offered only when the definition also says where its text comes from (our
`urn:rapport:instrument:translation` extension: lang, source, validated) and translates every
text; a definition that declares a language and misses one text does not load. Translating
changes only words: linkIds, codes, ordinal values and scoring rules are shared, so the same
answers give the same scores in every language.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from rapport.instruments.extensions import (
    SCORING,
    TRANSLATION,
    TRANSLATION_SOURCE,
    DefinitionError,
    as_text,
    ext_all,
    ext_parts,
    one_part,
)
from rapport.instruments.model import Instrument, Scale, Scoring


@dataclass(frozen=True)
class TranslationSource:
    """Where one language's text comes from, and whether that translation is validated."""

    language: str
    source: str
    validated: bool


def translations_of(element: dict[str, Any], key: str | None, where: str) -> dict[str, str]:
    """{language: text} from the translation extensions on `element["_" + key]`, or among the
    parts of `element` itself (a band or scale of the scoring extension) when `key` is None."""
    holder = element if key is None else element.get(f"_{key}")
    if holder is None:
        return {}
    if not isinstance(holder, dict):
        raise DefinitionError(f"{where}: _{key} must be an object with extensions")
    found: dict[str, str] = {}
    for ext in ext_all(holder, TRANSLATION):
        parts = ext_parts(ext, where)
        language = as_text(one_part(parts, "lang", where), "translation lang", where)
        if language in found:
            raise DefinitionError(f"{where}: two {language} translations of {key}")
        found[language] = as_text(one_part(parts, "content", where), "translation content", where)
    return found


def sources(data: dict[str, Any], where: str) -> dict[str, TranslationSource]:
    """The languages a definition declares, each with its source."""
    declared: dict[str, TranslationSource] = {}
    for ext in ext_all(data, TRANSLATION_SOURCE):
        parts = ext_parts(ext, where)
        language = as_text(one_part(parts, "lang", where), "translation lang", where)
        validated = one_part(parts, "validated", where)
        if not isinstance(validated, bool):
            raise DefinitionError(f"{where}: the {language} translation must say validated true/false")
        source = as_text(one_part(parts, "source", where), "translation source", where)
        if language in declared:
            raise DefinitionError(f"{where}: the {language} translation is declared twice")
        declared[language] = TranslationSource(language, source, validated)
    return declared


def _label_parts(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """("band:<n>" or "scale:<name>", the band or scale) for each labelled one in the scoring
    extension."""
    for scoring in ext_all(data, SCORING):
        bands = 0
        for part in scoring.get("extension", []):
            labelled = any(p.get("url") == "label" for p in part.get("extension", []))
            if part.get("url") == "band":
                if labelled:
                    yield f"band:{bands}", part
                bands += 1
            elif part.get("url") in ("total", "subscale") and labelled:
                name = next((p.get("valueCode") for p in part.get("extension", [])
                             if p.get("url") == "name"), "total")
                yield f"scale:{name}", part


def _texts(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """(what, element, key) for every text a respondent reads."""
    yield "title", data, "title"
    for item in data.get("item", []):
        link_id = item.get("linkId")
        yield f"item:{link_id}", item, "text"
        for option in item.get("answerOption", []):
            coding = option.get("valueCoding", {})
            if "display" in coding:
                yield f"option:{link_id}:{coding.get('code')}", coding, "display"
    for what, part in _label_parts(data):
        yield what, part, None


def table(data: dict[str, Any], language: str, where: str) -> dict[str, str]:
    """{what: translated text} for `language`; every text must have one."""
    texts: dict[str, str] = {}
    for what, element, key in _texts(data):
        found = translations_of(element, key, f"{where}: {what}")
        if language not in found:
            raise DefinitionError(f"{where}: {what} has no {language} translation")
        texts[what] = found[language]
    return texts


def check(data: dict[str, Any], where: str) -> dict[str, TranslationSource]:
    """The declared languages, after checking each translates every text and that no text is
    translated into a language the definition does not declare (with its source)."""
    declared = sources(data, where)
    for what, element, key in _texts(data):
        extra = set(translations_of(element, key, f"{where}: {what}")) - set(declared)
        if extra:
            raise DefinitionError(
                f"{where}: {what} is translated into {', '.join(sorted(extra))} without a "
                f"{TRANSLATION_SOURCE} extension saying where that translation comes from")
    for language in declared:
        table(data, language, where)
    return declared


def languages(instrument: Instrument) -> dict[str, TranslationSource]:
    """The languages this instrument can be shown in besides its own, with their sources."""
    return sources(dict(instrument.definition), instrument.id)


def _match(language: str, offered: dict[str, TranslationSource]) -> str | None:
    tag = language.strip().lower()
    if tag in offered:
        return tag
    primary = tag.split("-")[0]
    return primary if primary in offered else None


def localize(instrument: Instrument, language: str | None) -> Instrument:
    """The instrument with every text in `language`, or the instrument itself when it has no
    translation into it (the caller then says so: never a machine translation)."""
    if not language:
        return instrument
    found = _match(language, languages(instrument))
    return instrument if found is None else _localized(instrument, found)


@lru_cache(maxsize=128)
def _localized(instrument: Instrument, language: str) -> Instrument:
    texts = table(dict(instrument.definition), language, instrument.id)
    items = [
        replace(item, text=texts[f"item:{item.link_id}"],
                options=tuple(replace(o, display=texts.get(f"option:{item.link_id}:{o.code}",
                                                           o.display)) for o in item.options))
        for item in instrument.items
    ]
    displays = [replace(d, text=texts[f"item:{d.link_id}"]) for d in instrument.displays]
    return instrument.replace(title=texts["title"], items=items, displays=displays,
                              scoring=_scoring(instrument.scoring, texts))


def _scoring(scoring: Scoring, texts: dict[str, str]) -> Scoring:
    def scale(s: Scale | None) -> Scale | None:
        return None if s is None else replace(s, label=texts.get(f"scale:{s.name}", s.label))

    return replace(
        scoring, total=scale(scoring.total),
        subscales=tuple(scale(s) for s in scoring.subscales),
        bands=tuple(replace(b, label=texts.get(f"band:{n}", b.label))
                    for n, b in enumerate(scoring.bands)),
    )
