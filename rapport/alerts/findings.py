"""The glue between stored data and the monitoring core: histories in, alerts out.

- `build_history(episode)` turns an episode's sessions and stored responses into the core's
  `EpisodeHistory` (three queries: sessions, responses, check-ins);
- `trajectories_for(organisation)` fits the practice's expected-treatment-response curves from
  its own stored scores (the core decides whether there is enough data; until then it uses its
  documented defaults) and caches them for TRAJECTORY_CACHE_SECONDS;
- `refresh_episode(episode)` runs the core on one episode and syncs the findings into alerts;
- the `response_stored` receiver (receivers.py) calls it once the response is committed.

Session numbers: the core numbers sessions from 1 within the episode. We count the sessions that
were not cancelled (attended, missed, or still scheduled), in order, as the check-ins app does
(`rapport.checkins.services.schedule.session_number`), so "session 5" means the same everywhere.
Responses without a session, or attached to a cancelled one, do not enter the history; a
superseded response is replaced by its correction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_scopes import scope

from rapport import instruments
from rapport import monitoring as mon
from rapport.alerts import reads
from rapport.alerts.reads import Read
from rapport.alerts.services import SyncResult, sync_findings
from rapport.alerts.suggestions import ALLIANCE_KINDS, COMPONENTS
from rapport.care.models import Attendance, CareEpisode, Session
from rapport.checkins.models import CheckIn, Response

CANCELLED = (Attendance.CANCELLED_CLIENT, Attendance.CANCELLED_CLINIC)
GOAL_INSTRUMENT = "goal-progress"
# Fitted curves change slowly (they need dozens of episodes to move); an hour keeps the
# per-response path to one cache read. `refresh_findings` refits and re-caches them.
TRAJECTORY_CACHE_SECONDS = 3600


# ---- instruments: what each one is to the monitoring core ------------------------------------


@dataclass(frozen=True)
class _Meta:
    kind: str  # "alliance", "outcome", "goals" or "other"
    scale: mon.Scale | None = None
    scale_min: float = 0.0
    scale_max: float = 100.0
    low_cutoff: float | None = None
    component_range: tuple[float, float] | None = None


@lru_cache(maxsize=256)
def _meta(instrument_id: str, version: str) -> _Meta:
    """How an instrument enters the history. `version` keys the cache only."""
    try:
        instrument = instruments.load(instrument_id)
    except (instruments.UnknownInstrument, instruments.DefinitionError):
        return _Meta("other")
    if instrument_id == GOAL_INSTRUMENT:
        return _Meta("goals")
    if instrument.scoring.total is None:
        return _Meta("other")
    psy = instrument.psychometrics
    if instrument.alliance:
        lo, hi = instrument.score_range(instrument.scoring.total) or (0.0, 100.0)
        # The instrument's own published cutoff, where it has one (see monitoring thresholds).
        cutoff = float(psy.cutoff) if psy and psy.cutoff is not None and psy.higher_is_better else None
        comp = [
            r for s in instrument.scoring.subscales
            if s.name in COMPONENTS and (r := instrument.score_range(s)) is not None
        ]
        comp_range = (min(r[0] for r in comp), max(r[1] for r in comp)) if comp else None
        return _Meta("alliance", None, lo, hi, cutoff, comp_range)
    if psy is None:
        return _Meta("other")
    return _Meta("outcome", mon.Scale.of(psy))


def _numbered_sessions(sessions: Iterable[Session]) -> dict[int, int]:
    """Session id -> number within the episode (not-cancelled sessions, in order)."""
    numbers: dict[int, int] = {}
    for s in sessions:
        if s.attendance not in CANCELLED:
            numbers[s.pk] = len(numbers) + 1
    return numbers


def _current(responses: list[dict]) -> list[dict]:
    """Drop responses that a later correction supersedes; oldest first."""
    superseded = {r["supersedes_id"] for r in responses if r["supersedes_id"]}
    return [r for r in responses if r["id"] not in superseded]


# The response columns `history_from_rows` reads; other readers (analytics) query the same.
RESPONSE_FIELDS = ("id", "code", "episode_id", "session_id", "instrument_id", "instrument_version",
                    "respondent", "total", "subscales", "flags", "supersedes_id")


def history_from_rows(
    key: str,
    sessions: list[Session],
    responses: list[dict],
    checkins: list[dict] | None = None,
    *,
    outcomes_only: bool = False,
) -> tuple[mon.EpisodeHistory, dict[int, Session]]:
    """The monitoring core's history from rows already read (`RESPONSE_FIELDS` of each response).

    Sessions are numbered as the alerts number them; callers that read many episodes at once
    (analytics) use this so their numbers agree with the alerts'.
    """
    numbers = _numbered_sessions(sessions)
    by_number = {numbers[s.pk]: s for s in sessions if s.pk in numbers}
    outcomes: dict[str, dict[int, float]] = {}
    alliance: dict[tuple[str, str], tuple[dict[int, float], dict[int, dict[str, float]]]] = {}
    goals: list[mon.GoalRating] = []
    risks: list[mon.RiskFlag] = []
    metas: dict[str, _Meta] = {}
    for r in _current(responses):
        n = numbers.get(r["session_id"])
        if n is None:
            continue
        meta = metas[r["instrument_id"]] = _meta(r["instrument_id"], r["instrument_version"])
        if not outcomes_only:
            risks.extend(
                mon.RiskFlag(n, r["instrument_id"], str(f))
                for f in r["flags"] or () if str(f).startswith("risk:")
            )
        if r["total"] is None:
            continue
        if meta.kind == "outcome":
            outcomes.setdefault(r["instrument_id"], {})[n] = r["total"]
        elif outcomes_only:
            continue
        elif meta.kind == "alliance":
            totals, comps = alliance.setdefault((r["instrument_id"], r["respondent"]), ({}, {}))
            totals[n] = r["total"]
            comps[n] = {k: float(v) for k, v in (r["subscales"] or {}).items()
                        if k in COMPONENTS and isinstance(v, int | float)}
        elif meta.kind == "goals":
            goals.extend(
                mon.GoalRating(str(goal), n, float(v))
                for goal, v in (r["subscales"] or {}).items() if isinstance(v, int | float)
            )
    outcome_series = tuple(
        mon.OutcomeSeries.of(i, points, metas[i].scale or mon.Scale())
        for i, points in outcomes.items()
    )
    if outcomes_only:
        return mon.EpisodeHistory(key, outcome_series), by_number
    history = mon.EpisodeHistory(
        key, outcome_series, _alliance_series(alliance, metas), tuple(risks),
        *_attendance_and_due(sessions, checkins, numbers), tuple(goals),
    )
    return history, by_number


def _alliance_series(alliance: dict, metas: dict[str, _Meta]) -> tuple[mon.AllianceSeries, ...]:
    """{(instrument, respondent): (totals, components) by session} as the core's series."""
    series = []
    for (instrument_id, respondent), (totals, comps) in alliance.items():
        meta = metas[instrument_id]
        c_lo, c_hi = meta.component_range or (None, None)
        series.append(mon.AllianceSeries.of(
            instrument_id, totals, components=comps if any(comps.values()) else None,
            respondent=respondent, scale_min=meta.scale_min, scale_max=meta.scale_max,
            low_cutoff=meta.low_cutoff, component_min=c_lo, component_max=c_hi,
        ))
    return tuple(series)


