"""The demo practice, generated from a seed.

One organisation, one administrator, one supervisor (supervising two of the three therapists, so
the demo shows scoping), three therapists and 36 clients whose episodes run over the last six
months with realistic attendance. Every client is given a *story* up front (improving, stalling,
deteriorating, a rupture that is repaired, one that is not, dropping out ...). The people and
appointments are built here; then each later layer's step in `STEPS` (goals, check-ins, alerts)
reads each plan's story (rapport.demo.plans), so the whole practice stays consistent and
reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from rapport.accounts.models import (
    AuthenticatorDevice,
    Membership,
    Organisation,
    Role,
    Supervision,
    User,
)
from rapport.care.models import Attendance, CareEpisode, Client, EpisodeStatus, Session
from rapport.demo.alerts import alerts_from_findings
from rapport.demo.checkins import checkin_histories
from rapport.demo.goals import goals_and_records
from rapport.demo.plans import ClientPlan, Practice, Staff
from rapport.scheduling.models import ReminderPolicy

# The steps after the people and appointments, in order; each reads the plans.
STEPS: tuple[Callable[[Practice], None], ...] = (
    goals_and_records,  # before the check-ins, which may rate the goals
    checkin_histories,
    alerts_from_findings,  # after the check-ins: reads their responses
)

DEMO_PASSWORD = "rapport-demo"  # noqa: S105 - printed for the local demo only
DEMO_DOMAIN = "riverside.example"

# Story mix for 36 clients: most improve, some stall, a few deteriorate (in routine care about
# 5–10% deteriorate), two alliance ruptures (one repaired, one not) and a few who drop out.
# Most clients who started long ago have finished with a planned ending, so of the ended
# episodes about a quarter are drop-outs (about 20% in adult therapy, DESIGN.md).
STORIES = (
    ["improving"] * 18
    + ["stalling"] * 4
    + ["deteriorating"] * 2
    + ["rupture_repaired"] * 2
    + ["rupture_unrepaired"] * 2
    + ["dropping_out"] * 3
    + ["new"] * 5
)

# Who sees whom. Caseloads are 12 each; these stories are placed deliberately so the demo tells
# its story: therapist 1 (Sam Rivera) has an unrepaired rupture at the top of the caseload, a
# repaired one, improvers and new clients; the risk answer, the deteriorating and the stalling
# clients are with therapists 2 and 3. (A flat course is soon "not on track", often at the
# stronger level, which would compete with the rupture for the top of therapist 1's list.)
PLACED = {
    "rupture_unrepaired": [0, 1],
    "rupture_repaired": [0, 2],
    "stalling": [1, 2, 1, 2],
    "deteriorating": [1, 2],
}
CASELOAD = 12

FIRST_NAMES = [
    "Amira", "Ben", "Chloé", "Dmitri", "Esi", "Farah", "Gabriel", "Hana", "Ines", "Jonah",
    "Kemal", "Lena", "Mateo", "Nia", "Oskar", "Priya", "Quinn", "Rosa", "Sami", "Tomás",
    "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe", "Aiden", "Bea", "Caleb", "Dara",
    "Elif", "Finn", "Grace", "Hugo", "Ivy", "Jamal",
]
LAST_NAMES = [
    "Adeyemi", "Baker", "Costa", "Dubois", "Evans", "Fischer", "García", "Haddad", "Ivanova",
    "Jensen", "Khan", "Larsen", "Müller", "Nakamura", "O'Brien", "Patel", "Quist", "Rossi",
    "Silva", "Tanaka", "Usman", "Varga", "Wójcik", "Xu", "Yilmaz", "Zhang",
]
PRONOUNS = ["she/her", "he/him", "they/them", "", ""]
LANGUAGES = ["en", "en", "en", "en", "es", "de", "fr"]


def _user(email: str, name: str) -> User:
    user = User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name)
    # Staff log in with a second factor. Demo accounts come enrolled; the demo server prints
    # each current code in its terminal (rapport.accounts.twofactor), as it prints emails.
    AuthenticatorDevice.objects.create(user=user, name="Demo authenticator", confirmed=True)
    return user


def _build_staff(org: Organisation) -> Staff:
    admin = _user(f"admin@{DEMO_DOMAIN}", "Alex Morgan")
    supervisor = _user(f"supervisor@{DEMO_DOMAIN}", "Dr Maya Okafor")
    therapists = [
        _user(f"therapist{i}@{DEMO_DOMAIN}", name)
        for i, name in enumerate(["Sam Rivera", "Jordan Lee", "Priya Nair"], start=1)
    ]
    Membership.objects.create(organisation=org, user=admin, role=Role.ADMIN)
    Membership.objects.create(organisation=org, user=supervisor, role=Role.SUPERVISOR)
    for t in therapists:
        Membership.objects.create(organisation=org, user=t, role=Role.THERAPIST)
    for t in therapists[:2]:  # the third therapist is supervised elsewhere
        Supervision.objects.create(organisation=org, supervisor=supervisor, therapist=t)
    return Staff(admin=admin, supervisor=supervisor, therapists=therapists)


def _attendance(rng: random.Random, story: str, index: int, count: int) -> str:
    """Attendance for the index-th past session; drop-outs miss more towards the end."""
    if story == "dropping_out" and index >= count - 2:
        return rng.choice([Attendance.NO_SHOW, Attendance.CANCELLED_CLIENT])
    roll = rng.random()
    # Roughly 85% attended, 6% no-show, 6% cancelled by client, 3% by the practice; clients
    # who are improving miss fewer sessions (missed sessions go with disengagement and drop-out,
    # DESIGN.md), so their no-shows are halved.
    no_show = 0.03 if story == "improving" else 0.06
    if roll < 0.91 - no_show:
        return Attendance.ATTENDED
    if roll < 0.91:
        return Attendance.NO_SHOW
    if roll < 0.97:
        return Attendance.CANCELLED_CLIENT
    return Attendance.CANCELLED_CLINIC


def _therapists(stories: list[str], count: int) -> list[int]:
    """Each client's therapist (an index): the PLACED stories first, then the rest in turn."""
    chosen: list[int | None] = [None] * len(stories)
    seen: dict[str, int] = {}
    load = [0] * count
    for i, story in enumerate(stories):
        if story in PLACED:
            n = seen[story] = seen.get(story, 0) + 1
            chosen[i] = PLACED[story][(n - 1) % len(PLACED[story])]
            load[chosen[i]] += 1
    turn = 0
    for i in range(len(stories)):
        if chosen[i] is None:
            while load[turn % count] >= CASELOAD:
                turn += 1
            chosen[i] = turn % count
            load[chosen[i]] += 1
            turn += 1
    return [c for c in chosen if c is not None]


