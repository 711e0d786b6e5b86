"""Alerts in plain words: a headline per finding, and its numbers labelled for people.

"PHQ-9 score 18 – above the range expected by session 6 (up to 14)" rather than "Not on track
(phq9)"; "Trust and empathy dropped well below this client's usual ratings" rather than thirty
rows of z-values. The numbers stay one click away (the alert page's <details>), labelled.

Evidence comes from the monitoring core, whose keys grow (e.g. the "why" numbers); everything
here reads them defensively: a key that is missing leaves a shorter sentence, never an error,
and a key we do not know is shown with a readable label.
"""

from __future__ import annotations

import re
from typing import Any

from rapport import instruments
from rapport.alerts.suggestions import COMPONENT_LABELS

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)

# Keys hidden from the table: internal identifiers, repeated elsewhere, or unreadable.
HIDDEN = frozenset({"response", "instrument", "client_instrument", "model", "band", "item",
                    "component_z", "criterion", "rule", "level", "sd_floor_applied"})

LABELS = {
    "score": "Score this session",
    "usual": "This client's usual level",
    "sd": "Usual spread (standard deviation)",
    "z": "Distance from the usual level, in standard deviations",
    "drop": "Fall from the usual level",
    "earlier_sessions": "Earlier sessions it is compared with",
    "intake": "Score at the start",
    "change": "Change since the start",
    "reliable_change": "Reliable-change amount",
    "expected": "Expected score at this session",
    "tolerance_sd": "Expected spread at this session",
    "warning_beyond": "Outside the expected range beyond",
    "strong_beyond": "Far outside the expected range beyond",
    "strong_since": "Far outside since session",
    "cutoff": "Cut-off",
    "therapist": "Therapist's rating",
    "client": "Client's rating",
    "gap": "Difference",
    "margin": "Difference that counts",
    "rupture_session": "Drop at session",
    "rupture_score": "Score at the drop",
    "sessions_to_repair": "Sessions until back to usual",
    "back_since": "Back to usual since session",
    "repaired_session": "Back to usual at session",
    "weakest_component": "Weakest part",
    "components": "Each part this session",
    "component_drops": "Fall of each part from its usual level",
    "drop_distance": "Overall fall of the parts",
    "threshold": "Fall that counts",
    "component": "Part of the relationship",
    "probability": "Estimated chance",
    "value": "Answer",
    "flags": "Flags",
    # Why a relationship finding fired, in the client's own numbers (rapport.monitoring).
    "rupture_below": "A rupture at or below",
    "dip_below": "A notice at or below",
    "min_drop": "Smallest fall that counts on this scale",
    "sd_prior": "Usual spread of this practice's clients",
    "unrated_sessions_before": "Sessions without a rating just before",
}


def instrument_name(instrument_id: Any) -> str:
    try:
        return instruments.load(str(instrument_id)).short_title
    except (instruments.UnknownInstrument, instruments.DefinitionError):
        return "a questionnaire"


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".removesuffix(".0")
    return str(value)


def _part(name: Any) -> str:
    return COMPONENT_LABELS.get(str(name), str(name).replace("_", " ").replace("-", " "))


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _lower_is_better(instrument_id: Any) -> bool:
    try:
        psy = instruments.load(str(instrument_id)).psychometrics
    except (instruments.UnknownInstrument, instruments.DefinitionError):
        return True
    return psy is None or not psy.higher_is_better


def _dropped_parts(evidence: dict) -> list[str]:
    """The parts of the relationship that fell most, weakest first (at most two)."""
    z = evidence.get("component_z")
    if isinstance(z, dict) and z:
        low = sorted((v, k) for k, v in z.items() if isinstance(v, int | float) and v <= -1)
        if low:
            return [_part(k) for _, k in low[:2]]
    weakest = evidence.get("weakest_component")
    return [_part(weakest)] if weakest else []


def risk_answer(evidence: dict) -> tuple[str, str, str] | None:
    """(instrument name, the item's published wording, the answer's wording) of a risk alert."""
    item_id, value = evidence.get("item"), evidence.get("value")
    if not isinstance(item_id, str):
        return None
    try:
        instrument = instruments.load(str(evidence.get("instrument")))
        item = instrument.item(item_id)
    except (instruments.UnknownInstrument, instruments.DefinitionError, KeyError):
        return None
    answer = next((o.display for o in item.options if o.value == value), _num(value))
    return instrument.short_title, item.text, answer


