"""Each figure on the hand-built practice of conftest.py, whose answers are known."""

from __future__ import annotations

from datetime import date
from statistics import stdev

import pytest
from django.urls import reverse
from django_scopes import scope

from rapport.analytics import data
from rapport.analytics.stats import summarise
from rapport.instruments import load
from rapport.monitoring import Scale, default_model
from tests.analytics.conftest import PERIOD, add_sessions, cells, new_episode, scores
from tests.conftest import login

PERIOD_OBJ = data.Period(date(2026, 1, 1), date(2026, 11, 20))


def _load(known, period=PERIOD_OBJ):
    with scope(organisation=known.practice.org):
        return data.load(known.practice.org, period)


def test_each_episode_contributes_what_it_should(known):
    facts = _load(known).facts
    imp, det, drop, col = (facts[e.pk] for e in
                           (known.improver, known.deteriorator, known.dropout, known.colleague))
    assert [f.sessions_attended for f in (imp, det, drop, col)] == [6, 7, 7, 3]
    assert (imp.active, det.active, drop.ended, drop.dropped_out, col.ended, col.dropped_out) == (
        True, True, True, True, True, False)
    assert imp.relationship == 80
    assert det.relationship == pytest.approx((80 * 6 + 40) / 7)
    assert drop.relationship == pytest.approx((80 * 4 + 40 + 42 + 40) / 7)
    assert col.relationship is None
    assert [f.outcomes["phq9"].classification for f in (imp, det, drop, col)] == [
        "reliable_recovery", "reliable_deterioration", "no_reliable_change", "reliable_improvement"]
    assert [f.outcomes["phq9"].case_at_intake for f in (imp, det, drop, col)] == [True, True, True, False]
    # The deteriorating client's rupture was repaired; the one who left was not.
    assert (det.ruptures, det.repaired, drop.ruptures, drop.repaired) == (1, 1, 1, 0)
    assert (imp.checkins_due, imp.checkins_done, drop.checkins_due, drop.checkins_done) == (4, 3, 1, 0)


def test_the_effect_size_uses_the_model_and_the_practice_intake_sd(known):
    facts = _load(known).facts
    scale = Scale.of(load("phq9").psychometrics)
    model = default_model("phq9", scale)  # four episodes: too few to fit, so the defaults
    sd = stdev([20, 12, 15, 9])
    # (intake, latest, sessions from intake to latest, counted from 1)
    cases = {known.improver.pk: (20, 8, 6), known.deteriorator.pk: (12, 19, 7),
             known.dropout.pk: (15, 14, 7), known.colleague.pk: (9, 3, 4)}
    for pk, (first, last, t) in cases.items():
        expected, _ = model.expected(first, t)
        assert facts[pk].outcomes["phq9"].effect == pytest.approx((expected - last) / sd)


def test_the_practice_figures(known):
    figs = summarise(_load(known).facts.values())
    assert (figs.episodes_active.n, figs.episodes_ended.n, figs.sessions_attended.n) == (2, 2, 23)
    assert (figs.dropout.count, figs.dropout.n) == (1, 2)
    assert (figs.checkins.count, figs.checkins.n) == (3, 5)
    assert (figs.ruptures.n, figs.repaired.count, figs.repaired.n) == (2, 1, 2)
    assert figs.relationship.n == 3
    phq9 = figs.outcome("phq9")
    assert (phq9.improved.count, phq9.improved.n) == (2, 4)
    assert (phq9.recovered.count, phq9.recovered.n) == (1, 3)
    assert (phq9.deteriorated.count, phq9.deteriorated.n) == (1, 4)


def test_the_period_decides_what_counts(known):
    # Only September: nobody ended yet, the relationship ratings of August are left out.
    september = _load(known, data.Period(date(2026, 9, 1), date(2026, 9, 30))).facts
    figs = summarise(september.values())
    assert (figs.episodes_active.n, figs.episodes_ended.n) == (4, 0)
    assert september[known.dropout.pk].relationship == 40  # its one September rating
    assert september[known.deteriorator.pk].ruptures == 0  # its rupture was on 31 August
    # As of the end of September the colleague's client's latest score is 3 (all in September).
    assert september[known.colleague.pk].outcomes["phq9"].classification == "reliable_improvement"
    # A period before anything happened has nothing in it.
    empty = summarise(_load(known, data.Period(date(2025, 1, 1), date(2025, 12, 31))).facts.values())
    assert (empty.episodes_active.n, empty.sessions_attended.n, empty.outcomes) == (0, 0, {})


