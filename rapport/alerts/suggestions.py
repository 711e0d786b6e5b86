"""What a therapist might do about an alert, in our own words.

Chosen by the alert's kind and, for the alliance kinds, by the weakest of the seven components of
the relationship in the evidence (trust, empathy, genuineness, respect, listening, safety, goals).
The texts are stored on the alert when it is raised, so what the therapist saw stays recorded
even when these texts change later.

Where a suggestion rests on a published finding the source is named beside it; the rest is
practice wisdom (ordinary good clinical practice, not a research result), and says so. These are
prompts for a professional's judgement, never instructions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext_lazy as _

COMPONENTS = ("trust", "empathy", "genuineness", "respect", "listening", "safety", "goals")

COMPONENT_LABELS = {
    "trust": _("trust"),
    "empathy": _("empathy"),
    "genuineness": _("genuineness"),
    "respect": _("mutual respect"),
    "listening": _("active listening"),
    "safety": _("confidentiality and safety"),
    "goals": _("mutual goals"),
}
# One word each, for the rows of a chart (the tables beside it use the labels above).
COMPONENT_SHORT = {
    "trust": gettext_lazy("Trust"), "empathy": gettext_lazy("Empathy"),
    "genuineness": gettext_lazy("Genuineness"), "respect": gettext_lazy("Respect"),
    "listening": gettext_lazy("Listening"), "safety": gettext_lazy("Safety"),
    "goals": gettext_lazy("Goals"),
}

# Kinds about the relationship: their suggestions add the weakest component's.
ALLIANCE_KINDS = frozenset(
    {"rupture", "rupture_repaired", "alliance_dip", "alliance_low", "component_drop", "discrepancy"}
)

# Lazy: translated into the reader's language when read (suggestions_for gives plain strings).
COMPONENT_SUGGESTIONS: dict[str, tuple[str, ...]] = {
    # Practice wisdom.
    "trust": (
        _("Be consistent and predictable: start and end on time, and do what you said you would do."),
        _("Be honest about what therapy can and cannot offer, and about the limits of your role."),
        _("Ask the client what would make it easier to be open with you."),
    ),
    # Empathy is among the stronger relationship predictors of outcome (Elliott, Bohart,
    # Watson & Murphy 2018, Psychotherapy 55:399, meta-analysis); the ways to show it below are
    # practice wisdom.
    "empathy": (
        _("Reflect back the feelings you hear, not only the facts."),
        _("Check your understanding out loud (\"Have I got that right?\") and let the client correct you."),
        _("Ask how things look from the client's side before offering your own view."),
    ),
    # Congruence/genuineness and outcome: Kolden, Wang, Austin, Chang & Klein 2018,
    # Psychotherapy 55:424 (meta-analysis); the ways to show it are practice wisdom.
    "genuineness": (
        _("Be open about why you suggest what you suggest, and what you hope it will do."),
        _("If something you said or did missed the mark, say so plainly and own it."),
        _("Let your own reactions show where that helps the client, without making the session about you."),
    ),
    # Positive regard and outcome: Farber, Suzuki & Lynch 2018, Psychotherapy 55:411
    # (meta-analysis); inviting disagreement and following the client's pace are practice wisdom.
    "respect": (
        _("Invite disagreement (\"Tell me if this does not fit for you\") and welcome it when it comes."),
        _("Follow the client's pace: offer choices rather than directions."),
        _("Ask about the preferences, culture and values that should shape the work."),
    ),
    # Practice wisdom.
    "listening": (
        _("Interrupt less and leave room for silences."),
        _("Summarise what you heard a few times in the session and at the end, and ask what you missed."),
        _("Use open questions, and follow the client's thread before changing the subject."),
    ),
    # Discussing confidentiality and its limits is an ethical duty at the start and "thereafter
    # as new circumstances may warrant" (American Psychological Association, Ethical Principles
    # of Psychologists and Code of Conduct, Standard 4.02); the rest is practice wisdom.
    "safety": (
        _("Restate, in plain words, what stays private and the limits of confidentiality."),
        _("Ask what would help the client feel safe to share, and let them set the pace on hard topics."),
        _("Say who can see the notes and check-ins, and how they are kept."),
    ),
    # Goal consensus and collaboration predict outcome (Tryon, Birch & Verkuilen 2018,
    # Psychotherapy 55:372, meta-analysis).
    "goals": (
        _("Revisit the goals together: are these still the ones that matter most to the client?"),
        _("Agree on the next concrete step, and on how you will both know it is working."),
        _("Link the session's work to the client's goals at the start and again at the end."),
    ),
}

KIND_SUGGESTIONS: dict[str, tuple[str, ...]] = {
    # Rupture repair after Safran & Muran (2000, Negotiating the Therapeutic Alliance: A
    # Relational Treatment Guide): notice the rupture, attend to it openly, explore the client's
    # experience, validate it, acknowledge one's own part, and adjust the tasks or goals.
    # Repaired ruptures go with better outcomes (Eubanks, Muran & Safran 2018, Psychotherapy
    # 55:508, meta-analysis).
    "rupture": (
        _("Name it: tell the client you noticed their rating of the session fell, and that you want to understand."),
        _("Invite the client's view of what happened, and listen without defending yourself."),
        _("Validate their experience and acknowledge your own part in it."),
        _("Adjust together (the task, the pace or the goal) and check at the next session whether it helped."),
    ),
    # Same sources as a rupture: talking about a repair consolidates it (Safran & Muran 2000).
    "rupture_repaired": (
        _("The client's ratings are back to their usual level after a rupture: say so with the client."),
        _("Note what helped the repair, so you can do it again."),
    ),
    # A lighter notice (1 SD below the client's usual level; see monitoring thresholds): practice
    # wisdom.
    "alliance_dip": (
        _("Ask briefly how today's session felt and whether anything did not sit right."),
        _("Watch the next check-in: one lower session is a question, not a conclusion."),
    ),
    # Asking for and acting on the client's rating of the session, as in the Partners for Change
    # Outcome Management System (Miller, Duncan, Brown, Sorrell & Chalk 2006, J Brief Ther 5:5).
    "alliance_low": (
        _("Thank the client for an honest rating: a low score is useful feedback, not a failure."),
        _("Ask what would make the sessions more helpful, and act on one thing next time."),
    ),
    # Practice wisdom.
    "component_drop": (
        _("Ask about this part of the relationship specifically; the client marked it much lower than before."),
    ),
    # Therapists tend to rate the alliance higher than their clients do (Tryon, Blackwell &
    # Hammel 2007, Psychother Res 17:629, meta-analysis).
    "discrepancy": (
        _("Ask the client directly how the session was for them: therapists tend to rate the relationship higher than clients do."),
        _("Hear their view without correcting it, and compare it with your own afterwards."),
        _("Consider bringing the difference to supervision."),
    ),
    # Clinical support tools for clients not on track (Whipple et al. 2003, J Couns Psychol
    # 50:59; Harmon et al. 2007, Psychother Res 17:379; Shimokawa, Lambert & Smart 2010, J
    # Consult Clin Psychol 78:298): review the alliance first, then readiness for change, social
    # support, the formulation and the need for referral.
    "not_on_track": (
        _("Review the plan with the client: share the progress chart and ask how they see it."),
        _("Check the relationship first, then the client's readiness for change and their support outside therapy."),
        _("Reconsider the formulation; consider a medication review or another kind of help."),
        _("Take the case to consultation or supervision."),
    ),
    # Reliable deterioration (Jacobson & Truax 1991): same clinical support tools as above;
    # checking risk when a client gets worse is practice wisdom and standard practice.
    "reliable_deterioration": (
        _("Talk with the client about the change in their scores and what has happened recently."),
        _("Check for risk, and follow the practice's risk protocol if needed."),
        _("Review the plan and take the case to consultation or supervision."),
    ),
    # Standard practice: each practice's own risk protocol governs what happens next.
    "risk": (
        _("Follow the practice's risk protocol today."),
        _("Contact the client today to check on their safety."),
        _("Record what you did and who you spoke to."),
    ),
    # Strategies to reduce premature termination (Swift & Greenberg 2015, Premature
    # Termination in Psychotherapy: Strategies for Engaging Clients, APA): discuss
    # expectations and preferences, strengthen hope, foster the alliance, talk about progress.
    "dropout_risk": (
        _("Reach out to the client before the next appointment."),
        _("Discuss what gets in the way of coming: times, travel, cost, or how the sessions feel."),
        _("Talk about what to expect from therapy and how change usually goes, ups and downs included."),
    ),
    # Goal consensus (Tryon, Birch & Verkuilen 2018, above); breaking a goal down is practice
    # wisdom.
    "goal_stagnation": (
        _("Revisit this goal together: is it still the right one, and is it the right size?"),
        _("Agree a smaller next step and when you will look at it again."),
    ),
}

GENERIC = (_("Look at the evidence with the client and agree what, if anything, to change."),)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return float(value)


def weakest_component(evidence: Mapping[str, Any]) -> str | None:
    """The component the evidence points at: named outright, else the lowest-scored one.

    Reads `component` (a component_drop names one) or `weakest_component` (a rupture names the
    component that fell most), else the lowest number in `components` (name -> score); ties go
    to the earlier component in COMPONENTS.
    """
    for name in ("component", "weakest_component"):
        value = evidence.get(name)
        if isinstance(value, str) and value in COMPONENTS:
            return value
    components = evidence.get("components")
    if isinstance(components, Mapping):
        scored = [
            (score, COMPONENTS.index(name), name)
            for name, raw in components.items()
            if name in COMPONENTS and (score := _number(raw)) is not None
        ]
        if scored:
            return min(scored)[2]
    return None


def suggestions_for(kind: str, evidence: Mapping[str, Any] | None = None) -> list[str]:
    """The suggestions for an alert of `kind` with `evidence`, most important first."""
    evidence = evidence or {}
    texts = [str(text) for text in KIND_SUGGESTIONS.get(kind, GENERIC)]
    if kind in ALLIANCE_KINDS and kind != "rupture_repaired":
        component = weakest_component(evidence)
        if component is not None:
            # Named first, so the therapist sees why these were chosen.
            label = COMPONENT_LABELS[component].capitalize()
            texts.extend(gettext("%(part)s (the weakest part): %(suggestion)s")
                         % {"part": label, "suggestion": text}
                         for text in COMPONENT_SUGGESTIONS[component])
    return texts
