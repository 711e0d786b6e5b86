"""Demo step: mutual goals and session records for the demo practice.

Most clients get one to three goals, agreed with their therapist around the first sessions (a
few of the newest are still waiting for the client's agreement, and a few clients have proposed
one themselves); completed episodes close a goal as achieved, and some stalling clients revise
theirs. Attended sessions get a summary and next steps shared with the client, some homework
(often ticked off) and a private note. Everything goes through the services, as a therapist's
actions would, with the session's time; the ratings of the goals come from the check-in step.
"""

from __future__ import annotations

import random
from datetime import timedelta
from types import SimpleNamespace

from rapport.care.models import Attendance, EpisodeStatus
from rapport.demo.plans import ClientPlan, Practice
from rapport.goals import services as goals
from rapport.goals.models import Side
from rapport.notes import services as notes
from rapport.notes.models import Homework

GOALS = [
    ("Sleep through most nights", "Five nights a week without lying awake for hours."),
    ("Go back to the gym", "Twice a week, even when I do not feel like it."),
    ("Speak up in team meetings", "Say at least one thing I think in each meeting."),
    ("Feel less on edge at home", "Evenings where I can sit down and relax."),
    ("See friends again", "Meet someone outside the family every week."),
    ("Worry less about my health", "Check my symptoms online less than once a day."),
    ("Take the bus to work", "Without needing to get off early."),
    ("Set limits with my mother", "Say no when I need to, without the guilt lasting days."),
    ("Enjoy cooking again", "Cook a proper meal a few times a week."),
    ("Get back to my studies", "An hour of reading on most weekdays."),
]
CLIENT_GOALS = [
    ("Stop apologising for everything", ""),
    ("Have one calm conversation with my partner each week", ""),
]
REVISIONS = {
    "Sleep through most nights": ("Wind down before bed", "Screens off by 23:00 on most nights."),
    "Go back to the gym": ("Move my body most days", "A walk counts too."),
}
SUMMARIES = [
    "We looked at what made this week harder and what helped, even a little.",
    "We went back over the goal you chose and what a first small step could be.",
    "You described the situation at work in detail; we mapped the thoughts that came up.",
    "We talked about how things went since last time and practised the breathing exercise.",
    "We explored where the worry starts, and what you do next when it comes.",
]
NEXT_STEPS = [
    "Notice one moment each day when the worry eased, and what was happening.",
    "Try the wind-down routine on three evenings and tell me how it went.",
    "Next time we will look at the conversation with your manager.",
    "Keep going with the walks; we will check the goal ratings together next week.",
]
HOMEWORK = [
    "Write down three things that went all right each evening.",
    "Practise the 4-7-8 breathing twice a day.",
    "Plan one small pleasant activity for the weekend.",
    "Keep the sleep diary for a week.",
    "Send the message to your friend you have been putting off.",
]
PRIVATE = [
    "Affect brighter today. Engaged well with the exercise.",
    "Seemed guarded when work came up; return to it gently.",
    "Mentioned family conflict in passing; explore when the alliance allows.",
    "Good session. Consider spacing sessions out in a month.",
    "Checked risk briefly: no current thoughts of self-harm.",
]


def _as(user) -> SimpleNamespace:
    """A stand-in request, so the audit trail names the therapist who did it in the story."""
    return SimpleNamespace(user=user, META={})


def _goals_for(rng: random.Random, plan: ClientPlan) -> None:
    episode = plan.episode
    therapist = episode.therapist
    attended = [s for s in plan.sessions if s.attendance == Attendance.ATTENDED]
    if not attended:
        return
    first = attended[0].scheduled_at + timedelta(minutes=45)
    # Goals can only be proposed while therapy is under way: set them up as they happened.
    status = episode.status
    episode.status = EpisodeStatus.ACTIVE
    count = 1 if plan.story == "new" else rng.choice([1, 2, 2, 3])
    chosen = rng.sample(GOALS, count)
    created = []
    for title, description in chosen:
        goal = goals.propose_goal(episode, title, description, side=Side.THERAPIST, user=therapist,
                                  request=_as(therapist), at=first)
        if plan.story != "new" or rng.random() < 0.5:
            goal = goals.agree_goal(goal, side=Side.CLIENT, at=first + timedelta(hours=20))
        created.append(goal)
    if plan.story in ("improving", "stalling") and rng.random() < 0.3 and len(attended) > 2:
        title, description = rng.choice(CLIENT_GOALS)
        goals.propose_goal(episode, title, description, side=Side.CLIENT,
                           at=attended[2].scheduled_at - timedelta(days=1))
    if plan.story == "stalling" and len(attended) > 5:
        target = next((g for g in created if g.title in REVISIONS and g.is_rated), None)
        if target is not None:
            when = attended[5].scheduled_at + timedelta(minutes=40)
            goals.revise_goal(target, *REVISIONS[target.title], side=Side.THERAPIST,
                              user=therapist, request=_as(therapist), at=when)
            if rng.random() < 0.6:
                goals.agree_goal(target, side=Side.CLIENT, at=when + timedelta(days=1))
    elif plan.story == "improving" and len(attended) > 4:
        goals.mark_revisited(episode, user=therapist, session=attended[4], request=_as(therapist),
                             at=attended[4].scheduled_at + timedelta(minutes=40))
    if status == EpisodeStatus.COMPLETED and created and created[0].is_rated:
        goals.close_goal(created[0], achieved=True, user=therapist, request=_as(therapist),
                         reason="Sleeping well most nights for a month.", at=attended[-1].scheduled_at)
    episode.status = status


def _records_for(rng: random.Random, plan: ClientPlan) -> None:
    therapist = plan.episode.therapist
    request = _as(therapist)
    past = [s for s in plan.sessions if s.attendance == Attendance.ATTENDED]
    for n, session in enumerate(past):
        at = session.scheduled_at + timedelta(hours=1)
        notes.save_summary(session, rng.choice(SUMMARIES), rng.choice(NEXT_STEPS),
                           request=request, at=at)
        if rng.random() < 0.6:
            notes.save_private_note(session, rng.choice(PRIVATE), request=request, at=at)
        if rng.random() < 0.5:
            homework = notes.add_item(session, "homework", rng.choice(HOMEWORK), request=request, at=at)
            if n < len(past) - 1 and rng.random() < 0.65:
                Homework.objects.filter(pk=homework.pk).update(done_at=at + timedelta(days=3))
        # The last session's record is sometimes still a draft, not yet shared.
        if n < len(past) - 1 or rng.random() < 0.5:
            notes.share(session, user=therapist, request=request, at=at + timedelta(minutes=5))


def goals_and_records(practice: Practice) -> None:
    """The demo step (runs before the check-ins step, which may rate the goals)."""
    # Its own random stream, so the steps after it draw the same numbers as without it.
    rng = random.Random(f"goals-{practice.today.isoformat()}")
    for plan in practice.plans:
        if plan.story != "new" or rng.random() < 0.7:
            _goals_for(rng, plan)
        _records_for(rng, plan)
