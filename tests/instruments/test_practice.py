"""A practice's own instrument from RAPPORT_INSTRUMENTS_DIR, and definitions that are refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from rapport.instruments import DefinitionError, instrument_ids, load, parse, reliable_change_amount

from .conftest import made_up, part


def test_a_practice_instrument_is_listed_and_loaded(practice_dir: Path) -> None:
    assert "wellbeing-demo" in instrument_ids() and "phq9" in instrument_ids()
    instrument = load("wellbeing-demo")
    assert instrument.title == "Made-up wellbeing check" and instrument.version == "2"
    assert instrument.validated is False


def test_prorating_up_to_the_published_limit(practice_dir: Path) -> None:
    instrument = load("wellbeing-demo")
    full = instrument.score({"wb-1": 1, "wb-2": "often", "wb-3": 2, "wb-4": 0})
    assert full.total == 1 + (4 - 3) + 2 + 0 and full.complete
    one_missing = instrument.score({"wb-1": 1, "wb-2": 0, "wb-3": 2})
    assert one_missing.total == pytest.approx((1 + 4 + 2) * 4 / 3, abs=0.01)
    assert not one_missing.complete and not one_missing.errors
    two_missing = instrument.score({"wb-1": 1, "wb-2": 0})
    assert two_missing.total is None
    assert [str(e) for e in two_missing.errors] == [
        "too many missing items for a total: 2 missing (wb-3, wb-4); allowed: at most 1 missing"
    ]


def test_reverse_keying_applies_to_scores_not_flags(practice_dir: Path) -> None:
    instrument = load("wellbeing-demo")
    low = instrument.score({"wb-1": 0, "wb-2": 4, "wb-3": 0, "wb-4": 3})
    assert low.total == 0 + 0 + 0 + 3
    assert low.subscales["first-pair"] == 0
    assert low.flags == ["risk:wb-4"]
    assert low.severity is not None and low.severity.label == "low"


def test_decimal_integer_and_yes_no_items(practice_dir: Path) -> None:
    instrument = load("wellbeing-demo")
    base = {"wb-1": 0, "wb-2": 4, "wb-3": 0, "wb-4": 0}
    score = instrument.score({**base, "wb-rating": 7.5, "wb-yes": True, "wb-count": 3})
    assert score.subscales["extras"] == 8.5
    errors = instrument.score({**base, "wb-rating": 7.55, "wb-yes": "yes", "wb-count": 2.5}).errors
    assert [(e.link_id, e.message) for e in errors] == [
        ("wb-rating", "too many decimal places: 7.55"),
        ("wb-yes", "text given where true or false is expected: 'yes'"),
        ("wb-count", "a decimal given where a whole number is expected: 2.5"),
    ]
    assert errors[0].allowed == "a number from 0 to 10 with at most 1 decimal place"
    assert errors[1].allowed == "true (yes) or false (no)"


def test_reliable_change_from_sd_and_reliability(practice_dir: Path) -> None:
    p = load("wellbeing-demo").psychometrics
    assert p is not None
    assert p.reliable_change == pytest.approx(reliable_change_amount(4, 0.8))
    assert "Jacobson & Truax" in p.source["reliable_change"]


def test_a_practice_cannot_redefine_a_shipped_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = made_up()
    data["id"] = "phq9"
    (tmp_path / "phq9.json").write_text(json.dumps(data))
    monkeypatch.setenv("RAPPORT_INSTRUMENTS_DIR", str(tmp_path))
    with pytest.raises(DefinitionError, match="already defined"):
        instrument_ids()


def test_a_missing_practice_directory_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_INSTRUMENTS_DIR", "/nonexistent/rapport-instruments")
    with pytest.raises(DefinitionError, match="not a directory"):
        load("phq9")


def test_the_file_name_must_match_the_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "other.json").write_text(json.dumps(made_up()))
    monkeypatch.setenv("RAPPORT_INSTRUMENTS_DIR", str(tmp_path))
    with pytest.raises(DefinitionError, match="named after its id"):
        load("other")


def test_broken_json_is_a_definition_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken.json").write_text("{")
    monkeypatch.setenv("RAPPORT_INSTRUMENTS_DIR", str(tmp_path))
    with pytest.raises(DefinitionError, match="cannot read a JSON definition"):
        load("broken")


def scoring_parts(data: dict[str, Any]) -> list[dict[str, Any]]:
    return next(e for e in data["extension"] if e["url"].endswith("scoring"))["extension"]


def psych_parts(data: dict[str, Any]) -> list[dict[str, Any]]:
    return next(e for e in data["extension"] if e["url"].endswith("psychometrics"))["extension"]


def broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(made_up())
    change(data)
    return data


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda d: d.update(resourceType="Patient"), "not a FHIR Questionnaire"),
        (lambda d: d.update(item=[]), "no items"),
        (lambda d: d["item"].append(dict(d["item"][0])), "used twice"),
        (lambda d: d["item"][0].update(type="attachment"), "not supported"),
        (
            lambda d: d["item"][0]["answerOption"][0]["valueCoding"].pop("extension"),
            "has no ordinalValue",
        ),
        (lambda d: d["item"][0].update(answerOption=[]), "needs answerOption"),
        (lambda d: scoring_parts(d)[0]["extension"].pop(3), "needs a missingSource"),
        (lambda d: scoring_parts(d).pop(6), "severity bands need a bandsSource"),
        (
            lambda d: scoring_parts(d)[0]["extension"][0].update(valueString="wb-1 nope"),
            "not a scorable item",
        ),
        (
            lambda d: scoring_parts(d)[0]["extension"][0].update(valueString="wb-1 wb-note"),
            "not a scorable item",
        ),
        (lambda d: scoring_parts(d)[3].update(valueString="wb-note"), "needs a bounded item"),
        (lambda d: psych_parts(d).pop(6), "cutoff needs a cutoffSource"),
        (lambda d: psych_parts(d).pop(1), "sd and reliability go together"),
        (lambda d: psych_parts(d)[0].update(valueCode="sideways"), "direction must be"),
        (
            lambda d: psych_parts(d).append(part("reliableChange", valueDecimal=3)),
            "reliableChange needs a reliableChangeSource",
        ),
    ],
)
def test_invalid_definitions_are_refused_with_a_reason(change: Any, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        parse(broken(change))