def _attendance_and_due(sessions: list[Session], checkins: list[dict] | None,
                        numbers: dict[int, int]) -> tuple[tuple[mon.Attendance, ...], tuple[mon.CheckIn, ...]]:
    """The sessions' attendance, and the client check-ins due at past sessions."""
    now = timezone.now()
    attendance = tuple(
        mon.Attendance(
            on=timezone.localdate(s.scheduled_at), status=s.attendance,
            late=s.is_late_cancellation, session=numbers.get(s.pk),
        )
        for s in sessions
        if s.attendance != Attendance.SCHEDULED
    )
    # A client check-in was due at each past session it was planned for.
    past = {s.pk for s in sessions if s.scheduled_at <= now}
    due = tuple(
        mon.CheckIn(numbers[c["session_id"]], bool(c["completed"]))
        for c in checkins or ()
        if c["session_id"] in numbers and c["session_id"] in past
    )
    return attendance, due


@dataclass
class EpisodeData:
    history: mon.EpisodeHistory
    sessions: dict[int, Session]  # the core's session number -> Session
    response_codes: frozenset = field(default_factory=frozenset)  # the responses read


# The reads of `build_history`, written once per process (rapport.alerts.reads says why), each
# of only the columns a history needs: the sessions' other fields load if a caller asks for them.
_SESSIONS = Read(tuple(f"s.{name}" for name in ("id", "scheduled_at", "attendance", "cancelled_at")),
                 "FROM {s} s WHERE s.episode_id = %s AND s.organisation_id = %s "
                 "ORDER BY s.scheduled_at, s.id", (("s", Session),))
