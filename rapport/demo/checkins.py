"""Demo step: six months of check-in histories that tell each client's story.

Every response goes through `rapport.checkins.services.submission.submit`, like a real one, so scores,
flags, the audit trail, risk alerts and the `response_stored` signal are all genuine. The
trajectories are invented for the demo and follow the story types of the generator:

- improving: PHQ-9 falls from the moderate-to-severe range towards remission (< 5), most of the
  way within the first eight to twelve sessions, then levels off;
- stalling: stays where it started, give or take a couple of points;
- deteriorating: rises by more than the reliable-change amount (6 points on the PHQ-9);
- rupture_repaired / rupture_unrepaired: one session's alliance drops well below the
  client's usual level (more than 2 SD, DESIGN.md), then recovers or stays low; after a rupture
  that is not repaired the PHQ-9 climbs above where it started;
- dropping_out: the alliance wears down over the last sessions before they stop coming;
- new: one to three sessions so far, with the early change of most clients who improve.

Goal ratings (goal-progress, before each session once goals are agreed) follow the same stories:
improving clients' ratings rise towards 7-9 (so the goals app notices milestones), stalling
clients' stay exactly where they started (so it suggests revisiting the goals), deteriorating
and dropping-out clients' slip, ruptured ones rise a little or stall. Each session rates the
goals that were agreed and not yet closed at the time (from the goals step's history, which
runs before this one), and they are drawn from their own random stream, so the rest of the
practice is the same with or without goals.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta

from rapport.care.models import Attendance
from rapport.checkins.models import Respondent
from rapport.checkins.services.answers import GOAL_PROGRESS
from rapport.checkins.services.consent import accept_statement, current_statement
from rapport.checkins.services.schedule import CANCELLED, plan_session, schedule_for
from rapport.checkins.services.submission import Source, submit
from rapport.demo.plans import ClientPlan, Practice
from rapport.goals.models import EventKind, GoalEvent

COMPONENTS = ["trust", "empathy", "genuineness", "respect", "listening", "safety", "goals"]
SELF = ["warmth", "acceptance", "authenticity", "self-awareness"]
FOCUS = [
    "Sleep has been bad again", "Work deadlines", "Things with my partner", "My mother's health",
    "Keeping up the walks", "Feeling flat most days", "Panic on the bus", "What we said last time",
]
TELL = ["I nearly cancelled today", "Slightly better week", "I tried the breathing exercise",
        "I felt judged last time", ""]
NOT_RIGHT = ["We ran out of time", "I felt rushed at the end",
             "I felt you did not quite get what I meant about work"]


def _clamp(x: float, low: int, high: int) -> int:
    return max(low, min(high, round(x)))


def _spread(rng: random.Random, total: int, items: list[str], top: int = 3) -> dict[str, int]:
    """Item answers (0..top each) that add up to `total`."""
    total = _clamp(total, 0, top * len(items))
    answers = dict.fromkeys(items, 0)
    order = items[:]
    while total > 0:
        rng.shuffle(order)
        for link_id in order:
            if total and answers[link_id] < top:
                answers[link_id] += 1
                total -= 1
    return answers


def _phq9_path(story: str, rng: random.Random, k: int, n: int) -> float:
    """The PHQ-9 total at the k-th of n sessions (0-based) for this story.

    Clients who improve do so early and then level off: change follows the logarithm of the
    number of sessions (the dose-effect curve, Howard et al. 1986), most of it within the first
    eight to twelve sessions, as the expected-response curves of `rapport.monitoring` assume.
    """
    start = rng.uniform(14, 19) if story != "deteriorating" else rng.uniform(9, 12)
    if story in ("improving", "rupture_repaired", "new"):
        end = rng.uniform(6, 9) if story == "rupture_repaired" else rng.uniform(3, 7)
        plateau = rng.randint(8, 12)  # the session by which the change is mostly done
        return start + (end - start) * min(1.0, math.log(k + 1) / math.log(plateau))
    if story == "deteriorating":
        return start + rng.uniform(8, 11) * k / max(n - 1, 1)
    if story == "rupture_unrepaired":
        # A little better until the rupture, then worse than at the start: unrepaired ruptures
        # go with poorer outcomes (DESIGN.md).
        rupture_at = max(2, n // 2)
        if k <= rupture_at:
            return start - 2 * k / rupture_at
        return start - 2 + 8 * (k - rupture_at) / max(n - 1 - rupture_at, 1)
    return start  # stalling, dropping out


def _alliance(story: str, k: int, n: int, rupture_at: int) -> float:
    """The client's usual relationship rating (0-10) at the k-th session."""
    base = 8.2
    if story == "dropping_out":
        return base - 3.0 * (k / max(n - 1, 1))
    if story in ("rupture_repaired", "rupture_unrepaired") and k == rupture_at:
        return 3.5
    if story == "rupture_unrepaired" and k > rupture_at:
        return 5.5
    if story == "deteriorating":
        return base - 1.0 * (k / max(n - 1, 1))
    return base + 0.6 * (k / max(n - 1, 1))