def _plan_sessions(plan: ClientPlan, rng: random.Random, start: date, weekday_hour: time,
                   past: int, today: date) -> None:
    """The episode's weekly sessions up to today (with attendance), then the next two for an
    active episode; an ended one ends on its last session. Saved by the caller."""
    episode, status = plan.episode, plan.episode.status
    tz = timezone.get_current_timezone()
    for n in range(past):
        day = start + timedelta(weeks=n)
        if day >= today:
            break
        at = datetime.combine(day, weekday_hour, tzinfo=tz)
        attendance = _attendance(rng, plan.story, n, past)
        cancelled_at = None
        if attendance == Attendance.CANCELLED_CLIENT:
            cancelled_at = at - timedelta(hours=rng.choice([3, 12, 30, 72]))
        plan.sessions.append(Session(organisation_id=episode.organisation_id, episode=episode,
                                     scheduled_at=at, attendance=attendance, cancelled_at=cancelled_at))
    if status == EpisodeStatus.ACTIVE:
        # The next two appointments, weekly from the last one.
        last = plan.sessions[-1].scheduled_at if plan.sessions else datetime.combine(start, weekday_hour, tzinfo=tz)
        while last.date() <= today:
            last += timedelta(weeks=1)
        for k in range(2):
            plan.sessions.append(Session(organisation_id=episode.organisation_id, episode=episode,
                                         scheduled_at=last + timedelta(weeks=k)))
    else:
        episode.ended_on = plan.sessions[-1].scheduled_at.date()
        episode.save(update_fields=["ended_on"])


