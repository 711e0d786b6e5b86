import math

import pytest

from rapport.monitoring import AllianceSeries, EpisodeHistory, analyze_episode
from rapport.monitoring import thresholds as th
from tests.monitoring.helpers import alliance, kinds


def usual_sd(values: list[float], span: float = 100.0) -> float:
    """The rule's SD: the client's own, shrunk towards the typical SD, floored."""
    n = len(values)
    mean = sum(values) / n
    ss = sum((v - mean) ** 2 for v in values)
    var = (ss + th.SD_PRIOR_WEIGHT * (th.SD_PRIOR_FRACTION * span) ** 2) / (n - 1 + th.SD_PRIOR_WEIGHT)
    return max(math.sqrt(var), th.SD_FLOOR_FRACTION * span)


BASE = [80.0, 80.0, 80.0]
SD3 = usual_sd(BASE)


def test_rupture_at_two_sd_below_usual_and_dip_just_above():
    at = 80 - th.RUPTURE_SD * SD3
    (f,) = kinds(analyze_episode(alliance([*BASE, at - 0.01])), "rupture")
    assert f.session == 4 and f.severity == "warning" and f.ongoing
    assert f.evidence["usual"] == 80 and f.evidence["criterion"] == "2sd"
    assert f.evidence["z"] == pytest.approx(-2.0, abs=0.01)
    found = analyze_episode(alliance([*BASE, at + 0.01]))
    assert not kinds(found, "rupture")
    (d,) = kinds(found, "alliance_dip")
    assert d.severity == "info"


def test_lighter_notice_at_one_sd():
    at = 80 - th.DIP_SD * SD3
    assert kinds(analyze_episode(alliance([*BASE, at - 0.01])), "alliance_dip")
    assert not kinds(analyze_episode(alliance([*BASE, at + 0.01])), "alliance_dip")


def test_needs_three_earlier_sessions():
    found = analyze_episode(alliance([80, 80, 20]))
    assert not kinds(found, "rupture") and not kinds(found, "alliance_dip")
    assert kinds(analyze_episode(alliance([80, 80, 80, 20])), "rupture")


def test_sd_floor_keeps_steady_clients_from_alarming_on_noise():
    steady = [80.0] * 20
    assert usual_sd(steady) == th.SD_FLOOR_FRACTION * 100  # the floor binds
    found = analyze_episode(alliance([*steady, 71]))
    assert not kinds(found, "rupture")
    (f,) = kinds(analyze_episode(alliance([*steady, 70])), "rupture")
    assert f.evidence["sd_floor_applied"] is True and f.evidence["sd"] == 5


def test_repair_when_back_at_usual_level_and_sequence_kept():
    found = analyze_episode(alliance([*BASE, 60, 70, 78, 80]))
    (r,) = kinds(found, "rupture")
    (p,) = kinds(found, "rupture_repaired")
    assert (r.session, r.through, r.ongoing) == (4, 5, False)
    assert r.evidence["repaired_session"] == 6
    assert p.session == 6 and p.evidence["rupture_session"] == 4
    assert p.evidence["sessions_to_repair"] == 2
    # Just short of the usual level (1 SD below it): not repaired.
    short = 80 - th.REPAIR_SD * SD3 - 0.01
    found = analyze_episode(alliance([*BASE, 60, short]))
    assert not kinds(found, "rupture_repaired")
    assert kinds(found, "rupture")[0].ongoing


def test_rupture_sessions_do_not_pull_down_the_usual_level():
    found = analyze_episode(alliance([*BASE, 60, 62, 80, 80, 60]))
    ruptures = kinds(found, "rupture")
    assert [f.session for f in ruptures] == [4, 8]
    assert ruptures[1].evidence["usual"] == 80


def test_settled_rupture_lets_a_further_drop_count():
    found = analyze_episode(alliance([*BASE, 60, 60, 60, 60, 45]))
    first, second = kinds(found, "rupture")
    assert first.evidence["superseded_session"] == 8 and not first.ongoing
    assert second.session == 8 and second.evidence["usual"] == 60 and second.ongoing


def test_absolute_low_at_the_cutoff():
    (f,) = kinds(analyze_episode(alliance([70, 60])), "alliance_low")
    assert f.session == 2 and f.evidence["cutoff"] == 60
    assert not kinds(analyze_episode(alliance([70, 60.01])), "alliance_low")
    # An instrument's own cutoff wins.
    assert kinds(analyze_episode(alliance([70, 65], low_cutoff=66)), "alliance_low")


def _with_components(goals: list[float], totals: list[float]) -> EpisodeHistory:
    comps = {s: {"goals": g, "trust": 8.0} for s, g in enumerate(goals, 1)}
    return EpisodeHistory(
        "e",
        alliance=(
            AllianceSeries.of(
                "relationship-checkin",
                {s: t for s, t in enumerate(totals, 1)},
                components=comps,
                component_max=10,
            ),
        ),
    )


def test_component_drop_at_threshold():
    at = 8 - th.COMPONENT_DROP_FRACTION * 10
    (f,) = kinds(analyze_episode(_with_components([8, 8, 8, at], [80] * 4)), "component_drop")
    assert f.evidence["component"] == "goals" and f.subject == "relationship-checkin/goals"
    assert not kinds(
        analyze_episode(_with_components([8, 8, 8, at + 0.01], [80] * 4)), "component_drop"
    )


def test_one_sd_dip_with_a_component_drop_is_a_rupture_naming_the_component():
    dip = 80 - SD3 - 0.01
    found = analyze_episode(_with_components([8, 8, 8, 4], [*BASE, dip]))
    (f,) = kinds(found, "rupture")
    assert f.evidence["criterion"] == "1sd_and_component"
    assert f.evidence["weakest_component"] == "goals"
    assert f.evidence["component_drops"]["goals"] == 4
    # Without the component drop the same total is only a notice.
    found = analyze_episode(_with_components([8, 8, 8, 7], [*BASE, dip]))
    assert not kinds(found, "rupture") and kinds(found, "alliance_dip")


def test_therapist_series_are_not_checked_for_ruptures():
    ep = EpisodeHistory(
        "e",
        alliance=(
            AllianceSeries.of(
                "therapist-reflection", {1: 80, 2: 80, 3: 80, 4: 20}, respondent="therapist"
            ),
        ),
    )
    assert not analyze_episode(ep)
