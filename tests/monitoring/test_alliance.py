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


def test_repair_needs_two_sessions_back_and_is_dated_when_confirmed():
    found = analyze_episode(alliance([*BASE, 60, 70, 78, 80]))
    (r,) = kinds(found, "rupture")
    (p,) = kinds(found, "rupture_repaired")
    # 70 is not back (more than 1 SD below 80); 78 is back, 80 confirms it.
    assert (r.session, r.through, r.ongoing) == (4, 6, False)
    assert r.evidence["repaired_session"] == 7
    assert p.session == 7 and p.evidence["rupture_session"] == 4
    assert p.evidence["back_since"] == 6 and p.evidence["sessions_to_repair"] == 3
    assert p.evidence["rule"] == "two_sessions_back"


def test_one_session_back_is_not_yet_a_repair():
    found = analyze_episode(alliance([*BASE, 60, 78]))
    assert not kinds(found, "rupture_repaired")
    assert kinds(found, "rupture")[0].ongoing
    # Back, then low again: still no repair.
    found = analyze_episode(alliance([*BASE, 60, 78, 72, 78]))
    assert not kinds(found, "rupture_repaired")


def test_two_sessions_back_at_the_repair_threshold():
    at = 80 - th.REPAIR_SD * SD3
    (p,) = kinds(analyze_episode(alliance([*BASE, 60, at, at])), "rupture_repaired")
    assert p.session == 6 and p.evidence["back_since"] == 5
    found = analyze_episode(alliance([*BASE, 60, at, at - 0.01]))
    assert not kinds(found, "rupture_repaired")
    assert kinds(found, "rupture")[0].ongoing


def test_one_session_at_the_usual_level_with_components_recovered_is_a_repair():
    (p,) = kinds(analyze_episode(alliance([*BASE, 60, 80])), "rupture_repaired")
    assert p.session == 5 and p.evidence["rule"] == "one_session_recovered"
    assert p.evidence["back_since"] == 5
    # Just under the usual level: back, but not at it, so it waits for a second session.
    assert not kinds(analyze_episode(alliance([*BASE, 60, 79.99])), "rupture_repaired")


def test_a_new_drop_after_an_unconfirmed_return_is_a_new_rupture():
    found = analyze_episode(alliance([*BASE, 60, 78, 60]))
    first, second = kinds(found, "rupture")
    assert first.evidence["superseded_session"] == 6 and not first.ongoing
    assert second.session == 6 and second.ongoing and second.evidence["usual"] == 80
    assert not kinds(found, "rupture_repaired")


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
    return _episode(comps, totals)


def _episode(comps: dict[int, dict[str, float]], totals: list[float]) -> EpisodeHistory:
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


NAMES = ("trust", "empathy", "genuineness", "respect", "listening", "safety", "goals")
# A component's SD with three identical earlier sessions: the prior alone, floored.
C_SD3 = max(
    math.sqrt(th.SD_PRIOR_WEIGHT * (th.COMPONENT_SD_PRIOR_FRACTION * 10) ** 2
              / (2 + th.SD_PRIOR_WEIGHT)),
    th.SD_FLOOR_FRACTION * 10,
)
DIP = 80 - th.DIP_SD * SD3 - 0.01  # a 1 SD notice on the total, not 2 SD


def _three_down(drop: float, total: float = DIP, up: float = 0.0) -> EpisodeHistory:
    """Three sessions at 8 on every component, then trust, empathy and goals down by `drop`
    (and respect up by `up`)."""
    comps = {s: dict.fromkeys(NAMES, 8.0) for s in (1, 2, 3)}
    last = dict.fromkeys(NAMES, 8.0)
    for name in ("trust", "empathy", "goals"):
        last[name] = 8.0 - drop
    last["respect"] = 8.0 + up
    comps[4] = last
    return _episode(comps, [*BASE, total])


def test_multi_component_rupture_at_the_drop_distance_threshold():
    at = th.COMPONENT_DISTANCE * C_SD3 / math.sqrt(3)  # three equal drops reach the distance
    (f,) = kinds(analyze_episode(_three_down(at + 1e-6)), "rupture")
    assert f.evidence["criterion"] == "1sd_and_components"
    assert f.evidence["drop_distance"] == pytest.approx(th.COMPONENT_DISTANCE, abs=0.01)
    assert f.evidence["component_z"]["goals"] == pytest.approx(-at / C_SD3, abs=0.01)
    assert f.evidence["weakest_component"] in ("trust", "empathy", "goals")
    # Just short of the distance: only the lighter notice.
    found = analyze_episode(_three_down(at - 0.01))
    assert not kinds(found, "rupture") and kinds(found, "alliance_dip")


def test_multi_component_rule_needs_the_total_one_sd_down():
    big = th.COMPONENT_DISTANCE * C_SD3  # each of three components far past the distance
    assert kinds(analyze_episode(_three_down(big, total=80 - th.DIP_SD * SD3)), "rupture")
    found = analyze_episode(_three_down(big, total=80 - th.DIP_SD * SD3 + 0.01))
    assert not kinds(found, "rupture") and not kinds(found, "alliance_dip")


def test_rises_in_other_components_do_not_hide_a_drop():
    at = th.COMPONENT_DISTANCE * C_SD3 / math.sqrt(3)
    (f,) = kinds(analyze_episode(_three_down(at + 0.01, up=2.0)), "rupture")
    assert f.evidence["component_z"]["respect"] > 0
    assert f.evidence["drop_distance"] == pytest.approx(th.COMPONENT_DISTANCE, abs=0.03)


def test_one_component_down_35_percent_no_longer_makes_a_dip_a_rupture():
    # The former corroboration (one component 35% of its scale down) is a notice of its own;
    # for a rupture one component alone must reach the drop distance (3.5 / C_SD3 < 3.8).
    old = th.COMPONENT_DROP_FRACTION * 10
    assert old / C_SD3 < th.COMPONENT_DISTANCE
    found = analyze_episode(_with_components([8, 8, 8, 8 - old], [*BASE, DIP]))
    assert not kinds(found, "rupture") and kinds(found, "component_drop")
    one = th.COMPONENT_DISTANCE * C_SD3
    (f,) = kinds(analyze_episode(_with_components([8, 8, 8, 8 - one], [*BASE, DIP])), "rupture")
    assert f.evidence["weakest_component"] == "goals"


def test_components_must_recover_for_a_one_session_repair():
    comps = {s: dict.fromkeys(NAMES, 8.0) for s in (1, 2, 3)}
    comps[4] = dict.fromkeys(NAMES, 6.0)
    # Session 5: total at the usual level, but goals still far below its own level.
    comps[5] = {**dict.fromkeys(NAMES, 8.5), "goals": 8.0 - th.REPAIR_SD * C_SD3 - 0.01}
    found = analyze_episode(_episode(comps, [*BASE, 60, 80]))
    assert not kinds(found, "rupture_repaired")
    comps[5]["goals"] = 8.0 - th.REPAIR_SD * C_SD3
    (p,) = kinds(analyze_episode(_episode(comps, [*BASE, 60, 80])), "rupture_repaired")
    assert p.evidence["rule"] == "one_session_recovered" and p.session == 5


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
