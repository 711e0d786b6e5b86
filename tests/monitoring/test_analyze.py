from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.monitoring import (
    AllianceSeries,
    EpisodeHistory,
    OutcomeSeries,
    analyze_episode,
    analyze_many,
    open_findings,
)
from rapport.monitoring.evaluation import synthetic_cohort
from tests.monitoring.helpers import PHQ9

scores = st.lists(st.integers(0, 27), min_size=1, max_size=15)
alliance = st.lists(st.integers(30, 100), min_size=1, max_size=15)


def _episode(name: str, phq: list[int], client: list[int], therapist: list[int]) -> EpisodeHistory:
    return EpisodeHistory(
        name,
        outcomes=(OutcomeSeries.of("phq9", dict(enumerate(phq, 1)), PHQ9),),
        alliance=(
            AllianceSeries.of("relationship-checkin", dict(enumerate(client, 1))),
            AllianceSeries.of("therapist-reflection", dict(enumerate(therapist, 1)),
                              respondent="therapist"),
        ),
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(scores, alliance, alliance), min_size=1, max_size=6))
def test_batch_equals_one_episode_at_a_time(data):
    episodes = [_episode(f"e{i}", *d) for i, d in enumerate(data)]
    assert analyze_many(episodes) == [analyze_episode(e) for e in episodes]


def test_incremental_update_keeps_keys_and_adds_only_new_findings():
    episodes, _ = synthetic_cohort(200, seed=7)
    for ep in episodes[:50]:
        a = ep.alliance[0]
        for upto in range(4, len(a.sessions) + 1):
            cut = replace(
                ep,
                outcomes=tuple(OutcomeSeries(o.instrument, o.sessions[:upto], o.scores[:upto],
                                             o.scale) for o in ep.outcomes),
                alliance=tuple(AllianceSeries(x.instrument, x.sessions[:upto], x.totals[:upto],
                                              {k: v[:upto] for k, v in x.components.items()},
                                              x.respondent, component_max=x.component_max)
                               for x in ep.alliance),
            )
            before_cut = replace(
                cut,
                outcomes=tuple(OutcomeSeries(o.instrument, o.sessions[:-1], o.scores[:-1],
                                             o.scale) for o in cut.outcomes),
                alliance=tuple(AllianceSeries(x.instrument, x.sessions[:-1], x.totals[:-1],
                                              {k: v[:-1] for k, v in x.components.items()},
                                              x.respondent, component_max=x.component_max)
                               for x in cut.alliance),
            )
            now = {f.key: f for f in analyze_episode(cut) if f.kind != "dropout_risk"}
            before = {f.key: f for f in analyze_episode(before_cut) if f.kind != "dropout_risk"}
            # A new session never changes the start of an earlier finding: keys persist, and a
            # new key starts at the newest session.
            assert set(before) <= set(now)
            last = cut.alliance[0].sessions[-1]
            assert all(now[k].session == last for k in set(now) - set(before))


def test_open_findings_are_the_ongoing_ones():
    ep = _episode("e", [10, 17, 18], [80, 80, 80, 50], [80, 80, 80, 80])
    found = analyze_episode(ep)
    assert {f.kind for f in open_findings(found)} >= {"rupture", "reliable_deterioration"}
    assert all(f.ongoing for f in open_findings(found))


def test_finding_json_round_trip():
    import json

    (f, *_) = analyze_episode(_episode("e", [10, 17], [80], [80]))
    data = json.loads(f.to_json())
    assert data["key"] == f.key and data["episode"] == "e"
