"""The client's C-NIP preferences (Cooper-Norcross Inventory of Preferences, in
rapport/instruments/library/cnip.json) as the pages that act on them need them: the first
session, the agenda's "ask about" prompt, the repair suggestions and the episode page.

Reading them is reading clinical data: the views that show them audit it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapport import instruments
from rapport.checkins.models import Respondent, Response

CNIP = "cnip"
NEUTRAL = "No or equal preference"  # the C-NIP's middle option (cnip.json)
STRENGTHS = {"Strong": 3, "Moderate": 2, "Slight": 1}


@dataclass(frozen=True)
class Preference:
    leaning: str  # the option's wording, e.g. "Strong preference: Be gentle"
    strength: int  # 3 strong, 2 moderate, 1 slight

    @property
    def wish(self) -> str:
        """What the client prefers, without its strength: "Be gentle"."""
        return self.leaning.split(": ", 1)[-1]


def latest(episode) -> Response | None:
    """The client's latest current C-NIP answers in this episode."""
    responses = Response.objects.filter(episode=episode, instrument_id=CNIP,
                                        respondent=Respondent.CLIENT).order_by("-submitted_at")
    superseded = set(Response.objects.filter(episode=episode, instrument_id=CNIP)
                     .exclude(supersedes=None).values_list("supersedes_id", flat=True))
    return next((r for r in responses if r.pk not in superseded), None)


def preferences(response: Response | None) -> tuple[list[Preference], int]:
    """The preferences that lean one way, strongest first, and how many items were answered
    "No or equal preference"."""
    if response is None:
        return [], 0
    instrument = instruments.load(CNIP)
    leaning, neutral = [], 0
    for item in instrument.items:
        value = response.answers.get(item.link_id)
        wording = next((o.display for o in item.options if value in (o.value, o.code)), None)
        if wording is None:
            continue
        if wording == NEUTRAL:
            neutral += 1
            continue
        leaning.append(Preference(wording, STRENGTHS.get(wording.split(" ", 1)[0], 1)))
    leaning.sort(key=lambda p: -p.strength)
    return leaning, neutral


def strongest(episode, limit: int = 3) -> list[Preference]:
    """The client's strongest stated preferences (moderate or strong), at most `limit`: what to
    ask about and to keep in mind when repairing the relationship."""
    leaning, _neutral = preferences(latest(episode))
    return [p for p in leaning if p.strength >= 2][:limit]
