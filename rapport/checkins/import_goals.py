"""Goal ratings in an import (rapport.checkins.imports): the goals they rate become the client's
goals here, and the ratings their goal-progress responses.

A goal-progress response answers one episode's goal questionnaire (`goal-progress-<episode>` in
our exports): each item is a goal, its linkId the goal's id over there and its text the goal's
words followed by the rating's anchors. The words come from that Questionnaire in the file, or
else from the response's own item texts; a rating of a goal whose words are in neither, or that
is not an item of its Questionnaire, or whose words cannot be a goal's title here, is refused
with the reason. Each goal is created once per client (its code derived from the client and the
goal's id over there, so importing the file again finds it), agreed and active, in the episode
the ratings go to, dated from its first rating.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapport import instruments
from rapport.checkins.registry import goal_importer
from rapport.checkins.services.answers import GOAL_PROGRESS, goal_instrument
from rapport.instruments import fhir
from rapport.instruments.translation import languages, localize


@dataclass
class NewGoal:
    where: str
    code: str
    title: str
    at: datetime  # its first rating
    owner: Any  # the NewClient (created by this import) or the Client it belongs to
    existing: bool = False  # imported before: found, not created

    def describe(self, who: str) -> str:
        return f"goal {self.title!r} of {who} (agreed, active; rated from {self.at:%Y-%m-%d})"


def _anchors() -> list[str]:
    """The rating anchors our goal items end with, in every language of the definition."""
    template = instruments.load(GOAL_PROGRESS)
    found = []
    for language in [None, *languages(template)]:
        text = localize(template, language).template.text
        if text.endswith(")") and " (" in text:
            found.append(text[text.rindex(" ("):])
    return found


def wording(text: Any) -> str:
    """A goal item's text without the rating's anchors: the goal's own words."""
    text = str(text or "").strip()
    for anchor in _anchors():
        text = text.removesuffix(anchor)
    return text.strip()


def _texts(resource: Mapping[str, Any], questionnaires: Mapping[str, Any]) -> tuple[dict, bool]:
    """{linkId: goal words} from the response's Questionnaire in the file (True) or its items."""
    url = str(resource.get("questionnaire", "")).split("|", 1)[0]
    q = questionnaires.get(url)
    source = (q or {}).get("item", []) if q else resource.get("item", [])
    return {i["linkId"]: wording(i.get("text")) for i in source if "linkId" in i}, q is not None


def plan(where: str, resource: Mapping[str, Any], answers: Mapping[str, Any], *,
         questionnaires: Mapping[str, Any], owner: Any, owner_key: str, organisation,
         authored: datetime, goals: dict[str, NewGoal]
         ) -> tuple[dict, dict, instruments.Instrument] | str:
    """`owner_key` names the client as the file knows them (their Patient), so that the same
    goal of the same client gets the same code in every import.

    (answers keyed by the goals here, {their linkId: words}, the questionnaire of those
    goals) for the ratings, with the goals they need added to `goals` (by code); or why the
    response is refused."""
    importer = goal_importer()
    if importer is None:
        return "goal ratings cannot be imported: this installation keeps no goals"
    texts, from_q = _texts(resource, questionnaires)
    for link_id in answers:
        if link_id not in texts:
            where_from = "its Questionnaire in this file" if from_q else "the response"
            return f"goal {link_id!r} is not an item of {where_from}, so its words are unknown"
        if not texts[link_id]:
            return f"goal {link_id!r} has no words (no item text) to make a goal of"
        if (why := importer.check(texts[link_id])) is not None:
            return f"goal {link_id!r}: {why}"
    score = goal_instrument({k: texts[k] for k in answers}).score(dict(answers))
    if score.errors:
        return "; ".join(str(e) for e in score.errors)[:1000]
    mapped: dict[str, Any] = {}
    words: dict[str, str] = {}
    for link_id, rating in answers.items():
        code = fhir.stable_id("goal", organisation.pk, owner_key, link_id)
        new = goals.setdefault(code, NewGoal(where, code, texts[link_id], authored, owner))
        new.at = min(new.at, authored)
        mapped[code], words[code] = rating, texts[link_id]
    return mapped, words, goal_instrument(words)


def mark_existing(goals: Mapping[str, NewGoal], organisation) -> None:
    importer = goal_importer()
    if importer is None or not goals:
        return
    found = importer.existing(organisation, set(goals))
    for code, goal in goals.items():
        goal.existing = code in found


def create(goal: NewGoal, episode, *, actor_label: str) -> None:
    importer = goal_importer()
    assert importer is not None  # noqa: S101 (planning refused goal ratings without one)
    importer.create(episode, goal.code, goal.title, at=goal.at, actor_label=actor_label)
