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

from django.utils.translation import gettext, gettext_lazy

from rapport import instruments
from rapport.alerts.suggestions import COMPONENT_LABELS
from rapport.monitoring.explain import dropout_reason, why

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)

# Keys hidden from the table: internal identifiers, repeated elsewhere, or unreadable.
HIDDEN = frozenset({"response", "instrument", "client_instrument", "model", "band", "item",
                    "component_z", "criterion", "rule", "level", "sd_floor_applied"})

# Lazy: read in the reader's language when the table is drawn.
_ = gettext_lazy
LABELS = {
    "score": _("Score this session"),
    "usual": _("This client's usual level"),
    "sd": _("Usual spread (standard deviation)"),
    "z": _("Distance from the usual level, in standard deviations"),
    "drop": _("Fall from the usual level"),
    "earlier_sessions": _("Earlier sessions it is compared with"),
    "intake": _("Score at the start"),
    "change": _("Change since the start"),
    "reliable_change": _("Reliable-change amount"),
    "expected": _("Expected score at this session"),
    "tolerance_sd": _("Expected spread at this session"),
    "warning_beyond": _("Outside the expected range beyond"),
    "strong_beyond": _("Far outside the expected range beyond"),
    "strong_since": _("Far outside since session"),
    "cutoff": _("Cut-off"),
    "therapist": _("Therapist's rating"),
    "client": _("Client's rating"),
    "gap": _("Difference"),
    "margin": _("Difference that counts"),
    "rupture_session": _("Drop at session"),
    "rupture_score": _("Score at the drop"),
    "sessions_to_repair": _("Sessions until back to usual"),
    "back_since": _("Back to usual since session"),
    "repaired_session": _("Back to usual at session"),
    "weakest_component": _("Weakest part"),
    "components": _("Each part this session"),
    "component_drops": _("Fall of each part from its usual level"),
    "drop_distance": _("Overall fall of the parts"),
    "threshold": _("Fall that counts"),
    "component": _("Part of the relationship"),
    "probability": _("Estimated chance"),
    "value": _("Answer"),
    "flags": _("Flags"),
    # Why a relationship finding fired, in the client's own numbers (rapport.monitoring).
    "rupture_below": _("A rupture at or below"),
    "dip_below": _("A notice at or below"),
    "min_drop": _("Smallest fall that counts on this scale"),
    "sd_prior": _("Usual spread of this practice's clients"),
    "unrated_sessions_before": _("Sessions without a rating just before"),
    "previous_rated_session": _("The rated session before"),
    "base_rate": _("Usual chance for clients in general"),
    "warning_at": _("A warning from"),
    "best_gain": _("Largest rise over these ratings"),
    "scale_max": _("Top of the rating scale"),
}
# The same key read differently for one kind of finding (its "z" is against the expected
# score, not the client's usual level).
KIND_LABELS = {("not_on_track", "z"): _("Distance from the expected score, in expected spreads")}
PROBABILITIES = frozenset({"probability", "base_rate", "warning_at"})


def instrument_name(instrument_id: Any) -> str:
    try:
        return instruments.load(str(instrument_id)).short_title
    except (instruments.UnknownInstrument, instruments.DefinitionError):
        return gettext("a questionnaire")