def test_the_page_shows_the_admin_the_practice_figures(client, known):
    p = known.practice
    response = login(client, p.admin).get(reverse("analytics-overview"), PERIOD)
    assert response.status_code == 200
    assert [c.value for c in cells(response, "Caseload", "Episodes active")] == ["2"]
    assert [c.value for c in cells(response, "Caseload", "Sessions attended")] == ["23"]
    checkins = cells(response, "Caseload", "Client check-ins")[0]
    assert (checkins.value, checkins.n) == ("60% (3 of 5)", 5)
    assert checkins.interval == "95% CI 23% to 88%"  # Wilson 3 of 5: 0.2307 to 0.8824
    dropout = cells(response, "Caseload", "Drop-out")[0]
    assert (dropout.enough, dropout.n) == (False, 2)
    improved = cells(response, "Outcomes on the Patient Health Questionnaire (PHQ-9)", "Reliable improvement")
    assert improved[0].value == "too few to say" and improved[0].n == 4
    body = response.content.decode()
    assert "too few to say" in body and "n = 4" in body


def test_figures_are_shown_from_the_minimum_n(client, known):
    p = known.practice
    with scope(organisation=p.org):
        for i in range(2):
            ep = new_episode(p, p.therapist, f"More {i}", started=date(2026, 8, 3))
            scores(add_sessions(ep, 3), "phq9", [18, 12, 9])  # reliable recovery
    response = login(client, p.therapist).get(reverse("analytics-overview"), PERIOD)
    mine, practice = cells(response, "Outcomes on the Patient Health Questionnaire (PHQ-9)",
                           "Reliable improvement")
    assert (mine.value, mine.n) == ("60% (3 of 5)", 5)
    assert (practice.value, practice.n) == ("67% (4 of 6)", 6)
    effect = cells(response, "Outcomes on the Patient Health Questionnaire (PHQ-9)", "Severity-adjusted")[0]
    assert effect.enough and effect.value.startswith(("+", "-")) and effect.interval.startswith("95% CI")


def test_the_nhs_pair_is_judged_beside_each_measure(client, known):
    # The example (NHS Talking Therapies manual, paired definitions): PHQ-9 12 -> 8
    # recovers on its own, but GAD-7 9 -> 9 stays a case (>= 8), so the pair is not recovery.
    with scope(organisation=known.practice.org):
        ep = new_episode(known.practice, known.practice.therapist, "Paired Client",
                         started=date(2026, 8, 3))
        s = add_sessions(ep, 2)
        scores(s, "phq9", [12, 8])
        scores(s, "gad7", [9, 9])
    facts = _load(known).facts[ep.pk]
    assert facts.outcomes["phq9"].classification == "recovery"
    assert facts.outcomes["phq9+gad7"].classification == "no_reliable_change"
    assert facts.outcomes["phq9+gad7"].case_at_intake is True
    response = login(client, known.practice.admin).get(reverse("analytics-overview"), PERIOD)
    recovered = cells(response, "Outcomes on the Patient Health Questionnaire (PHQ-9) and "
                      "Generalized Anxiety Disorder scale (GAD-7) together", "Recovery")
    assert recovered[0].n == 1


def test_why_the_ruptures_fired_in_the_clients_own_numbers(client, known):
    facts = _load(known).facts
    det, drop = facts[known.deteriorator.pk], facts[known.dropout.pk]
    # Both clients rated 80 until their rupture session (40): usual level 80, drop 40, and a
    # spread no smaller than the SD floor (5 points of 100, thresholds.py).
    for f in (det, drop):
        ((usual, spread, fall),) = f.rupture_basis
        assert (usual, fall) == (80, 40) and spread >= 5
    figs = summarise([det, drop])
    assert (figs.rupture_usual.value, figs.rupture_drop.value, figs.rupture_usual.n) == (80, 40, 2)
    response = login(client, known.practice.admin).get(reverse("analytics-overview"), PERIOD)
    usual = cells(response, "The relationship", "Usual level before a rupture")[0]
    assert (usual.value, usual.n) == ("too few to say", 2)  # two ruptures: below the minimum n
    assert "Why ruptures fired" in response.content.decode()
