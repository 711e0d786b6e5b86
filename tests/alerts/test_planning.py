"""The pure plan behind sync_findings: which topics, repairs and keys an episode's findings give."""

from __future__ import annotations

from rapport.alerts.planning import plan_findings, rupture_key_for
from rapport.monitoring import Finding


def finding(kind, session, subject="relationship-checkin", severity="warning", **evidence):
    return Finding(kind, severity, session, subject, evidence or {"score": 40}, "e", session, True)


def test_each_topic_is_planned_from_its_latest_finding_whatever_the_input_order():
    later, earlier, low = finding("rupture", 7), finding("rupture", 4), finding("alliance_low", 5)
    plan = plan_findings([later, earlier, low])
    assert plan.topics == {"rupture:relationship-checkin": later,
                           "alliance_low:relationship-checkin": low}
    assert list(plan.topics) == ["rupture:relationship-checkin", "alliance_low:relationship-checkin"]
    assert plan.seen == {later.key, earlier.key, low.key} and not plan.repairs


def test_risk_findings_and_drops_at_a_rupture_are_left_out():
    rupture = finding("rupture", 5)
    drop_at_rupture = finding("component_drop", 5, subject="relationship-checkin/goals")
    later_drop = finding("component_drop", 6, subject="relationship-checkin/goals")
    risk = finding("risk", 5, subject="phq9", severity="urgent")
    plan = plan_findings([rupture, drop_at_rupture, later_drop, risk])
    assert plan.topics == {"rupture:relationship-checkin": rupture,
                           "component_drop:relationship-checkin/goals": later_drop}
    assert drop_at_rupture.key not in plan.seen and risk.key not in plan.seen


def test_repairs_are_planned_apart_and_name_the_rupture_they_answer():
    repaired = finding("rupture_repaired", 8, rupture_session=5)
    plan = plan_findings([repaired, finding("rupture", 5)])
    assert plan.repairs == [repaired] and "rupture_repaired:relationship-checkin" not in plan.topics
    assert repaired.key in plan.seen
    assert rupture_key_for(repaired) == "rupture:relationship-checkin:5"
    assert rupture_key_for(finding("rupture_repaired", 8)) is None