def _num(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".removesuffix(".0")
    return str(value)


def _part(name: Any) -> str:
    return str(COMPONENT_LABELS.get(str(name), str(name).replace("_", " ").replace("-", " ")))


def _and(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return gettext("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


def why_sentence(kind: str, evidence: Any) -> str | None:
    """Why the finding fired, in the client's own numbers and the reader's language; a part of
    the relationship by its name ("active listening"), not its key ("listening")."""
    e = dict(evidence) if isinstance(evidence, dict) else {}
    if e.get("component"):
        e["component"] = _part(e["component"]).capitalize()
    return why(kind, e, gettext)


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


def _risk_headline(e: dict, name: str) -> str:
    """Which answer raised the risk alert: the item's number and the client's own answer."""
    _ = gettext
    found = risk_answer(e)
    if found:
        number = re.sub(r"\D", "", str(e.get("item"))[-2:]) or ""
        values = {"instrument": found[0], "number": number, "answer": found[2]}
        if number:
            return _("Risk answer on %(instrument)s item %(number)s: “%(answer)s”") % values
        return _("Risk answer on %(instrument)s: “%(answer)s”") % values
    return _("Risk answer on %(instrument)s") % {"instrument": name or _("a questionnaire")}


def _off_track_headline(e: dict, name: str, subject: str, session_number: int | None) -> str:
    """The score against the range expected by this session, on the side that is worse."""
    _ = gettext
    score, edge = e.get("score"), e.get("warning_beyond")
    if score is not None and edge is not None:
        values = {"name": name, "score": _num(score), "edge": _num(edge),
                  "session": session_number}
        if _lower_is_better(e.get("instrument") or subject):
            if session_number:
                return _("%(name)s score %(score)s – above the range expected by session "
                         "%(session)s (up to %(edge)s)") % values
            return _("%(name)s score %(score)s – above the range expected (up to %(edge)s)") \
                % values
        if session_number:
            return _("%(name)s score %(score)s – below the range expected by session "
                     "%(session)s (from %(edge)s)") % values
        return _("%(name)s score %(score)s – below the range expected (from %(edge)s)") % values
    if session_number:
        return _("%(name)s is not improving as expected by session %(session)s") % {
            "name": name, "session": session_number}
    return _("%(name)s is not improving as expected") % {"name": name}


def headline(kind: str, subject: str, evidence: Any, session_number: int | None = None) -> str:
    """One sentence saying what was found, in words a therapist uses (in the reader's language)."""
    e = evidence if isinstance(evidence, dict) else {}
    name = instrument_name(e.get("instrument") or subject) if (e.get("instrument") or subject) else ""
    _ = gettext
    if kind == "risk":
        return _risk_headline(e, name)
    if kind == "not_on_track":
        return _off_track_headline(e, name, subject, session_number)
    if kind == "reliable_deterioration":
        score, intake = e.get("score"), e.get("intake")
        if score is not None and intake is not None:
            return _("%(name)s score %(score)s – reliably worse than at the start (%(intake)s)") % {
                "name": name, "score": _num(score), "intake": _num(intake)}
        return _("%(name)s reliably worse than at the start") % {"name": name}
    if kind == "rupture":
        parts = _dropped_parts(e)
        what = _and(parts).capitalize() if parts else _("The relationship rating")
        return _("%(what)s dropped well below this client's usual ratings") % {"what": what}
    if kind == "rupture_repaired":
        since = e.get("rupture_session")
        if since:
            return _("The relationship ratings are back to this client's usual level after the "
                     "drop at session %(session)s") % {"session": since}
        return _("The relationship ratings are back to this client's usual level")
    if kind == "alliance_dip":
        return _("The relationship rating dipped below this client's usual ratings")
    if kind == "alliance_low":
        score = e.get("score")
        if score is not None:
            return _("Low relationship rating: %(score)s") % {"score": _num(score)}
        return _("Low relationship rating")
    if kind == "component_drop":
        part = e.get("component")
        what = _part(part).capitalize() if part else _("One part of the relationship")
        return _("%(part)s dropped below this client's usual rating") % {"part": what}
    if kind == "discrepancy":
        return _("You rated the session well above how the client did")
    if kind == "dropout_risk":
        chance = e.get("probability")
        if isinstance(chance, int | float):
            return _("Risk of dropping out (about %(chance)s in 100)") % {
                "chance": round(chance * 100)}
        return _("Risk of dropping out")
    if kind == "goal_stagnation":
        return _("A shared goal has not moved over the last ratings")
    return kind.replace("_", " ").capitalize() + (f" ({name})" if name else "")


def _value(key: str, value: Any) -> str | None:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if key in PROBABILITIES and isinstance(value, int | float):
        return gettext("about %(chance)s in 100") % {"chance": round(value * 100)}
    if isinstance(value, str):
        if UUID.match(value):
            return None
        if key in ("weakest_component", "component"):
            return _part(value)
        return value.replace("_", " ")
    if isinstance(value, list | tuple):
        shown = [v for v in (_value(key, x) for x in value) if v]
        return ", ".join(shown) or "—"
    if isinstance(value, dict):  # never a Python dict as text: its numbers, labelled
        return ", ".join(f"{_label(k).lower()} {v}" for k, v in
                         ((k, _value(str(k), x)) for k, x in value.items()
                          if str(k) not in HIDDEN) if v is not None) or "—"
    return _num(value)


def _label(key: str, kind: str | None = None) -> str:
    label = KIND_LABELS.get((kind, key)) or LABELS.get(key)
    return str(label or key.replace("_", " ").replace("-", " ").capitalize())


def _reason_rows(reasons: list) -> list[tuple[str, str]]:
    """Each reason behind a drop-out risk as a row: what it is, and how much it weighs."""
    rows = []
    for reason in reasons:
        if isinstance(reason, dict):
            ratio = reason.get("odds_ratio")
            weight = (gettext("odds × %(ratio)s") % {"ratio": _num(ratio)}
                      if isinstance(ratio, int | float) else "—")
            rows.append((dropout_reason(reason, gettext), weight))
    return rows


def evidence_rows(evidence: Any, kind: str | None = None) -> list[tuple[str, str]]:
    """The evidence as (what, value) rows for the numbers table; a group of parts (components)
    becomes one row ("trust 3, empathy 4, ..."), the reasons behind a drop-out risk one row
    each, the practice's prior spread its number; identifiers are left out."""
    if not isinstance(evidence, dict):
        return []
    rows = []
    for key, value in evidence.items():
        key = str(key)
        if key in HIDDEN:
            continue
        label = _label(key, kind)
        if key == "reasons" and isinstance(value, list):
            rows += _reason_rows(value)
            continue
        if key == "sd_prior" and isinstance(value, dict):
            value = value.get("sd")
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