# (first rating range, change over the episode) per story: invented for the demo.
GOAL_PATHS = {
    "improving": ((2, 4), 5.5),
    "rupture_repaired": ((2, 4), 3.0),
    "rupture_unrepaired": ((3, 4), 1.0),
    "stalling": ((3, 5), 0.0),
    "deteriorating": ((3, 5), -2.0),
    "dropping_out": ((3, 5), -1.5),
    "new": ((2, 5), 1.0),
}


class GoalHistory:
    """When each of the episode's goals was rated: from agreement by both until it closed."""

    def __init__(self, episode, rng: random.Random) -> None:
        self.spans: dict[str, list] = {}
        for event in GoalEvent.objects.filter(episode=episode, goal__isnull=False).select_related(
                "goal").order_by("at", "id"):
            span = self.spans.setdefault(event.goal.link_id, [event.goal.title, None, None])
            if event.kind == EventKind.ACTIVATED and span[1] is None:
                span[1] = event.at
            elif event.kind in (EventKind.ACHIEVED, EventKind.CLOSED):
                span[2] = event.at
        # Each goal's first rating is drawn once, in the order the goals were proposed.
        self.start = {link_id: rng.random() for link_id in self.spans}

    def rated_at(self, at) -> dict[str, str]:
        """{linkId: title} of the goals rated at this time."""
        return {k: title for k, (title, agreed, ended) in self.spans.items()
                if agreed is not None and agreed <= at and (ended is None or ended > at)}

    def answers(self, story: str, goals: dict[str, str], k: int, n: int,
                rng: random.Random) -> dict[str, int]:
        (low, high), change = GOAL_PATHS.get(story, ((3, 5), 0.0))
        t = k / max(n - 1, 1)
        answers = {}
        for link_id in goals:
            first = low + (high - low) * self.start[link_id]
            if change == 0:
                answers[link_id] = round(first)  # stalling: exactly flat
                continue
            noise = rng.uniform(-0.6, 0.6)
            answers[link_id] = _clamp(first + change * (1 - (1 - t) ** 1.5) + noise, 0, 10)
        return answers