def headline(kind: str, subject: str, evidence: Any, session_number: int | None = None) -> str:
    """One sentence saying what was found, in words a therapist uses."""
    e = evidence if isinstance(evidence, dict) else {}
    name = instrument_name(e.get("instrument") or subject) if (e.get("instrument") or subject) else ""
    at = f" by session {session_number}" if session_number else ""
    if kind == "risk":
        found = risk_answer(e)
        if found:
            number = re.sub(r"\D", "", str(e.get("item"))[-2:]) or ""
            return f"Risk answer on {found[0]}{f' item {number}' if number else ''}: “{found[2]}”"
        return f"Risk answer on {name or 'a questionnaire'}"
    if kind == "not_on_track":
        score, edge = e.get("score"), e.get("warning_beyond")
        if score is not None and edge is not None:
            side = "above" if _lower_is_better(e.get("instrument") or subject) else "below"
            limit = "up to" if side == "above" else "from"
            return (f"{name} score {_num(score)} – {side} the range expected{at} "
                    f"({limit} {_num(edge)})")
        return f"{name} is not improving as expected{at}"
    if kind == "reliable_deterioration":
        score, intake = e.get("score"), e.get("intake")
        if score is not None and intake is not None:
            return (f"{name} score {_num(score)} – reliably worse than at the start "
                    f"({_num(intake)})")
        return f"{name} reliably worse than at the start"
    if kind == "rupture":
        parts = _dropped_parts(e)
        what = _and(parts).capitalize() if parts else "The relationship rating"
        return f"{what} dropped well below this client's usual ratings"
    if kind == "rupture_repaired":
        since = e.get("rupture_session")
        return ("The relationship ratings are back to this client's usual level"
                + (f" after the drop at session {since}" if since else ""))
    if kind == "alliance_dip":
        return "The relationship rating dipped below this client's usual ratings"
    if kind == "alliance_low":
        score = e.get("score")
        return "Low relationship rating" + (f": {_num(score)}" if score is not None else "")
    if kind == "component_drop":
        part = e.get("component")
        return f"{_part(part).capitalize() if part else 'One part of the relationship'} " \
               "dropped below this client's usual rating"
    if kind == "discrepancy":
        return "You rated the session well above how the client did"
    if kind == "dropout_risk":
        chance = e.get("probability")
        if isinstance(chance, int | float):
            return f"Risk of dropping out (about {round(chance * 100)} in 100)"
        return "Risk of dropping out"
    if kind == "goal_stagnation":
        return "A shared goal has not moved over the last ratings"
    return kind.replace("_", " ").capitalize() + (f" ({name})" if name else "")


def _value(key: str, value: Any) -> str | None:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key == "probability" and isinstance(value, int | float):
        return f"about {round(value * 100)} in 100"
    if isinstance(value, str):
        if UUID.match(value):
            return None
        if key in ("weakest_component", "component"):
            return _part(value)
        return value.replace("_", " ")
    if isinstance(value, list | tuple):
        shown = [v for v in (_value(key, x) for x in value) if v]
        return ", ".join(shown) or "—"
    return _num(value)


def evidence_rows(evidence: Any) -> list[tuple[str, str]]:
    """The evidence as (what, value) rows for the numbers table; a group of parts (components)
    becomes one row ("trust 3, empathy 4, ..."), identifiers are left out."""
    if not isinstance(evidence, dict):
        return []
    rows = []
    for key, value in evidence.items():
        key = str(key)
        if key in HIDDEN:
            continue
        label = LABELS.get(key) or key.replace("_", " ").replace("-", " ").capitalize()
        if isinstance(value, dict):
            shown = ", ".join(f"{_part(k)} {_value(k, v)}" for k, v in value.items()
                              if _value(k, v) is not None)
            if shown:
                rows.append((label, shown))
            continue
        text = _value(key, value)
        if text is not None:
            rows.append((label, text))
    return rows