_RESPONSES = Read(tuple(f"r.{name}" for name in RESPONSE_FIELDS),
                  "FROM {r} r WHERE r.episode_id = %s AND r.organisation_id = %s "
                  "ORDER BY r.submitted_at, r.id", (("r", Response),))
# A check-in's session is one of the episode's (read above): its time comes from there.
_CHECKINS = Read(("c.session_id",), "FROM {c} c WHERE c.episode_id = %s AND c.organisation_id = %s "
                 "AND c.respondent = %s ORDER BY c.created_at, c.id", (("c", CheckIn),),
                 expressions=("c.completed_at IS NOT NULL",))  # 0/1 on SQLite: bool() below
CHECKIN_FIELDS = ("session_id", "completed")


def build_history(episode: CareEpisode, *, lock: bool = False) -> EpisodeData:
    """The episode's `EpisodeHistory` from its sessions, responses and check-ins (3 queries).

    lock=True: the episode's row is locked first, in the same round trip (`reads.lock_episode`),
    so that the history read is the newest when its findings are synced: another sync of the
    episode waits for this one's transaction to end."""
    where = [episode.pk, episode.organisation_id]
    locking = reads.episode_lock(episode) if lock else []
    *_, session_rows, response_rows, checkin_rows = reads.together(
        *locking, (_SESSIONS, where), (_RESPONSES, where), (_CHECKINS, [*where, "client"]))
    sessions = _SESSIONS.instances(Session, session_rows)
    responses = [dict(zip(RESPONSE_FIELDS, row, strict=True)) for row in response_rows]
    checkins = [dict(zip(CHECKIN_FIELDS, row, strict=True)) for row in checkin_rows]
    history, by_number = history_from_rows(str(episode.code), sessions, responses, checkins)
    return EpisodeData(history, by_number, frozenset(r["code"] for r in responses))


# ---- expected trajectories, per practice --------------------------------------------------------


def _cache_key(organisation: Any) -> str:
    # v2: the alliance prior gained `item_ratio`; a prior pickled before it would unpickle
    # without the field, so the old entries are left to expire instead of being read.
    return f"rapport:alerts:trajectories:v2:{organisation.code}"