def _build_episodes(org: Organisation, staff: Staff, rng: random.Random, today: date) -> list[ClientPlan]:
    stories = STORIES[:]
    rng.shuffle(stories)
    names = rng.sample([(f, last) for f in FIRST_NAMES for last in LAST_NAMES], len(stories))
    plans = []
    assigned = _therapists(stories, len(staff.therapists))
    for i, (story, (first, last)) in enumerate(zip(stories, names, strict=True)):
        therapist = staff.therapists[assigned[i]]
        client = Client.objects.create(
            organisation=org,
            name=f"{first} {last}",
            preferred_name=first if rng.random() < 0.7 else "",
            pronouns=rng.choice(PRONOUNS),
            language=rng.choice(LANGUAGES),
            email=f"{first.lower()}.{i}@client.{DEMO_DOMAIN}".replace("é", "e").replace("á", "a"),
            date_of_birth=date(rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28)),
        )
        # New clients started in the last three weeks; everyone else within the six months.
        weeks_ago = rng.randint(1, 3) if story == "new" else rng.randint(8, 26)
        start = today - timedelta(weeks=weeks_ago, days=rng.randint(0, 6))
        weekday_hour = time(rng.choice([9, 10, 11, 13, 14, 15, 16, 17]))
        # Active episodes meet weekly up to today; drop-outs stop after a few. Most improving
        # clients who started more than 15 weeks ago have finished: a planned ending after
        # 12–16 sessions.
        past = weeks_ago + 1
        status = EpisodeStatus.ACTIVE
        if story == "dropping_out":
            past = rng.randint(3, 6)
            status = EpisodeStatus.DROPPED_OUT
        elif story == "improving" and weeks_ago >= 15 and rng.random() < 0.85:
            past = rng.randint(12, min(16, weeks_ago - 1))
            status = EpisodeStatus.COMPLETED
        episode = CareEpisode.objects.create(
            organisation=org, client=client, therapist=therapist, started_on=start, status=status,
        )
        plan = ClientPlan(client=client, episode=episode, story=story)
        _plan_sessions(plan, rng, start, weekday_hour, past, today)
        Session.objects.bulk_create(plan.sessions)
        plans.append(plan)
    return plans


@transaction.atomic
def generate(seed: int = 2026, today: date | None = None) -> Practice:
    """Create the demo practice. Same seed and day, same practice."""
    rng = random.Random(seed)
    today = today or timezone.localdate()
    with scopes_disabled():
        org = Organisation.objects.create(name="Riverside Counselling Practice")
        # Reminders and check-in invitations two days ahead and no quiet hours: the scheduler
        # beside `rapport demo` has a session due within its first minute whatever the hour
        # (the appointments start tomorrow), so the demo shows it working (the defaults: a day
        # ahead, quiet from 21:00 to 08:00; a practice sets its own on the settings page).
        ReminderPolicy.objects.create(organisation=org, hours_before=48, checkin_hours_before=48,
                                      quiet_from=time(0), quiet_until=time(0))
        staff = _build_staff(org)
        plans = _build_episodes(org, staff, rng, today)
        practice = Practice(organisation=org, staff=staff, plans=plans, rng=rng, today=today)
        for step in STEPS:
            step(practice)
    return practice


def logins() -> list[tuple[str, str, str]]:
    """(role, email, password) for the printed demo logins."""
    return [
        ("administrator", f"admin@{DEMO_DOMAIN}", DEMO_PASSWORD),
        ("supervisor of therapists 1 and 2", f"supervisor@{DEMO_DOMAIN}", DEMO_PASSWORD),
        ("therapist", f"therapist1@{DEMO_DOMAIN}", DEMO_PASSWORD),
        ("therapist", f"therapist2@{DEMO_DOMAIN}", DEMO_PASSWORD),
        ("therapist (not supervised in the demo)", f"therapist3@{DEMO_DOMAIN}", DEMO_PASSWORD),
    ]
