"""What the client said: their answers item by item, in the questionnaire's own words.

For the session and episode pages, to those who treat or supervise the client only (the views
decide). Free text (comments, the preparation's focus) is decrypted only when `free_text` is
asked for, i.e. for readers of clinical text. Critical items (an instrument's flag rules, e.g.
PHQ-9 item 9 from "Several days") come first and are marked, as in OQ-Analyst's critical-items
view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rapport import instruments
from rapport.checkins import preferences as prefs
from rapport.checkins.models import Respondent, Response
from rapport.goals.models import Goal

CNIP = prefs.CNIP
NEUTRAL = prefs.NEUTRAL


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str  # the answer's published wording, or the number given
    critical: bool = False  # a critical item answered at or above its flag threshold
    text: bool = False  # free text in the client's own words


@dataclass
class Block:
    """One questionnaire as the client answered it."""

    instrument_id: str
    name: str  # "PHQ-9"
    title: str
    stem: str  # the published stem, e.g. "Over the last 2 weeks, ..."
    when: str  # "Before the session", ...
    submitted_at: datetime
    total: float | None
    severity: str
    answers: list[Answer] = field(default_factory=list)
    correction: bool = False

    @property
    def critical(self) -> list[Answer]:
        return [a for a in self.answers if a.critical]

    @property
    def comments(self) -> list[Answer]:
        return [a for a in self.answers if a.text]


def _wording(item: instruments.Item, value: Any) -> str:
    if item.kind == "choice":
        for option in item.options:
            if option.value == value or option.code == value:
                return option.display
    if item.kind == "boolean":
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if item.kind == "integer" and item.min_value is not None and item.max_value is not None:
        return f"{value} (of {instruments.model._fmt(item.min_value)} to " \
               f"{instruments.model._fmt(item.max_value)})"
    return str(value)


def _question(item: instruments.Item) -> str:
    text = item.text
    return text[: text.rindex(" (")] if text.endswith(")") and " (" in text else text


def _instrument(response: Response, goals: dict[str, str]) -> instruments.Instrument | None:
    try:
        instrument = instruments.load(response.instrument_id)
    except (instruments.UnknownInstrument, instruments.DefinitionError):
        return None
    if instrument.template is not None:
        keys = [k for k in response.answers if k]
        return instrument.expand({k: goals.get(k, "A goal") for k in keys})
    return instrument


def block(response: Response, *, free_text: bool, goals: dict[str, str] | None = None) -> Block | None:
    """One response as the client answered it; None for an instrument no longer installed."""
    instrument = _instrument(response, goals or {})
    if instrument is None:
        return None
    critical = instrument.critical_items
    stored = dict(response.answers)
    if free_text:
        stored.update(response.free_text_answers)
    answers, first = [], []
    for item in instrument.items:
        if item.template or stored.get(item.link_id) in (None, ""):
            continue
        value = stored[item.link_id]
        least = critical.get(item.link_id)
        flagged = least is not None and isinstance(value, int | float) and value >= least
        answer = Answer(_question(item), _wording(item, value), flagged, item.kind == "text")
        (first if flagged else answers).append(answer)
    when = response.checkin.get_when_display() if response.checkin_id else "Outside a check-in"
    return Block(
        instrument_id=instrument.id,
        name=instrument.short_title,
        title=instrument.title,
        stem=" ".join(d.text for d in instrument.displays if d.position == 0),
        when=when,
        submitted_at=response.submitted_at,
        total=response.total,
        severity=response.severity_label,
        answers=first + answers,
        correction=response.supersedes_id is not None,
    )


def goal_titles(responses: Iterable[Response]) -> dict[str, str]:
    """{linkId: title} of the goals rated in these responses (titles are encrypted text)."""
    episodes = {r.episode_id for r in responses if r.instrument_id == "goal-progress"}
    if not episodes:
        return {}
    return {g.link_id: g.title for g in Goal.objects.filter(episode_id__in=episodes)}


def client_responses(queryset) -> list[Response]:
    """The client's current answers (a superseded answer gives way to its correction)."""
    rows = list(
        queryset.filter(respondent=Respondent.CLIENT)
        .select_related("checkin")
        .order_by("submitted_at", "id")
    )
    replaced = {r.supersedes_id for r in rows if r.supersedes_id}
    return [r for r in rows if r.pk not in replaced]


def in_measure_order(responses: list[Response]) -> list[Response]:
    """The answers as they came, except that the measures every page lists in one order (PHQ-9
    before GAD-7, `instruments.display_order`) take that order within each check-in, whichever
    the practice's schedule asked first; everything else keeps its place."""
    out = list(responses)
    slots: dict[Any, list[int]] = {}
    for i, r in enumerate(out):
        if r.instrument_id in instruments.SHOWN_FIRST:
            slots.setdefault(r.checkin_id or ("alone", r.pk), []).append(i)
    for places in slots.values():
        by_id = {out[i].instrument_id: out[i] for i in places}
        if len(by_id) == len(places):  # one answer per measure in the check-in
            for i, instrument_id in zip(places, instruments.display_order(list(by_id)), strict=True):
                out[i] = by_id[instrument_id]
    return out


def blocks(responses: list[Response], *, free_text: bool) -> list[Block]:
    goals = goal_titles(responses) if free_text else {}
    out = [block(r, free_text=free_text, goals=goals) for r in in_measure_order(responses)]
    return [b for b in out if b is not None]


# The C-NIP preferences: rapport.checkins.preferences (the agenda and alerts use them too).
Preference = prefs.Preference
preferences = prefs.preferences
