"""A made-up practice instrument, written to a temporary RAPPORT_INSTRUMENTS_DIR."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rapport import instruments

ORD = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
MINV = "http://hl7.org/fhir/StructureDefinition/minValue"
MAXV = "http://hl7.org/fhir/StructureDefinition/maxValue"
PLACES = "http://hl7.org/fhir/StructureDefinition/maxDecimalPlaces"
U = "urn:rapport:instrument:"


def part(url: str, **value: Any) -> dict[str, Any]:
    ((key, v),) = value.items()
    return {"url": url, key: v}


def made_up() -> dict[str, Any]:
    """'wellbeing-demo': 4 choice items 0-4 (item 2 reverse-keyed), prorated with up to one
    missing, a 0-10 decimal rating, a yes/no item, free text; bands, a flag, psychometrics."""
    options = [
        {"valueCoding": {"code": c, "display": c, "extension": [part(ORD, valueDecimal=v)]}}
        for c, v in [("never", 0), ("rarely", 1), ("sometimes", 2), ("often", 3), ("always", 4)]
    ]
    items: list[dict[str, Any]] = [
        {
            "linkId": f"wb-{n}",
            "text": f"Item {n}",
            "type": "choice",
            "required": True,
            "answerOption": options,
        }
        for n in range(1, 5)
    ]
    items.append(
        {
            "linkId": "wb-rating",
            "text": "Rating",
            "type": "decimal",
            "extension": [
                part(MINV, valueDecimal=0),
                part(MAXV, valueDecimal=10),
                part(PLACES, valueInteger=1),
            ],
        }
    )
    items.append(
        {
            "linkId": "wb-count",
            "text": "How many days",
            "type": "integer",
            "extension": [part(MINV, valueInteger=0), part(MAXV, valueInteger=7)],
        }
    )
    items.append({"linkId": "wb-yes", "text": "Yes or no", "type": "boolean"})
    items.append({"linkId": "wb-note", "text": "Anything else?", "type": "text"})
    scoring = {
        "url": U + "scoring",
        "extension": [
            {
                "url": "total",
                "extension": [
                    part("items", valueString="wb-1 wb-2 wb-3 wb-4"),
                    part("method", valueCode="sum"),
                    part("maxMissing", valueInteger=1),
                    part("missingSource", valueString="Made up for tests"),
                ],
            },
            {
                "url": "subscale",
                "extension": [
                    part("name", valueCode="first-pair"),
                    part("items", valueString="wb-1 wb-2"),
                    part("method", valueCode="mean"),
                ],
            },
            {
                "url": "subscale",
                "extension": [
                    part("name", valueCode="extras"),
                    part("items", valueString="wb-rating wb-yes"),
                    part("method", valueCode="sum"),
                ],
            },
            part("reverse", valueString="wb-2"),
            {
                "url": "band",
                "extension": [part("min", valueDecimal=0), part("label", valueString="low")],
            },
            {
                "url": "band",
                "extension": [part("min", valueDecimal=8), part("label", valueString="high")],
            },
            part("bandsSource", valueString="Made up for tests"),
            {
                "url": "flag",
                "extension": [
                    part("name", valueString="risk:wb-4"),
                    part("item", valueString="wb-4"),
                    part("min", valueDecimal=3),
                    part("source", valueString="Made up for tests"),
                ],
            },
        ],
    }
    psychometrics = {
        "url": U + "psychometrics",
        "extension": [
            part("direction", valueCode="lower-is-better"),
            part("sd", valueDecimal=4),
            part("sdSource", valueString="Made up"),
            part("reliability", valueDecimal=0.8),
            part("reliabilitySource", valueString="Made up"),
            part("cutoff", valueDecimal=8),
            part("cutoffSource", valueString="Made up"),
        ],
    }
    return {
        "resourceType": "Questionnaire",
        "id": "wellbeing-demo",
        "url": "urn:rapport:questionnaire:wellbeing-demo",
        "version": "2",
        "title": "Made-up wellbeing check",
        "status": "draft",
        "extension": [part(U + "validated", valueBoolean=False), scoring, psychometrics],
        "item": items,
    }


@pytest.fixture
def practice_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "wellbeing-demo.json").write_text(json.dumps(made_up()))
    monkeypatch.setenv("RAPPORT_INSTRUMENTS_DIR", str(tmp_path))
    yield tmp_path
    instruments.clear_cache()
