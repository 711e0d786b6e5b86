"""Instrument translations: in the definition, complete, sourced, and scored identically."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.instruments import DefinitionError, instrument_ids, load, parse
from rapport.instruments.translation import TRANSLATION, languages, localize

TRANSLATED = [(i, lang) for i in instrument_ids() for lang in languages(load(i))]
# Validated screeners whose official Spanish text could not be verified (README, "Languages"):
# they stay in English, with a notice, never a machine translation.
ENGLISH_ONLY = ["gad7", "gad2", "pcl5", "cnip"]


def answer(item, draw) -> Any:
    if item.kind == "choice":
        return draw(st.sampled_from([o.code for o in item.options] + [None]))
    if item.kind == "boolean":
        return draw(st.sampled_from([True, False, None]))
    if item.kind in ("integer", "decimal"):
        return draw(st.one_of(st.none(), st.integers(int(item.min_value), int(item.max_value))))
    return draw(st.sampled_from(["", "Algo que decir", None]))


def verdict(score) -> tuple:
    return (score.complete, score.total, score.subscales, score.flags,
            score.severity.band if score.severity else None, [e.link_id for e in score.errors])


def test_our_own_instruments_are_translated_into_spanish_and_say_it_is_not_validated():
    ours = {i: languages(load(i)) for i in
            ("relationship-checkin", "session-prep", "therapist-reflection", "goal-progress")}
    for instrument_id, offered in ours.items():
        assert offered["es"].validated is False, instrument_id
        assert "not a validated translation" in offered["es"].source


@pytest.mark.parametrize("instrument_id", ["phq9", "phq2"])
def test_the_phq_screeners_speak_their_official_spanish_and_say_where_it_comes_from(instrument_id):
    offered = languages(load(instrument_id))["es"]
    assert offered.validated is True
    assert "official Spanish (USA) translation" in offered.source
    assert "Pfizer" in offered.source
    assert "written by the Rapport project" in offered.source  # our labels, said apart


def test_the_phq2_asks_the_phq9s_first_two_questions_word_for_word_in_spanish():
    phq9, phq2 = localize(load("phq9"), "es"), localize(load("phq2"), "es")
    assert [i.text for i in phq2.items] == [i.text for i in phq9.items[:2]]
    assert [o.display for o in phq2.items[0].options] == [o.display for o in phq9.items[0].options]


@pytest.mark.parametrize(("instrument_id", "language"), TRANSLATED)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_same_answers_score_the_same_in_every_language(instrument_id, language, data):
    english = load(instrument_id)
    if english.template is not None:
        english = english.expand({"g1": "Sleep better", "g2": "Walk daily"})
    translated = localize(load(instrument_id), language)
    if translated.template is not None:
        translated = translated.expand({"g1": "Sleep better", "g2": "Walk daily"})
    answers = {i.link_id: answer(i, data.draw) for i in english.items}
    answers = {k: v for k, v in answers.items() if v is not None}
    assert verdict(translated.score(answers)) == verdict(english.score(answers))


@pytest.mark.parametrize(("instrument_id", "language"), TRANSLATED)
def test_every_text_is_translated_and_nothing_else_changes(instrument_id, language):
    english, translated = load(instrument_id), localize(load(instrument_id), language)
    assert translated.title != english.title
    for a, b in zip(english.items, translated.items, strict=True):
        assert (a.link_id, a.kind, a.required, a.min_value, a.max_value) == (
            b.link_id, b.kind, b.required, b.min_value, b.max_value)
        assert [(o.code, o.value) for o in a.options] == [(o.code, o.value) for o in b.options]
        assert a.text != b.text
    assert english.scoring.reverse == translated.scoring.reverse
    assert english.psychometrics == translated.psychometrics


@pytest.mark.parametrize("instrument_id", ENGLISH_ONLY)
def test_an_instrument_without_a_translation_falls_back_to_itself(instrument_id):
    instrument = load(instrument_id)
    assert localize(instrument, "es") is instrument


def test_a_regional_tag_finds_its_language():
    assert localize(load("session-prep"), "es-MX").title == "Preparación para su sesión"


def definition(instrument_id="session-prep") -> dict:
    return copy.deepcopy(json.loads(json.dumps(load(instrument_id).definition)))


def test_a_declared_language_missing_one_text_does_not_load():
    data = definition()
    del data["item"][1]["_text"]
    with pytest.raises(DefinitionError, match="item:since-last has no es translation"):
        parse(data)


def test_a_translation_without_its_source_does_not_load():
    data = definition()
    data["extension"] = [e for e in data["extension"]
                         if e["url"] != "urn:rapport:instrument:translation"]
    with pytest.raises(DefinitionError, match="without a urn:rapport:instrument:translation"):
        parse(data)


def test_a_translation_must_say_whether_it_is_validated():
    data = definition()
    declared = next(e for e in data["extension"] if e["url"] == "urn:rapport:instrument:translation")
    declared["extension"] = [p for p in declared["extension"] if p["url"] != "validated"]
    with pytest.raises(DefinitionError, match="must say validated"):
        parse(data)


def test_two_translations_into_one_language_do_not_load():
    data = definition()
    ext = data["_title"]["extension"]
    ext.append(copy.deepcopy(ext[0]))
    assert ext[0]["url"] == TRANSLATION
    with pytest.raises(DefinitionError, match="two es translations of title"):
        parse(data)
