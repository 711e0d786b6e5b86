"""The questionnaire a client answers, and checking and keeping answers (drafts).

goal-progress is expanded into one item per goal the client rates now.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport import instruments
from rapport.audit.services import record
from rapport.care.models import CareEpisode
from rapport.checkins.models import (
    CheckIn,
    Draft,
    Respondent,
)
from rapport.checkins.registry import rated_goals
from rapport.instruments.translation import languages, localize

# -- instruments -----------------------------------------------------------------------------

GOAL_PROGRESS = "goal-progress"


def goals_to_rate(episode: CareEpisode) -> dict[str, str]:
    """{linkId: title} of the episode's goals the client rates now (the goals app decides,
    through rapport.checkins.registry)."""
    return rated_goals(episode)


def goal_instrument(goals: Mapping[str, str], language: str | None = None) -> instruments.Instrument:
    """goal-progress with one 0-10 item per goal; each item shows the goal's wording with the
    template item's anchors, e.g. "Sleep better (0 = not at all, 10 = fully achieved)", in
    `language` where the definition has it."""
    template = localize(instruments.load(GOAL_PROGRESS), language)
    hint = template.template.text
    hint = hint[hint.rindex(" ("):] if hint.endswith(")") and " (" in hint else ""
    return template.expand({k: f"{title}{hint}" for k, title in goals.items()})


def instrument_for(episode: CareEpisode, instrument_id: str,
                   goals: Mapping[str, str] | None = None,
                   language: str | None = None) -> instruments.Instrument:
    """The instrument as this episode's client answers it: goal-progress is expanded into one
    item per goal (`goals`, by default the goals rated now); every other id is loaded as is.
    With `language`, its texts are in that language where the definition translates them (the
    scoring is the same: rapport/instruments/translation.py)."""
    if instrument_id != GOAL_PROGRESS:
        return localize(instruments.load(instrument_id), language)
    return goal_instrument(goals_to_rate(episode) if goals is None else goals, language)


def speaks(instrument: instruments.Instrument, language: str | None) -> bool:
    """Whether the instrument can be shown in `language` (English is every definition's own)."""
    primary = (language or "en").split("-")[0]
    return primary == "en" or bool({language, primary} & set(languages(instrument)))


def applies(episode: CareEpisode, instrument_id: str) -> bool:
    """False for goal-progress while the episode has no goal to rate: it is skipped."""
    return instrument_id != GOAL_PROGRESS or bool(goals_to_rate(episode))


# -- answers ---------------------------------------------------------------------------------


class InvalidAnswers(Exception):
    """The answers cannot be stored. `errors` maps a linkId (None: the whole form) to a message."""

    def __init__(self, errors: dict[str | None, str]) -> None:
        super().__init__("; ".join(f"{k or 'form'}: {v}" for k, v in errors.items()))
        self.errors = errors


def split_answers(instrument: instruments.Instrument, answers: dict[str, Any]) -> tuple[dict, dict]:
    """(scored answers, free-text answers): free text is stored encrypted, apart from the rest."""
    text_ids = {i.link_id for i in instrument.items if i.kind == "text"}
    scored = {k: v for k, v in answers.items() if k not in text_ids and v not in (None, "")}
    free = {k: v for k, v in answers.items() if k in text_ids and v not in (None, "")}
    return scored, free


def _friendly(item: instruments.Item, error: instruments.AnswerError) -> str:
    """A message for a person filling in the form, in their language, for the item's kind."""
    if item.kind == "choice":
        return _("Please choose one of the answers shown.")
    if item.kind == "boolean":
        return _("Please answer yes or no.")
    if item.min_value is not None and item.max_value is not None and item.decimal_places is None:
        bounds = {"min": f"{item.min_value:g}", "max": f"{item.max_value:g}"}
        if item.kind == "integer":
            return _("Please give a whole number from %(min)s to %(max)s.") % bounds
        return _("Please give a number from %(min)s to %(max)s.") % bounds
    return _("Please give %(allowed)s.") % {"allowed": item.allowed()}


def check_answers(instrument: instruments.Instrument, answers: dict[str, Any]):
    """Score the answers with the instrument; returns (score, errors by linkId).

    Errors come from `Instrument.score`; a required item left empty is reported against that
    item, so a person sees which question still needs an answer.
    """
    score = instrument.score(answers)
    errors: dict[str | None, str] = {}
    for error in score.errors:
        if error.link_id is None:
            continue
        try:
            item = instrument.item(error.link_id)
        except KeyError:
            errors[None] = _("This form has an answer to a question it does not ask (%(id)s).") % {
                "id": error.link_id}
            continue
        errors[error.link_id] = _friendly(item, error)
    for item in instrument.items:
        if item.required and item.link_id not in errors and answers.get(item.link_id) in (None, ""):
            errors[item.link_id] = _("Please answer this question.")
    if not errors and (score.errors or not score.complete):
        errors[None] = "; ".join(str(e) for e in score.errors) or _("Some answers are missing.")
    return score, errors


def as_token(value: uuid.UUID | str | None) -> uuid.UUID | None:
    """A submission token as a UUID; None for a missing or malformed one."""
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# -- drafts ----------------------------------------------------------------------------------


def save_draft(checkin: CheckIn, instrument_id: str, answers: dict[str, Any],
               request: HttpRequest | None = None) -> Draft:
    """Keep what was entered so far (free text encrypted), replacing any earlier draft."""
    instrument = instrument_for(checkin.episode, instrument_id)
    scored, free = split_answers(instrument, answers)
    with transaction.atomic():
        draft, _created = Draft.objects.update_or_create(
            checkin=checkin,
            instrument_id=instrument_id,
            defaults={
                "organisation_id": checkin.organisation_id,
                "answers": scored,
                "free_text": json.dumps(free, ensure_ascii=False) if free else "",
                "updated_at": timezone.now(),
            },
        )
        record(request, "checkins.draft.saved", checkin, client=checkin.episode.client,
               organisation=checkin.episode.organisation,
               actor_label=f"client:{checkin.episode.client.code}"
               if checkin.respondent == Respondent.CLIENT else None,
               detail={"instrument": instrument_id})
    return draft


def load_draft(checkin: CheckIn, instrument_id: str) -> dict[str, Any]:
    draft = Draft.objects.filter(checkin=checkin, instrument_id=instrument_id).first()
    if draft is None:
        return {}
    return {**draft.answers, **(json.loads(draft.free_text) if draft.free_text else {})}