def fit_trajectories(organisation: Any) -> mon.ExpectedTrajectories:
    """Fit the practice's curves on every episode's outcome scores, and the within-client
    variability of its clients' alliance check-ins (the rupture rules' prior; monitoring's
    variability.py), in two queries."""
    sessions_by_episode: dict[int, list[Session]] = {}
    for s in Session.objects.filter(organisation=organisation).order_by("scheduled_at", "id").only(
        "id", "episode_id", "scheduled_at", "attendance"
    ):
        sessions_by_episode.setdefault(s.episode_id, []).append(s)
    responses_by_episode: dict[int, list[dict]] = {}
    for r in Response.objects.filter(organisation=organisation, total__isnull=False).order_by(
        "submitted_at", "id"
    ).values(*RESPONSE_FIELDS):
        responses_by_episode.setdefault(r["episode_id"], []).append(r)
    histories = [
        history_from_rows(str(episode_id), sessions_by_episode.get(episode_id, []), responses)[0]
        for episode_id, responses in responses_by_episode.items()
    ]
    return mon.ExpectedTrajectories.fit(histories)


def trajectories_for(organisation: Any, *, refit: bool = False) -> mon.ExpectedTrajectories:
    """The practice's curves, from the cache when fresh (refit=True fits and re-caches)."""
    key = _cache_key(organisation)
    fitted = None if refit else cache.get(key)
    if fitted is None:
        fitted = fit_trajectories(organisation)
        cache.set(key, fitted, TRAJECTORY_CACHE_SECONDS)
    return fitted


# ---- findings -> alerts --------------------------------------------------------------------------


def _with_components(finding: mon.Finding, history: mon.EpisodeHistory) -> mon.Finding:
    """Add the client's component scores at the finding's session to alliance findings that
    lack them, so the suggestions can name the weakest part of the relationship."""
    evidence = finding.evidence
    if finding.kind not in ALLIANCE_KINDS or "components" in evidence or "component" in evidence:
        return finding
    wanted = evidence.get("client_instrument") or evidence.get("instrument")
    for series in history.alliance:
        if series.respondent != "client" or series.instrument != wanted or not series.components:
            continue
        if finding.session not in series.sessions:
            break
        i = series.sessions.index(finding.session)
        scores = {name: values[i] for name, values in series.components.items()
                  if values[i] == values[i]}  # NaN: not answered
        if scores:
            return dataclasses.replace(finding, evidence={**evidence, "components": scores})
        break
    return finding


def refresh_episode(
    episode: CareEpisode,
    *,
    trajectories: mon.ExpectedTrajectories | None = None,
    request: HttpRequest | None = None,
) -> SyncResult:
    """Recompute one episode's findings and sync them into alerts. Call inside its scope and a
    transaction: the episode is locked before its history is read, so two refreshes of one
    episode (a response's and the daily one) never sync an older history after a newer one."""
    data = build_history(episode, lock=True)
    if trajectories is None:
        trajectories = trajectories_for(episode.organisation)
    findings = [
        _with_components(f, data.history)
        for f in mon.analyze_episode(data.history, trajectories=trajectories)
    ]
    result = sync_findings(episode, findings, request=request, sessions=data.sessions,
                           locked=True)
    result.response_codes = data.response_codes
    return result


def refresh_all(organisations: Iterable[Any]) -> dict[str, int]:
    """Refit each practice's curves and refresh every active episode (the command, the demo).

    Findings are for episodes in progress: an ended episode (completed, dropped out,
    transferred) keeps the alerts it has until a person closes them, and gets no new ones from
    the core (a risk answer still raises its alert from the check-in path).
    """
    counts = {"episodes": 0, "raised": 0, "refreshed": 0, "repaired": 0}
    for organisation in organisations:
        with scope(organisation=organisation):
            trajectories = trajectories_for(organisation, refit=True)
            episodes = list(
                CareEpisode.objects.filter(organisation=organisation).active()
                .select_related("organisation", "client")
                .order_by("id")
            )
            for episode in episodes:
                with transaction.atomic():
                    result = refresh_episode(episode, trajectories=trajectories)
                counts["episodes"] += 1
                counts["raised"] += len(result.raised)
                counts["refreshed"] += len(result.refreshed)
                counts["repaired"] += len(result.repaired)
    return counts
