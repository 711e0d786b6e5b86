"""Issue 13, item 3, for the practice-fitted (empirical-Bayes) rupture rule: the episode page and
analytics say why a rupture fired in the client's own numbers (this session, usual level,
spread), and those numbers are the ones the fitted rule judged by.

A steady client rates 97-99 of 100 for six sessions, then 88.6. With the documented constants
(a new practice: SD prior 6.5 points, floor 5) that is less than 2 SD down: no rupture. With a
prior fitted on a ceiling-heavy practice's earlier check-ins (most clients steady near the top)
the client's own spread is small and the drop is a rupture.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from statistics import fmean

import pytest
from django.urls import reverse
from django.utils.html import escape
from django_scopes import scope

from rapport.alerts.findings import refresh_episode
from rapport.analytics import data
from rapport.checkins.models import Response
from rapport.monitoring import ExpectedTrajectories
from rapport.monitoring.evaluation import FAMILIES, alliance_cohort
from rapport.monitoring.explain import why
from tests.conftest import login
from tests.workspace.conftest import COMPONENTS, new_episode, submit

# Six steady sessions (98.57 and 97.14: all items 10 but one or two at 9), then every item one
# point lower and one two points lower (88.57).
STEADY = ({"safety": 9}, {"safety": 9, "goals": 9}) * 3
DROP = {**dict.fromkeys(COMPONENTS, 9), "goals": 8}


@pytest.fixture
def practice_prior():
    # The practice's own earlier episodes: the ceiling-heavy family (30% at the ceiling,
    # within-client SDs of 0.5-5 points), fitted the way the app fits it (ExpectedTrajectories).
    ceiling = next(f for f in FAMILIES if f.name == "ceiling")
    earlier, _ = alliance_cohort(300, seed=7, family=ceiling)
    fitted = ExpectedTrajectories.fit(earlier)
    prior = fitted.alliance["relationship-checkin"]
    assert prior.fitted and prior.sd < 6.5  # steadier than the constants assume
    assert prior.item_ratio > 0  # the check-in's items are in the practice's data
    return fitted, prior


@pytest.fixture
def steady_then_drop(practice):
    episode, sessions = new_episode(practice, "Ceiling Client", past=7, future=1)
    for session, low in zip(sessions, (*STEADY, DROP), strict=False):
        answers = low if low is DROP else {**dict.fromkeys(COMPONENTS, 10), **low}
        submit(practice, episode, session, "relationship-checkin", answers)
    with scope(organisation=practice.org):
        totals = [float(r.total) for r in Response.objects.filter(
            episode=episode, instrument_id="relationship-checkin").order_by("session__scheduled_at")]
    assert [round(t, 2) for t in totals] == [98.57, 97.14] * 3 + [88.57]
    return episode, totals


def _expected(totals: list[float], prior) -> dict[str, float]:
    """The fitted rule's numbers, computed here from variability.py's formulas: the posterior
    SD sqrt((SS + weight * sd^2 + w * v) / (n - 1 + weight + w)), where the items' dispersion
    adds w = ITEM_SPREAD_WEIGHT (n - 1) sessions of evidence showing the variance v = (the
    items' two-way residual variance less 1/12) x the practice's item ratio; widened by
    sqrt(1 + 1/n) for the usual level's own uncertainty, and a rupture line at max(2 SD,
    4 steps of the scale's resolution) below the usual level."""
    earlier, score = totals[:-1], totals[-1]
    n, usual = len(earlier), fmean(earlier)
    ss = sum((x - usual) ** 2 for x in earlier)
    items = [[{**dict.fromkeys(COMPONENTS, 10), **low}[c] for c in COMPONENTS] for low in STEADY]
    k = len(COMPONENTS)
    rows = [fmean(r) for r in items]
    cols = [fmean(col) for col in zip(*items, strict=True)]
    grand = fmean(rows)
    rss = sum((items[t][j] - rows[t] - cols[j] + grand) ** 2 for t in range(n) for j in range(k))
    v = max(rss / ((n - 1) * (k - 1)) - 1 / 12, 0.0) * prior.item_ratio
    w = 6.0 * (n - 1)
    spread = math.sqrt((ss + prior.weight * prior.sd**2 + w * v) / (n - 1 + prior.weight + w))
    spread *= math.sqrt(1 + 1 / n)
    line = usual - max(2 * spread, 4 * prior.resolution)
    return {"score": score, "usual": usual, "sd": spread, "rupture_below": line, "n": n}


def _open_ruptures(practice, episode):
    with scope(organisation=practice.org):
        return list(episode.alerts.filter(kind="rupture").exclude(status="resolved"))


def test_the_constants_see_no_rupture_the_fitted_prior_does(practice, steady_then_drop,
                                                            practice_prior):
    episode, _ = steady_then_drop
    fitted, _ = practice_prior
    with scope(organisation=practice.org):
        refresh_episode(episode, trajectories=ExpectedTrajectories())  # a new practice
    assert _open_ruptures(practice, episode) == []
    with scope(organisation=practice.org):
        refresh_episode(episode, trajectories=fitted)
    (rupture,) = _open_ruptures(practice, episode)
    assert rupture.evidence["criterion"] == "2sd" and rupture.evidence["sd_prior"]["fitted"]


def test_the_episode_page_says_why_in_the_clients_own_numbers(client, practice,
                                                               steady_then_drop, practice_prior):
    episode, totals = steady_then_drop
    fitted, prior = practice_prior
    with scope(organisation=practice.org):
        refresh_episode(episode, trajectories=fitted)
    (rupture,) = _open_ruptures(practice, episode)
    e, want = rupture.evidence, _expected(totals, prior)
    # The evidence holds the numbers the fitted rule judged by (rounded to 2 decimals).
    for key in ("score", "usual", "sd", "rupture_below"):
        assert e[key] == pytest.approx(want[key], abs=0.006), key
    assert e["earlier_sessions"] == want["n"] == 6
    # Here the drop is what matters, not 2 SD: 2 x 0.9 points is less than one meaningful drop
    # (4 steps of 10/7 points), so the line is the usual level less 5.71.
    assert 2 * want["sd"] < 4 * prior.resolution
    text = why("rupture", e)
    assert text == (f"This session 88.57; usual level {e['usual']:g}, spread {e['sd']:g} over 6 "
                    f"earlier sessions; {e['rupture_below']:g} or lower is a rupture.")
    assert e["usual"] == 97.86 and e["rupture_below"] == 92.14
    login(client, practice.therapist)
    response = client.get(reverse("care-episode", args=[episode.code]))
    assert response.status_code == 200
    assert f'<p class="why">{escape(text)}</p>' in response.content.decode()


def test_analytics_counts_the_rupture_with_the_same_numbers(practice, steady_then_drop,
                                                            practice_prior, monkeypatch):
    episode, totals = steady_then_drop
    fitted, prior = practice_prior
    # Analytics judges with the practice's fitted prior (trajectories_for, here the fitted one).
    monkeypatch.setattr(data, "trajectories_for", lambda organisation: fitted)
    period = data.Period(date.today() - timedelta(weeks=20), date.today() + timedelta(days=1))
    with scope(organisation=practice.org):
        facts = data.load(practice.org, period).facts[episode.pk]
    want = _expected(totals, prior)
    assert facts.ruptures == 1
    ((usual, spread, drop),) = facts.rupture_basis
    assert usual == pytest.approx(want["usual"], abs=0.006)
    assert spread == pytest.approx(want["sd"], abs=0.006)
    assert drop == pytest.approx(want["usual"] - want["score"], abs=0.006)