def _story_for(plan: ClientPlan, rng: random.Random, risk_client: bool,
               goal_rng: random.Random) -> None:
    sessions = [s for s in plan.sessions if s.attendance not in CANCELLED]
    past = [s for s in sessions if s.attendance != Attendance.SCHEDULED]
    upcoming = [s for s in sessions if s.attendance == Attendance.SCHEDULED]
    rules = schedule_for(plan.episode).rules
    client, episode, therapist = plan.client, plan.episode, plan.episode.therapist
    accept_statement(client, current_statement(client.organisation),
                              at=past[0].scheduled_at - timedelta(days=2) if past else None)
    attended = [s for s in past if s.attendance == Attendance.ATTENDED]
    n = len(attended)
    rupture_at = max(2, n // 2)
    # The client's starting level is drawn once: every session re-creates the same generator.
    level_seed = rng.random()
    goal_history = GoalHistory(episode, goal_rng)
    for number, session in enumerate(past, start=1):
        if session.attendance != Attendance.ATTENDED:
            continue
        k = attended.index(session)
        phq = _phq9_path(plan.story, random.Random(level_seed), k, n)
        phq = _clamp(phq + rng.uniform(-1.5, 1.5), 0, 24)
        # A before check-in is answered at most 30 hours ahead (below): its goals are agreed.
        has_goals = bool(goal_history.rated_at(session.scheduled_at - timedelta(hours=30)))
        planned = plan_session(session, rules, number, has_goals=has_goals)
        for checkin in planned:
            if rng.random() < 0.06 and checkin.respondent == Respondent.CLIENT \
                    and k not in (rupture_at, n - 1):
                continue  # now and then a check-in is skipped (never the story's key session)
            at = session.scheduled_at + (
                -timedelta(hours=rng.randint(2, 30)) if checkin.when == "before"
                else timedelta(hours=rng.randint(1, 6))
            )
            for instrument_id in checkin.instruments:
                if instrument_id == GOAL_PROGRESS:
                    goals = goal_history.rated_at(at)
                    if goals:
                        submit(
                            episode, instrument_id,
                            goal_history.answers(plan.story, goals, k, n, goal_rng),
                            checkin=checkin, goals=goals,
                            source=Source(at=at, actor_label="demo"),
                        )
                    continue
                answers = _answers(instrument_id, plan.story, rng, phq, k, n, rupture_at,
                                   risk=risk_client and k == n - 1)
                submit(
                    episode, instrument_id, answers, checkin=checkin,
                    source=Source(
                        respondent=checkin.respondent, at=at, actor_label="demo",
                        user=therapist if checkin.respondent == Respondent.THERAPIST else None),
                )
    if upcoming:
        plan_session(upcoming[0], rules, len(past) + 1)  # goals rated now, if any


def _answers(instrument_id: str, story: str, rng: random.Random, phq: int, k: int, n: int,
             rupture_at: int, risk: bool) -> dict:
    if instrument_id == "phq9":
        answers = _spread(rng, phq - (1 if risk else 0), [f"phq9-{i}" for i in range(1, 9)])
        answers["phq9-9"] = 1 if risk else 0
        answers["phq9-difficulty"] = _clamp(phq / 7, 0, 3)
        return answers
    if instrument_id == "gad7":
        return _spread(rng, round(phq * 21 / 27 + rng.uniform(-1, 1)),
                       [f"gad7-{i}" for i in range(1, 8)])
    if instrument_id == "session-prep":
        answers: dict = {"since-last": _clamp(10 - phq / 2.6 + rng.uniform(-1, 1), 0, 10)}
        if rng.random() < 0.6:
            answers["focus"] = rng.choice(FOCUS)
        if rng.random() < 0.3:
            answers["tell-therapist"] = rng.choice(TELL)
        return answers
    if instrument_id == "cnip":
        codes = ["left-3", "left-2", "left-1", "none", "right-1", "right-2", "right-3"]
        return {f"cnip-{i}": rng.choice(codes) for i in range(1, 19)}
    alliance = _alliance(story, k, n, rupture_at)
    if instrument_id == "relationship-checkin":
        answers = {c: _clamp(alliance + rng.uniform(-0.8, 0.8), 0, 10) for c in COMPONENTS}
        if alliance < 6 and rng.random() < 0.7:
            answers["not-right"] = rng.choice(NOT_RIGHT)
        return answers
    if instrument_id == "therapist-reflection":
        # Therapists tend to rate the relationship a little differently from their clients.
        answers = {c: _clamp(alliance + 0.5 + rng.uniform(-1, 1), 0, 10) for c in COMPONENTS}
        answers.update({c: _clamp(7.5 + rng.uniform(-1.5, 1.5), 0, 10) for c in SELF})
        return answers
    raise ValueError(f"the demo has no answers for {instrument_id}")


def checkin_histories(practice: Practice) -> None:
    """The generator step: check-in histories for every client, in story order."""
    rng = random.Random(practice.rng.random())
    goal_rng = random.Random(f"goal-ratings-{practice.today.isoformat()}")
    risk_given = False
    for plan in practice.plans:
        risk_client = plan.story == "deteriorating" and not risk_given
        risk_given = risk_given or risk_client
        _story_for(plan, rng, risk_client, goal_rng)
