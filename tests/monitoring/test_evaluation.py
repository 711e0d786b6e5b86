from pathlib import Path

import pytest

from rapport.monitoring.evaluation import DEV_SEED, evaluate, real_data_run

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def _row(report, kind):
    return next(r for r in report.rows if r.kind == kind)


@pytest.fixture(scope="module")
def report():
    # 4,000 episodes (about 1,400 ruptures and 40,000 stable sessions): the sensitivity's
    # standard error is about 0.009 and the false-alarm rate's about 0.001. A seed of its own,
    # neither the development nor the report seed.
    return evaluate(n=4000, seed=DEV_SEED + 10, train=1500)


def test_harness_meets_outcome_targets(report):
    assert "rupture" in report.table()
    assert _row(report, "warned by session 4").sensitivity >= 0.85
    assert _row(report, "  improvers warned by 4").sensitivity <= 0.15
    assert _row(report, "discrepancy").sensitivity >= 0.85


def test_rupture_target(report):
    rupture = _row(report, "rupture")
    assert rupture.sensitivity >= 0.9 and rupture.false_alarms_per_session <= 0.05


def test_rupture_false_alarms_and_no_regression(report):
    rupture = _row(report, "rupture")
    assert rupture.false_alarms_per_session <= 0.05
    # Where we are (0.928 on the report seed), less three standard errors.
    assert rupture.sensitivity >= 0.90
    # The multi-component rule adds to the published 2 SD rule at a measured cost.
    alone = _row(report, "  2 SD rule alone")
    assert rupture.sensitivity >= alone.sensitivity + 0.07
    assert alone.false_alarms_per_session <= 0.035


def test_repair_is_strict_and_still_finds_real_repairs(report):
    repaired = _row(report, "rupture_repaired")
    # Unrepaired ruptures wrongly marked repaired: 0.31 with the former one-session rule.
    assert repaired.false_alarms_per_session <= 0.12
    assert repaired.sensitivity >= 0.75


def test_real_data_run_reports_classifications():
    if not DATA.exists():
        pytest.skip("the shared data sets are not beside this checkout")
    out = real_data_run(DATA)
    claus = next(v for k, v in out.items() if k.startswith("claus"))
    assert sum(claus["classification"].values()) == claus["episodes"]


@pytest.fixture(scope="module")
def families():
    from rapport.monitoring.evaluation import FAMILIES, evaluate_families

    ceiling = [f for f in FAMILIES if f.name == "ceiling"]
    return {r.kind: r for r in evaluate_families(3000, DEV_SEED + 10, 1500, ceiling)}


def test_ceiling_heavy_family_meets_the_rupture_target(families):
    # Issue 13: ceiling-heavy, steady, sparse, irregular check-ins. With the practice's own
    # variability prior: >= 0.9 of ruptures found at <= 5% of stable sessions flagged.
    fitted = families["ceiling"]
    assert fitted.sensitivity >= 0.9 and fitted.false_alarms_per_session <= 0.05
    # With the constants (a new practice) most 8-15 point drops from a steady level are only
    # notices: the fitted prior is what finds them.
    constants = families["ceiling (constants)"]
    assert constants.sensitivity < fitted.sensitivity - 0.08


def test_an_open_rupture_from_the_rating_before_a_missed_check_in_counts_as_found():
    # The harness's definition of "found": a rupture finding open at the onset that started at
    # the client's rating before it. With complete data that is the session before; when that
    # check-in was missed, the last rated session before it (the rules count rated sessions).
    from rapport.monitoring.evaluation import Truth, _rupture_scores
    from rapport.monitoring.records import Finding

    def opened(at: int, through: int) -> list[Finding]:
        return [Finding("rupture", "warning", at, "relationship-checkin", {"criterion": "2sd"},
                        through=through, ongoing=True)]

    # Onset 6 (low to the end, session 8); session 5 unrated, so session 4 is the rating before.
    missed = Truth("", "", 6, None, False, 8, frozenset({1, 2, 3, 4, 6, 7, 8}))
    complete = Truth("", "", 6, None, False, 8, None)
    found = _rupture_scores([opened(4, 8)], [missed], 3)
    assert (found["sensitivity"], found["sensitivity_strict"], found["false"]) == (1.0, 0.0, 0.5)
    # With session 5 rated, a finding from session 4 is two ratings before: not counted.
    assert _rupture_scores([opened(4, 8)], [complete], 3)["sensitivity"] == 0.0
    assert _rupture_scores([opened(5, 8)], [complete], 3)["sensitivity"] == 1.0
    # A finding from the rating before that had ended before the onset is not an open alert.
    assert _rupture_scores([opened(4, 4)], [missed], 3)["sensitivity"] == 0.0
